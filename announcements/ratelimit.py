"""Teams' rate limits for a bot that sends, shared by broadcasts (and, later, replies).

Teams throttles a bot per app and tenant (about 50 messages a second) and per conversation
(7 a second, and 60 in any 30 seconds). `TeamsRateLimiter.acquire(conversation_id)` waits until
one more message into that conversation keeps every limit:

- per conversation: at most `per_conversation_rate` a second, spaced evenly, and at most
  `count` in any `seconds` for each of `windows` (default: 60 in 30 s);
- all conversations together: `rate` a second (`ANNOUNCE_RATE`, default 30), which `slow_down()`
  halves after a 429 (never below `min_rate`) and `recover()` raises by 5% per success, up to the
  configured rate.

Plain asyncio and a `Clock` (`announcements.clock`), so tests run it in simulated time. The state
of a conversation is dropped once it has been idle longer than its longest window, so a
long-running bot that talks to many conversations does not keep them all.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from announcements.clock import Clock, SystemClock

__all__ = ["RateLimiter", "SlidingWindow", "TeamsRateLimiter", "TEAMS_CONVERSATION_WINDOWS"]

TEAMS_CONVERSATION_WINDOWS: tuple[tuple[int, float], ...] = ((60, 30.0),)
"""Per conversation, besides 7 a second: at most 60 messages in any 30 seconds."""


class RateLimiter:
    """At most `rate` releases per second, spaced evenly (a token bucket holding one token).

    Waiters queue in order; each release happens at least `1/rate` seconds after the previous
    one *as measured when it happens*, so an event loop that wakes up late releases them one by
    one rather than in a burst. No window of one second ever holds more than `rate` releases.
    `rate` may be changed while waiters queue; the next release uses the new value.
    """

    def __init__(self, rate: float, clock: Clock) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
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

    @property
    def last(self) -> float:
        """Monotonic time of the latest release (-inf before the first)."""
        return self._last


class SlidingWindow:
    """At most `count` releases in any `seconds` (a log of the latest `count` release times).

    Not locked on its own: callers serialise (as `TeamsRateLimiter` does per conversation).
    """

    def __init__(self, count: int, seconds: float, clock: Clock) -> None:
        if count < 1 or seconds <= 0:
            raise ValueError("a window needs count >= 1 and seconds > 0")
        self.count = count
        self.seconds = seconds
        self._clock = clock
        self._times: deque[float] = deque(maxlen=count)

    def wait(self) -> float:
        """Seconds until one more release fits (0 when it fits now)."""
        if len(self._times) < self.count:
            return 0.0
        return max(0.0, self._times[0] + self.seconds - self._clock.monotonic())

    def record(self) -> None:
        self._times.append(self._clock.monotonic())

    def idle_since(self) -> float:
        """Monotonic time of the latest release (-inf before the first)."""
        return self._times[-1] if self._times else -math.inf


@dataclass
class _Conversation:
    windows: list[SlidingWindow]
    """The even spacing (1 in 1/rate s) and Teams' longer windows."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0
    """acquire() calls in progress; the state is kept while any is."""

    def idle_since(self) -> float:
        return max(w.idle_since() for w in self.windows)


class TeamsRateLimiter:
    """Per-conversation and global limits in one `acquire(conversation_id)`; see the module doc."""

    def __init__(
        self,
        *,
        rate: float = 30.0,
        per_conversation_rate: float = 7.0,
        windows: Sequence[tuple[int, float]] = TEAMS_CONVERSATION_WINDOWS,
        min_rate: float = 1.0,
        slowdown_factor: float = 0.5,
        recovery_factor: float = 1.05,
        clock: Clock | None = None,
    ) -> None:
        if per_conversation_rate <= 0:
            raise ValueError("per_conversation_rate must be positive")
        if rate <= 0 or min_rate <= 0:
            raise ValueError("rate and min_rate must be positive")
        if not 0 < slowdown_factor <= 1 or recovery_factor < 1:
            raise ValueError("need 0 < slowdown_factor <= 1 and recovery_factor >= 1")
        self.max_rate = rate
        self.min_rate = min(min_rate, rate)  # a 429 never *raises* a slow configured rate
        self.per_conversation_rate = per_conversation_rate
        self.windows = tuple((int(count), float(seconds)) for count, seconds in windows)
        if any(count < 1 or seconds <= 0 for count, seconds in self.windows):
            raise ValueError("a window needs count >= 1 and seconds > 0")
        self.slowdown_factor = slowdown_factor
        self.recovery_factor = recovery_factor
        self._clock: Clock = clock or SystemClock()
        self._global = RateLimiter(rate, self._clock)
        self._conversations: OrderedDict[str, _Conversation] = OrderedDict()
        self._keep_for = max([1.0 / per_conversation_rate, *(s for _, s in self.windows)])

    @property
    def rate(self) -> float:
        """The global rate now (below `max_rate` after a 429, until it has recovered)."""
        return self._global.rate

    def slow_down(self) -> float:
        """After a 429: multiply the global rate by `slowdown_factor` (not below `min_rate`)."""
        self._global.rate = max(self.min_rate, self._global.rate * self.slowdown_factor)
        return self._global.rate

    def recover(self) -> float:
        """After a success: multiply the global rate by `recovery_factor` (not above `max_rate`)."""
        self._global.rate = min(self.max_rate, self._global.rate * self.recovery_factor)
        return self._global.rate

    async def acquire(self, conversation_id: str) -> None:
        """Wait until one more message into `conversation_id` keeps every limit, and count it."""
        state = self._conversation(conversation_id)
        state.users += 1
        try:
            async with state.lock:  # one waiter per conversation at a time, in order
                while True:
                    wait = max(w.wait() for w in state.windows)
                    if wait <= 0:
                        break
                    await self._clock.sleep(wait)
                await self._global.acquire()
                # Counted when the message may go, after the global wait: the conversation's
                # spacing holds between the real sends, however long the global queue was.
                for window in state.windows:
                    window.record()
        finally:
            state.users -= 1
            self._conversations.move_to_end(conversation_id)
            self._prune()

    def tracked(self) -> int:
        """Conversations whose state is kept now (for tests and metrics)."""
        return len(self._conversations)

    def _conversation(self, conversation_id: str) -> _Conversation:
        state = self._conversations.get(conversation_id)
        if state is None:
            state = _Conversation(
                windows=[
                    SlidingWindow(count, seconds, self._clock)
                    for count, seconds in ((1, 1.0 / self.per_conversation_rate), *self.windows)
                ]
            )
            self._conversations[conversation_id] = state
        return state

    def _prune(self) -> None:
        """Drop conversations idle longer than the longest window, oldest first (amortised O(1))."""
        horizon = self._clock.monotonic() - self._keep_for
        while self._conversations:
            conversation_id, state = next(iter(self._conversations.items()))
            if state.users or state.idle_since() > horizon:
                break
            del self._conversations[conversation_id]
