"""What to do after one send: a pure decision from (status, Retry-After, attempt number).

No I/O, no clock, no randomness of its own (the jitter is a parameter), so the whole table is
tested in `tests/test_announce_retry.py`:

| answer                                   | decision                                             |
|------------------------------------------|------------------------------------------------------|
| 2xx                                      | `sent`                                               |
| 403, 404 (removed, blocked, uninstalled) | `gone`: never try this conversation again            |
| 429 with `Retry-After`                   | `retry` after exactly that many seconds              |
| 429 with a `Retry-After` over the limit  | `failed` for this run (a later run tries again)      |
| 429 without `Retry-After`, 408, 412, 5xx, no answer (network error, timeout)    | `retry` with backoff |
| anything else (400, 401, ...)            | `failed` at once: sending again would not help       |

A retry is only decided while `attempt < max_attempts`; the attempt that reaches it is `failed`.
Backoff is exponential with "equal jitter": the ceiling doubles from `backoff_base` (1, 2, 4, 8,
16 s ...) up to `backoff_cap` (30 s), and the delay is drawn from [ceiling/2, ceiling] — half
fixed, so a retry never comes back at once, half random, so many throttled conversations do not
come back together.

Slowing the global rate on a 429 is the rate limiter's business (`ratelimit`), not this module's.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["RetryAction", "RetryDecision", "RetryPolicy", "describe", "GONE_STATUSES", "TRANSIENT_STATUSES"]

RetryAction = Literal["sent", "retry", "gone", "failed"]

GONE_STATUSES = frozenset({403, 404})
"""The bot is no longer in the conversation (removed, blocked, uninstalled, deleted)."""
TRANSIENT_STATUSES = frozenset({408, 412, 429})
"""Client errors worth another try (plus every 5xx and no answer at all)."""


@dataclass(frozen=True)
class RetryDecision:
    """What to do with a conversation after one attempt."""

    action: RetryAction
    delay: float | None = None
    """Seconds to wait before the next attempt (only for `retry`)."""
    reason: str | None = None
    """For everything but `sent`: what went wrong, for the ledger and the summary."""


def describe(status: int | None, error: str | None = None) -> str:
    """ "HTTP 503: Service Unavailable", or "no answer: <error>" when there was no status."""
    if status is None:
        return f"no answer: {error or 'network error'}"
    text = f"HTTP {status}"
    return f"{text}: {error}" if error else text


def _uniform_0_1() -> float:
    return random.random()


@dataclass(frozen=True)
class RetryPolicy:
    """The retry rules; `decide` is the whole policy."""

    max_attempts: int = 5
    """Attempts per conversation in one run; the last one that fails is final."""
    backoff_base: float = 1.0
    """Ceiling of the first backoff in seconds; doubled each attempt."""
    backoff_cap: float = 30.0
    """Largest backoff ceiling in seconds."""
    max_retry_after: float = 900.0
    """A Retry-After longer than this fails the conversation for this run instead of stalling it."""
    jitter: Callable[[], float] = field(default=_uniform_0_1, compare=False, repr=False)
    """A number in [0, 1]: where in [ceiling/2, ceiling] the backoff lands (inject for tests)."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff_base < 0 or self.backoff_cap < 0 or self.max_retry_after <= 0:
            raise ValueError("backoff_base and backoff_cap must be >= 0, max_retry_after > 0")

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt number `attempt` (1-based)."""
        exponent = min(max(attempt, 1) - 1, 64)  # no float overflow after many attempts
        ceiling = min(self.backoff_cap, self.backoff_base * (2.0**exponent))
        fraction = min(1.0, max(0.0, self.jitter()))
        return ceiling / 2 + fraction * ceiling / 2

    def decide(
        self, status: int | None, retry_after: float | None, attempt: int, error: str | None = None
    ) -> RetryDecision:
        """The decision after attempt number `attempt` (1-based) answered `status`.

        `status` None means no answer (network error, timeout); `retry_after` is the parsed
        `Retry-After` header in seconds, if any; `error` is a short text for the reason.
        """
        if status is not None and 200 <= status < 300:
            return RetryDecision("sent")
        reason = describe(status, error)
        if status in GONE_STATUSES:
            return RetryDecision("gone", reason=reason)

        if status == 429 and retry_after is not None:
            delay = max(0.0, retry_after)
            if delay > self.max_retry_after:
                return RetryDecision(
                    "failed",
                    reason=(
                        f"{reason}; Retry-After {delay:.0f} s is longer than {self.max_retry_after:.0f} s "
                        f"(after {attempt} attempts)"
                    ),
                )
        elif status is None or status in TRANSIENT_STATUSES or status >= 500:
            delay = self.backoff(attempt)
        else:
            return RetryDecision("failed", reason=reason)

        if attempt >= self.max_attempts:
            return RetryDecision("failed", reason=f"{reason} (after {attempt} attempts)")
        return RetryDecision("retry", delay=delay, reason=reason)
