"""End to end through POST /api/messages with Teams-shaped activities and the fake connector."""

from __future__ import annotations

import pytest

from cards.message import card_actions
from storage.keys import USER_STATE_PREFIX
from tests.bot_harness import (
    RunningBot,
    all_text,
    card_in,
    card_of,
    fallback_text,
    sqlite_url,
    submit_values,
    test_settings,
)
from tests.teams_activities import BOT_ID, TEAM_ID

PLATFORM_LINKS = {
    "instagram": "https://www.instagram.com/accounts/two_factor_authentication/",
    "linkedin": "https://www.linkedin.com/help/linkedin/answer/544",
    "twitter": "https://help.x.com/en/managing-your-account/two-factor-authentication",
}


async def test_install_in_a_personal_chat_greets_once_with_example_questions(bot, teams):
    replies = await bot.send(teams.installation_update("add"))
    replies += await bot.send(teams.conversation_update(members_added=[BOT_ID]))
    assert len(replies) == 1
    assert "Kanalvakten" in fallback_text(replies[0])
    assert any(v.get("cmd") in ("ask", "guide") for v in submit_values(replies[0]))


async def test_install_in_a_team_posts_one_short_introduction_in_the_channel(bot, teams):
    replies = await bot.send(teams.conversation_update(members_added=[BOT_ID], conversation_type="channel"))
    assert len(replies) == 1
    assert "@Kanalvakten" in fallback_text(replies[0])
    assert replies[0]["conversation"]["id"].startswith(TEAM_ID.split("@")[0]) or replies[0]["conversation"]["id"]


@pytest.mark.parametrize(
    "platform, question",
    [
        pytest.param("instagram", "hur slår jag på tvåfaktor på Instagram?", id="instagram"),
        pytest.param("linkedin", "tvåstegsverifiering linkdin", id="linkedin"),
        pytest.param("twitter", "2fa på X", id="twitter"),
    ],
)
async def test_a_question_gets_the_answer_with_the_platforms_official_link(bot, teams, platform, question):
    replies = await bot.send(teams.message(question))
    assert len(replies) == 1
    card = card_of(replies[0])
    assert card is not None and card["version"] == "1.5"
    urls = [a["url"] for a in card_actions(card) if a["type"] == "Action.OpenUrl"]
    assert urls == [PLATFORM_LINKS[platform]]
    assert PLATFORM_LINKS[platform] in fallback_text(replies[0])


async def test_asking_about_facebook_starts_the_guide_at_step_one(bot, teams):
    replies = await bot.send(teams.message("hur slår jag på tvåfaktor på Facebook?"))
    text = "\n".join(all_text(r) for r in replies)
    assert "Steg 1 av 11" in text
    assert "avbryt" in text.lower()


async def test_a_missing_platform_is_asked_for_and_a_button_answers_it(bot, teams):
    replies = await bot.send(teams.message("hur slår jag på tvåfaktor?"))
    assert "Vilken kanal gäller det?" in fallback_text(replies[0])
    choice = next(v for v in submit_values(replies[0]) if v.get("platform") == "linkedin")
    replies = await bot.send(teams.card_submit(choice))
    assert PLATFORM_LINKS["linkedin"] in fallback_text(replies[0])


async def test_a_missing_platform_can_be_answered_by_typing_its_name(bot, teams):
    await bot.send(teams.message("Jag vill aktivera tvåfaktorsinloggning"))
    replies = await bot.send(teams.message("insta"))
    assert PLATFORM_LINKS["instagram"] in fallback_text(replies[0])


@pytest.mark.parametrize(
    "answer, expected",
    [
        pytest.param("2", ["instagram"], id="by-number"),
        pytest.param("alla", ["facebook", "instagram", "linkedin", "twitter"], id="all"),
    ],
)
async def test_a_clarification_can_be_answered_by_number_or_all(bot, teams, answer, expected):
    await bot.send(teams.message("Jag vill aktivera tvåfaktorsinloggning"))
    replies = await bot.send(teams.message(answer))
    assert all(PLATFORM_LINKS.get(p, "facebook.com") in fallback_text(replies[0]) for p in expected)
    # the clarification is used up: the same answer again is no longer a choice
    again = await bot.send(teams.message(answer))
    assert PLATFORM_LINKS["instagram"] not in fallback_text(again[0])


