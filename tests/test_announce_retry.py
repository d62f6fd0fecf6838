"""The retry policy as a table: (status, Retry-After, attempt) -> decision, jitter fixed."""

from __future__ import annotations

import pytest

from announcements.retry import RetryDecision, RetryPolicy, describe

LOW, HIGH = (lambda: 0.0), (lambda: 1.0)
"""Jitter at its two ends: the backoff is ceiling/2 or the whole ceiling."""


def policy(jitter=HIGH, **overrides) -> RetryPolicy:
    return RetryPolicy(jitter=jitter, **overrides)


@pytest.mark.parametrize(
    "status, retry_after, attempt, error, expected",
    [
        # success
        pytest.param(200, None, 1, None, RetryDecision("sent"), id="200-sent"),
        pytest.param(201, None, 5, None, RetryDecision("sent"), id="201-on-the-last-attempt-sent"),
        # gone, at once, whatever the attempt
        pytest.param(
            403,
            None,
            1,
            "BotNotInConversationRoster",
            RetryDecision("gone", reason="HTTP 403: BotNotInConversationRoster"),
            id="403-gone",
        ),
        pytest.param(404, None, 3, None, RetryDecision("gone", reason="HTTP 404"), id="404-gone"),
        pytest.param(403, 5.0, 1, None, RetryDecision("gone", reason="HTTP 403"), id="403-ignores-retry-after"),
        # 429 with Retry-After: exactly that long, no jitter
        pytest.param(
            429,
            2.5,
            1,
            "Too Many Requests",
            RetryDecision("retry", 2.5, "HTTP 429: Too Many Requests"),
            id="429-retry-after-exact",
        ),
        pytest.param(429, 0.0, 2, None, RetryDecision("retry", 0.0, "HTTP 429"), id="429-retry-after-zero"),
        pytest.param(
            429, -3.0, 2, None, RetryDecision("retry", 0.0, "HTTP 429"), id="429-negative-retry-after-is-zero"
        ),
        pytest.param(429, 900.0, 1, None, RetryDecision("retry", 900.0, "HTTP 429"), id="429-retry-after-at-the-limit"),
        pytest.param(
            429,
            901.0,
            1,
            None,
            RetryDecision("failed", reason="HTTP 429; Retry-After 901 s is longer than 900 s (after 1 attempts)"),
            id="429-retry-after-over-the-limit-fails",
        ),
        pytest.param(
            429,
            3.0,
            5,
            None,
            RetryDecision("failed", reason="HTTP 429 (after 5 attempts)"),
            id="429-on-the-last-attempt-fails",
        ),
        # backoff: 429 without Retry-After, 408, 412, 5xx, no answer (jitter HIGH: the whole ceiling)
        pytest.param(429, None, 1, None, RetryDecision("retry", 1.0, "HTTP 429"), id="429-no-retry-after-backoff-1"),
        pytest.param(
            412,
            None,
            2,
            "Precondition Failed",
            RetryDecision("retry", 2.0, "HTTP 412: Precondition Failed"),
            id="412-backoff-2",
        ),
        pytest.param(500, None, 3, None, RetryDecision("retry", 4.0, "HTTP 500"), id="500-backoff-4"),
        pytest.param(502, None, 4, None, RetryDecision("retry", 8.0, "HTTP 502"), id="502-backoff-8"),
        pytest.param(503, 7.0, 1, None, RetryDecision("retry", 1.0, "HTTP 503"), id="503-ignores-retry-after"),
        pytest.param(504, None, 4, None, RetryDecision("retry", 8.0, "HTTP 504"), id="504-backoff-8"),
        pytest.param(408, None, 1, None, RetryDecision("retry", 1.0, "HTTP 408"), id="408-backoff"),
        pytest.param(
            None,
            None,
            1,
            "ClientConnectorError: refused",
            RetryDecision("retry", 1.0, "no answer: ClientConnectorError: refused"),
            id="network-error-backoff",
        ),
        pytest.param(
            None,
            None,
            2,
            None,
            RetryDecision("retry", 2.0, "no answer: network error"),
            id="timeout-without-text-backoff",
        ),
        # the attempt that reaches max_attempts fails, naming the count
        pytest.param(
            503,
            None,
            5,
            "Service Unavailable",
            RetryDecision("failed", reason="HTTP 503: Service Unavailable (after 5 attempts)"),
            id="503-fifth-attempt-fails",
        ),
        pytest.param(
            None,
            None,
            5,
            "reset",
            RetryDecision("failed", reason="no answer: reset (after 5 attempts)"),
            id="network-error-fifth-attempt-fails",
        ),
        # other answers fail at once: sending again would not help
        pytest.param(
            400, None, 1, "BadArgument", RetryDecision("failed", reason="HTTP 400: BadArgument"), id="400-fails"
        ),
        pytest.param(401, None, 1, None, RetryDecision("failed", reason="HTTP 401"), id="401-fails"),
        pytest.param(413, None, 1, None, RetryDecision("failed", reason="HTTP 413"), id="413-fails"),
        pytest.param(302, None, 1, None, RetryDecision("failed", reason="HTTP 302"), id="302-fails"),
    ],
)
def test_decision_table(status, retry_after, attempt, error, expected):
    assert policy().decide(status, retry_after, attempt, error) == expected


