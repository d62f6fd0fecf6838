"""`python -m knowledge`: check, match, ask, eval — the knowledge base's command line (DESIGN.md).

- `check`: validate the knowledge base; exit 0, or 1 with file:line: reason. Warns (exit 0) with
  file:line when a topic's example, read as a new question, is taken for another topic.
- `match`: questions on stdin, one per line -> one JSON object per line on stdout.
- `ask "fråga"`: the answer a person would see, as text.
- `eval FILE.jsonl`: accuracy overall and per topic, out-of-scope rejection, confusions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from knowledge.loader import KnowledgeBaseError, load_knowledge_base


def _load(data_dir: str | None):
    try:
        return load_knowledge_base(Path(data_dir) if data_dir else None)
    except KnowledgeBaseError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        sys.exit(1)


def _warn_confused_examples(kb, matcher, data_dir: str | None) -> None:
    """Warn (never fail) when an example, as a new question, is taken for another topic."""
    from knowledge.loader import example_lines

    lines = example_lines(Path(data_dir) if data_dir else None)
    for topic_id, index, got in matcher.confused_examples():
        where = lines.get((topic_id, index))
        example = kb.topic(topic_id).examples[index]
        print(f"{where.file}:{where.line}: " if where else "", end="", file=sys.stderr)
        print(f"warning: {topic_id!r} example {example!r} is taken for {got!r}; reword it or add examples",
              file=sys.stderr)


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
    args = parser.parse_args(argv)

    kb = _load(args.data)
    from knowledge.matcher import Matcher

    matcher = Matcher(kb)
    if args.command == "check":
        _warn_confused_examples(kb, matcher, args.data)
        print(f"ok: {len(kb.topics)} topics, {len(kb.platforms)} platforms, {len(kb.concepts)} concepts, "
              f"{sum(len(g.steps) for g in kb.guides)} guide steps")
        return 0

    if args.command == "match":
        for line in sys.stdin:
            m = matcher.match(line.rstrip("\n"))
            sys.stdout.write(json.dumps({"topic": m.topic, "platform": m.platform, "score": m.score}, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return 0
    if args.command == "ask":
        from cards.answer import answer_text
        from config import load_settings
        from knowledge.runtime import composer_for

        answer = composer_for(kb, load_settings()).compose(matcher.match(" ".join(args.question)))
        print(answer_text(answer))
        return 0
    if args.command == "eval":
        from knowledge.evaluation import evaluate, read_examples

        report = evaluate(matcher, read_examples(args.file))
        print("\n".join(report.lines()))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