async def test_a_new_question_while_a_clarification_is_pending_is_answered_as_asked(bot, teams):
    await bot.send(teams.message("hur slår jag på tvåfaktor?"))
    replies = await bot.send(teams.message("vårt instagram är kapat"))
    assert "Kontot verkar kapat" in fallback_text(replies[0])


@pytest.mark.parametrize("scope", ["personal", "groupChat"])
async def test_a_clarifying_question_offers_its_choices_on_the_card_and_nowhere_beside_it(bot, teams, scope):
    replies = await bot.send(
        teams.message("hur slår jag på tvåfaktor?", conversation_type=scope, mention_bot=scope != "personal")
    )
    assert len(replies) == 1 and not replies[0].get("suggestedActions")
    topics = [(v.get("topic"), v.get("platform")) for v in submit_values(replies[0])]
    assert ("enable_2fa", "instagram") in topics and ("enable_2fa", "all") in topics


async def test_an_out_of_scope_question_is_answered_kindly_with_what_the_bot_can_do(bot, teams):
    replies = await bot.send(teams.message("Hur bokar jag en tvättid?"))
    assert len(replies) == 1
    assert "utanför" in fallback_text(replies[0])
    assert "tvåfaktorsinloggning" in fallback_text(replies[0])


async def test_help_lists_what_the_bot_can_do(bot, teams):
    for word in ("hjälp", "help", "meny"):
        replies = await bot.send(teams.message(word))
        assert "Det här kan jag hjälpa dig med" in fallback_text(replies[0])


async def test_a_mention_in_a_channel_is_answered_in_the_same_thread(bot, teams):
    activity = teams.message("tvåfaktor på instagram", conversation_type="channel", mention_bot=True)
    before = len(bot.connector.sent())
    replies = await bot.send(activity)
    assert len(replies) == 1
    request = bot.connector.sent()[before]
    assert request.kind == "reply"
    assert request.conversation_id == activity["conversation"]["id"]
    assert request.activity_id == activity["id"]
    assert PLATFORM_LINKS["instagram"] in fallback_text(replies[0])
    assert "<at>" not in fallback_text(replies[0])


async def test_a_channel_message_without_a_mention_is_ignored(bot, teams):
    replies = await bot.send(teams.message("tvåfaktor på instagram", conversation_type="channel"))
    assert replies == []
    replies = await bot.send(teams.message("tvåfaktor på instagram", conversation_type="groupChat"))
    assert replies == []


async def test_a_card_submit_is_a_command_not_free_text(bot, teams):
    replies = await bot.send(teams.card_submit({"cmd": "ask", "topic": "recovery_codes"}))
    assert "Återställningskoder" in fallback_text(replies[0])
    replies = await bot.send(teams.card_submit({"text": "tvåfaktor insta"}))
    assert "knappen" in fallback_text(replies[0])
    replies = await bot.send(teams.card_submit({"cmd": "ask", "topic": "drop table"}))
    assert "knappen" in fallback_text(replies[0])


@pytest.mark.parametrize("activity_type", ["typing", "messageReaction", "event", "endOfConversation", "somethingNew"])
async def test_activity_types_the_bot_does_not_handle_are_ignored_without_error(bot, teams, activity_type):
    activity = teams.message("x")
    activity["type"] = activity_type
    status, _ = await bot.post(activity)
    assert status in (200, 201, 202)
    assert await bot.send(teams.message("hej"))  # still serving


async def test_a_tenant_outside_the_allow_list_gets_no_answer(fake_connector, teams):
    running = await RunningBot(
        fake_connector, test_settings(ALLOWED_TENANTS="11111111-2222-3333-4444-555555555555")
    ).start()
    try:
        assert await running.send(teams.message("hej")) == []
    finally:
        await running.stop()


async def _clarification_survives_a_restart(fake_connector, teams, settings) -> None:
    """Ask back for the platform on one bot, answer it on a new bot with the same storage."""
    first = await RunningBot(fake_connector, settings).start()
    try:
        replies = await first.send(teams.message("hur aktiverar jag tvåfaktor?"))
        assert "Vilken kanal gäller det?" in fallback_text(replies[0])
    finally:
        await first.stop()
    second = await RunningBot(fake_connector, settings).start()
    try:
        replies = await second.send(teams.message("twitter"))
        assert PLATFORM_LINKS["twitter"] in fallback_text(replies[0])
    finally:
        await second.stop()


async def test_a_pending_clarification_survives_a_restart_with_sqlite(fake_connector, teams, tmp_path):
    settings = test_settings(STORAGE_URL=sqlite_url(tmp_path / "state.db"))
    await _clarification_survives_a_restart(fake_connector, teams, settings)


