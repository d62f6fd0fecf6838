"""Teams' rate limits in simulated time: per conversation (7/s, 60 per 30 s) and global."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from announcements.clock import VirtualClock
from announcements.ratelimit import SlidingWindow, TeamsRateLimiter


def most_in_any_window(times: list[float], seconds: float) -> int:
    """The largest number of `times` inside one half-open window [t, t + seconds)."""
    return max(sum(1 for x in times if start <= x < start + seconds - 1e-9) for start in times)


async def release_times(
    clock: VirtualClock, limiter: TeamsRateLimiter, conversations: list[str]
) -> dict[str, list[float]]:
    """Acquire once per item of `conversations` (all queued at once); release times per conversation."""
    times: dict[str, list[float]] = {}

    async def one(conversation_id: str) -> None:
        await limiter.acquire(conversation_id)
        times.setdefault(conversation_id, []).append(clock.monotonic())

    await clock.run(asyncio.gather(*(one(c) for c in conversations)))
    return times


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


async def test_one_conversation_gets_at_most_60_messages_in_any_30_seconds_and_7_a_second(clock):
    limiter = TeamsRateLimiter(rate=50, clock=clock)
    times = (await release_times(clock, limiter, ["a"] * 200))["a"]
    assert len(times) == 200
    assert most_in_any_window(times, 30.0) == 60
    assert most_in_any_window(times, 1.0) <= 7
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1 / 7 - 1e-9
    # the window, not the spacing, is what slows it: 200 messages need a bit over three windows
    assert 90.0 <= times[-1] < 100.0


async def test_the_first_60_go_out_at_seven_a_second_then_the_window_holds_the_rest(clock):
    limiter = TeamsRateLimiter(rate=50, clock=clock)
    times = (await release_times(clock, limiter, ["a"] * 61))["a"]
    assert times[59] == pytest.approx(59 / 7)
    assert times[60] == pytest.approx(30.0)  # 30 s after the first


async def test_conversations_have_their_own_limits_but_share_the_global_rate(clock):
    limiter = TeamsRateLimiter(rate=20, clock=clock)
    times = await release_times(clock, limiter, ["a", "b", "c", "d"] * 30)
    everything = sorted(t for ts in times.values() for t in ts)
    assert len(everything) == 120
    assert min(b - a for a, b in itertools.pairwise(everything)) >= 1 / 20 - 1e-9
    assert most_in_any_window(everything, 1.0) <= 20
    for ts in times.values():
        assert min(b - a for a, b in itertools.pairwise(ts)) >= 1 / 7 - 1e-9


async def test_the_spacing_holds_between_real_releases_even_when_the_global_queue_is_long(clock):
    """A conversation's message that waited behind many others still keeps 1/7 s to its next."""
    limiter = TeamsRateLimiter(rate=5, clock=clock)
    times = await release_times(clock, limiter, ["a", *[f"x{i}" for i in range(10)], "a", "a"])
    a = times["a"]
    assert min(y - x for x, y in itertools.pairwise(a)) >= 1 / 7 - 1e-9


async def test_custom_windows_are_honoured(clock):
    limiter = TeamsRateLimiter(rate=50, per_conversation_rate=7, windows=[(8, 2.0)], clock=clock)
    times = (await release_times(clock, limiter, ["a"] * 40))["a"]
    assert most_in_any_window(times, 2.0) == 8


async def test_a_429_halves_the_global_rate_and_successes_recover_it_by_5_percent(clock):
    limiter = TeamsRateLimiter(rate=30, min_rate=1, clock=clock)
    assert limiter.slow_down() == 15
    assert limiter.slow_down() == 7.5
    assert limiter.recover() == pytest.approx(7.875)
    for _ in range(100):
        limiter.recover()
    assert limiter.rate == 30  # never above the configured rate
    for _ in range(20):
        limiter.slow_down()
    assert limiter.rate == 1  # never below min_rate


async def test_a_slow_configured_rate_is_never_raised_by_a_429(clock):
    limiter = TeamsRateLimiter(rate=0.5, min_rate=1, clock=clock)
    assert limiter.slow_down() == 0.5


async def test_a_slowed_down_rate_spaces_the_next_releases_further(clock):
    limiter = TeamsRateLimiter(rate=10, clock=clock)
    first = await release_times(clock, limiter, [f"c{i}" for i in range(5)])
    limiter.slow_down()
    second = await release_times(clock, limiter, [f"d{i}" for i in range(5)])
    gaps = lambda ts: [b - a for a, b in itertools.pairwise(ts)]  # noqa: E731
    assert min(gaps(sorted(t for ts in first.values() for t in ts))) == pytest.approx(0.1)
    assert min(gaps(sorted(t for ts in second.values() for t in ts))) == pytest.approx(0.2)


async def test_idle_conversations_are_forgotten_so_a_long_running_bot_keeps_no_state_for_them(clock):
    limiter = TeamsRateLimiter(rate=50, clock=clock)
    await release_times(clock, limiter, [f"c{i}" for i in range(100)])
    assert limiter.tracked() == 100  # all within the last 30 s
    clock.advance(31.0)
    await release_times(clock, limiter, ["new"])
    assert limiter.tracked() == 1


async def test_a_forgotten_conversation_is_not_let_through_early(clock):
    """State is only dropped when its windows are over, so forgetting never breaks a limit."""
    limiter = TeamsRateLimiter(rate=50, clock=clock)
    first = (await release_times(clock, limiter, ["a"] * 60))["a"]
    clock.advance(20.0)
    await release_times(clock, limiter, ["other"])  # triggers pruning
    later = (await release_times(clock, limiter, ["a"]))["a"]
    assert later[0] >= first[0] + 30.0 - 1e-9


def test_a_sliding_window_says_how_long_to_wait(clock):
    window = SlidingWindow(2, 10.0, clock)
    assert window.wait() == 0
    window.record()
    clock.advance(3)
    window.record()
    assert window.wait() == pytest.approx(7.0)
    clock.advance(7)
    assert window.wait() == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"rate": 0}, id="zero-rate"),
        pytest.param({"per_conversation_rate": 0}, id="zero-per-conversation"),
        pytest.param({"windows": [(0, 30.0)]}, id="empty-window"),
        pytest.param({"slowdown_factor": 0}, id="zero-slowdown"),
        pytest.param({"recovery_factor": 0.9}, id="recovery-below-one"),
    ],
)
def test_nonsense_settings_are_refused(kwargs, clock):
    with pytest.raises(ValueError):
        TeamsRateLimiter(clock=clock, **kwargs)
