"""The delivery engine in simulated time: a fake sender, a virtual clock, in-memory storage."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import socket

import pytest

from announcements.broadcast import (
    BroadcastBusy,
    Broadcaster,
    BroadcastPolicy,
    SendOutcome,
    broadcast,
)
from announcements.clock import VirtualClock
from announcements.ledger import Ledger, LedgerEntry
from announcements.registry import ConversationRecord, ConversationRegistry
from cards.message import OutgoingMessage
from storage import MemoryStorage

ANN = "test-ann"
MESSAGE = OutgoingMessage(text="Viktig information")
NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


class FakeSender:
    """Answers from a script per conversation (then 201); records (conversation, virtual time)."""

    def __init__(self, clock: VirtualClock, script: dict[str, list[SendOutcome | Exception]] | None = None):
        self.clock = clock
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.calls: list[tuple[str, float]] = []

    async def send(self, record: ConversationRecord, message: OutgoingMessage) -> SendOutcome:
        self.calls.append((record.id, self.clock.monotonic()))
        queue = self.script.get(record.id)
        if queue:
            outcome = queue.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        return SendOutcome(status=201, activity_id=f"act-{record.id}")

    def count(self, conversation_id: str) -> int:
        return sum(1 for cid, _ in self.calls if cid == conversation_id)

    def times(self, conversation_id: str) -> list[float]:
        return [t for cid, t in self.calls if cid == conversation_id]


def reference(conversation_id: str, conversation_type: str = "personal") -> dict:
    return {
        "activityId": "1",
        "user": {"id": "29:user", "name": "Åsa Öberg", "aadObjectId": "aad-user"},
        "bot": {"id": "28:bot", "name": "Kanalvakten"},
        "conversation": {
            "id": conversation_id,
            "conversationType": conversation_type,
            "tenantId": "tenant",
            "name": "Kommunikatörerna",
        },
        "channelId": "msteams",
        "serviceUrl": "https://smba.example/emea/",
    }


async def register(storage, n: int) -> list[str]:
    registry = ConversationRegistry(storage)
    ids = [f"a:conv{i:04d}" for i in range(n)]
    for cid in ids:
        await registry.remember(reference(cid), "personal", None, None, "tenant", NOW)
    return ids


def fast_policy(**overrides) -> BroadcastPolicy:
    return BroadcastPolicy(**{"rate": 30, "concurrency": 8, **overrides})


async def run(storage, sender, clock, policy=None, recipients=None, **kwargs):
    registry = ConversationRegistry(storage)
    recipients = recipients if recipients is not None else await registry.installed()
    broadcaster = Broadcaster(
        storage, sender, policy=policy or fast_policy(), clock=clock, rng=random.Random(7), **kwargs
    )
    return await clock.run(broadcaster.run(ANN, MESSAGE, recipients))


@pytest.fixture
def storage():
    return MemoryStorage()


@pytest.fixture
def clock():
    return VirtualClock(start=NOW)


async def test_every_conversation_gets_exactly_one_message(storage, clock):
    ids = await register(storage, 40)
    sender = FakeSender(clock)
    summary = await run(storage, sender, clock)
    assert sorted(cid for cid, _ in sender.calls) == ids
    assert (summary.sent, summary.failed, summary.gone, summary.retried) == (40, 0, 0, 0)
    entries = await Ledger(storage).entries(ANN)
    assert {e.status for e in entries.values()} == {"sent"}
    assert entries[ids[0]].activity_id == f"act-{ids[0]}"
    assert summary.ok


async def test_a_second_run_sends_nothing(storage, clock):
    await register(storage, 10)
    sender = FakeSender(clock)
    await run(storage, sender, clock)
    again = await run(storage, sender, clock)
    assert len(sender.calls) == 10
    assert again.sent == 0 and again.skipped_already_sent == 10 and again.attempts == 0


async def test_a_new_conversation_after_a_run_gets_only_its_own_message(storage, clock):
    await register(storage, 5)
    sender = FakeSender(clock)
    await run(storage, sender, clock)
    await ConversationRegistry(storage).remember(reference("a:late"), "personal", None, None, "tenant", NOW)
    summary = await run(storage, sender, clock)
    assert summary.sent == 1 and summary.skipped_already_sent == 5
    assert sender.count("a:late") == 1 and len(sender.calls) == 6


async def test_429_waits_exactly_retry_after_and_still_delivers_once(storage, clock):
    ids = await register(storage, 12)
    throttled = {ids[1]: [2.5, 4.0], ids[5]: [7.0], ids[9]: [1.0, 1.0, 3.0]}
    script = {
        cid: [SendOutcome(status=429, retry_after=s, error="Too Many Requests") for s in waits]
        for cid, waits in throttled.items()
    }
    sender = FakeSender(clock, script)
    summary = await run(storage, sender, clock)

    assert summary.sent == 12 and summary.failed == 0
    assert summary.retried == sum(len(w) for w in throttled.values())
    entries = await Ledger(storage).entries(ANN)
    assert all(e.status == "sent" for e in entries.values())
    for cid, waits in throttled.items():
        times = sender.times(cid)
        assert len(times) == len(waits) + 1  # exactly one successful send after the 429s
        gaps = [b - a for a, b in itertools.pairwise(times)]
        for gap, wait in zip(gaps, waits, strict=False):
            # the retry waits Retry-After, plus at most a few global rate slots
            assert wait - 1e-9 <= gap <= wait + 1.0, (cid, gaps, waits)
    recorded = [seconds for _, seconds in clock.sleeps]
    for waits in throttled.values():
        for wait in waits:
            assert wait in recorded  # a sleep of exactly Retry-After


async def test_429_slows_the_global_rate_down(storage, clock):
    ids = await register(storage, 6)
    script = {ids[0]: [SendOutcome(status=429, retry_after=1.0)]}
    seen = []
    await run(
        storage,
        FakeSender(clock, script),
        clock,
        policy=fast_policy(concurrency=1),
        on_progress=lambda p: seen.append(p.rate),
    )
    assert min(seen) < 30
    assert seen[0] == 15  # halved on the first 429


async def test_429_without_retry_after_backs_off(storage, clock):
    ids = await register(storage, 1)
    sender = FakeSender(clock, {ids[0]: [SendOutcome(status=429)] * 2})
    summary = await run(storage, sender, clock, policy=fast_policy(backoff_base=2.0))
    assert summary.sent == 1 and summary.retried == 2
    t = sender.times(ids[0])
    assert 1.0 <= t[1] - t[0] <= 2.2 and 2.0 <= t[2] - t[1] <= 4.2


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(500, id="500"),
        pytest.param(502, id="502"),
        pytest.param(503, id="503"),
        pytest.param(412, id="412"),
        pytest.param(None, id="network-error"),
    ],
)
async def test_transient_errors_are_retried_with_backoff_then_succeed(storage, clock, status):
    ids = await register(storage, 3)
    sender = FakeSender(clock, {ids[0]: [SendOutcome(status=status, error="boom")] * 3})
    summary = await run(storage, sender, clock)
    assert summary.sent == 3 and summary.retried == 3 and summary.failed == 0
    assert sender.count(ids[0]) == 4 and sender.count(ids[1]) == 1


async def test_5xx_forever_fails_after_bounded_attempts_with_bounded_waits(storage, clock):
    ids = await register(storage, 3)
    sender = FakeSender(clock, {ids[0]: [SendOutcome(status=503, error="Service Unavailable")] * 50})
    policy = fast_policy(max_attempts=5, backoff_base=1.0, backoff_cap=4.0)
    summary = await run(storage, sender, clock, policy=policy)
    assert sender.count(ids[0]) == 5
    assert summary.failed == 1 and summary.sent == 2 and not summary.ok
    assert "503" in summary.failures[ids[0]] and "5 attempts" in summary.failures[ids[0]]
    t = sender.times(ids[0])
    gaps = [b - a for a, b in itertools.pairwise(t)]
    assert all(0.5 <= g <= 4.2 for g in gaps), gaps  # base 1, doubling, capped at 4, jittered
    assert gaps[0] < gaps[-1]
    entry = (await Ledger(storage).entries(ANN))[ids[0]]
    assert entry.status == "failed" and entry.attempts == 5
    # a later run tries the failed one again (and only it)
    sender.script.clear()
    again = await run(storage, sender, clock, policy=policy)
    assert again.sent == 1 and again.skipped_already_sent == 2


async def test_a_sender_exception_counts_as_a_network_error(storage, clock):
    ids = await register(storage, 1)
    sender = FakeSender(clock, {ids[0]: [ConnectionResetError("reset by peer")]})
    summary = await run(storage, sender, clock)
    assert summary.sent == 1 and summary.retried == 1


@pytest.mark.parametrize("status", [pytest.param(403, id="403"), pytest.param(404, id="404")])
async def test_403_and_404_mark_the_conversation_gone_and_it_is_never_tried_again(storage, clock, status):
    ids = await register(storage, 4)
    sender = FakeSender(clock, {ids[2]: [SendOutcome(status=status, error="BotNotInConversationRoster")] * 5})
    summary = await run(storage, sender, clock)
    assert summary.gone == 1 and summary.sent == 3 and summary.retried == 0 and summary.ok
    assert sender.count(ids[2]) == 1
    registry = ConversationRegistry(storage)
    record = await registry.get(ids[2])
    assert record is not None and not record.installed and str(status) in (record.gone_reason or "")
    assert ids[2] not in [r.id for r in await registry.installed()]
    # even when handed the record explicitly, the ledger keeps it from being tried again
    again = await run(storage, sender, clock, recipients=[record])
    assert again.skipped_gone == 1 and sender.count(ids[2]) == 1


async def test_other_client_errors_fail_at_once(storage, clock):
    ids = await register(storage, 2)
    sender = FakeSender(clock, {ids[0]: [SendOutcome(status=400, error="BadArgument")]})
    summary = await run(storage, sender, clock)
    assert summary.failed == 1 and sender.count(ids[0]) == 1
    assert summary.failures[ids[0]] == "HTTP 400: BadArgument"


async def test_at_most_seven_messages_a_second_into_one_conversation(storage, clock):
    ids = await register(storage, 1)
    sender = FakeSender(clock, {ids[0]: [SendOutcome(status=503)] * 9})
    policy = fast_policy(rate=50, max_attempts=10, backoff_base=0.0)
    summary = await run(storage, sender, clock, policy=policy)
    assert summary.sent == 1
    t = sender.times(ids[0])
    assert len(t) == 10
    assert min(b - a for a, b in itertools.pairwise(t)) >= 1 / 7 - 1e-9
    assert max(sum(1 for x in t if s <= x < s + 1 - 1e-9) for s in t) <= 7


@pytest.mark.parametrize(
    "rate", [pytest.param(5.0, id="5/s"), pytest.param(30.0, id="30/s"), pytest.param(50.0, id="50/s")]
)
async def test_the_global_rate_is_respected(storage, clock, rate):
    await register(storage, 120)
    sender = FakeSender(clock)
    summary = await run(storage, sender, clock, policy=fast_policy(rate=rate, concurrency=32))
    times = sorted(t for _, t in sender.calls)
    assert len(times) == 120
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1 / rate - 1e-9
    assert max(sum(1 for x in times if s <= x < s + 1 - 1e-9) for s in times) <= rate
    assert summary.seconds == pytest.approx(119 / rate, rel=0.02)


async def test_waiting_retries_do_not_hold_workers(storage, clock):
    ids = await register(storage, 20)
    script = {cid: [SendOutcome(status=429, retry_after=30.0)] for cid in ids[:2]}
    sender = FakeSender(clock, script)
    await run(storage, sender, clock, policy=fast_policy(concurrency=2, rate=50))
    # the other 18 went out long before the two throttled ones came back
    others = [t for cid, t in sender.calls if cid not in ids[:2]]
    assert max(others) < 5.0


async def test_an_entry_left_in_flight_is_resent_and_reported(storage, clock):
    ids = await register(storage, 3)
    ledger = Ledger(storage)
    await ledger.save(LedgerEntry(announcement_id=ANN, conversation_id=ids[0], status="in_flight", attempts=1))
    await ledger.save(LedgerEntry(announcement_id=ANN, conversation_id=ids[1], status="sent", attempts=1))
    sender = FakeSender(clock)
    summary = await run(storage, sender, clock)
    assert summary.resent_after_interruption == [ids[0]]
    assert summary.sent == 2 and summary.skipped_already_sent == 1
    assert sender.count(ids[1]) == 0
    entry = (await ledger.entries(ANN))[ids[0]]
    assert entry.status == "sent" and entry.interrupted == 1 and entry.attempts == 2


async def test_the_ledger_is_written_before_and_after_each_send(storage, clock):
    ids = await register(storage, 1)
    ledger = Ledger(storage)
    seen: list[str] = []

    class Peeking(FakeSender):
        async def send(self, record, message):
            seen.append((await ledger.get(ANN, record.id)).status)
            return await super().send(record, message)

    await run(storage, Peeking(clock, {ids[0]: [SendOutcome(status=500)]}), clock)
    assert seen == ["in_flight", "in_flight"]
    assert (await ledger.get(ANN, ids[0])).status == "sent"


async def test_progress_is_reported_until_done(storage, clock):
    await register(storage, 5)
    progress = []
    await run(storage, FakeSender(clock), clock, on_progress=progress.append)
    assert progress[-1].done == progress[-1].total == 5 and progress[-1].sent == 5


async def test_a_live_broadcast_of_the_same_announcement_refuses_a_second(storage, clock):
    await register(storage, 1)
    await storage.write(
        {
            f"broadcast-lock/{ANN}": {
                "owner": "x",
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "heartbeat": NOW.isoformat(),
            }
        }
    )
    with pytest.raises(BroadcastBusy):
        await run(storage, FakeSender(clock), clock)


async def test_a_lock_left_by_a_dead_process_is_taken_over(storage, clock):
    await register(storage, 1)
    await storage.write(
        {
            f"broadcast-lock/{ANN}": {
                "owner": "x",
                "pid": 2**22 + 12345,
                "host": socket.gethostname(),
                "heartbeat": NOW.isoformat(),
            }
        }
    )
    summary = await run(storage, FakeSender(clock), clock)
    assert summary.sent == 1
    assert await storage.read([f"broadcast-lock/{ANN}"]) == {}


async def test_broadcast_sends_to_installed_conversations_only(storage, clock):
    ids = await register(storage, 3)
    await ConversationRegistry(storage).forget(ids[1], "uninstalled", now=NOW)
    sender = FakeSender(clock)
    summary = await clock.run(broadcast(storage, sender, ANN, MESSAGE, policy=fast_policy(), clock=clock))
    assert summary.recipients == 2 and sender.count(ids[1]) == 0


async def test_a_conversation_listed_twice_still_gets_one_message(storage, clock):
    ids = await register(storage, 2)
    records = await ConversationRegistry(storage).installed()
    sender = FakeSender(clock)
    summary = await run(storage, sender, clock, recipients=records + records)
    assert summary.sent == 2 and sender.count(ids[0]) == 1
