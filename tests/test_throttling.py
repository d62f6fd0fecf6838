"""Throttling and slow peers (issue 12, item 5), through the real endpoint and the fake connector.

- Replies keep Teams' per-conversation limits (7 a second, 60 in 30 s) with the app's one limiter.
- A flooding user gets one "vänta lite" and is then dropped, with no state change, until it slows.
- 412/429/502/503/504 are retried, honouring Retry-After, a bounded number of times; nothing else is.
- A connector that hangs for one conversation holds neither other users' turns nor more than the
  per-serviceUrl bound of calls; a hung call ends at the timeout.

Time is injected (a clock whose sleeps only move its own time), so nothing here waits for real.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest

from announcements.ratelimit import TeamsRateLimiter
from announcements.retry import RetryPolicy
from assistant.flood import WAIT_TEXT, FloodGuard
from storage import MemoryStorage
from storage.keys import user_state_key
from teams.app import TRANSPORT
from teams.outbound import REPLY_RETRY, OutboundLimits
from tests.bot_harness import RunningBot, test_settings
from tests.fake_connector import FakeConnector
from tests.teams_activities import GROUP_CHAT_ID, USER_ID, TeamsActivities, personal_conversation_id


class JumpingClock:
    """A `Clock` whose `sleep` moves its own time at once and records the wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def utcnow(self) -> dt.datetime:
        return dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=self.now)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


class RecordingLimiter(TeamsRateLimiter):
    """Teams' real limits; records (conversation, time) of every message it lets go."""

    def __init__(self, clock: JumpingClock) -> None:
        super().__init__(rate=50.0, min_rate=5.0, clock=clock)
        self.released: list[tuple[str, float]] = []
        self._recording_clock = clock

    async def acquire(self, conversation_id: str) -> None:
        await super().acquire(conversation_id)
        self.released.append((conversation_id, self._recording_clock.now))


@pytest.fixture
async def start(fake_connector: FakeConnector) -> AsyncIterator[Any]:
    started: list[RunningBot] = []

    async def start_bot(**options: Any) -> RunningBot:
        running = await RunningBot(fake_connector, test_settings(), **options).start()
        started.append(running)
        return running

    yield start_bot
    for running in started:
        await running.stop()


def texts(replies: list[dict[str, Any]]) -> list[str]:
    return [reply.get("text") or "" for reply in replies]


# --- Teams' per-conversation limits -------------------------------------------------------------


async def test_replies_in_one_conversation_keep_seven_a_second_and_sixty_in_thirty_seconds(start, teams):
    clock = JumpingClock()
    limiter = RecordingLimiter(clock)
    bot = await start(reply_limits=limiter)
    for number in range(70):
        await bot.send(teams.message("tack!" if number % 2 else "vad är tvåfaktorsautentisering?"))
    times = [at for conversation, at in limiter.released if conversation == personal_conversation_id()]
    assert len(times) >= 70
    for earlier, later in itertools.pairwise(times):
        assert later - earlier >= 1 / 7 - 1e-9, "more than 7 a second"
    for index in range(60, len(times)):
        assert times[index] - times[index - 60] >= 30 - 1e-9, "more than 60 in 30 seconds"
    assert clock.sleeps, "the limiter never had to wait: it is not on the reply path"


async def test_the_limits_are_per_conversation_so_another_conversation_does_not_wait(start, teams):
    clock = JumpingClock()
    limiter = RecordingLimiter(clock)
    bot = await start(reply_limits=limiter)
    await bot.send(teams.message("hej"))
    before = clock.now
    await bot.send(teams.message("hej", user_id="29:someone-else"))
    # only the global pacing (50 a second) applies, not the first conversation's 7 a second
    assert clock.now - before < 1 / 7, "a first reply into another conversation waited for the first one"


