"""The Facebook 2FA guide end to end: Teams activities through POST /api/messages, fake connector.

Each test reads like a conversation. `shown_steps(replies)` is what the user sees of their
progress: every "Steg N av 11" / "steg N av 11" in the text fallbacks of one turn's replies.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from cards.message import card_actions
from tests.bot_harness import RunningBot, all_text, card_of, fallback_text, sqlite_url, submit_values, test_settings
from tests.teams_activities import CHANNEL_ID, GROUP_CHAT_ID, channel_thread_id, personal_conversation_id

GUIDE_ID = "facebook_2fa"
TOTAL = 11
START_BUTTON = {"cmd": "guide", "action": "start", "guide": GUIDE_ID}
"""What the welcome card's "Starta Facebook-guiden" button sends."""

_STEP = re.compile(rf"\b[Ss]teg (\d+) av {TOTAL}\b")

ALICE = "29:1alice-in-the-channel"
BOB = "29:1bob-in-the-channel"


# ---------------------------------------------------------------------------------------------
# Reading replies


def text_of(replies: list[dict[str, Any]]) -> str:
    return "\n".join(all_text(r) for r in replies)


def shown_steps(replies: list[dict[str, Any]]) -> set[int]:
    """Every guide step a turn's replies mention ("Steg 4 av 11", "du är på steg 4 av 11")."""
    return {int(n) for r in replies for n in _STEP.findall(fallback_text(r))}


def step_card(replies: list[dict[str, Any]]) -> dict[str, Any]:
    """The one reply of a turn that is a step card (the intro and notes are not)."""
    cards = [r for r in replies if re.search(rf"^Steg \d+ av {TOTAL}", fallback_text(r), re.MULTILINE)]
    assert len(cards) == 1, [fallback_text(r) for r in replies]
    return cards[0]


def button(reply: dict[str, Any], action: str) -> tuple[str, dict[str, Any]]:
    """(title, data) of the card's guide button with this action."""
    card = card_of(reply) or {}
    found = [
        (a["title"], a["data"])
        for a in card_actions(card)
        if a.get("type") == "Action.Submit" and a["data"].get("action") == action
    ]
    assert len(found) == 1, (action, submit_values(reply))
    return found[0]


def is_summary(replies: list[dict[str, Any]]) -> bool:
    return any(f"Alla {TOTAL} steg är klara" in fallback_text(r) for r in replies)


def assert_summary(replies: list[dict[str, Any]]) -> None:
    assert is_summary(replies), text_of(replies)
    text = text_of(replies)
    assert "Vid nästa inloggning" in text  # what happens on each device
    assert "återställningskoderna" in text  # stored safely within the organisation
    assert "https://www.instagram.com/accounts/two_factor_authentication/" in text  # the other platforms
    assert shown_steps(replies) == set()


async def go_to_step(bot: RunningBot, teams: Any, number: int, **kw: Any) -> list[dict[str, Any]]:
    """Start the guide and type "nästa" until the user is on `number`; returns the last replies."""
    replies = await bot.send(teams.message("starta guiden", **kw))
    assert shown_steps(replies) == {1}, text_of(replies)
    for expected in range(2, number + 1):
        replies = await bot.send(teams.message("nästa", **kw))
        assert shown_steps(replies) == {expected}, text_of(replies)
    return replies


class Clock:
    """The bot's clock for these tests: fixed until moved on."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 8, 20, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def clocked_bot(fake_connector, clock):
    """The bot with in-memory storage and the test's clock."""
    running = await RunningBot(fake_connector, test_settings(), clock=clock).start()
    yield running
    await running.stop()


# ---------------------------------------------------------------------------------------------
# A full run


