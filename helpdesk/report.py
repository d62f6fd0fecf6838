"""`python bot.py report [--since DATE] [--format csv]` and `python bot.py report --purge`.

The report counts questions per topic and outcome from the anonymous question log; `--purge`
applies the retention rules (`helpdesk.retention`) now instead of waiting for the bot's daily run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TextIO

from helpdesk.question_log import question_events, render_report
from helpdesk.retention import purge
from storage import KeyedStorage

__all__ = ["main"]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


async def main(
    argv: list[str],
    storage: KeyedStorage,
    *,
    retention_days: int,
    out: TextIO = sys.stdout,
    now: dt.datetime | None = None,
) -> int:
    """Run the command on `storage` (the caller opens and closes it)."""
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
            f"{result.gone_conversations} removed conversations (older than {retention_days} days); "
            f"names removed from {result.readiness_names} readiness checklists",
            file=out,
        )
        return 0
    events = list((await question_events(storage, args.since)).values())
    print(render_report(events, args.format), file=out, end="" if args.format == "csv" else "\n")
    return 0
