"""A send time for an announcement, kept in Storage and honoured by the running bot.

`python bot.py announce schedule --at 2026-09-06T09:00` stores `schedule/<announcement id>`;
the bot's background task (`run_scheduler`, started from the app's `cleanup_ctx`) checks every
`poll_seconds` and sends a due announcement once. State moves scheduled -> sending -> done and is
persisted, so a restart during the send resumes it (the ledger makes the repeat deliver only
what is missing) and a finished one is never sent again. A time in the past is refused. A due
send whose election has passed by then (or whose announcement changed) is not sent: it is marked
failed with the reason, and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Literal

from pydantic import BaseModel, ConfigDict

from announcements.broadcast import BroadcastBusy
from announcements.clock import Clock, SystemClock
from announcements.service import ElectionPassed
from storage import KeyedStorage, read_models, write_models
from storage.keys import SCHEDULE_PREFIX

__all__ = ["ScheduledSend", "ScheduleError", "Schedules", "parse_send_time", "run_scheduler", "SCHEDULE_PREFIX"]

log = logging.getLogger(__name__)

ScheduleState = Literal["scheduled", "sending", "done", "cancelled", "failed"]


class ScheduleError(ValueError):
    """A send time that cannot be accepted; the message says why, for people."""


class ScheduledSend(BaseModel):
    """One announcement's send time."""

    model_config = ConfigDict(extra="ignore")

    announcement_id: str
    """Which announcement (the knowledge base's id when scheduled)."""
    send_at: dt.datetime
    """When to send (timezone-aware)."""
    created_at: dt.datetime
    """When it was scheduled."""
    state: ScheduleState = "scheduled"
    """scheduled, sending (started; resumed after a restart), done, cancelled, failed."""
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    result: str | None = None
    """One-line summary of the send, or why it failed."""


def parse_send_time(text: str, now: dt.datetime) -> dt.datetime:
    """An ISO date-time; without an offset it is local time. Refuses the past with a clear message."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ScheduleError(
            f"{text!r} is not a date and time; use ISO format, e.g. 2026-09-06T09:00 or 2026-09-06T09:00+02:00"
        ) from None
    if when.tzinfo is None:
        when = when.astimezone()  # the machine's local zone
    if when <= now:
        raise ScheduleError(
            f"{when.isoformat(timespec='minutes')} is in the past (it is now "
            f"{now.astimezone(when.tzinfo).isoformat(timespec='minutes')}); give a time in the future, "
            "or use 'announce send --yes' to send now"
        )
    return when


class Schedules:
    """Read and change scheduled sends."""

    def __init__(self, storage: KeyedStorage) -> None:
        self._storage = storage

    async def schedule(self, announcement_id: str, send_at: dt.datetime, now: dt.datetime) -> ScheduledSend:
        if send_at.tzinfo is None:
            raise ScheduleError("the send time needs a timezone")
        if send_at <= now:
            raise ScheduleError(f"{send_at.isoformat(timespec='minutes')} is in the past; give a time in the future")
        existing = await self.get(announcement_id)
        if existing is not None and existing.state in ("sending", "done"):
            raise ScheduleError(
                f"announcement {announcement_id} has already been sent by the scheduler "
                f"({existing.state}); give the announcement a new id to send another"
            )
        item = ScheduledSend(announcement_id=announcement_id, send_at=send_at, created_at=now)
        await self.save(item)
        log.info("announcement %s scheduled for %s", announcement_id, send_at.isoformat())
        return item

    async def cancel(self, announcement_id: str, now: dt.datetime) -> ScheduledSend | None:
        item = await self.get(announcement_id)
        if item is None or item.state != "scheduled":
            return item
        item = item.model_copy(update={"state": "cancelled", "finished_at": now})
        await self.save(item)
        return item

    async def get(self, announcement_id: str) -> ScheduledSend | None:
        key = SCHEDULE_PREFIX + announcement_id
        return (await read_models(self._storage, [key], ScheduledSend)).get(key)

    async def all(self) -> list[ScheduledSend]:
        keys = await self._storage.keys(SCHEDULE_PREFIX)
        return sorted((await read_models(self._storage, keys, ScheduledSend)).values(), key=lambda s: s.send_at)

    async def due(self, now: dt.datetime) -> list[ScheduledSend]:
        """Scheduled (or started and interrupted) sends whose time has come."""
        return [s for s in await self.all() if s.state in ("scheduled", "sending") and s.send_at <= now]

    async def save(self, item: ScheduledSend) -> None:
        await write_models(self._storage, {SCHEDULE_PREFIX + item.announcement_id: item})


async def run_scheduler(
    service: object, stop: asyncio.Event, *, clock: Clock | None = None, poll_seconds: float = 30.0
) -> None:
    """Until `stop` is set: every `poll_seconds`, send what is due through `service`
    (an `AnnouncementService`), once. Errors are logged, never raised: the bot keeps serving."""
    clock = clock or SystemClock()
    schedules = Schedules(service.storage)  # type: ignore[attr-defined]
    log.info("announcement scheduler running (every %.0f s)", poll_seconds)
    while not stop.is_set():
        try:
            await run_due(service, schedules, clock)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("announcement scheduler: checking for due sends failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll_seconds)


async def run_due(service: object, schedules: Schedules, clock: Clock) -> list[ScheduledSend]:
    """Send every due announcement once; returns the schedules as they ended."""
    ended = []
    for item in await schedules.due(clock.utcnow()):
        item = item.model_copy(update={"state": "sending", "started_at": item.started_at or clock.utcnow()})
        await schedules.save(item)
        log.info("announcement %s is due (%s): sending", item.announcement_id, item.send_at.isoformat())
        try:
            summary = await service.send(expected_id=item.announcement_id)  # type: ignore[attr-defined]
        except BroadcastBusy as exc:
            log.warning("announcement %s: %s; trying again later", item.announcement_id, exc)
            continue
        except (ElectionPassed, ValueError) as exc:  # the election is over, or the announcement changed
            item = item.model_copy(
                update={"state": "failed", "finished_at": clock.utcnow(), "result": f"not sent: {exc}"}
            )
            log.error("scheduled announcement %s not sent: %s", item.announcement_id, exc)
        else:
            result = " ".join(summary.lines()[1].split())
            item = item.model_copy(update={"state": "done", "finished_at": clock.utcnow(), "result": result})
            if not summary.ok:
                log.warning(
                    "scheduled announcement %s: %d failed; run 'announce send --yes' to retry them",
                    item.announcement_id,
                    summary.failed,
                )
        await schedules.save(item)
        ended.append(item)
    return ended
