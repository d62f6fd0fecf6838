"""Time as a parameter: the engine asks a clock for the time and to sleep, never `asyncio` itself.

`SystemClock` is the real one. `VirtualClock` runs a broadcast in simulated time: sleeps return
as soon as every task is waiting, with the clock moved to the earliest wake-up, and every sleep is
recorded — so tests can assert that the waits followed `Retry-After` and that rates held, without
spending wall time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
import time
from collections.abc import Awaitable
from typing import Protocol, TypeVar

__all__ = ["Clock", "SystemClock", "VirtualClock"]

T = TypeVar("T")


class Clock(Protocol):
    """What the engine needs of time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for rates and waits)."""
        ...

    def utcnow(self) -> dt.datetime:
        """Wall time, timezone-aware UTC (for the ledger's timestamps)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait this long."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def utcnow(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class VirtualClock:
    """Simulated time for tests and dry runs; drive the code under test with `run(coro)`."""

    def __init__(self, start: dt.datetime | None = None, *, spins: int = 40) -> None:
        self._now = 0.0
        self._start = start or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._spins = spins
        self.sleeps: list[tuple[float, float]] = []
        """Every sleep asked for, as (virtual time when asked, seconds)."""

    def monotonic(self) -> float:
        return self._now

    def utcnow(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=self._now)

    def advance(self, seconds: float) -> None:
        """Move time forward without waking anyone (wake-ups happen in `run`)."""
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append((self._now, seconds))
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), future))
        await future

    async def run(self, awaitable: Awaitable[T]) -> T:
        """Run `awaitable`; whenever every task is asleep, jump to the next wake-up."""
        task = asyncio.ensure_future(awaitable)
        while not task.done():
            for _ in range(self._spins):
                await asyncio.sleep(0)
                if task.done():
                    break
            if task.done():
                break
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)  # cancelled sleeper
            if not self._sleepers:
                await asyncio.sleep(0.001)  # something waits on real I/O
                continue
            wake_at = self._sleepers[0][0]
            self._now = max(self._now, wake_at)
            while self._sleepers and self._sleepers[0][0] <= self._now:
                _, _, future = heapq.heappop(self._sleepers)
                if not future.done():
                    future.set_result(None)
        return task.result()
