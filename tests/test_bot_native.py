"""Teams-native answers end to end (issue 11 items 1-3): one message per reply, channels, feedback.

Through the bot's real endpoint and the recording fake connector. What a person sees is counted
in messages: every POST the bot made to the connector that carries a message. A card update
(👍/👎) is a PUT to the card's own activity, never a new message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cards.guide import THREAD_HINT
from cards.message import card_actions
from helpdesk.question_log import question_events
from storage import MemoryStorage
from tests.bot_harness import (
    RunningBot,
    all_text,
    card_in,
    card_of,
    check_message,
    fallback_text,
    submit_values,
    test_settings,
)
from tests.teams_activities import BOT_ID, CHANNEL_ID, USER_ID, USER_NAME, channel_thread_id

GUIDE_START = {"cmd": "guide", "action": "start", "guide": "facebook_2fa"}
MAX_GUIDE_MESSAGES = 13
"""The issue's target for the whole Facebook guide by buttons."""


class Clock:
    """The bot's clock: fixed until moved on."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 8, 20, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def storage() -> MemoryStorage:
    return MemoryStorage()


@pytest.fixture
async def clock() -> Clock:
    return Clock()


@pytest.fixture
async def native_bot(fake_connector, storage, clock):
    """The bot with storage the test can read and a clock it can move."""
    running = await RunningBot(fake_connector, test_settings(), storage=storage, clock=clock).start()
    yield running
    await running.stop()


async def turn(bot: RunningBot, activity: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """One turn; (the id the connector gave it, the message) for each message the bot sent."""
    before = len(bot.connector.requests)
    await bot.send(activity)
    return [
        (r.response_id or "", r.activity)
        for r in bot.connector.requests[before:]
        if r.is_message and r.activity is not None
    ]


def button(reply: dict[str, Any], **match: Any) -> dict[str, Any]:
    """The data of the one button on the card whose payload has all of `match`."""
    found = [v for v in submit_values(reply) if all(v.get(k) == w for k, w in match.items())]
    assert len(found) == 1, (match, submit_values(reply))
    return found[0]


def titles(card: dict[str, Any]) -> list[str]:
    return [a["title"] for a in card_actions(card)]


# ---------------------------------------------------------------------------------------------
# One message per reply


def test_a_message_with_text_and_a_card_is_refused_by_the_harness() -> None:
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [], "fallbackText": "x"}
    both = {
        "type": "message",
        "text": "x",
        "summary": "x",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }
    with pytest.raises(AssertionError, match="both text and a card"):
        check_message(both)
    check_message({**both, "text": None})
    with pytest.raises(AssertionError, match="summary"):
        check_message({**both, "text": None, "summary": None})


async def test_a_whole_conversation_sends_no_message_with_both_text_and_a_card(native_bot, teams):
    """Every kind of turn once; the fake connector's own check (conftest) also covers every e2e test."""
    said = []
    said += await turn(native_bot, teams.installation_update("add"))
    said += await turn(native_bot, teams.message("hej"))
    said += await turn(native_bot, teams.message("hur slår jag på tvåfaktor?"))
    said += await turn(native_bot, teams.message("instagram"))
    said += await turn(native_bot, teams.message("hur bakar jag kanelbullar?"))
    said += await turn(native_bot, teams.message("starta guiden"))
    said += await turn(native_bot, teams.message("vad är återställningskoder?"))
    said += await turn(native_bot, teams.message("fastnat"))
    said += await turn(native_bot, teams.message("pausa"))
    said += await turn(native_bot, teams.message("avbryt"))
    said += await turn(native_bot, teams.card_submit({"cmd": "nonsense"}))
    requests = [r for r in native_bot.connector.requests if r.activity is not None]
    assert len(said) == 11 and len(requests) == 11
    for request in requests:
        check_message(request.activity)
        assert not (request.activity.get("text") and card_of(request.activity))


async def test_starting_the_guide_is_one_message_with_the_introduction_and_step_1(native_bot, teams):
    for start in (teams.message("starta guiden"), teams.card_submit(GUIDE_START)):
        native_bot.connector.clear()
        (only,) = await native_bot.send(start)
        said = fallback_text(only)
        assert "Manualen är från 2019" in said and "Steg 1 av 11" in said
        assert "Nästa" in titles(card_in(only))
        await native_bot.send(teams.message("avbryt"))


async def test_the_whole_facebook_guide_by_buttons_takes_at_most_13_messages(native_bot, teams):
    replies = await native_bot.send(teams.card_submit(GUIDE_START))
    messages = len(replies)
    while not any("Alla 11 steg är klara" in fallback_text(r) for r in replies):
        next_button = button(replies[-1], cmd="guide", action="next")
        replies = await native_bot.send(teams.card_submit(next_button))
        assert len(replies) == 1
        messages += len(replies)
        assert messages <= MAX_GUIDE_MESSAGES
    assert messages == 12  # start (introduction and step 1), 10 Nästa, Klar: the summary