async def test_typed_commands_walk_from_step_one_to_the_summary(bot, teams):
    replies = await bot.send(teams.message("starta guiden"))
    assert "avbryt" in text_of(replies)  # the intro says how to leave
    assert shown_steps(replies) == {1}
    commands = ["nästa", "klar", "ok", "next"]
    for expected in range(2, TOTAL + 1):
        replies = await bot.send(teams.message(commands[expected % len(commands)]))
        assert shown_steps(replies) == {expected}, text_of(replies)
        assert f"Steg {expected} av {TOTAL}" in all_text(step_card(replies))
    replies = await bot.send(teams.message("klar"))
    assert_summary(replies)

    # The guide is over: another "nästa" starts nothing and shows no step.
    replies = await bot.send(teams.message("nästa"))
    assert shown_steps(replies) == set() and not is_summary(replies)


async def test_pressing_next_on_each_card_walks_from_step_one_to_the_summary(bot, teams):
    replies = await bot.send(teams.card_submit(START_BUTTON))
    for expected in range(1, TOTAL + 1):
        card = step_card(replies)
        assert shown_steps(replies) == {expected}, text_of(replies)
        title, data = button(card, "next")
        assert title == ("Klar, avsluta" if expected == TOTAL else "Nästa")
        assert data["step"] == expected
        replies = await bot.send(teams.card_submit(data))
    assert_summary(replies)


async def test_pressing_an_old_cards_next_again_does_not_skip_a_step(bot, teams):
    replies = await bot.send(teams.card_submit(START_BUTTON))
    _, next_on_step_1 = button(step_card(replies), "next")
    assert shown_steps(await bot.send(teams.card_submit(next_on_step_1))) == {2}
    replies = await bot.send(teams.card_submit(next_on_step_1))  # a double click
    assert shown_steps(replies) == {2}
    assert shown_steps(await bot.send(teams.message("nästa"))) == {3}


# ---------------------------------------------------------------------------------------------
# Back, interruptions, cancel, starting again


@pytest.mark.parametrize(
    "back",
    [
        pytest.param("tillbaka", id="tillbaka"),
        pytest.param("back", id="back"),
        pytest.param({"cmd": "guide", "action": "back", "guide": GUIDE_ID, "step": 1}, id="back-button-on-step-1"),
    ],
)
async def test_going_back_at_step_one_stays_on_step_one(bot, teams, back):
    await go_to_step(bot, teams, 1)
    replies = await bot.send(teams.message(back) if isinstance(back, str) else teams.card_submit(back))
    assert shown_steps(replies) == {1}
    assert "första steget" in text_of(replies)
    assert shown_steps(await bot.send(teams.message("nästa"))) == {2}


async def test_going_back_mid_guide_moves_one_step_back(bot, teams):
    await go_to_step(bot, teams, 5)
    assert shown_steps(await bot.send(teams.message("tillbaka"))) == {4}
    assert shown_steps(await bot.send(teams.message("back"))) == {3}
    assert shown_steps(await bot.send(teams.message("upprepa"))) == {3}
    assert shown_steps(await bot.send(teams.message("nästa"))) == {4}


@pytest.mark.parametrize(
    "question, answer_says",
    [
        pytest.param("vad är återställningskoder?", "återställningskod", id="recovery-codes"),
        pytest.param(
            "hur slår jag på tvåfaktor på Instagram?",
            "https://www.instagram.com/accounts/two_factor_authentication/",
            id="another-platform",
        ),
    ],
)
async def test_a_question_mid_guide_is_answered_and_the_guide_waits_at_its_step(bot, teams, question, answer_says):
    await go_to_step(bot, teams, 4)
    replies = await bot.send(teams.message(question))
    assert len(replies) == 1  # the answer with a small footer, in one message
    (answer,) = replies
    assert answer_says in all_text(answer).lower()
    answer_part, footer = fallback_text(answer).rsplit("\n\n", 1)
    assert shown_steps([{"text": answer_part}]) == set()
    assert shown_steps([{"text": footer}]) == {4}
    assert "nästa" in footer  # how to continue
    continue_button = [v for v in submit_values(answer) if v.get("cmd") == "guide" and "step" in v]
    assert [(v["action"], v["step"]) for v in continue_button] == [("repeat", 4)]
    assert shown_steps(await bot.send(teams.message("nästa"))) == {5}


