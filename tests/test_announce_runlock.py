"""The run lock: compare-and-set on the store's e_tag, so two processes never both hold it.

"Two processes" are two storage objects on one SQLite file (as two processes would open it) with a
lock each; hosts and "is this pid alive" are injected, time is a `VirtualClock`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from announcements.broadcast import (
    BroadcastBusy,
    Broadcaster,
    BroadcastLockLost,
    BroadcastPolicy,
    SendOutcome,
)
from announcements.clock import VirtualClock
from announcements.ledger import Ledger
from announcements.registry import ConversationRegistry
from announcements.runlock import LockHeld, LockLost, RunLock
from cards.message import OutgoingMessage
from storage import MemoryStorage, SqliteStorage

KEY = "broadcast-lock/ann"
NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
RACE_TIMEOUT = 60
"""Seconds a race may take before the test fails instead of hanging (generous: machines are busy)."""


class ReadTogether:
    """A storage whose reads wait for each other: both racers read before either writes.

    A read that fails breaks the barrier, so the other racer fails at once instead of waiting
    forever for a partner that will never come."""

    def __init__(self, inner, barrier: asyncio.Barrier) -> None:
        self._inner, self._barrier = inner, barrier

    async def read(self, keys):
        try:
            found = await self._inner.read(keys)
        except BaseException:
            await self._barrier.abort()
            raise
        await self._barrier.wait()
        return found

    async def write(self, changes):
        await self._inner.write(changes)

    async def delete(self, keys):
        await self._inner.delete(keys)

    async def keys(self, prefix=""):
        return await self._inner.keys(prefix)


def lock(storage, host: str, clock: VirtualClock, **kwargs) -> RunLock:
    return RunLock(storage, KEY, clock=clock, host=host, pid=100, is_alive=lambda pid: True, **kwargs)


async def winners(*locks: RunLock) -> list[RunLock]:
    """Race `locks` to acquire; the ones that got it (every other must have been refused)."""
    async with asyncio.timeout(RACE_TIMEOUT):
        results = await asyncio.gather(*(one.acquire() for one in locks), return_exceptions=True)
    assert all(r is None or isinstance(r, LockHeld) for r in results), results
    return [one for one, r in zip(locks, results, strict=False) if r is None]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=NOW)


@pytest.fixture
async def two_stores(tmp_path: Path):
    path = tmp_path / "shared.db"
    first, second = SqliteStorage(path), SqliteStorage(path)
    yield first, second
    await first.close()
    await second.close()


@pytest.mark.parametrize(
    "lockstep", [pytest.param(True, id="both-read-then-both-write"), pytest.param(False, id="free-interleaving")]
)
async def test_two_processes_racing_for_a_free_lock_have_exactly_one_winner(two_stores, clock, lockstep):
    first, second = two_stores
    for round_ in range(20):
        barrier = asyncio.Barrier(2)
        stores = (ReadTogether(first, barrier), ReadTogether(second, barrier)) if lockstep else (first, second)
        a, b = lock(stores[0], "host-a", clock), lock(stores[1], "host-b", clock)
        (won,) = await winners(a, b)
        stored = (await first.read([KEY]))[KEY]
        assert stored["host"] == won._host, f"round {round_}"
        assert (await second.read([KEY]))[KEY] == stored
        await won.release()
        assert await first.read([KEY]) == {}


@pytest.mark.parametrize(
    "lockstep", [pytest.param(True, id="both-read-then-both-write"), pytest.param(False, id="free-interleaving")]
)
async def test_two_processes_taking_over_one_stale_lock_have_exactly_one_winner(two_stores, clock, lockstep):
    first, second = two_stores
    for round_ in range(20):
        await first.write(
            {
                KEY: {
                    "owner": "dead",
                    "pid": 7,
                    "host": "host-c",
                    "heartbeat": (clock.utcnow() - dt.timedelta(minutes=5)).isoformat(),
                }
            }
        )
        barrier = asyncio.Barrier(2)
        stores = (ReadTogether(first, barrier), ReadTogether(second, barrier)) if lockstep else (first, second)
        a, b = lock(stores[0], "host-a", clock), lock(stores[1], "host-b", clock)
        (won,) = await winners(a, b)
        assert (await second.read([KEY]))[KEY]["host"] == won._host, f"round {round_}"
        loser = b if won is a else a
        with pytest.raises(LockLost):
            await loser.renew()  # it never held it
        await won.renew()
        await won.release()


async def test_a_fresh_lock_on_another_host_is_respected(two_stores, clock):
    first, second = two_stores
    a = lock(first, "host-a", clock)
    await a.acquire()
    clock.advance(59)
    with pytest.raises(LockHeld, match="pid 100 on host-a, heartbeat 59 s ago"):
        await lock(second, "host-b", clock).acquire()


async def test_a_stale_lock_is_taken_over_and_the_old_holder_stops(two_stores, clock):
    first, second = two_stores
    a, b = lock(first, "host-a", clock), lock(second, "host-b", clock)
    await a.acquire()
    a.check()
    clock.advance(61)  # host-a went quiet: no heartbeat for a minute
    await b.acquire()
    with pytest.raises(LockLost, match="taken over"):
        await a.renew()  # the CAS fails: the e_tag changed
    assert not a.held
    with pytest.raises(LockLost):
        a.check()
    await a.release()  # must not delete b's lock
    assert (await first.read([KEY]))[KEY]["host"] == "host-b"
    await b.renew()
    b.check()
    await b.release()
    assert await first.read([KEY]) == {}


async def test_a_holder_that_could_not_renew_in_time_stops_before_sending_more(clock):
    a = lock(MemoryStorage(), "host-a", clock)
    await a.acquire()
    clock.advance(59)
    a.check()
    clock.advance(1)
    with pytest.raises(LockLost, match="could not be renewed for 60 s"):
        a.check()
    await a.renew()  # nobody took it meanwhile: renewing makes it usable again
    a.check()


@pytest.mark.parametrize(
    "alive, heartbeat_age, taken",
    [
        pytest.param(False, 0, True, id="process-ended-fresh-heartbeat"),
        pytest.param(True, 0, False, id="process-alive-fresh-heartbeat"),
        pytest.param(True, 59, False, id="process-alive-heartbeat-59s"),
        pytest.param(True, 60, True, id="pid-reused-after-a-crash-heartbeat-60s"),
    ],
)
async def test_on_the_same_host_the_process_and_its_heartbeat_decide(clock, alive, heartbeat_age, taken):
    storage = MemoryStorage()
    await storage.write(
        {
            KEY: {
                "owner": "x",
                "pid": 4242,
                "host": "here",
                "heartbeat": (clock.utcnow() - dt.timedelta(seconds=heartbeat_age)).isoformat(),
            }
        }
    )
    mine = RunLock(storage, KEY, clock=clock, host="here", pid=1, is_alive=lambda pid: alive)
    if taken:
        await mine.acquire()
        assert (await storage.read([KEY]))[KEY]["pid"] == 1
    else:
        with pytest.raises(LockHeld):
            await mine.acquire()


@pytest.mark.parametrize(
    "record",
    [
        pytest.param({"owner": "x", "pid": 1, "host": "elsewhere", "heartbeat": "not a time"}, id="bad-heartbeat"),
        pytest.param({"owner": "x", "pid": 1, "host": "elsewhere"}, id="no-heartbeat"),
        pytest.param({"note": "not a lock"}, id="no-owner"),
    ],
)
async def test_an_unreadable_lock_counts_as_stale(clock, record):
    storage = MemoryStorage()
    await storage.write({KEY: record})
    await lock(storage, "host-a", clock).acquire()


class LosesOneAnswer(MemoryStorage):
    """The next write to the lock goes through, but its answer is lost (a timeout)."""

    lose_next = False

    async def write(self, changes):
        await super().write(changes)
        if self.lose_next and KEY in changes:
            self.lose_next = False
            raise ConnectionError("timed out")


async def test_a_renewal_whose_answer_was_lost_is_recognised_as_our_own_write(clock):
    storage = LosesOneAnswer()
    a = lock(storage, "host-a", clock)
    await a.acquire()
    storage.lose_next = True
    with pytest.raises(ConnectionError):
        await a.renew()
    await a.renew()  # conflicts on the e_tag, but the stored owner is us: adopted
    assert a.held
    await a.release()
    assert await storage.read([KEY]) == {}


# -- the broadcaster with its lock ------------------------------------------------------------

ANN = "ann"
MESSAGE = OutgoingMessage(text="Viktig information")


async def register(storage, n: int) -> list[str]:
    registry = ConversationRegistry(storage)
    ids = [f"a:conv{i:04d}" for i in range(n)]
    for cid in ids:
        await registry.remember(
            {
                "bot": {"id": "28:bot"},
                "conversation": {"id": cid, "conversationType": "personal"},
                "channelId": "msteams",
                "serviceUrl": "https://smba.example/",
            },
            "personal",
            None,
            None,
            "tenant",
            NOW,
        )
    return ids


class Sender:
    def __init__(self, on_call=None) -> None:
        self.calls: list[str] = []
        self.on_call = on_call

    async def send(self, record, message) -> SendOutcome:
        self.calls.append(record.id)
        if self.on_call is not None:
            await self.on_call(len(self.calls))
        return SendOutcome(status=201, activity_id="x")


async def test_a_broadcast_whose_lock_is_taken_over_stops_and_the_new_holder_sends_the_rest(clock):
    storage = MemoryStorage()
    ids = await register(storage, 100)
    other = {"owner": "other", "pid": 1, "host": "other-host"}

    async def take_over(n: int) -> None:
        if n == 10:  # another process decided our lock was stale and took it
            await storage.write({f"broadcast-lock/{ANN}": {**other, "heartbeat": clock.utcnow().isoformat()}})

    sender = Sender(take_over)
    policy = BroadcastPolicy(rate=1, concurrency=4)
    records = await ConversationRegistry(storage).installed()
    with pytest.raises(BroadcastLockLost) as caught:
        await clock.run(Broadcaster(storage, sender, policy=policy, clock=clock).run(ANN, MESSAGE, records))
    assert isinstance(caught.value, BroadcastBusy)  # callers treat it as "another process sends it"
    assert "taken over" in str(caught.value)
    # the next heartbeat (20 s) found out; nothing was sent after it
    assert 10 <= len(sender.calls) <= 21
    assert (await storage.read([f"broadcast-lock/{ANN}"]))[f"broadcast-lock/{ANN}"]["owner"] == "other"
    statuses = {e.status for e in (await Ledger(storage).entries(ANN)).values()}
    assert statuses <= {"sent", "pending"}
    # the other process finishes and releases; a run after it sends only the rest, once each
    await storage.delete([f"broadcast-lock/{ANN}"])
    rest = Sender()
    summary = await clock.run(
        Broadcaster(storage, rest, policy=BroadcastPolicy(rate=50), clock=clock).run(ANN, MESSAGE, records)
    )
    assert sorted(sender.calls + rest.calls) == ids
    assert summary.skipped_already_sent == len(sender.calls)


class LockWritesFail(MemoryStorage):
    """Ledger writes work; writes to the run lock fail once `failing` is set."""

    failing = False

    async def write(self, changes):
        if self.failing and any(k.startswith("broadcast-lock/") for k in changes):
            raise ConnectionError("storage unreachable")
        await super().write(changes)


async def test_a_broadcast_that_cannot_renew_its_lock_for_a_minute_stops_sending(clock):
    storage = LockWritesFail()
    await register(storage, 200)

    async def break_lock_writes(n: int) -> None:
        if n == 5:
            storage.failing = True

    sender = Sender(break_lock_writes)
    records = await ConversationRegistry(storage).installed()
    with pytest.raises(BroadcastLockLost, match="could not be renewed"):
        await clock.run(
            Broadcaster(storage, sender, policy=BroadcastPolicy(rate=1), clock=clock).run(ANN, MESSAGE, records)
        )
    assert len(sender.calls) <= 61  # the last renewal was at most at 20 s: nothing sent past 60 s after it


def first_waits_for(event: asyncio.Event):
    async def on_call(n: int) -> None:
        if n == 1:
            await event.wait()

    return on_call


async def signal_end(run, ended: asyncio.Event):
    try:
        return await run
    finally:
        ended.set()


async def test_two_processes_starting_the_same_broadcast_send_each_message_once(tmp_path: Path, clock):
    path = tmp_path / "shared.db"
    first, second = SqliteStorage(path), SqliteStorage(path)
    try:
        ids = await register(first, 15)
        records = await ConversationRegistry(first).installed()
        for round_ in range(5):
            announcement = f"{ANN}-{round_}"
            # Each run holds its first message until the other run has ended: the two overlap
            # however slowly either one's storage answers (a busy machine), so one must be refused.
            ended = [asyncio.Event(), asyncio.Event()]
            senders = [Sender(first_waits_for(ended[1])), Sender(first_waits_for(ended[0]))]
            runs = [
                signal_end(
                    Broadcaster(store, sender, policy=BroadcastPolicy(rate=50), clock=clock).run(
                        announcement, MESSAGE, records
                    ),
                    end,
                )
                for store, sender, end in zip((first, second), senders, ended, strict=True)
            ]
            async with asyncio.timeout(RACE_TIMEOUT):
                results = await clock.run(asyncio.gather(*runs, return_exceptions=True))
            assert sum(isinstance(r, BroadcastBusy) for r in results) == 1, results
            assert sorted(senders[0].calls + senders[1].calls) == ids
            assert await first.read([f"broadcast-lock/{announcement}"]) == {}
    finally:
        await first.close()
        await second.close()
