"""`python bot.py report [--since DATE] [--format csv]` and `python bot.py report --purge`.

The report has two parts: how many questions each topic got (the anonymous question log), and
what people asked that the bot could not answer or whose answer got a 👎 (the scrubbed texts,
`helpdesk.question_texts`), similar texts grouped, each group with its count, its newest example
and the closest topic. Feedback comments are grouped the same way, in a part of their own.
`--format csv` writes all of it as one table with a `section` column (topics, questions,
comments). `--purge` applies the retention rules (`helpdesk.retention`) now instead of waiting
for the bot's daily run.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
from typing import TextIO

from pydantic import BaseModel

from helpdesk.question_log import QuestionEvent, question_events, report_rows
from helpdesk.question_texts import QuestionText, TextGroup, TopicIndex, group_texts, question_texts
from helpdesk.retention import purge
from knowledge.models import KnowledgeBase
from knowledge.text import simplify, without_mentions
from storage import KeyedStorage

__all__ = [
    "Report",
    "build_report",
    "load_report",
    "render_text",
    "render_csv",
    "top_groups",
    "is_report_command",
    "main",
]

CSV_HEADER = ["section", "topic", "outcome", "count", "example", "newest"]
_KIND_NAMES = {"unanswered": "unanswered", "unsure": "asked back", "disliked": "👎", "comment": "comment"}


class Report(BaseModel):
    """Everything `python bot.py report` shows."""

    topics: list[tuple[str, str, int]]
    """(topic, outcome, count), most asked first."""
    total: int
    """Question events counted."""
    questions: list[TextGroup]
    """Unanswered and 👎 questions, similar ones grouped, biggest groups first."""
    comments: list[TextGroup]
    """Comments written with a 👎, grouped the same way."""


def build_report(events: list[QuestionEvent], texts: list[QuestionText], kb: KnowledgeBase | None = None) -> Report:
    index = TopicIndex(kb) if kb is not None else None
    return Report(
        topics=report_rows(events),
        total=len(events),
        questions=group_texts([t for t in texts if t.kind != "comment"], index),
        comments=group_texts([t for t in texts if t.kind == "comment"], index),
    )


def top_groups(report: Report, n: int = 10) -> list[TextGroup]:
    """The `n` biggest groups of questions (what the admin's "rapport" card shows)."""
    return report.questions[:n]


_REPORT_COMMANDS = {"rapport", "rapporten", "visa rapport", "visa rapporten", "report"}


def is_report_command(text: str) -> bool:
    """An admin typing "rapport" (case, accents, an @mention and punctuation ignored)."""
    return simplify(without_mentions(text)) in _REPORT_COMMANDS


def _kinds(group: TextGroup) -> str:
    return ";".join(f"{kind}:{n}" for kind, n in sorted(group.kinds.items()))


def _one_line(text: str, width: int | None = None) -> str:
    line = " ".join(text.split())
    return line if width is None or len(line) <= width else line[: width - 1] + "…"


def render_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    writer.writerows(["topics", topic, outcome, n, "", ""] for topic, outcome, n in report.topics)
    for section, groups in (("questions", report.questions), ("comments", report.comments)):
        for group in groups:
            writer.writerow(
                [
                    section,
                    group.topic or "",
                    _kinds(group),
                    group.count,
                    _one_line(group.newest.text),
                    group.newest.at.astimezone(dt.UTC).isoformat(timespec="seconds"),
                ]
            )
    return out.getvalue()


def _render_groups(title: str, groups: list[TextGroup]) -> list[str]:
    texts = sum(g.count for g in groups)
    lines = ["", f"{title} ({texts} texts in {len(groups)} groups)"]
    if not groups:
        return [*lines, "  none"]
    lines.append(f"{'count':>6}  {'closest topic':<22} {'newest':<10}  example")
    for group in groups:
        kinds = ", ".join(f"{n} {_KIND_NAMES.get(k, k)}" for k, n in sorted(group.kinds.items()))
        lines.append(
            f"{group.count:>6}  {(group.topic or '-'):<22} {group.newest.at.date().isoformat():<10}  "
            f'"{_one_line(group.newest.text, 90)}" ({kinds})'
        )
    return lines


def render_text(report: Report) -> str:
    lines = ["Questions per topic", f"{'topic':<22} {'outcome':<11} {'count':>6}"]
    lines += [f"{topic:<22} {outcome:<11} {n:>6}" for topic, outcome, n in report.topics]
    lines.append(f"{'total':<34} {report.total:>6}")
    lines += _render_groups("Unanswered and 👎 questions, similar ones grouped", report.questions)
    lines += _render_groups("Comments with a 👎, similar ones grouped", report.comments)
    return "\n".join(lines)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


async def load_report(storage: KeyedStorage, kb: KnowledgeBase | None = None, since: dt.date | None = None) -> Report:
    events = list((await question_events(storage, since)).values())
    return build_report(events, await question_texts(storage, since), kb)


async def main(
    argv: list[str],
    storage: KeyedStorage,
    *,
    retention_days: int,
    kb: KnowledgeBase | None = None,
    out: TextIO = sys.stdout,
    now: dt.datetime | None = None,
) -> int:
    """Run the command on `storage` (the caller opens and closes it); `kb` names closest topics."""
    parser = argparse.ArgumentParser(prog="python bot.py report", description=__doc__.splitlines()[0])
    parser.add_argument("--since", type=_date, help="only questions from this date (YYYY-MM-DD)")
    parser.add_argument("--format", choices=["text", "csv"], default="text")
    parser.add_argument(
        "--purge", action="store_true", help=f"delete what is older than RETENTION_DAYS ({retention_days})"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.purge:
        result = await purge(storage, now or dt.datetime.now(dt.UTC), retention_days)
        print(
            f"deleted {result.user_states} user states, {result.question_events} question events, "
            f"{result.question_texts} question texts, {result.handoffs} hand-offs, "
            f"{result.gone_conversations} removed conversations (older than {retention_days} days); "
            f"names removed from {result.readiness_names} readiness checklists",
            file=out,
        )
        return 0
    report = await load_report(storage, kb, args.since)
    if args.format == "csv":
        print(render_csv(report), file=out, end="")
    else:
        print(render_text(report), file=out)
    return 0