@pytest.mark.parametrize(
    "cancel",
    [
        pytest.param("avbryt", id="avbryt"),
        pytest.param("sluta", id="sluta"),
        pytest.param("cancel", id="cancel"),
        pytest.param({"cmd": "guide", "action": "cancel", "guide": GUIDE_ID, "step": 3}, id="avbryt-button"),
    ],
)
async def test_cancel_ends_the_guide_and_next_then_moves_nothing(bot, teams, cancel):
    await go_to_step(bot, teams, 3)
    replies = await bot.send(teams.message(cancel) if isinstance(cancel, str) else teams.card_submit(cancel))
    assert "avbrutit guiden" in text_of(replies)
    assert shown_steps(replies) == set()

    replies = await bot.send(teams.message("nästa"))
    assert shown_steps(replies) == set() and not is_summary(replies)
    # Starting again is a fresh start at step 1, not "continue or restart?".
    replies = await bot.send(teams.message("starta guiden"))
    assert shown_steps(replies) == {1}
    assert "Vill du fortsätta" not in text_of(replies)


async def test_next_typed_with_no_guide_running_is_not_answered_as_a_moderation_question(bot, teams):
    await go_to_step(bot, teams, 2)
    await bot.send(teams.message("avbryt"))
    replies = await bot.send(teams.message("nästa"))
    assert "diskussion" not in text_of(replies).lower(), text_of(replies)


@pytest.mark.parametrize("how", ["jag har fastnat", "stuck", "det ser annorlunda ut", "hittar inte", "button"])
async def test_stuck_shows_the_steps_help_and_facebooks_link_without_moving(bot, teams, how):
    replies = await go_to_step(bot, teams, 2)
    _, stuck = button(step_card(replies), "stuck")
    replies = await bot.send(teams.card_submit(stuck) if how == "button" else teams.message(how))
    assert len(replies) == 1
    assert "Hjälp med steg 2 av 11" in fallback_text(replies[0])
    assert "https://www.facebook.com/help/" in all_text(replies[0])
    assert shown_steps(await bot.send(teams.message("nästa"))) == {3}


async def test_a_paused_guide_waits_and_continue_resumes_at_the_saved_step(bot, teams):
    await go_to_step(bot, teams, 4)
    replies = await bot.send(teams.message("pausa"))
    assert shown_steps(replies) == {4}
    replies = await bot.send(teams.message("vad är återställningskoder?"))
    assert "Välkommen tillbaka" in fallback_text(replies[-1]) and shown_steps(replies) == {4}
    assert shown_steps(await bot.send(teams.message("fortsätt"))) == {4}
    assert shown_steps(await bot.send(teams.message("nästa"))) == {5}


async def test_a_step_the_connector_failed_to_deliver_is_not_skipped(bot, teams):
    await go_to_step(bot, teams, 3)
    bot.connector.fail(personal_conversation_id(), status=500, times=1)  # 502 would be retried
    replies = await bot.send(teams.message("nästa"))
    assert shown_steps(replies) == set()  # step 4 never reached the user (an apology may have)
    assert shown_steps(await bot.send(teams.message("nästa"))) == {4}


@pytest.mark.parametrize(
    "again",
    [
        pytest.param("starta guiden", id="starta-guiden"),
        pytest.param("hur slår jag på tvåfaktor på Facebook?", id="facebook-question"),
        pytest.param(START_BUTTON, id="start-button"),
    ],
)
async def test_starting_the_guide_again_while_in_it_asks_whether_to_restart_or_continue(bot, teams, again):
    await go_to_step(bot, teams, 3)
    replies = await bot.send(teams.message(again) if isinstance(again, str) else teams.card_submit(again))
    assert len(replies) == 1
    assert "fortsätta där du var eller börja om" in fallback_text(replies[0])
    assert shown_steps(replies) == {3}
    actions = {data["action"] for data in submit_values(replies[0])}
    assert {"resume", "restart"} <= actions

    # Nothing moved while asking; continuing picks up at step 3.
    assert shown_steps(await bot.send(teams.message("fortsätt"))) == {3}
    assert shown_steps(await bot.send(teams.message("nästa"))) == {4}