# --- a flooding user ----------------------------------------------------------------------------


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_fifty_fast_messages_get_five_answers_one_wait_lite_and_then_silence(start, teams, fake_connector):
    ticks = Ticks()
    storage = MemoryStorage()
    bot = await start(flood_guard=FloodGuard(clock=ticks), storage=storage)
    answered = await asyncio.gather(*(bot.send(teams.message("vad är tvåfaktorsautentisering?")) for _ in range(5)))
    assert all(len(replies) >= 1 and WAIT_TEXT not in texts(replies) for replies in answered)

    before = len(fake_connector.messages())
    flood = await asyncio.gather(*(bot.post(teams.message("starta guiden")) for _ in range(45)))
    assert all(status in (200, 201) for status, _ in flood)
    said = texts(fake_connector.messages()[before:])
    assert said == [WAIT_TEXT], said
    stored = (await storage.read([user_state_key("msteams", personal_conversation_id(), USER_ID)])).values()
    assert stored and not any(item.get("guide") for item in stored), "a dropped message changed the state"

    ticks.now += 1.0  # still flooding: a message a second is faster than the bucket drains
    assert await bot.send(teams.message("hej")) == []
    ticks.now += 10.0  # it slowed down
    again = await bot.send(teams.message("vad är tvåfaktorsautentisering?"))
    assert again and WAIT_TEXT not in texts(again)


async def test_a_new_flood_after_a_pause_is_warned_once_again(start, teams):
    ticks = Ticks()
    bot = await start(flood_guard=FloodGuard(clock=ticks))
    for _ in range(7):
        await bot.send(teams.message("hej"))
    ticks.now += 60
    said = [text for _ in range(8) for text in texts(await bot.send(teams.message("hej")))]
    assert said.count(WAIT_TEXT) == 1


async def test_one_users_flood_does_not_silence_another_user(start, teams):
    ticks = Ticks()
    bot = await start(flood_guard=FloodGuard(clock=ticks))
    for _ in range(20):
        await bot.send(teams.message("hej"))
    replies = await bot.send(teams.message("hej", user_id="29:someone-else"))
    assert replies and WAIT_TEXT not in texts(replies)


async def test_messages_in_a_group_chat_not_meant_for_the_bot_do_not_count(start, teams):
    ticks = Ticks()
    bot = await start(flood_guard=FloodGuard(clock=ticks))
    for _ in range(20):
        assert await bot.send(teams.message("prat med kollegorna", conversation_type="groupChat")) == []
    replies = await bot.send(teams.message("hej", conversation_type="groupChat", mention_bot=True))
    assert replies and WAIT_TEXT not in texts(replies)


def test_the_flood_guard_forgets_users_whose_bucket_has_drained():
    ticks = Ticks()
    guard = FloodGuard(clock=ticks)
    for user in range(100):
        guard.check(f"c/{user}")
    ticks.now += 11
    guard.check("c/new")
    assert guard.tracked() == 1


# --- retries ------------------------------------------------------------------------------------


def _limits(clock: JumpingClock, **retry: Any) -> OutboundLimits:
    policy = RetryPolicy(
        **{"max_attempts": 4, "backoff_base": 0.5, "backoff_cap": 4.0, "max_retry_after": 30.0, **retry}
    )
    return OutboundLimits(retry=policy, clock=clock)


@pytest.mark.parametrize("status", [429, 412, 502, 503, 504])
async def test_a_throttled_or_unavailable_connector_is_retried_after_retry_after(start, teams, fake_connector, status):
    clock = JumpingClock()
    bot = await start(outbound=_limits(clock))
    fake_connector.fail(personal_conversation_id(), status, times=2, retry_after=3)
    replies = await bot.send(teams.message("vad är tvåfaktorsautentisering?"))
    assert len(replies) >= 1 and "Oj" not in texts(replies)[0]
    assert fake_connector.attempts(personal_conversation_id()) == 3
    assert clock.sleeps == [3.0, 3.0]


async def test_without_retry_after_the_backoff_of_the_retry_policy_is_used(start, teams, fake_connector):
    clock = JumpingClock()
    bot = await start(outbound=_limits(clock, jitter=lambda: 1.0))
    fake_connector.fail(personal_conversation_id(), 503, times=2)
    assert await bot.send(teams.message("hej"))
    assert clock.sleeps == [0.5, 1.0]