async def test_the_last_step_offers_neither_cancel_nor_stuck(native_bot, teams):
    replies = await native_bot.send(teams.card_submit(GUIDE_START))
    for _ in range(10):
        replies = await native_bot.send(teams.card_submit(button(replies[-1], cmd="guide", action="next")))
    assert "Steg 11 av 11" in fallback_text(replies[0])
    assert titles(card_in(replies[0])) == ["Klar, avsluta", "Tillbaka"]
    assert "avbryt" not in fallback_text(replies[0]).lower() and "fastnat" not in fallback_text(replies[0]).lower()


async def test_a_question_mid_guide_is_one_message_with_a_small_footer_to_continue(native_bot, teams):
    await native_bot.send(teams.message("starta guiden"))
    await native_bot.send(teams.message("nästa"))
    replies = await native_bot.send(teams.message("när är valet?"))
    assert len(replies) == 1
    said = fallback_text(replies[0])
    assert said.index("EU-valet") < said.index("Du är på steg 2 av 11")
    card = card_in(replies[0])
    assert card["actions"] == [a for a in card_actions(card) if a.get("data", {}).get("action") == "repeat"]
    assert titles({"actions": card["actions"]}) == ["Fortsätt på steg 2"]


async def test_the_step_footer_comes_only_while_the_guide_was_used_in_the_last_30_minutes(native_bot, teams, clock):
    await native_bot.send(teams.message("starta guiden"))
    clock.now += dt.timedelta(minutes=29)
    assert "Du är på steg 1 av 11" in fallback_text((await native_bot.send(teams.message("när är valet?")))[0])
    clock.now += dt.timedelta(minutes=31)  # 31 minutes after the guide's last use (a question does not use it)
    later = fallback_text((await native_bot.send(teams.message("när är valet?")))[0])
    assert "Du är på steg" not in later
    assert "Välkommen tillbaka" in later  # once: an offer to pick it up again
    again = fallback_text((await native_bot.send(teams.message("när är valet?")))[0])
    assert "steg 1 av 11" not in again


@pytest.mark.parametrize("scope", ["personal", "channel", "groupChat"])
async def test_installing_gives_exactly_one_message(native_bot, teams, scope):
    """Teams sends conversationUpdate and installationUpdate for one install."""
    said = await turn(native_bot, teams.conversation_update(members_added=[BOT_ID], conversation_type=scope))
    said += await turn(native_bot, teams.installation_update("add", conversation_type=scope))
    assert len(said) == 1
    assert card_of(said[0][1]) is not None and not said[0][1].get("text")


# ---------------------------------------------------------------------------------------------
# Channels


async def test_an_answer_in_a_channel_thread_mentions_the_asker(native_bot, teams):
    replies = await native_bot.send(
        teams.message("när är valet?", conversation_type="channel", mention_bot=True, user_name="Åsa [Öberg](x)")
    )
    (reply,) = replies
    card = card_in(reply)
    (entity,) = card["msteams"]["entities"]
    assert entity["type"] == "mention" and entity["mentioned"] == {"id": USER_ID, "name": "Åsa [Öberg](x)"}
    assert entity["text"] == "<at>Åsa Öbergx</at>"  # no markdown or tag characters inside the tag
    assert card["body"][0]["text"] == entity["text"]
    assert "EU-valet" in all_text(reply)
    # a personal chat has no one else to tell apart
    personal = card_in((await native_bot.send(teams.message("när är valet?")))[0])
    assert "entities" not in personal["msteams"]


async def test_guide_steps_in_a_thread_say_one_thing_about_how_to_go_on(native_bot, teams):
    thread = {"conversation_type": "channel", "conversation_id": channel_thread_id(CHANNEL_ID, "1700000000009")}
    replies = await native_bot.send(teams.message("starta guiden", mention_bot=True, **thread))
    for reply in [
        *replies,
        *(await native_bot.send(teams.message("nästa", mention_bot=True, **thread))),
        *(await native_bot.send(teams.message("fastnat", mention_bot=True, **thread))),
    ]:
        said = all_text(reply)
        assert fallback_text(reply).count(THREAD_HINT) == 1
        assert "Skriv " not in said and "skriv " not in said, said
    personal = await native_bot.send(teams.message("starta guiden"))
    assert THREAD_HINT not in all_text(personal[0]) and "Skriv nästa" in fallback_text(personal[0])


# ---------------------------------------------------------------------------------------------
# Feedback


