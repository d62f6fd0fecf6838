"""Flood control for one user in one conversation: answer a burst, then say "wait" once, then drop.

A script (or a stuck key) sending hundreds of messages got hundreds of answers, each a storage
write and a Bot Connector call. `FloodGuard.check(key)` is a leaky bucket per (conversation, user):

- each message pours one unit in; the bucket drains `burst` units every `window` seconds;
- a message that fits (the bucket holds at most `burst`) is answered: `"answer"`;
- the first one that does not fit is told to wait: `"warn"` (once per flood);
- the rest are dropped, `"drop"`: no answer, no state change. A dropped message keeps the bucket
  full, so a flood that goes on stays dropped; only a pause (one unit drains in window/burst
  seconds, 2 s by default) lets a message through again, which also re-arms the warning.

Plain Python and a monotonic clock you can inject, so tests need no sleeping. The state of a key is
forgotten once its bucket has drained (and the table never holds more than `max_keys`), so a
long-running bot that meets many users does not keep them all. Per process: with several
instances each counts its own share, which still stops a flood.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["FloodGuard", "FloodVerdict", "WAIT_TEXT"]

FloodVerdict = Literal["answer", "warn", "drop"]

WAIT_TEXT = "Vänta lite, du skickar många meddelanden på kort tid. Jag svarar igen om en stund."
"""What a flooding user is told, once."""


@dataclass
class _Bucket:
    level: float
    at: float
    warned: bool = False


class FloodGuard:
    """Leaky buckets per key; see the module doc."""

    def __init__(
        self,
        *,
        burst: int = 5,
        window: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if burst < 1 or window <= 0 or max_keys < 1:
            raise ValueError("need burst >= 1, window > 0 and max_keys >= 1")
        self.burst = burst
        self.window = window
        self._drain = burst / window
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def check(self, key: str) -> FloodVerdict:
        """Count one message for `key` and say what to do with it."""
        now = self._clock()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(level=0.0, at=now)
        bucket.level = max(0.0, bucket.level - (now - bucket.at) * self._drain)
        bucket.at = now
        if bucket.level + 1 <= self.burst + 1e-9:
            bucket.level += 1
            bucket.warned = False
            verdict: FloodVerdict = "answer"
        else:
            bucket.level = float(self.burst)  # still flooding: stays full
            verdict = "drop" if bucket.warned else "warn"
            bucket.warned = True
        self._buckets[key] = bucket  # most recent last
        self._prune(now)
        return verdict

    def tracked(self) -> int:
        """Keys whose state is kept now (for tests and metrics)."""
        return len(self._buckets)

    def _prune(self, now: float) -> None:
        """Forget drained buckets, oldest first, and the oldest beyond `max_keys`."""
        while self._buckets:
            key, bucket = next(iter(self._buckets.items()))
            drained = bucket.level - (now - bucket.at) * self._drain <= 0
            if not drained and len(self._buckets) <= self._max_keys:
                break
            del self._buckets[key]