async def test_choosing_restart_after_starting_again_goes_back_to_step_one(bot, teams):
    await go_to_step(bot, teams, 3)
    replies = await bot.send(teams.message("starta guiden"))
    _, restart = button(replies[0], "restart")
    replies = await bot.send(teams.card_submit(restart))
    assert shown_steps(replies) == {1}
    assert shown_steps(await bot.send(teams.message("nästa"))) == {2}


# ---------------------------------------------------------------------------------------------
# Restarts and time


async def test_after_a_bot_restart_on_the_same_sqlite_file_next_continues_at_the_right_step(
    fake_connector, teams, tmp_path
):
    settings = test_settings(STORAGE_URL=sqlite_url(tmp_path / "s.db"))
    first = await RunningBot(fake_connector, settings).start()
    try:
        await go_to_step(first, teams, 3)
    finally:
        await first.stop()
    second = await RunningBot(fake_connector, settings).start()
    try:
        assert shown_steps(await second.send(teams.message("nästa"))) == {4}
    finally:
        await second.stop()


@pytest.mark.parametrize(
    "away",
    [
        pytest.param(dt.timedelta(hours=3), id="three-hours"),
        pytest.param(dt.timedelta(days=6, hours=23), id="almost-a-week"),
    ],
)
async def test_a_user_who_comes_back_later_is_offered_to_resume_where_they_were(clocked_bot, teams, clock, away):
    await go_to_step(clocked_bot, teams, 3)
    clock.advance(away)
    replies = await clocked_bot.send(teams.message("hej"))
    assert "Kanalvakten" in fallback_text(replies[0])  # the greeting is answered first
    offer = replies[-1]
    assert "Välkommen tillbaka" in fallback_text(offer)
    assert shown_steps([offer]) == {3}
    _, resume = button(offer, "resume")
    assert shown_steps(await clocked_bot.send(teams.card_submit(resume))) == {3}
    assert shown_steps(await clocked_bot.send(teams.message("nästa"))) == {4}


async def test_a_user_who_comes_back_after_a_restart_is_offered_to_resume(fake_connector, teams, clock, tmp_path):
    settings = test_settings(STORAGE_URL=sqlite_url(tmp_path / "s.db"))
    first = await RunningBot(fake_connector, settings, clock=clock).start()
    try:
        await go_to_step(first, teams, 6)
    finally:
        await first.stop()
    clock.advance(dt.timedelta(days=2))
    second = await RunningBot(fake_connector, settings, clock=clock).start()
    try:
        replies = await second.send(teams.message("vad är återställningskoder?"))
        assert "Välkommen tillbaka" in fallback_text(replies[-1])
        assert shown_steps(replies) == {6}
        assert shown_steps(await second.send(teams.message("fortsätt"))) == {6}
    finally:
        await second.stop()


@pytest.mark.parametrize(
    "expiry_days, away",
    [
        pytest.param(None, dt.timedelta(days=7, minutes=1), id="default-7-days"),
        pytest.param(None, dt.timedelta(days=30), id="a-month"),
        pytest.param(2, dt.timedelta(days=2, minutes=1), id="configured-2-days"),
    ],
)
async def test_a_guide_left_untouched_past_the_expiry_is_forgotten_quietly(
    fake_connector, teams, clock, expiry_days, away
):
    env = {} if expiry_days is None else {"GUIDE_EXPIRY_DAYS": expiry_days}
    running = await RunningBot(fake_connector, test_settings(**env), clock=clock).start()
    try:
        await go_to_step(running, teams, 5)
        clock.advance(away)
        replies = await running.send(teams.message("hej"))
        assert len(replies) == 1
        assert "Välkommen tillbaka" not in fallback_text(replies[0]) and shown_steps(replies) == set()

        replies = await running.send(teams.message("nästa"))
        assert shown_steps(replies) == set() and not is_summary(replies)
        replies = await running.send(teams.message("starta guiden"))
        assert shown_steps(replies) == {1}
        assert "Vill du fortsätta" not in text_of(replies)
    finally:
        await running.stop()