@pytest.mark.parametrize(
    "attempt, low, high",
    [
        pytest.param(1, 0.5, 1.0, id="1"),
        pytest.param(2, 1.0, 2.0, id="2"),
        pytest.param(3, 2.0, 4.0, id="3"),
        pytest.param(4, 4.0, 8.0, id="4"),
        pytest.param(5, 8.0, 16.0, id="5"),
        pytest.param(6, 15.0, 30.0, id="6-capped"),
        pytest.param(20, 15.0, 30.0, id="20-capped"),
        pytest.param(10_000, 15.0, 30.0, id="huge-attempt-no-overflow"),
    ],
)
def test_backoff_doubles_from_one_second_up_to_thirty_with_equal_jitter(attempt, low, high):
    assert policy(jitter=LOW).backoff(attempt) == low
    assert policy(jitter=HIGH).backoff(attempt) == high
    assert policy(jitter=lambda: 0.5).backoff(attempt) == (low + high) / 2


def test_jitter_outside_zero_to_one_is_clamped():
    assert policy(jitter=lambda: 7.0).backoff(1) == 1.0
    assert policy(jitter=lambda: -1.0).backoff(1) == 0.5


def test_the_default_jitter_stays_within_the_band():
    delays = {RetryPolicy().backoff(3) for _ in range(200)}
    assert all(2.0 <= d <= 4.0 for d in delays) and len(delays) > 1


@pytest.mark.parametrize(
    "max_attempts, attempt, action",
    [
        pytest.param(1, 1, "failed", id="one-attempt-only"),
        pytest.param(3, 2, "retry", id="below-the-limit"),
        pytest.param(3, 3, "failed", id="at-the-limit"),
        pytest.param(3, 4, "failed", id="past-the-limit"),
    ],
)
def test_max_attempts_is_configurable(max_attempts, attempt, action):
    assert policy(max_attempts=max_attempts).decide(503, None, attempt).action == action


def test_base_cap_and_retry_after_limit_are_configurable():
    custom = policy(backoff_base=2.0, backoff_cap=5.0, max_retry_after=10.0)
    assert [custom.decide(500, None, n).delay for n in (1, 2, 3, 4)] == [2.0, 4.0, 5.0, 5.0]
    assert custom.decide(429, 10.0, 1).action == "retry"
    assert custom.decide(429, 10.5, 1).action == "failed"


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"max_attempts": 0}, id="no-attempts"),
        pytest.param({"backoff_base": -1.0}, id="negative-base"),
        pytest.param({"max_retry_after": 0.0}, id="zero-retry-after-limit"),
    ],
)
def test_nonsense_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_describe():
    assert describe(503, "Service Unavailable") == "HTTP 503: Service Unavailable"
    assert describe(503) == "HTTP 503"
    assert describe(None, "TimeoutError: ") == "no answer: TimeoutError: "
    assert describe(None) == "no answer: network error"