async def test_a_pending_clarification_survives_a_restart_on_azure_blob(fake_connector, teams, azurite, monkeypatch):
    """The scale-out storage (Azurite, the Azure Storage emulator): a second instance takes the turn."""
    from storage import AzureBlobStorage

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite)
    settings = test_settings(STORAGE_URL="azureblob://kv-test")
    await _clarification_survives_a_restart(fake_connector, teams, settings)
    blobs = AzureBlobStorage(azurite, "kv-test")
    try:
        assert await blobs.keys(USER_STATE_PREFIX)  # the state lived in the container
    finally:
        await blobs.close()


async def test_healthz_reports_ok(bot):
    import aiohttp

    async with aiohttp.ClientSession() as client, client.get(f"{bot.url}/healthz") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"


EXPERTS = "19:experter-sociala-medier@thread.tacv2"


async def test_an_unanswerable_channel_question_is_handed_to_the_experts_channel(fake_connector, teams):
    running = await RunningBot(fake_connector, test_settings(EXPERTS_CHANNEL_ID=EXPERTS)).start()
    try:
        replies = await running.send(
            teams.message(
                "Hur ändrar jag omslagsbild på vår sida?",
                conversation_type="channel",
                mention_bot=True,
                user_name="Åsa Öberg",
            )
        )
        assert "vidare till stadens experter" in fallback_text(replies[0])
        created = [r for r in fake_connector.sent() if r.kind == "create_conversation"]
        assert len(created) == 1
        assert created[0].body["channelData"]["channel"]["id"] == EXPERTS
        forwarded = created[0].activity
        assert "omslagsbild" in fallback_text(forwarded)
        assert "https://teams.microsoft.com/l/message/" in fallback_text(forwarded)  # experts answer in place
        assert "Åsa" not in str(forwarded)  # the question travels, the asker's name does not
    finally:
        await running.stop()


async def test_a_near_miss_none_of_them_in_a_channel_hands_the_question_to_the_experts(fake_connector, teams):
    running = await RunningBot(fake_connector, test_settings(EXPERTS_CHANNEL_ID=EXPERTS)).start()
    try:
        asked = await running.send(
            teams.message("hur länge ska vi spara raderade kommentarer", conversation_type="channel", mention_bot=True)
        )
        assert "Menade du" in fallback_text(asked[0])
        assert not [r for r in fake_connector.sent() if r.kind == "create_conversation"]
        none = next(v for v in submit_values(asked[0]) if v.get("cmd") == "none")
        replies = await running.send(
            teams.card_submit(none, conversation_type="channel", conversation_id=asked[0]["conversation"]["id"])
        )
        assert "vidare till stadens experter" in fallback_text(replies[0])
        created = [r for r in fake_connector.sent() if r.kind == "create_conversation"]
        assert len(created) == 1 and "raderade kommentarer" in fallback_text(created[0].activity)
    finally:
        await running.stop()


async def test_an_answerable_question_is_not_handed_off(fake_connector, teams):
    running = await RunningBot(fake_connector, test_settings(EXPERTS_CHANNEL_ID=EXPERTS)).start()
    try:
        await running.send(teams.message("tvåfaktor instagram", conversation_type="channel", mention_bot=True))
        assert [r for r in fake_connector.sent() if r.kind == "create_conversation"] == []
    finally:
        await running.stop()


async def test_in_a_personal_chat_nothing_is_forwarded_until_the_user_asks(fake_connector, teams):
    running = await RunningBot(fake_connector, test_settings(EXPERTS_CHANNEL_ID=EXPERTS)).start()
    try:
        replies = await running.send(teams.message("Hur ändrar jag omslagsbild?", user_name="Åsa Öberg"))
        assert [r for r in fake_connector.sent() if r.kind == "create_conversation"] == []
        assert "ditt namn" in fallback_text(replies[0])  # the user is told what will be sent
        button = next(v for v in submit_values(replies[0]) if v["cmd"] == "handoff")
        assert "omslagsbild" not in str(button)  # the question stays with the bot, not in the card
        replies = await running.send(teams.card_submit(button, user_name="Åsa Öberg"))
        assert "kontaktar någon dig" in fallback_text(replies[0])
        created = [r for r in fake_connector.sent() if r.kind == "create_conversation"]
        assert len(created) == 1
        assert "omslagsbild" in fallback_text(created[0].activity) and "Åsa Öberg" in fallback_text(created[0].activity)
        # pressing it again sends nothing more
        await running.send(teams.card_submit(button))
        assert len([r for r in fake_connector.sent() if r.kind == "create_conversation"]) == 1
    finally:
        await running.stop()