async def test_every_topic_answer_has_thumbs_up_and_down_and_clarifying_questions_do_not(native_bot, teams):
    answer = (await native_bot.send(teams.message("vad är återställningskoder?")))[0]
    up, down = button(answer, cmd="feedback", value="up"), button(answer, cmd="feedback", value="down")
    assert up["q"] == down["q"] and len(up["q"]) == 32 and up["topic"] == "recovery_codes"
    assert {"👍 Ja", "👎 Nej"} <= set(titles(card_in(answer)))
    clarify = (await native_bot.send(teams.message("hur slår jag på tvåfaktor?")))[0]
    assert not [v for v in submit_values(clarify) if v.get("cmd") == "feedback"]
    step = (await native_bot.send(teams.message("starta guiden")))[0]
    assert not [v for v in submit_values(step) if v.get("cmd") == "feedback"]


async def test_thumbs_up_updates_that_same_card_in_place_with_a_thank_you(native_bot, teams, storage):
    ((card_id, answer),) = await turn(native_bot, teams.message("vad är återställningskoder?"))
    up = button(answer, cmd="feedback", value="up")
    replies = await native_bot.send(teams.card_submit(up, reply_to_id=card_id))
    assert replies == []  # no new message
    ((updated_id, updated),) = native_bot.updates
    assert updated_id == card_id  # PUT /v3/conversations/{id}/activities/{the card's id}
    (put,) = [r for r in native_bot.connector.requests if r.kind == "update"]
    assert put.method == "PUT" and put.path.endswith(f"/activities/{card_id}")
    assert not updated.get("text")
    card = card_in(updated)
    said = all_text(updated)
    assert "Tack för ditt svar!" in said
    assert card["body"][0]["text"] == card_in(answer)["body"][0]["text"]  # the answer stays
    assert not [v for v in submit_values(updated) if v.get("cmd") == "feedback"]  # 👍/👎 are gone
    events = list((await question_events(storage)).values())
    assert [(e.id, e.topic, e.feedback) for e in events] == [(up["q"], "recovery_codes", "up")]


async def test_thumbs_down_offers_a_comment_and_a_person_and_records_the_comment(native_bot, teams, storage):
    ((card_id, answer),) = await turn(native_bot, teams.message("hur stänger jag av kommentarer?"))
    down = button(answer, cmd="feedback", value="down")
    assert await native_bot.send(teams.card_submit(down, reply_to_id=card_id)) == []
    ((updated_id, updated),) = native_bot.updates
    assert updated_id == card_id
    card = card_in(updated)
    inputs = [e for e in card["body"][-1]["items"] if e["type"] == "Input.Text"]
    assert [i["id"] for i in inputs] == ["comment"]
    send = button(updated, cmd="feedback", value="comment")
    person = button(updated, cmd="person")
    assert {"Skicka", "Fråga en person"} <= set(titles(card))
    # Teams puts what was typed in the card's fields beside the button's data.
    await native_bot.send(teams.card_submit({**send, "comment": "Jag  ville veta om Threads."}, reply_to_id=card_id))
    ((_, thanked),) = native_bot.updates
    assert "kommentar" in all_text(thanked) and not [
        i for i in card_actions(card_in(thanked)) if i["title"] == "Skicka"
    ]
    events = list((await question_events(storage)).values())
    assert [(e.feedback, e.comment) for e in events] == [("down", "Jag ville veta om Threads.")]
    # "Fråga en person": who to contact (the hand-off path refines it)
    (reply,) = await native_bot.send(teams.card_submit(person, reply_to_id=card_id))
    assert "IT-support" in fallback_text(reply)


async def test_feedback_without_the_cards_id_comes_as_a_new_message_and_a_forged_one_is_refused(native_bot, teams):
    answer = (await native_bot.send(teams.message("när är valet?")))[0]
    up = button(answer, cmd="feedback", value="up")
    (reply,) = await native_bot.send(teams.card_submit(up))
    assert "Tack för ditt svar!" in all_text(reply) and native_bot.updates == []
    for forged in ({**up, "q": "../../x"}, {**up, "topic": "nope"}, {**up, "value": "maybe"}, {**up, "platforms": "x"}):
        (reply,) = await native_bot.send(teams.card_submit(forged, reply_to_id="1"))
        assert "knappen" in fallback_text(reply) and native_bot.updates == []


async def test_feedback_on_a_channel_answer_updates_the_card_in_its_thread(native_bot, teams):
    thread = {"conversation_type": "channel", "conversation_id": channel_thread_id(CHANNEL_ID, "1700000000011")}
    ((card_id, answer),) = await turn(native_bot, teams.message("när är valet?", mention_bot=True, **thread))
    up = button(answer, cmd="feedback", value="up")
    assert await native_bot.send(teams.card_submit(up, reply_to_id=card_id, user_name=USER_NAME, **thread)) == []
    ((updated_id, _),) = native_bot.updates
    (put,) = [r for r in native_bot.connector.requests if r.kind == "update"]
    assert updated_id == card_id and put.conversation_id == thread["conversation_id"]
