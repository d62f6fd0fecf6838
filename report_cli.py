"""`python bot.py report [--since DATE] [--format csv]` and `python bot.py report --purge`.

The report counts questions per topic and outcome from the anonymous question log; `--purge`
applies the retention rules (`retention.py`) now instead of waiting for the bot's daily run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any, TextIO

from question_log import question_events, render_report
from retention import purge
from storage import KeyedStorage, create_storage

__all__ = ["main"]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


async def main(argv: list[str], settings: Any, *, storage: KeyedStorage | None = None,
               out: TextIO = sys.stdout, now: dt.datetime | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bot.py report", description=__doc__.splitlines()[0])
    parser.add_argument("--since", type=_date, help="only questions from this date (YYYY-MM-DD)")
    parser.add_argument("--format", choices=["text", "csv"], default="text")
    parser.add_argument("--purge", action="store_true", help=f"delete what is older than RETENTION_DAYS ({settings.retention_days})")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    own = storage is None
    storage = storage or create_storage(
        settings.storage_url,
        azure_connection_string=settings.azure_storage_connection_string.get_secret_value())
    try:
        if args.purge:
            result = await purge(storage, now or dt.datetime.now(dt.UTC), settings.retention_days)
            print(f"deleted {result.user_states} user states, {result.question_events} question events, "
                  f"{result.gone_conversations} removed conversations (older than {settings.retention_days} days)",
                  file=out)
            return 0
        events = list((await question_events(storage, args.since)).values())
        print(render_report(events, args.format), file=out, end="" if args.format == "csv" else "\n")
        return 0
    finally:
        if own:
            await storage.close()
