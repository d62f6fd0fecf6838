"""`python -m knowledge`: check, match, ask, eval — the knowledge base's command line (DESIGN.md).

- `check`: validate the knowledge base; exit 0, or 1 with file:line: reason. Warns (exit 0) with
  file:line when a topic's example, read as a new question, is taken for another topic, when a
  topic's examples share few words, and when a new topic answers asked.yaml's out-of-scope questions.
- `match`: questions on stdin, one per line -> one JSON object per line on stdout.
- `ask "fråga"`: the answer a person would see, as text.
- `eval FILE.jsonl`: accuracy overall and per topic, out-of-scope rejection, confusions.
- `review`: write dist/review.html, every answer and guide step as a person sees it, for review.
- `links [--check]`: every link with its file:line; `--check` fetches each (needs the internet).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.loader import KnowledgeBaseError, load_knowledge_base

if TYPE_CHECKING:
    from knowledge.matcher import Matcher
    from knowledge.models import KnowledgeBase


def _load(data_dir: str | None) -> KnowledgeBase:
    try:
        return load_knowledge_base(Path(data_dir) if data_dir else None)
    except KnowledgeBaseError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        sys.exit(1)


def _warn_confused_examples(kb: KnowledgeBase, matcher: Matcher, data_dir: str | None) -> None:
    """Warn (never fail) when an example, as a new question, is taken for another topic."""
    from knowledge.loader import example_lines

    lines = example_lines(Path(data_dir) if data_dir else None)
    for topic_id, index, got in matcher.confused_examples():
        where = lines.get((topic_id, index))
        example = kb.topic(topic_id).examples[index]
        print(f"{where.file}:{where.line}: " if where else "", end="", file=sys.stderr)
        print(
            f"warning: {topic_id!r} example {example!r} is taken for {got!r}; reword it or add examples",
            file=sys.stderr,
        )


def _warn_sparse_topics(kb: KnowledgeBase, matcher: Matcher, data_dir: str | None) -> None:
    """Warn (never fail) when a topic's examples share few words with each other."""
    from knowledge.loader import example_lines

    lines = example_lines(Path(data_dir) if data_dir else None)
    topics = {t.id: t for t in kb.topics}
    for topic_id, cohesion in matcher.sparse_topics():
        where = lines.get((topic_id, 0))
        words = _words_only_examples_know(matcher, topics[topic_id].examples)
        print(f"{where.file}:{where.line}: " if where else "", end="", file=sys.stderr)
        print(
            f"warning: the examples of {topic_id!r} share few words with each other ({cohesion:.2f}), so fewer "
            "new wordings are recognised; add examples in the words people use, or those words to "
            "vocabulary.yaml" + (f" (words the vocabulary does not know yet: {', '.join(words)})" if words else ""),
            file=sys.stderr,
        )


def _warn_taken_from_outside(matcher: Matcher, data_dir: str | None) -> None:
    """Warn (never fail) when a topic with no asked questions yet answers questions asked.yaml files as
    out of scope: they no longer count as out of scope (the topic is new); the owner moves each under
    the topic, or rewords the topic's examples if it should not answer them."""
    from knowledge.loader import asked_lines

    lines = asked_lines(Path(data_dir) if data_dir else None)
    for question, topic_id in matcher.taken_from_outside:
        where = lines.get(question)
        print(f"{where.file}:{where.line}: " if where else "", end="", file=sys.stderr)
        print(
            f"warning: out-of-scope question {question!r} is answered by {topic_id!r}, which has no asked "
            f"questions yet; move it under {topic_id} if that is right, or reword {topic_id}'s examples",
            file=sys.stderr,
        )


