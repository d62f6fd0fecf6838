"""A person is always reachable: the hand-off to the experts, their "Besvarad", the escaped card,
and the support contact when no experts are configured. End to end through the fake connector."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cards.escape import MARKDOWN_SPECIALS, unescape_markdown
from cards.message import card_actions
from storage import MemoryStorage
from storage.keys import HANDOFF_PREFIX
from tests.bot_harness import RunningBot, all_text, card_of, fallback_text, submit_values, test_settings
from tests.fake_connector import FakeConnector, RecordedRequest
from tests.teams_activities import CHANNEL_ID, GROUP_CHAT_ID, TeamsActivities, personal_conversation_id

EXPERTS = "19:experter-sociala-medier@thread.tacv2"
EXPERT_AAD = "6a1b2c3d-0000-4000-8000-000000000001"
SETTING_NAMES = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")
UNANSWERABLE = "Hur bokar jag en tvättid i källaren?"


async def _bot(connector: FakeConnector, **settings: str) -> RunningBot:
    return await RunningBot(connector, test_settings(**settings), storage=MemoryStorage()).start()


def _created(connector: FakeConnector) -> list[RecordedRequest]:
    return [r for r in connector.requests if r.kind == "create_conversation" and r.status < 300]


def _answered_button(card: dict[str, Any]) -> dict[str, Any]:
    return next(a["data"] for a in card_actions(card) if a.get("data", {}).get("cmd") == "answered")


async def _press_in_experts_thread(bot: RunningBot, teams: TeamsActivities, created: RecordedRequest, **kw: Any):
    """An expert presses "Besvarad" on the card at the root of the thread the bot started."""
    data = _answered_button(card_of(created.activity))
    return await bot.send(
        teams.card_submit(
            data,
            conversation_type="channel",
            conversation_id=created.conversation_id,
            channel_id=EXPERTS,
            reply_to_id=created.response_id,
            **{"user_name": "Erik Expert", "user_id": "29:erik", "aad_object_id": EXPERT_AAD, **kw},
        )
    )


# -- "Besvarad" ----------------------------------------------------------------------------------


async def test_besvarad_tells_the_asker_in_their_thread_and_updates_the_experts_card(fake_connector, teams):
    bot = await _bot(fake_connector, EXPERTS_CHANNEL_ID=EXPERTS)
    try:
        asked = teams.message(UNANSWERABLE, conversation_type="channel", mention_bot=True)
        await bot.send(asked)
        (created,) = _created(fake_connector)
        card = card_of(created.activity)
        button = _answered_button(card)
        assert set(button) == {"cmd", "id"}  # the button carries the hand-off's id, nothing else
        assert "Besvarad" in all_text(created.activity)

        await _press_in_experts_thread(bot, teams, created)

        asker_thread = asked["conversation"]["id"]
        notice = [r for r in fake_connector.sent(asker_thread) if "har svarat" in (r.activity or {}).get("text", "")]
        assert len(notice) == 1
        assert notice[0].kind == "reply" and notice[0].activity_id == asked["id"]  # under the question
        assert "här i tråden" in fallback_text(notice[0].activity)

        (update,) = [r for r in fake_connector.requests if r.kind == "update"]
        assert update.conversation_id == created.conversation_id and update.activity_id == created.response_id
        updated = card_of(update.body)
        assert "Besvarad av Erik Expert" in all_text(update.body)
        assert "tvättid" in all_text(update.body)  # still the question
        assert not [a for a in updated.get("actions", []) if a.get("data", {}).get("cmd") == "answered"]
    finally:
        await bot.stop()


async def test_a_second_besvarad_is_refused_politely_and_tells_no_one_again(fake_connector, teams):
    bot = await _bot(fake_connector, EXPERTS_CHANNEL_ID=EXPERTS)
    try:
        asked = teams.message(UNANSWERABLE, conversation_type="channel", mention_bot=True)
        await bot.send(asked)
        (created,) = _created(fake_connector)
        await _press_in_experts_thread(bot, teams, created)
        again = await _press_in_experts_thread(bot, teams, created, user_name="Karin Expert", user_id="29:karin")
        assert "redan markerad som besvarad" in fallback_text(again[0])
        notices = [
            r for r in fake_connector.sent(asked["conversation"]["id"]) if "har svarat" in fallback_text(r.activity)
        ]
        assert len(notices) == 1
        assert len([r for r in fake_connector.requests if r.kind == "update"]) == 1
    finally:
        await bot.stop()


async def test_besvarad_on_a_personal_question_tells_the_asker_in_their_chat(fake_connector, teams):
    bot = await _bot(fake_connector, EXPERTS_CHANNEL_ID=EXPERTS)
    try:
        replies = await bot.send(teams.message(UNANSWERABLE))
        offer = next(v for v in submit_values(replies[0]) if v["cmd"] == "handoff")
        await bot.send(teams.card_submit(offer, reply_to_id="1700000000001"))
        (created,) = _created(fake_connector)
        assert "Åsa Öberg" in all_text(created.activity)  # the asker chose to send their name
        stored = str(await bot.storage.read(await bot.storage.keys(HANDOFF_PREFIX)))
        assert "29:1Aa0bB1cC2dD3eE4fF5gG6hH7iI8jJ9kK" not in stored  # no user id kept for the notice

        await _press_in_experts_thread(bot, teams, created)
        chat = personal_conversation_id()
        notice = [r for r in fake_connector.sent(chat) if "har svarat" in fallback_text(r.activity)]
        assert len(notice) == 1 and "frågan du skickade" in fallback_text(notice[0].activity)
        stored = str(await bot.storage.read(await bot.storage.keys(HANDOFF_PREFIX)))
        assert chat not in stored  # answered: the conversation's address is dropped
    finally:
        await bot.stop()


async def test_besvarad_outside_the_experts_channel_is_refused(fake_connector, teams):
    bot = await _bot(fake_connector, EXPERTS_CHANNEL_ID=EXPERTS)
    try:
        await bot.send(teams.message(UNANSWERABLE, conversation_type="channel", mention_bot=True))
        (created,) = _created(fake_connector)
        data = _answered_button(card_of(created.activity))
        # the same payload, pressed (or forged) in another channel
        replies = await bot.send(teams.card_submit(data, conversation_type="channel", channel_id=CHANNEL_ID))
        assert "till för stadens experter" in fallback_text(replies[0])
        assert not [r for r in fake_connector.requests if r.kind == "update"]
    finally:
        await bot.stop()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"cmd": "answered", "id": "0123456789abcdef0123"}, id="unknown-id"),
        pytest.param({"cmd": "answered", "id": "../registry/x"}, id="not-an-id"),
        pytest.param({"cmd": "answered"}, id="no-id"),
    ],
)
async def test_besvarad_for_a_hand_off_that_does_not_exist_says_so(fake_connector, teams, value):
    bot = await _bot(fake_connector, EXPERTS_CHANNEL_ID=EXPERTS)
    try:
        replies = await bot.send(teams.card_submit(value, conversation_type="channel", channel_id=EXPERTS))
        assert "hittar inte den frågan" in fallback_text(replies[0])
    finally:
        await bot.stop()


async def test_with_mentioned_experts_only_an_expert_can_press_besvarad(fake_connector, teams):
    bot = await _bot(fake_connector, EXPERT_AAD_IDS=EXPERT_AAD)
    try:
        asked = teams.message(UNANSWERABLE, conversation_type="groupChat", mention_bot=True)
        replies = await bot.send(asked)
        # the experts' card (the answer card @mentions the asker too, so look for "Besvarad")
        card_message = next(
            r
            for r in replies
            if card_of(r) and any(a.get("data", {}).get("cmd") == "answered" for a in card_actions(card_of(r)))
        )
        card_id = next(r.response_id for r in fake_connector.sent(GROUP_CHAT_ID) if r.activity is card_message)
        data = _answered_button(card_of(card_message))
        chat = {"conversation_type": "groupChat", "reply_to_id": card_id}

        refused = await bot.send(teams.card_submit(data, **chat))  # the asker is no expert
        assert "till för stadens experter" in fallback_text(refused[0])

        await bot.send(teams.card_submit(data, user_id="29:erik", user_name="Erik", aad_object_id=EXPERT_AAD, **chat))
        assert [r for r in fake_connector.sent(GROUP_CHAT_ID) if "här i chatten" in fallback_text(r.activity)]
        (update,) = [r for r in fake_connector.requests if r.kind == "update"]
        assert update.activity_id == card_id and "Besvarad av Erik" in all_text(update.body)
    finally:
        await bot.stop()


# -- what the experts see is what was typed ------------------------------------------------------

TRICKY = [
    pytest.param("[klicka här](https://evil.example) om tvättid", id="markdown-link"),
    pytest.param("**VIKTIGT** bokning av tvättid", id="bold"),
    pytest.param("&lt;at&gt;Anna&lt;/at&gt; tvättid i källaren", id="escaped-at-tag"),
    pytest.param(
        "tvättid\n# rubrik\n- punkt\n1. lista `exempel` ~~stryk~~ <b>fet</b> ![bild](bild.png)", id="block-markdown"
    ),
]


def _rendered_literally(shown: str, typed: str) -> None:
    """Every Markdown-special character in `shown` is escaped, and unescaping gives `typed` back."""
    assert unescape_markdown(shown) == typed
    bare = re.sub(r"\\.", "", shown)
    assert not set(bare) & set(MARKDOWN_SPECIALS), shown
    assert not re.search(r"^\s*([-+]|\d+[.)])\s", bare, re.MULTILINE), shown


def _question_block(card: dict[str, Any]) -> str:
    return next(b["text"] for b in card["body"] if b.get("text", "").startswith("”"))[1:-1]


@pytest.mark.parametrize("typed", TRICKY)
async def test_the_question_on_the_experts_card_is_escaped(fake_connector, teams, typed):
    import html

    bot = await _bot(fake_connector, EXPERTS_CHANNEL_ID=EXPERTS)
    try:
        await bot.send(teams.message(typed, conversation_type="channel", mention_bot=True))
        (created,) = _created(fake_connector)
        card = card_of(created.activity)
        _rendered_literally(_question_block(card), html.unescape(typed).strip())
        assert "<at>" not in fallback_text(created.activity) and "](https://evil" not in fallback_text(created.activity)
        assert not card.get("msteams", {}).get("entities")  # no mention made of a typed tag
    finally:
        await bot.stop()


async def test_a_display_name_with_a_link_is_shown_as_typed(fake_connector, teams):
    name = "Eve [Support](https://evil.example) **Admin**"
    bot = await _bot(fake_connector, EXPERTS_CHANNEL_ID=EXPERTS)
    try:
        replies = await bot.send(teams.message(UNANSWERABLE, user_name=name))
        offer = next(v for v in submit_values(replies[0]) if v["cmd"] == "handoff")
        await bot.send(teams.card_submit(offer, user_name=name))
        (created,) = _created(fake_connector)
        card = card_of(created.activity)
        facts = {f["title"]: f["value"] for b in card["body"] if b["type"] == "FactSet" for f in b["facts"]}
        _rendered_literally(facts["Av"], name)
        assert "](https://evil" not in all_text(created.activity)

        await _press_in_experts_thread(bot, teams, created, user_name="Mallory [x](https://evil.example)")
        (update,) = [r for r in fake_connector.requests if r.kind == "update"]
        done = next(b["text"] for b in card_of(update.body)["body"] if b.get("text", "").startswith("Besvarad av"))
        assert "\\[x\\]\\(https://evil.example\\)" in done
    finally:
        await bot.stop()


# -- a person is always reachable ----------------------------------------------------------------

OWN_SUPPORT = "din förvaltnings eller ditt bolags IT-support och kommunikationsavdelning"


def _said(replies: list[dict[str, Any]]) -> str:
    return "\n".join(all_text(r) for r in replies)


@pytest.mark.parametrize(
    "scope",
    [pytest.param("personal", id="personal"), pytest.param("channel", id="channel")],
)
async def test_without_experts_asking_for_a_person_names_the_users_own_support(fake_connector, teams, scope):
    bot = await _bot(fake_connector)
    try:
        said = _said(
            await bot.send(
                teams.message(
                    "Kan jag prata med en människa?", conversation_type=scope, mention_bot=scope != "personal"
                )
            )
        )
        assert f"Kontakta {OWN_SUPPORT}" in said
        assert not SETTING_NAMES.search(said), said
        assert not _created(fake_connector)
    finally:
        await bot.stop()


async def test_without_experts_an_out_of_scope_answer_offers_a_person(fake_connector, teams):
    bot = await _bot(fake_connector)
    try:
        said = _said(await bot.send(teams.message(UNANSWERABLE)))
        assert "Det kan jag tyvärr inte svara på" in said
        assert f"prata med en person? Kontakta {OWN_SUPPORT}" in said
        assert not SETTING_NAMES.search(said), said
    finally:
        await bot.stop()


async def test_the_configured_support_contact_is_the_person_offered(fake_connector, teams):
    bot = await _bot(fake_connector, SUPPORT_CONTACT="Digitaliseringsenheten, 031-365 00 00")
    try:
        said = _said(await bot.send(teams.message("vem kan jag kontakta?")))
        assert "Kontakta Digitaliseringsenheten, 031-365 00 00" in said
        said = _said(await bot.send(teams.card_submit({"cmd": "person"})))  # the 👎 card's "fråga en person"
        assert "Kontakta Digitaliseringsenheten, 031-365 00 00" in said
    finally:
        await bot.stop()


async def test_experts_mentioned_in_threads_cannot_be_reached_from_a_personal_chat_so_the_contact_is_given(
    fake_connector, teams
):
    bot = await _bot(fake_connector, EXPERT_AAD_IDS=EXPERT_AAD)
    try:
        said = _said(await bot.send(teams.message("Jag vill prata med en person")))
        assert f"Kontakta {OWN_SUPPORT}" in said
    finally:
        await bot.stop()


@pytest.mark.parametrize(
    "ask",
    [
        pytest.param(lambda teams: teams.message("prata med en människa"), id="typed"),
        pytest.param(lambda teams: teams.card_submit({"cmd": "person"}), id="person-button"),
    ],
)
async def test_with_experts_the_next_message_goes_to_them_with_the_askers_name(fake_connector, teams, ask):
    bot = await _bot(fake_connector, EXPERTS_CHANNEL_ID=EXPERTS)
    try:
        said = _said(await bot.send(ask(teams)))
        assert "Vad vill du fråga?" in said and "ditt namn" in said  # what will be sent, said first
        assert not _created(fake_connector)
        replies = await bot.send(teams.message("Hur gör vi med kommentarer från politiker på vår sida?"))
        assert "kontaktar någon dig" in fallback_text(replies[0])
        (created,) = _created(fake_connector)
        assert created.body["channelData"]["channel"]["id"] == EXPERTS
        shown = unescape_markdown(all_text(created.activity))
        assert "Hur gör vi med kommentarer från politiker på vår sida?" in shown and "Åsa Öberg" in shown
        # the question was asked once: the message after it is an ordinary question again
        await bot.send(teams.message("Hur bokar jag en tvättid?"))
        assert len(_created(fake_connector)) == 1
    finally:
        await bot.stop()


async def test_a_person_asked_for_and_then_not_wanted_sends_nothing(fake_connector, teams):
    bot = await _bot(fake_connector, EXPERTS_CHANNEL_ID=EXPERTS)
    try:
        await bot.send(teams.message("kan jag prata med en person?"))
        replies = await bot.send(teams.message("nej tack"))
        assert "skickar jag ingenting" in fallback_text(replies[0])
        assert not _created(fake_connector)
    finally:
        await bot.stop()


async def test_with_experts_a_request_for_a_person_in_a_thread_goes_to_them_at_once(fake_connector, teams):
    bot = await _bot(fake_connector, EXPERTS_CHANNEL_ID=EXPERTS)
    try:
        asked = teams.message(
            "Kan jag få prata med en människa om vårt Instagramkonto?", conversation_type="channel", mention_bot=True
        )
        replies = await bot.send(asked)
        assert "här i tråden" in fallback_text(replies[0])
        (created,) = _created(fake_connector)
        assert "Instagramkonto" in unescape_markdown(all_text(created.activity))
        assert "https://teams.microsoft.com/l/message/" in fallback_text(created.activity)
    finally:
        await bot.stop()


async def test_a_question_the_bot_could_not_answer_can_be_sent_from_the_person_offer(fake_connector, teams):
    bot = await _bot(fake_connector, EXPERTS_CHANNEL_ID=EXPERTS)
    try:
        await bot.send(teams.message(UNANSWERABLE))
        replies = await bot.send(teams.card_submit({"cmd": "person"}))
        send = next(v for v in submit_values(replies[0]) if v["cmd"] == "handoff")
        await bot.send(teams.card_submit(send))
        (created,) = _created(fake_connector)
        assert "tvättid i källaren" in unescape_markdown(all_text(created.activity))
    finally:
        await bot.stop()


async def test_retention_deletes_hand_off_records_older_than_the_retention_period():
    import datetime as dt

    from helpdesk.handoff import HandoffRecord, HandoffRequest, new_handoff_id, save_handoff
    from helpdesk.retention import purge

    now = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)
    storage = MemoryStorage()
    request = HandoffRequest(question="Hur bokar jag en tvättid?", reason="unanswered", scope="personal", asker="Åsa")
    for days in (91, 89):
        record = HandoffRecord(
            id=new_handoff_id(), created_at=now - dt.timedelta(days=days), request=request, reference={}
        )
        await save_handoff(storage, record)
    result = await purge(storage, now, 90)
    assert result.handoffs == 1
    (kept,) = (await storage.read(await storage.keys(HANDOFF_PREFIX))).values()
    assert kept["created_at"].startswith("2026-08-27")