async def test_retries_are_bounded_and_then_the_turn_fails(start, teams, fake_connector):
    clock = JumpingClock()
    bot = await start(outbound=_limits(clock))
    fake_connector.fail(personal_conversation_id(), 503, times=None, retry_after=1)
    assert await bot.send(teams.message("hej")) == []
    # the answer: max_attempts tries; the apology after it: as many again
    assert fake_connector.attempts(personal_conversation_id()) == 2 * REPLY_RETRY.max_attempts
    assert len(clock.sleeps) == 2 * (REPLY_RETRY.max_attempts - 1)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500])
async def test_other_failures_are_not_retried(start, teams, fake_connector, status):
    clock = JumpingClock()
    bot = await start(outbound=_limits(clock))
    fake_connector.fail(personal_conversation_id(), status, times=1)
    await bot.send(teams.message("hej"))
    first = fake_connector.requests[0]
    assert first.status == status
    assert clock.sleeps == []


async def test_a_retry_after_longer_than_the_bound_is_not_waited_for(start, teams, fake_connector):
    clock = JumpingClock()
    bot = await start(outbound=_limits(clock))
    fake_connector.fail(personal_conversation_id(), 429, times=1, retry_after=600)
    await bot.send(teams.message("hej"))
    assert clock.sleeps == []
    assert fake_connector.requests[0].status == 429


async def test_a_429_slows_the_limiters_global_rate(start, teams, fake_connector):
    clock = JumpingClock()
    limiter = RecordingLimiter(clock)
    bot = await start(outbound=_limits(clock), reply_limits=limiter)
    fake_connector.fail(personal_conversation_id(), 429, times=1, retry_after=1)
    await bot.send(teams.message("hej"))
    assert limiter.rate < limiter.max_rate


# --- a connector that hangs ---------------------------------------------------------------------


def _group_question(teams: TeamsActivities, number: int) -> dict[str, Any]:
    return teams.message(
        "vad är tvåfaktorsautentisering?",
        conversation_type="groupChat",
        mention_bot=True,
        user_id=f"29:member-{number}",
    )


async def test_eight_hung_replies_in_one_conversation_do_not_hold_another_users_turn(start, teams, fake_connector):
    bot = await start()
    fake_connector.hang(GROUP_CHAT_ID)
    hung = [asyncio.create_task(bot.post(_group_question(teams, n))) for n in range(8)]
    await fake_connector.wait_hanging(8)

    replies = await bot.send(teams.message("vad är tvåfaktorsautentisering?"))  # another user, personal chat

    assert replies, "the innocent user got no answer"
    assert not any(task.done() for task in hung), "the hung turns ended before the innocent one"
    fake_connector.release()
    statuses = await asyncio.gather(*hung)
    assert all(status in (200, 201) for status, _ in statuses)
    assert len(fake_connector.sent(GROUP_CHAT_ID)) == 8


async def test_calls_to_one_service_url_are_bounded_and_a_hung_call_ends_at_the_timeout(start, teams, fake_connector):
    bot = await start(outbound=OutboundLimits(timeout=0.5, per_service_concurrency=3))
    transport = bot_transport(bot)
    fake_connector.hang(GROUP_CHAT_ID)
    turns = [asyncio.create_task(bot.post(_group_question(teams, n))) for n in range(6)]
    await fake_connector.wait_hanging(3)
    assert transport.in_flight(fake_connector.url) <= 3
    statuses = await asyncio.wait_for(asyncio.gather(*turns), timeout=60)
    # each turn ended (its reply and its apology timed out) without an answer, and none as a 5xx
    assert all(status in (200, 201) for status, _ in statuses)
    assert transport.peak_in_flight == 3
    assert fake_connector.sent(GROUP_CHAT_ID) == []


def bot_transport(bot: RunningBot) -> Any:
    assert bot._runner is not None
    return bot._runner.app[TRANSPORT]