def _words_only_examples_know(matcher: Matcher, examples: list[str], most: int = 8) -> list[str]:
    """The words of a topic's examples that no vocabulary concept covers, most frequent first: the
    ones whose synonyms, added to vocabulary.yaml, let other wordings find the topic."""
    counts: Counter[str] = Counter()
    for example in examples:
        counts.update(dict.fromkeys((w for w in matcher.lexicon.analyse_text(example).unknown if len(w) > 2), 1))
    return [w for w, _ in counts.most_common(most)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="knowledge base folder (default: knowledge/data)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="validate the knowledge base")
    sub.add_parser("match", help="match questions from stdin, one JSON line each")
    ask = sub.add_parser("ask", help="print the answer a person would see")
    ask.add_argument("question", nargs="+")
    ev = sub.add_parser("eval", help="accuracy on a labelled JSONL file")
    ev.add_argument("file", type=Path)
    rv = sub.add_parser("review", help="write one HTML page with every answer as a person sees it")
    rv.add_argument("--out", type=Path, default=REVIEW_FILE, help=f"output file (default: {REVIEW_FILE})")
    rv.add_argument(
        "--eval",
        dest="eval_file",
        type=Path,
        default=DEV_SET,
        help="labelled questions for the per-topic result (default: ../shared/eval/dev.jsonl, if present)",
    )
    rv.add_argument("--today", type=dt.date.fromisoformat, default=None, help="show the answers as on YYYY-MM-DD")
    lk = sub.add_parser("links", help="every link with its file:line; --check fetches each")
    lk.add_argument("--check", action="store_true", help="fetch every link (needs the internet); exit 1 on failures")
    lk.add_argument("--timeout", type=float, default=None, help="seconds per link (default: 15)")
    args = parser.parse_args(argv)

    if args.command == "links":
        return _links(args)

    kb = _load(args.data)
    from knowledge.matcher import Matcher

    matcher = Matcher(kb)
    if args.command == "check":
        _warn_confused_examples(kb, matcher, args.data)
        _warn_sparse_topics(kb, matcher, args.data)
        _warn_taken_from_outside(matcher, args.data)
        print(
            f"ok: {len(kb.topics)} topics, {len(kb.platforms)} platforms, {len(kb.concepts)} concepts, "
            f"{sum(len(g.steps) for g in kb.guides)} guide steps"
        )
        return 0

    if args.command == "match":
        for line in sys.stdin:
            m = matcher.match(line.rstrip("\n"))
            sys.stdout.write(
                json.dumps({"topic": m.topic, "platform": m.platform, "score": m.score}, ensure_ascii=False) + "\n"
            )
            sys.stdout.flush()
        return 0
    if args.command == "ask":
        from cards.answer import answer_text
        from config import load_settings
        from knowledge.runtime import composer_for, configured_election

        settings = load_settings()
        election = configured_election(kb, settings.election_name, settings.election_date)
        answer = composer_for(kb, election, settings.support_contact).compose(matcher.match(" ".join(args.question)))
        print(answer_text(answer))
        return 0
    if args.command == "eval":
        from knowledge.evaluation import evaluate, read_examples

        report = evaluate(matcher, read_examples(args.file))
        print("\n".join(report.lines()))
        return 0
    if args.command == "review":
        return _review(args, kb, matcher)
    return 2


ROOT = Path(__file__).resolve().parents[1]
REVIEW_FILE = ROOT / "dist" / "review.html"
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"


def _review(args: argparse.Namespace, kb: KnowledgeBase, matcher: Matcher) -> int:
    from config import load_settings
    from knowledge.evaluation import evaluate, read_examples
    from knowledge.review import ReviewSettings, build_review
    from knowledge.runtime import configured_election
    from knowledge.sources import read_sources

    settings = load_settings()
    report = None
    if args.eval_file and Path(args.eval_file).is_file():
        report = evaluate(matcher, read_examples(args.eval_file))
    review = ReviewSettings(
        election=configured_election(kb, settings.election_name, settings.election_date),
        support_contact=settings.support_contact or kb.organisation.support_contact,
        contact_configured=bool(settings.support_contact),
        experts=bool(settings.experts_channel_id),
        today=args.today or dt.date.today(),
        eval_name=Path(args.eval_file).name if report is not None else None,
    )
    page = build_review(kb, read_sources(Path(args.data) if args.data else None), review, report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    print(f"wrote {out} ({len(page) // 1024} KB)")
    return 0


def _links(args: argparse.Namespace) -> int:
    from knowledge.linkcheck import DEFAULT_TIMEOUT, check_links
    from knowledge.sources import read_sources

    sources = read_sources(Path(args.data) if args.data else None)
    if not args.check:
        for ref in sources.links:
            print(f"{ref.place}\t{ref.url}\t{ref.where}")
        return 0
    timeout = args.timeout or DEFAULT_TIMEOUT
    results = asyncio.run(check_links(sources.urls(), timeout=timeout))
    counts = {"ok": 0, "redirected": 0, "failed": 0}
    for result in results:
        counts[result.outcome] += 1
        places = ", ".join(str(ref.place) for ref in sources.links_to(result.url))
        print(f"{result.outcome.upper():<10} {result.url}  {result.describe()}  [{places}]")
    print(f"{len(results)} links: {counts['ok']} ok, {counts['redirected']} redirected, {counts['failed']} failed")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