# ---------------------------------------------------------------------------------------------
# Several people in one channel or group chat


@pytest.mark.parametrize("scope", [pytest.param("channel", id="channel"), pytest.param("groupChat", id="group-chat")])
async def test_two_people_in_one_conversation_each_walk_their_own_guide(bot, teams, scope):
    if scope == "channel":
        conversation_id = channel_thread_id(CHANNEL_ID, "1700000000000")
    else:
        conversation_id = GROUP_CHAT_ID

    def said(user: str, text: str) -> dict[str, Any]:
        return teams.message(
            text, conversation_type=scope, conversation_id=conversation_id, user_id=user, mention_bot=True
        )

    def pressed(user: str, data: dict[str, Any]) -> dict[str, Any]:
        return teams.card_submit(data, conversation_type=scope, conversation_id=conversation_id, user_id=user)

    assert shown_steps(await bot.send(said(ALICE, "starta guiden"))) == {1}
    for expected in (2, 3, 4):
        replies = await bot.send(said(ALICE, "nästa"))
        assert shown_steps(replies) == {expected}
    alices_card = step_card(replies)
    assert alices_card["conversation"]["id"] == conversation_id

    # Bob starts his own guide in the same conversation: step 1, no "continue where you were?".
    replies = await bot.send(said(BOB, "hur slår jag på tvåfaktor på Facebook?"))
    assert shown_steps(replies) == {1}
    assert "Vill du fortsätta" not in text_of(replies)
    assert shown_steps(await bot.send(said(BOB, "nästa"))) == {2}

    # Alice is still on 4; her "nästa" moves her, not Bob.
    assert shown_steps(await bot.send(said(ALICE, "nästa"))) == {5}
    assert shown_steps(await bot.send(said(BOB, "upprepa"))) == {2}

    # Bob pressing Nästa on Alice's card (step 4) moves neither of them.
    _, alices_next = button(alices_card, "next")
    assert shown_steps(await bot.send(pressed(BOB, alices_next))) == {2}
    assert shown_steps(await bot.send(said(ALICE, "upprepa"))) == {5}

    # Bob cancels; Alice's guide goes on.
    assert "avbrutit guiden" in text_of(await bot.send(said(BOB, "avbryt")))
    assert shown_steps(await bot.send(said(ALICE, "nästa"))) == {6}

    # Someone who never started says "nästa": no guide of anyone's moves or shows.
    replies = await bot.send(said("29:1carol-just-watching", "nästa"))
    assert shown_steps(replies) == set()
    assert shown_steps(await bot.send(said(ALICE, "upprepa"))) == {6}


async def test_a_guide_command_in_a_channel_without_a_mention_is_ignored(bot, teams):
    conversation_id = channel_thread_id(CHANNEL_ID, "1700000000001")
    kw = {"conversation_type": "channel", "conversation_id": conversation_id, "user_id": ALICE}
    await go_to_step(bot, teams, 2, mention_bot=True, **kw)
    assert await bot.send(teams.message("nästa", **kw)) == []
    assert shown_steps(await bot.send(teams.message("upprepa", mention_bot=True, **kw))) == {2}


# ---------------------------------------------------------------------------------------------
# Unexpected input mid-guide


