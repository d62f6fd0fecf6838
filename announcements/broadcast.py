"""The delivery engine: one announcement to many conversations, exactly once each where Teams
lets us, within Teams' rate limits, resumable after a crash.

This module is the orchestration; each rule lives in its own module:
- `ledger`: what happened to each (announcement, conversation), written before and after a send;
- `ratelimit`: Teams' limits (the global rate, halved on 429; 7/s and 60 per 30 s per conversation);
- `retry`: the decision after each answer (sent, retry after N s, gone, failed);
- `runlock`: one run of an announcement at a time, across processes (compare-and-set).
Plain Python: a `Sender` does the actual send (the Bot Framework one lives at the edge), a `Clock`
gives time and sleeps (tests run in simulated time), and everything persisted goes through the
bot's `Storage`.

How a conversation is delivered:
1. Skip it when the ledger says `sent` (or `gone`); a run after a crash resends entries found
   `in_flight` and reports them (see `ledger` for why that window cannot be closed).
2. Wait for the rate limiter (the conversation's limits, then the global rate).
3. Write `in_flight`, send, write the outcome the retry policy decides: `sent`; `gone` on 403/404
   (and the registry marks the conversation gone, so it is never tried again); `pending` while a
   retry waits (429: exactly `Retry-After`, and the global rate is halved, then recovers; 412,
   5xx, network errors: exponential backoff with jitter); `failed` after `max_attempts` or on any
   other error.
A conversation waiting for a retry does not hold a worker: many conversations stay in flight.
The run lock's heartbeat renews it while the run lasts; if another process took it over, the run
stops (`BroadcastLockLost`) and leaves the rest to that process.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from announcements.clock import Clock, SystemClock
from announcements.ledger import Ledger, LedgerEntry, plan_delivery
from announcements.ratelimit import TEAMS_CONVERSATION_WINDOWS, RateLimiter, TeamsRateLimiter
from announcements.registry import ConversationRecord, ConversationRegistry
from announcements.retry import RetryPolicy, describe
from announcements.runlock import FRESH_SECONDS, LockHeld, LockLost, RunLock
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
    "BroadcastLockLost",
    "RateLimiter",
    "Broadcaster",
    "MessageFor",
    "broadcast",
]

log = logging.getLogger(__name__)

_LOCK_FRESH_SECONDS = FRESH_SECONDS


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


MessageFor = Callable[[ConversationRecord], Awaitable[OutgoingMessage]]
"""A message drawn for each conversation just before it is sent (a reminder shows that
conversation's own checklist); `Broadcaster.run` takes it in place of one message for all."""


class Sender(Protocol):
    """Delivers one message into one registered conversation."""

    async def send(self, record: ConversationRecord, message: OutgoingMessage) -> SendOutcome: ...


class BroadcastPolicy(BaseModel):
    """Limits and retry rules of a broadcast."""

    rate: float = Field(30.0, gt=0, le=50)
    """Messages per second, all conversations together (Teams: 50 per app per tenant)."""
    per_conversation_rate: float = Field(7.0, gt=0, le=7)
    """Messages per second into one conversation (Teams: 7)."""
    per_conversation_windows: tuple[tuple[int, float], ...] = TEAMS_CONVERSATION_WINDOWS
    """Also at most `count` messages in any `seconds` into one conversation (Teams: 60 in 30 s)."""
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


class BroadcastLockLost(BroadcastBusy):
    """This run stopped midway: another process took its run lock over and sends the rest."""


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
        limiter: TeamsRateLimiter | None = None,
    ) -> None:
        self._storage = storage
        self._sender = sender
        self.policy = policy or BroadcastPolicy()
        self._clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._on_progress = on_progress
        self._ledger = Ledger(storage)
        self._registry = ConversationRegistry(storage)
        self._limiter = limiter or TeamsRateLimiter(
            rate=self.policy.rate,
            per_conversation_rate=self.policy.per_conversation_rate,
            windows=self.policy.per_conversation_windows,
            min_rate=self.policy.min_rate,
            slowdown_factor=self.policy.slowdown_factor,
            recovery_factor=self.policy.recovery_factor,
            clock=self._clock,
        )
        """Shared with the reply path when handed in, so both count against the same limits."""
        self._retry = RetryPolicy(
            max_attempts=self.policy.max_attempts,
            backoff_base=self.policy.backoff_base,
            backoff_cap=self.policy.backoff_cap,
            max_retry_after=self.policy.max_retry_after,
            jitter=self._rng.random,
        )

    async def run(
        self, announcement_id: str, message: OutgoingMessage | MessageFor, recipients: list[ConversationRecord]
    ) -> BroadcastSummary:
        """Deliver `message` to each of `recipients` that the ledger does not show as done.

        Raises `BroadcastBusy` (before sending anything) when another process runs the same
        announcement, and `BroadcastLockLost` when another process took this run's lock over.
        """
        start = self._clock.monotonic()
        summary = BroadcastSummary(announcement_id=announcement_id, recipients=len(recipients))
        lock = RunLock(
            self._storage, _LOCK_PREFIX + announcement_id, clock=self._clock, fresh_seconds=_LOCK_FRESH_SECONDS
        )
        try:
            await lock.acquire()
        except LockHeld as exc:
            raise BroadcastBusy(f"announcement {announcement_id} is being sent by another process ({exc})") from None
        try:
            by_id: dict[str, ConversationRecord] = {}
            for record in recipients:  # one record per conversation, even if listed twice
                by_id.setdefault(record.id, record)
            plan = plan_delivery(announcement_id, by_id, await self._ledger.entries(announcement_id))
            summary.skipped_already_sent = len(plan.already_sent)
            summary.skipped_gone = len(plan.gone)
            summary.resent_after_interruption = plan.resent_after_interruption
            for conversation_id in plan.resent_after_interruption:
                log.warning(
                    "%s: %s was in flight when a previous run stopped; sending again "
                    "(it may get the announcement twice)",
                    announcement_id,
                    conversation_id,
                )
            jobs = [_Job(by_id[entry.conversation_id], entry) for entry in plan.to_send]
            counts = _Counts(summary=summary, total=len(jobs))
            log.info(
                "%s: %d to send, %d already sent, %d gone",
                announcement_id,
                len(jobs),
                summary.skipped_already_sent,
                summary.skipped_gone,
            )
            if jobs:
                await self._deliver_all(jobs, message, counts, start, lock)
            summary.failures = counts.failures
            summary.seconds = self._clock.monotonic() - start
            return summary
        except LockLost as exc:
            log.error("%s: stopped after %d sent: %s", announcement_id, summary.sent, exc)
            raise BroadcastLockLost(
                f"announcement {announcement_id}: this run stopped after {summary.sent} sent, because "
                f"{exc}; that process sends the rest"
            ) from exc
        finally:
            await lock.release()

    # -- the work queue ---------------------------------------------------------------------

    async def _deliver_all(
        self, jobs: list[_Job], message: OutgoingMessage | MessageFor, counts: _Counts, start: float, lock: RunLock
    ) -> None:
        queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        outstanding = len(jobs)
        finished = asyncio.Event()
        waiters: set[asyncio.Task[None]] = set()

        async def heartbeat() -> None:
            while True:
                await self._clock.sleep(lock.renew_every)
                try:
                    await lock.renew()
                except LockLost:
                    raise  # someone took the lock over: stop the run
                except Exception:  # a storage hiccup: try again next beat (workers check the age)
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
                delay = await self._attempt(job, message, counts, lock)
                if delay is None:
                    outstanding -= 1
                    counts.done += 1
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
            # Stop on completion, or as soon as a worker dies (a storage error) or the lock is
            # lost: never hang.
            await asyncio.wait([all_done, beating, *workers], return_when=asyncio.FIRST_COMPLETED)
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
            (beat,) = await asyncio.gather(beating, return_exceptions=True)
        errors = [r for r in (beat, *results) if isinstance(r, Exception)]
        lost = [e for e in errors if isinstance(e, LockLost)]
        if lost or errors:
            raise (lost or errors)[0]

    def _report(self, counts: _Counts, start: float) -> None:
        if self._on_progress is None:
            return
        s = counts.summary
        self._on_progress(
            BroadcastProgress(
                total=counts.total,
                done=counts.done,
                sent=s.sent,
                failed=s.failed,
                gone=s.gone,
                retried=s.retried,
                waiting=counts.waiting,
                elapsed=self._clock.monotonic() - start,
                rate=self._limiter.rate,
            )
        )

    # -- one attempt ------------------------------------------------------------------------

    async def _attempt(
        self, job: _Job, message: OutgoingMessage | MessageFor, counts: _Counts, lock: RunLock
    ) -> float | None:
        """Send once; returns the delay before a retry, or None when the job is finished."""
        summary = counts.summary
        await self._limiter.acquire(_target(job.record))
        lock.check()  # never send on a lock that may have been taken over

        entry = job.entry
        entry.start_attempt(self._clock.utcnow())
        job.attempts += 1
        summary.attempts += 1
        await self._ledger.save(entry)

        try:
            outgoing = message if isinstance(message, OutgoingMessage) else await message(job.record)
            outcome = await self._sender.send(job.record, outgoing)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a sender must not raise; treat it as "no answer"
            log.exception("sender raised for %s", job.record.id)
            outcome = SendOutcome(status=None, error=f"{type(exc).__name__}: {exc}")

        decision = self._retry.decide(outcome.status, outcome.retry_after, job.attempts, outcome.error)
        if outcome.status == 429:
            rate = self._limiter.slow_down()
            log.info(
                "429 for %s: %s; global rate now %.1f/s",
                job.record.id,
                f"retry in {decision.delay:.2f} s" if decision.delay is not None else decision.action,
                rate,
            )

        if decision.action == "sent":
            entry.finish("sent", self._clock.utcnow(), activity_id=outcome.activity_id)
            await self._ledger.save(entry)
            summary.sent += 1
            self._limiter.recover()
            return None

        reason = decision.reason or _describe(outcome)
        if decision.action == "gone":
            now = self._clock.utcnow()
            entry.finish("gone", now, reason=reason)
            await self._ledger.save(entry)
            await self._registry.mark_gone(job.record.id, reason, now=now)
            summary.gone += 1
            return None

        if decision.action == "retry" and decision.delay is not None:
            entry.retry_later(reason)
            await self._ledger.save(entry)
            summary.retried += 1
            return decision.delay

        entry.finish("failed", self._clock.utcnow(), reason=reason)
        await self._ledger.save(entry)
        summary.failed += 1
        counts.failures[job.record.id] = reason
        log.warning("%s: %s failed: %s", summary.announcement_id, job.record.id, reason)
        return None


def _target(record: ConversationRecord) -> str:
    """The conversation messages go into: the channel for a team, else the conversation."""
    return record.channel_id or record.id


def _describe(outcome: SendOutcome) -> str:
    return describe(outcome.status, outcome.error)


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
