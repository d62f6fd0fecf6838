"""`python bot.py announce preview | send --yes | status | schedule --at TIME | remind --yes`.

Uses the bot's own storage (`STORAGE_URL`), so the CLI sees the conversations the running bot
registered and writes the same ledger. Exit codes: 0 done (nothing failed), 1 some failed,
2 usage error or refused (also: the configured election's date has passed), 3 another send of the
same announcement is running. `bot.py` builds the service (storage, knowledge base, sender) and
calls `main`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO, TypeVar

from announcements.broadcast import BroadcastBusy, BroadcastProgress
from announcements.ledger import LedgerEntry
from announcements.reminders import Reminders
from announcements.schedule import ScheduleError, Schedules, parse_send_time
from announcements.service import AnnouncementService, ElectionPassed, NoChecklist, election_passed_reason
from cards.announcement import announcement_text

SummaryT = TypeVar("SummaryT")

__all__ = ["main", "build_parser"]

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot.py announce", description="The pre-election announcement.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("preview", help="print the announcement and who it goes to")
    send = sub.add_parser("send", help="send it now to every installed conversation that has not got it")
    send.add_argument("--yes", action="store_true", help="really send (required)")
    sub.add_parser("status", help="the delivery ledger: status per conversation")
    remind = sub.add_parser(
        "remind",
        help="remind the conversations whose checklist is not done (at most once in 72 hours each)",
    )
    remind.add_argument("--yes", action="store_true", help="really send (required; without it: who would get one)")
    schedule = sub.add_parser("schedule", help="let the running bot send it at a given time")
    group = schedule.add_mutually_exclusive_group()
    group.add_argument("--at", metavar="ISO-DATETIME", help="e.g. 2026-09-06T09:00 (local time) or with +02:00")
    group.add_argument("--cancel", action="store_true", help="cancel the scheduled send")
    return parser


class _Progress:
    """A progress line on stderr: rewritten in place on a terminal, every few seconds otherwise."""

    def __init__(self, err: TextIO) -> None:
        self._err = err
        self._tty = hasattr(err, "isatty") and err.isatty()
        self._last = -1e9
        self._shown = False

    def __call__(self, p: BroadcastProgress) -> None:
        every = 0.25 if self._tty else 5.0
        if p.done < p.total and p.elapsed - self._last < every:
            return
        self._last = p.elapsed
        rate = (p.sent + p.failed + p.gone) / p.elapsed if p.elapsed > 0 else 0.0
        line = (
            f"{p.done}/{p.total} done: sent {p.sent}, failed {p.failed}, gone {p.gone}, "
            f"retries {p.retried} ({p.waiting} waiting), {p.elapsed:.0f} s, {rate:.1f}/s (limit {p.rate:.0f}/s)"
        )
        if self._tty:
            self._err.write("\r\x1b[K" + line)
        else:
            self._err.write(line + "\n")
        self._err.flush()
        self._shown = True

    def end(self) -> None:
        if self._tty and self._shown:
            self._err.write("\n")
            self._err.flush()


async def main(
    argv: list[str], service: AnnouncementService, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run one announce command on `service`; returns the exit code. The caller builds the service
    from its configuration (the bot's storage, the knowledge base it loaded, the sender) and
    closes it."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if exc.code in (0, None) else 2
    if args.command == "preview":
        return await _preview(service, out)
    if args.command == "send":
        return await _send(service, args, out, err)
    if args.command == "status":
        return await _status(service, out)
    if args.command == "remind":
        return await _remind(service, args, out, err)
    return await _schedule(service, args, out, err)


async def _run(broadcast: Callable[..., Awaitable[SummaryT]], refused: str, err: TextIO) -> SummaryT | int:
    """A send or a reminder with its progress on `err`; a refusal is the exit code (2: the election
    has passed, 3: another broadcast is running)."""
    progress = _Progress(err)
    try:
        return await broadcast(on_progress=progress)
    except ElectionPassed as exc:
        print(f"{refused}: {exc}.", file=err)
        return 2
    except BroadcastBusy as exc:
        print(f"{refused}: {exc}.", file=err)
        return 3
    finally:
        progress.end()


async def _remind(service: AnnouncementService, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        service.reminder_content()
    except (ElectionPassed, NoChecklist) as exc:
        print(f"No reminder sent: {exc}.", file=err)
        return 2
    if not args.yes:
        plan = await service.reminder_plan()
        print(
            f"A reminder now would go to {len(plan.recipients)} conversations (ready {len(plan.ready)}, "
            f"reminded within 72 h {len(plan.reminded_recently)}, announcement not delivered "
            f"{len(plan.not_delivered)}).",
            file=out,
        )
        for record in plan.recipients:
            print(f"  {record.scope:<9} {record.id}", file=out)
        print("Run 'announce remind --yes' to send it.", file=err)
        return 2
    summary = await _run(service.remind, "No reminder sent", err)
    if isinstance(summary, int):
        return summary
    for line in summary.lines():
        print(line, file=out)
    if not summary.ok:
        print("Some conversations failed; run 'announce remind --yes' again to retry only those.", file=out)
    return 0 if summary.ok else 1


async def _preview(service: AnnouncementService, out: TextIO) -> int:
    content = service.content()
    recipients = await service.recipients(content.id)
    counts = recipients.counts
    if content.election_passed:
        print(f"WARNING: this announcement cannot be sent: {election_passed_reason(content)}.", file=out)
    print(f"Announcement {content.id}", file=out)
    print("-" * 72, file=out)
    print(announcement_text(content), file=out)
    print("-" * 72, file=out)
    print("Buttons: Starta Facebook-guiden | Länkar för alla kanaler | Ställ en fråga", file=out)
    print(
        f"Recipients: {len(recipients.installed)} (personal {counts['personal']}, "
        f"groupChat {counts['groupChat']}, team {counts['team']}); already sent {recipients.already_sent}, "
        f"remaining {recipients.remaining}",
        file=out,
    )
    for record in recipients.installed:
        entry = recipients.ledger.get(record.id)
        where = f"new thread in {record.channel_id}" if record.scope == "team" else "message in chat"
        status = entry.status if entry else "pending"
        print(f"  {record.scope:<9} {record.id}  ({where}; {status}; last seen {record.last_seen:%Y-%m-%d})", file=out)
    if recipients.not_installed:
        print(f"Not installed, skipped: {len(recipients.not_installed)}", file=out)
        for record in recipients.not_installed:
            print(f"  {record.scope:<9} {record.id}  ({record.gone_reason})", file=out)
    return 0


async def _send(service: AnnouncementService, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if not args.yes:
        print(
            "Refusing to send without --yes. Check it first with 'announce preview', then run 'announce send --yes'.",
            file=err,
        )
        return 2
    summary = await _run(service.send, "Not sent", err)
    if isinstance(summary, int):
        return summary
    for line in summary.lines():
        print(line, file=out)
    if summary.resent_after_interruption:
        print(
            "Note: those conversations were in flight when an earlier send stopped; Teams offers no "
            "way to check whether that message arrived, so it was sent again.",
            file=out,
        )
    if not summary.ok:
        print("Some conversations failed; run 'announce send --yes' again to retry only those.", file=out)
    return 0 if summary.ok else 1


async def _status(service: AnnouncementService, out: TextIO) -> int:
    content = service.content()
    recipients = await service.recipients(content.id)
    known = {r.id: r for r in recipients.installed + recipients.not_installed}
    rows: list[tuple[str, str, str, LedgerEntry | None]] = []  # status, scope, conversation id, entry
    for record in recipients.installed:
        entry = recipients.ledger.get(record.id)
        rows.append((entry.status if entry else "pending", record.scope, record.id, entry))
    for conversation_id, entry in recipients.ledger.items():
        known_record = known.get(conversation_id)
        if known_record is None or not known_record.installed:
            rows.append((entry.status, known_record.scope if known_record else "?", conversation_id, entry))
    totals: dict[str, int] = {}
    for status, *_ in rows:
        totals[status] = totals.get(status, 0) + 1
    print(
        f"Announcement {content.id}: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items()))
        if rows
        else f"Announcement {content.id}: no recipients and no ledger entries",
        file=out,
    )
    order = {"failed": 0, "in_flight": 1, "pending": 2, "gone": 3, "sent": 4}
    for status, scope, conversation_id, entry in sorted(rows, key=lambda r: (order[r[0]], r[2])):
        detail = ""
        if entry is not None:
            detail = f" attempts {entry.attempts}"
            if entry.finished_at:
                detail += f", {entry.finished_at:%Y-%m-%d %H:%M:%S}Z"
            if entry.reason:
                detail += f", {entry.reason}"
            if entry.interrupted:
                detail += f", resent after interruption {entry.interrupted}x"
        print(f"  {status:<9} {scope:<9} {conversation_id}{detail}", file=out)
    for round_ in (await Reminders(service.storage).rounds(content.id)).rounds:
        state = (
            f"finished {round_.finished_at:%Y-%m-%d %H:%M:%S}Z ({round_.result})"
            if round_.finished_at
            else "unfinished"
        )
        print(
            f"Reminder round {round_.number} ({round_.ledger_id}), {round_.created_at:%Y-%m-%d %H:%M}Z: "
            f"{len(round_.recipients)} recipients, {state}",
            file=out,
        )
    for item in await Schedules(service.storage).all():
        print(
            f"Scheduled: {item.announcement_id} at {item.send_at.isoformat(timespec='minutes')}: {item.state}"
            + (f" ({item.result})" if item.result else ""),
            file=out,
        )
    return 0


async def _schedule(service: AnnouncementService, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    schedules = Schedules(service.storage)
    now = service.clock.utcnow()
    content = service.content()
    content_id = content.id
    if args.cancel:
        item = await schedules.cancel(content_id, now)
        if item is None:
            print(f"Nothing scheduled for {content_id}.", file=out)
        else:
            print(f"{content_id}: {item.state}.", file=out)
        return 0
    if args.at is None:
        items = await schedules.all()
        for item in items:
            print(f"{item.announcement_id} at {item.send_at.isoformat(timespec='minutes')}: {item.state}", file=out)
        if not items:
            print("Nothing scheduled. Use 'announce schedule --at 2026-09-06T09:00'.", file=out)
        return 0
    try:
        if content.election_passed:
            raise ScheduleError(election_passed_reason(content))
        when = parse_send_time(args.at, now)
        if when.date() > content.election.date:
            raise ScheduleError(
                f"{when.isoformat(timespec='minutes')} is after the election ({content.election.name} on "
                f"{content.election.date.isoformat()}), when the announcement would contradict itself; "
                "give a time before it, or set ELECTION_NAME and ELECTION_DATE to the coming election"
            )
        item = await schedules.schedule(content_id, when, now)
    except ScheduleError as exc:
        print(f"Not scheduled: {exc}.", file=err)
        return 2
    print(
        f"Scheduled: {item.announcement_id} will be sent at {item.send_at.isoformat(timespec='minutes')} "
        "by the running bot (it checks every 30 s).",
        file=out,
    )
    return 0