UNUSABLE_SUBMITS = [
    pytest.param({"cmd": "guide", "action": "fly"}, id="unknown-action"),
    pytest.param({"cmd": "guide", "step": "x"}, id="malformed-step"),
    pytest.param({"cmd": "guide", "action": "next", "step": "3"}, id="step-as-text"),
    pytest.param({"cmd": "guide", "action": "next", "guide": "../../etc", "step": 3}, id="malformed-guide"),
    pytest.param({"cmd": "guide"}, id="no-action"),
    pytest.param({"cmd": 7, "action": "next"}, id="cmd-not-text"),
    pytest.param({"cmd": "teleport"}, id="unknown-cmd"),
    pytest.param({}, id="empty-object"),
    pytest.param([1, 2], id="list"),
    pytest.param("text", id="string"),
    pytest.param(0, id="number"),
    pytest.param({"cmd": "guide", "action": "next", "step": 9}, id="next-from-another-step"),
    pytest.param({"cmd": "guide", "action": "next", "guide": "instagram_2fa", "step": 3}, id="next-from-another-guide"),
]


@pytest.mark.parametrize("value", UNUSABLE_SUBMITS)
async def test_an_unusable_card_submit_mid_guide_gets_a_helpful_reply_and_moves_nothing(bot, teams, value):
    await go_to_step(bot, teams, 3)
    replies = await bot.send(teams.card_submit(value))
    assert replies, "no reply at all"
    assert shown_steps(replies) == {3}  # says where the user is, and nothing else
    assert "nästa" in text_of(replies).lower()  # and how to go on
    assert not is_summary(replies)
    assert shown_steps(await bot.send(teams.message("nästa"))) == {4}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   \n\t ", id="whitespace"),
        pytest.param(None, id="no-text-at-all"),
        pytest.param("x" * 50_000, id="50000-characters"),
        pytest.param(("nästa " * 10_000)[:50_000], id="50000-characters-of-next"),
        pytest.param("vad är återställningskoder? " * 1_800, id="50000-characters-of-questions"),
    ],
)
async def test_an_empty_or_huge_message_mid_guide_gets_a_helpful_reply_and_moves_nothing(bot, teams, text):
    await go_to_step(bot, teams, 3)
    replies = await bot.send(teams.message(text))
    assert replies, "no reply at all"
    assert shown_steps(replies) == {3}
    assert "nästa" in text_of(replies).lower()
    assert shown_steps(await bot.send(teams.message("nästa"))) == {4}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("x" * 50_000, id="50000-characters"),
    ],
)
async def test_an_empty_or_huge_mention_in_a_channel_mid_guide_moves_nothing(bot, teams, text):
    kw = {
        "conversation_type": "channel",
        "conversation_id": channel_thread_id(CHANNEL_ID, "1700000000002"),
        "user_id": ALICE,
        "mention_bot": True,
    }
    await go_to_step(bot, teams, 3, **kw)
    replies = await bot.send(teams.message(text, **kw))
    assert replies and shown_steps(replies) == {3}
    assert shown_steps(await bot.send(teams.message("nästa", **kw))) == {4}


async def test_the_offer_to_resume_a_left_guide_comes_once_a_day_not_under_every_answer(clocked_bot, teams, clock):
    await go_to_step(clocked_bot, teams, 3)
    clock.advance(dt.timedelta(hours=3))
    first = await clocked_bot.send(teams.message("vad är återställningskoder?"))
    assert "Välkommen tillbaka" in "\n".join(fallback_text(r) for r in first)
    second = await clocked_bot.send(teams.message("när är valet?"))
    assert "Välkommen tillbaka" not in "\n".join(fallback_text(r) for r in second)
    clock.advance(dt.timedelta(days=1, minutes=1))
    third = await clocked_bot.send(teams.message("när är valet?"))
    assert "Välkommen tillbaka" in "\n".join(fallback_text(r) for r in third)


async def test_in_a_channel_the_guide_says_how_to_type_commands_there(bot, teams):
    replies = await bot.send(teams.message("starta guiden", conversation_type="channel", mention_bot=True))
    assert "@Kanalvakten nästa" in fallback_text(replies[-1])
    personal = await bot.send(teams.message("starta guiden"))
    assert "@Kanalvakten" not in fallback_text(personal[-1])
