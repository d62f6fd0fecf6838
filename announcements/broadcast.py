"""The delivery engine: one announcement to many conversations, exactly once each where Teams
lets us, within Teams' rate limits, resumable after a crash.

Plain Python: a `Sender` does the actual send (the Bot Framework one lives at the edge, in
`botframework_sender`), a `Clock` gives time and sleeps (tests run in simulated time), and the
ledger and registry are read and written through the bot's `Storage`.

How a conversation is delivered:
1. Skip it when the ledger says `sent` (or `gone`); a run after a crash resends entries found
   `in_flight` and reports them (see `ledger` for why that window cannot be closed).
2. Wait for the conversation's own rate (at most 7 messages a second into one conversation) and
   the global rate (a token bucket, `ANNOUNCE_RATE`, default 30/s, below Teams' 50/s per app
   per tenant).
3. Write `in_flight`, send, write the outcome: `sent`; `gone` on 403/404 (and the registry marks
   the conversation gone, so it is never tried again); a retry on 429 (after exactly
   `Retry-After` seconds when given, and the global rate is halved, then recovers), on 412, 5xx
   and network errors (exponential backoff with jitter); `failed` after `max_attempts` or on any
   other error.
A conversation waiting for a retry does not hold a worker: many conversations stay in flight.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from announcements.clock import Clock, SystemClock
from announcements.ledger import Ledger, LedgerEntry
from announcements.registry import ConversationRecord, ConversationRegistry
from cards.message import OutgoingMessage
from storage import KeyedStorage
from storage.keys import BROADCAST_LOCK_PREFIX as _LOCK_PREFIX

__all__ = [
    "SendOutcome",
    "Sender",
    "BroadcastPolicy",
    "BroadcastProgress",
    "BroadcastSummary",
    "BroadcastBusy",
    "RateLimiter",
    "Broadcaster",
    "broadcast",
]

log = logging.getLogger(__name__)

_LOCK_FRESH_SECONDS = 60.0


class SendOutcome(BaseModel):
    """What one send attempt came back with."""

    model_config = ConfigDict(frozen=True)

    status: int | None
    """HTTP status; None when there was no answer (network error, timeout)."""
    retry_after: float | None = None
    """Seconds from a `Retry-After` header, when the answer had one."""
    error: str | None = None
    """Short description of the error, for the ledger and the summary."""
    activity_id: str | None = None
    """Id of the posted message (or new thread), when the send succeeded."""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Sender(Protocol):
    """Delivers one message into one registered conversation."""

    async def send(self, record: ConversationRecord, message: OutgoingMessage) -> SendOutcome: ...


class BroadcastPolicy(BaseModel):
    """Limits and retry rules of a broadcast."""

    rate: float = Field(30.0, gt=0, le=50)
    """Messages per second, all conversations together (Teams: 50 per app per tenant)."""
    per_conversation_rate: float = Field(7.0, gt=0, le=7)
    """Messages per second into one conversation (Teams: 7)."""
    concurrency: int = Field(16, ge=1, le=256)
    """Requests in flight at once."""
    max_attempts: int = Field(5, ge=1, le=20)
    """Attempts per conversation in one run before it is `failed`."""
    backoff_base: float = Field(1.0, ge=0)
    """First backoff in seconds; doubled each attempt, with jitter."""
    backoff_cap: float = Field(30.0, ge=0)
    """Longest backoff in seconds."""
    max_retry_after: float = Field(900.0, gt=0)
    """A Retry-After longer than this fails the conversation for this run instead of stalling it."""
    slowdown_factor: float = Field(0.5, gt=0, le=1)
    """On 429 the global rate is multiplied by this ..."""
    recovery_factor: float = Field(1.05, ge=1)
    """... and multiplied by this on each success, up to `rate`."""
    min_rate: float = Field(1.0, gt=0)
    """The global rate never drops below this."""


class BroadcastProgress(BaseModel):
    """A snapshot for a progress line."""

    total: int
    """Conversations to deliver in this run."""
    done: int
    """Finished (sent, failed or gone)."""
    sent: int
    failed: int
    gone: int
    retried: int
    """Retries scheduled so far."""
    waiting: int
    """Conversations waiting for a retry now."""
    elapsed: float
    """Seconds since the run started."""
    rate: float
    """Current global rate limit (lower than configured after a 429)."""


class BroadcastSummary(BaseModel):
    """What a run did."""

    announcement_id: str
    recipients: int
    """Installed conversations the announcement is for."""
    sent: int = 0
    """Delivered in this run."""
    failed: int = 0
    """Not delivered in this run (a later run tries them again)."""
    gone: int = 0
    """Answered 403/404 in this run: marked gone, never tried again."""
    retried: int = 0
    """Retry attempts in this run."""
    attempts: int = 0
    """Requests made in this run."""
    skipped_already_sent: int = 0
    """Already `sent` in the ledger: not sent again."""
    skipped_gone: int = 0
    """Already `gone` in the ledger."""
    resent_after_interruption: list[str] = Field(default_factory=list)
    """Found `in_flight` from an interrupted run and sent again: these may have got it twice."""
    failures: dict[str, str] = Field(default_factory=dict)
    """Conversation id -> reason, for the failed ones."""
    seconds: float = 0.0
    """Time taken."""

    @property
    def ok(self) -> bool:
        """Nothing failed (gone conversations are not failures)."""
        return self.failed == 0

    def lines(self) -> list[str]:
        rate = self.attempts / self.seconds if self.seconds > 0 else 0.0
        out = [
            f"announcement {self.announcement_id}: {self.recipients} recipients",
            f"  sent {self.sent}, failed {self.failed}, gone {self.gone}, retried {self.retried}, "
            f"skipped (already sent) {self.skipped_already_sent}, skipped (gone) {self.skipped_gone}",
            f"  {self.attempts} requests in {self.seconds:.1f} s ({rate:.1f}/s)",
        ]
        if self.resent_after_interruption:
            out.append(
                f"  resent after an interrupted run (may have got it twice): {len(self.resent_after_interruption)}: "
                + ", ".join(self.resent_after_interruption)
            )
        for conversation_id, reason in sorted(self.failures.items()):
            out.append(f"  failed: {conversation_id}: {reason}")
        return out


class BroadcastBusy(Exception):
    """Another broadcast of the same announcement is running (the run lock is fresh)."""


class RateLimiter:
    """At most `rate` releases per second, spaced evenly (a token bucket holding one token).

    Waiters queue in order; each release happens at least `1/rate` seconds after the previous
    one *as measured when it happens*, so an event loop that wakes up late releases them one by
    one rather than in a burst. No window of one second ever holds more than `rate` releases.
    """

    def __init__(self, rate: float, clock: Clock) -> None:
        self.rate = rate
        self._clock = clock
        self._last = -math.inf
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                wait = self._last + 1.0 / self.rate - self._clock.monotonic()
                if wait <= 0:
                    break
                await self._clock.sleep(wait)
            self._last = self._clock.monotonic()


@dataclass
class _Job:
    record: ConversationRecord
    entry: LedgerEntry
    attempts: int = 0
    """Attempts in this run."""


@dataclass
class _Counts:
    summary: BroadcastSummary
    total: int
    done: int = 0
    waiting: int = 0
    failures: dict[str, str] = field(default_factory=dict)


class Broadcaster:
    """Runs one announcement to a list of conversations; see the module docstring."""

    def __init__(
        self,
        storage: KeyedStorage,
        sender: Sender,
        *,
        policy: BroadcastPolicy | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        on_progress: Callable[[BroadcastProgress], None] | None = None,
    ) -> None:
        self._storage = storage
        self._sender = sender
        self.policy = policy or BroadcastPolicy()
        self._clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._on_progress = on_progress
        self._ledger = Ledger(storage)
        self._registry = ConversationRegistry(storage)
        self._global = RateLimiter(self.policy.rate, self._clock)
        self._per_conversation: dict[str, RateLimiter] = {}

    async def run(self, announcement_id: str, message: OutgoingMessage,
                  recipients: list[ConversationRecord]) -> BroadcastSummary:
        """Deliver `message` to each of `recipients` that the ledger does not show as done."""
        start = self._clock.monotonic()
        summary = BroadcastSummary(announcement_id=announcement_id, recipients=len(recipients))
        lock = await self._take_lock(announcement_id)
        try:
            entries = await self._ledger.entries(announcement_id)
            jobs: list[_Job] = []
            seen: set[str] = set()
            for record in recipients:
                if record.id in seen:  # one record per conversation, even if listed twice
                    continue
                seen.add(record.id)
                entry = entries.get(record.id)
                if entry is not None and entry.status == "sent":
                    summary.skipped_already_sent += 1
                    continue
                if entry is not None and entry.status == "gone":
                    summary.skipped_gone += 1
                    continue
                if entry is None:
                    entry = LedgerEntry(announcement_id=announcement_id, conversation_id=record.id)
                elif entry.status == "in_flight":
                    entry.interrupted += 1
                    summary.resent_after_interruption.append(record.id)
                    log.warning("%s: %s was in flight when a previous run stopped; sending again "
                                "(it may get the announcement twice)", announcement_id, record.id)
                jobs.append(_Job(record, entry))
            counts = _Counts(summary=summary, total=len(jobs))
            log.info("%s: %d to send, %d already sent, %d gone", announcement_id, len(jobs),
                     summary.skipped_already_sent, summary.skipped_gone)
            if jobs:
                await self._deliver_all(jobs, message, counts, start, lock)
            summary.failures = counts.failures
            summary.seconds = self._clock.monotonic() - start
            return summary
        finally:
            await self._storage.delete([_LOCK_PREFIX + announcement_id])

    # -- the work queue ---------------------------------------------------------------------

    async def _deliver_all(self, jobs: list[_Job], message: OutgoingMessage, counts: _Counts,
                           start: float, lock: dict) -> None:
        queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        outstanding = len(jobs)
        finished = asyncio.Event()
        waiters: set[asyncio.Task[None]] = set()

        async def heartbeat() -> None:
            while True:
                await self._clock.sleep(_LOCK_FRESH_SECONDS / 3)
                try:
                    await self._heartbeat(counts.summary.announcement_id, lock)
                except Exception:  # a missed heartbeat must not stop the broadcast
                    log.warning("could not refresh the broadcast lock", exc_info=True)

        async def retry_later(job: _Job, delay: float) -> None:
            await self._clock.sleep(delay)
            counts.waiting -= 1
            queue.put_nowait(job)

        async def worker() -> None:
            nonlocal outstanding
            while True:
                job = await queue.get()
                if job is None:
                    return
                delay = await self._attempt(job, message, counts)
                if delay is None:
                    outstanding -= 1
                    counts.done += 1
                    self._per_conversation.pop(_target(job.record), None)
                    if outstanding == 0:
                        finished.set()
                else:
                    counts.waiting += 1
                    task = asyncio.create_task(retry_later(job, delay))
                    waiters.add(task)
                    task.add_done_callback(waiters.discard)
                self._report(counts, start)

        workers = [asyncio.create_task(worker()) for _ in range(min(self.policy.concurrency, len(jobs)))]
        all_done = asyncio.create_task(finished.wait())
        beating = asyncio.create_task(heartbeat())
        try:
            # Stop on completion, or as soon as a worker dies (a storage error): never hang.
            await asyncio.wait([all_done, *workers], return_when=asyncio.FIRST_COMPLETED)
        finally:
            all_done.cancel()
            beating.cancel()
            for task in list(waiters):
                task.cancel()
            for task in workers:
                if finished.is_set():
                    queue.put_nowait(None)  # idle workers: let them return
                else:
                    task.cancel()  # a worker died or we are cancelled: stop the rest now
            results = await asyncio.gather(*workers, return_exceptions=True)
            await asyncio.gather(beating, return_exceptions=True)
        errors = [r for r in results if isinstance(r, Exception)]
        if errors:
            raise errors[0]

    def _report(self, counts: _Counts, start: float) -> None:
        if self._on_progress is None:
            return
        s = counts.summary
        self._on_progress(BroadcastProgress(
            total=counts.total, done=counts.done, sent=s.sent, failed=s.failed, gone=s.gone,
            retried=s.retried, waiting=counts.waiting, elapsed=self._clock.monotonic() - start,
            rate=self._global.rate,
        ))

    # -- one attempt ------------------------------------------------------------------------

    async def _attempt(self, job: _Job, message: OutgoingMessage, counts: _Counts) -> float | None:
        """Send once; returns the delay before a retry, or None when the job is finished."""
        summary = counts.summary
        limiter = self._per_conversation.setdefault(
            _target(job.record), RateLimiter(self.policy.per_conversation_rate, self._clock))
        await limiter.acquire()
        await self._global.acquire()

        entry = job.entry
        now = self._clock.utcnow()
        entry.status = "in_flight"
        entry.attempts += 1
        entry.first_attempt_at = entry.first_attempt_at or now
        entry.last_attempt_at = now
        job.attempts += 1
        summary.attempts += 1
        await self._ledger.save(entry)

        try:
            outcome = await self._sender.send(job.record, message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a sender must not raise; treat it as "no answer"
            log.exception("sender raised for %s", job.record.id)
            outcome = SendOutcome(status=None, error=f"{type(exc).__name__}: {exc}")

        reason = _describe(outcome)
        if outcome.ok:
            entry.status, entry.reason = "sent", None
            entry.activity_id = outcome.activity_id
            entry.finished_at = self._clock.utcnow()
            await self._ledger.save(entry)
            summary.sent += 1
            self._global.rate = min(self.policy.rate, self._global.rate * self.policy.recovery_factor)
            return None

        if outcome.status in (403, 404):
            entry.status, entry.reason = "gone", reason
            entry.finished_at = self._clock.utcnow()
            await self._ledger.save(entry)
            await self._registry.mark_gone(job.record.id, reason, now=entry.finished_at)
            summary.gone += 1
            return None

        delay: float | None = None
        if outcome.status == 429:
            self._global.rate = max(self.policy.min_rate, self._global.rate * self.policy.slowdown_factor)
            if outcome.retry_after is not None:
                delay = max(0.0, outcome.retry_after)
                if delay > self.policy.max_retry_after:
                    reason = f"{reason}; Retry-After {delay:.0f} s is longer than {self.policy.max_retry_after:.0f} s"
                    delay = None
                    job.attempts = self.policy.max_attempts  # give up for this run
            else:
                delay = self._backoff(job.attempts)
            log.info("429 for %s: retry in %.2f s; global rate now %.1f/s", job.record.id,
                     delay or 0.0, self._global.rate)
        elif outcome.status is None or outcome.status in (408, 412) or outcome.status >= 500:
            delay = self._backoff(job.attempts)

        if delay is not None and job.attempts < self.policy.max_attempts:
            entry.status, entry.reason = "pending", reason
            await self._ledger.save(entry)
            summary.retried += 1
            return delay

        if delay is not None or outcome.status == 429:
            reason = f"{reason} (after {job.attempts} attempts)"
        entry.status, entry.reason = "failed", reason
        entry.finished_at = self._clock.utcnow()
        await self._ledger.save(entry)
        summary.failed += 1
        counts.failures[job.record.id] = reason
        log.warning("%s: %s failed: %s", summary.announcement_id, job.record.id, reason)
        return None

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * (2 ** (attempt - 1)))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    # -- the run lock -----------------------------------------------------------------------

    async def _take_lock(self, announcement_id: str) -> dict:
        """Refuse to run beside a live broadcast of the same announcement (CLI and scheduler).

        Best effort (no compare-and-set across every store): it stops the common mistake, two
        runs started minutes apart. On this host a lock is live while its process is; from another
        host while its heartbeat (every 20 s) is fresh. A dead holder's lock is taken over.
        """
        key = _LOCK_PREFIX + announcement_id
        found = (await self._storage.read([key])).get(key)
        now = self._clock.utcnow()
        if isinstance(found, dict) and found.get("owner"):
            try:
                age = (now - dt.datetime.fromisoformat(found["heartbeat"])).total_seconds()
            except (KeyError, TypeError, ValueError):
                age = math.inf
            if found.get("host") == socket.gethostname():
                busy = _pid_alive(found.get("pid"))  # here we can ask the process itself
            else:
                busy = age < _LOCK_FRESH_SECONDS  # elsewhere: trust a fresh heartbeat
            if busy:
                raise BroadcastBusy(
                    f"announcement {announcement_id} is being sent by another process "
                    f"(pid {found.get('pid')} on {found.get('host')}, heartbeat {age:.0f} s ago)")
        lock = {"owner": uuid.uuid4().hex, "pid": os.getpid(), "host": socket.gethostname(),
                "heartbeat": now.isoformat()}
        await self._storage.write({key: dict(lock)})
        return lock

    async def _heartbeat(self, announcement_id: str, lock: dict) -> None:
        lock["heartbeat"] = self._clock.utcnow().isoformat()
        await self._storage.write({_LOCK_PREFIX + announcement_id: dict(lock)})


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _target(record: ConversationRecord) -> str:
    """The conversation messages go into: the channel for a team, else the conversation."""
    return record.channel_id or record.id


def _describe(outcome: SendOutcome) -> str:
    if outcome.status is None:
        return f"no answer: {outcome.error or 'network error'}"
    text = f"HTTP {outcome.status}"
    return f"{text}: {outcome.error}" if outcome.error else text


async def broadcast(
    storage: KeyedStorage,
    sender: Sender,
    announcement_id: str,
    message: OutgoingMessage,
    *,
    policy: BroadcastPolicy | None = None,
    clock: Clock | None = None,
    on_progress: Callable[[BroadcastProgress], None] | None = None,
) -> BroadcastSummary:
    """Send an announcement to every installed conversation in the registry."""
    recipients = await ConversationRegistry(storage).installed()
    broadcaster = Broadcaster(storage, sender, policy=policy, clock=clock, on_progress=on_progress)
    return await broadcaster.run(announcement_id, message, recipients)