async def test_a_forged_handoff_button_cannot_post_made_up_text_to_the_experts(fake_connector, teams):
    running = await RunningBot(fake_connector, test_settings(EXPERTS_CHANNEL_ID=EXPERTS)).start()
    try:
        replies = await running.send(teams.card_submit({"cmd": "handoff", "reason": "urgent", "q": "Falskt larm!"}))
        assert [r for r in fake_connector.sent() if r.kind == "create_conversation"] == []
        assert "finns inte kvar" in fallback_text(replies[0])
    finally:
        await running.stop()


async def test_without_a_channel_the_experts_are_mentioned_in_the_thread(fake_connector, teams):
    expert = "6a1b2c3d-0000-4000-8000-000000000001"
    running = await RunningBot(fake_connector, test_settings(EXPERT_AAD_IDS=expert)).start()
    try:
        replies = await running.send(
            teams.message("Vårt konto är kapat!", conversation_type="groupChat", mention_bot=True)
        )
        mention = replies[-1]
        entities = card_in(mention)["msteams"]["entities"]
        assert any(e.get("mentioned", {}).get("id") == expert for e in entities)
        assert all(e["text"] in all_text(mention) for e in entities)  # each tag is on the card
        assert "Brådskande" in fallback_text(mention)
    finally:
        await running.stop()


async def test_asking_for_a_guide_that_does_not_exist_gives_that_platforms_answer(bot, teams):
    replies = await bot.send(teams.message("starta guiden för instagram"))
    assert PLATFORM_LINKS["instagram"] in fallback_text(replies[0])
    assert "Steg 1 av 11" not in fallback_text(replies[0])


async def test_install_events_arriving_together_greet_once(bot, teams):
    import asyncio

    before = len(bot.connector.sent())
    results = await asyncio.gather(
        bot.post(teams.installation_update("add")),
        bot.post(teams.conversation_update(members_added=[BOT_ID])),
    )
    assert all(status in (200, 201) for status, _ in results)
    assert len([r for r in bot.connector.sent()[before:] if r.is_message]) == 1


async def test_a_double_click_moves_the_guide_one_step_each_without_an_error(bot, teams):
    import asyncio

    await bot.send(teams.message("starta guiden"))
    before = len(bot.connector.sent())
    await asyncio.gather(bot.post(teams.message("nästa")), bot.post(teams.message("nästa")))
    texts = [fallback_text(r.activity) for r in bot.connector.sent()[before:] if r.is_message]
    assert not any("något gick fel" in t for t in texts)
    assert sum("Steg 2 av 11" in t for t in texts) == 1 and sum("Steg 3 av 11" in t for t in texts) == 1


@pytest.mark.parametrize("text", ["jag hittar inte pilen", "det funkar inte", "hjälp"])
async def test_someone_stuck_in_the_guide_gets_the_steps_help(bot, teams, text):
    await bot.send(teams.message("starta guiden"))
    replies = await bot.send(teams.message(text))
    combined = "\n".join(all_text(r) for r in replies)
    assert "https://www.facebook.com/help/148233965247823" in combined
    assert "steg 1 av 11" in combined.lower()


async def test_ok_without_a_guide_is_an_acknowledgement(bot, teams):
    await bot.send(teams.message("tvåfaktor på instagram"))
    replies = await bot.send(teams.message("ok"))
    assert fallback_text(replies[0]).startswith("Okej")


@pytest.mark.parametrize("text", ["Hej Kanalvakten", "God morgon Kanalvakten!", "hejsan kanalvakten"])
async def test_a_greeting_with_the_bots_name_is_a_greeting(bot, teams, text):
    """The bot's name says whom a message is for, not what it is about: no list of what it can do."""
    replies = await bot.send(teams.message(text))
    assert len(replies) == 1
    said = all_text(replies[0])
    assert "Jag är Kanalvakten" in said
    assert "Det här kan jag hjälpa dig med" not in said


@pytest.mark.parametrize("text", ["Kanalvakten", "Kanalvakten?", "kanalvakten!"])
async def test_the_bots_name_alone_is_answered_like_a_bare_mention(bot, teams, text):
    replies = await bot.send(teams.message(text))
    assert len(replies) == 1
    assert "Vad vill du veta?" in all_text(replies[0])
