"""The announcement end to end: installs through the bot's endpoint, the send from the command
line and from an admin's chat, delivered through the fake connector."""

from __future__ import annotations

import datetime as dt
import io

from bot import run_announce as announce
from tests.bot_harness import RunningBot, card_of, fallback_text, sqlite_url, submit_values, test_settings
from tests.teams_activities import BOT_ID, GROUP_CHAT_ID, TEAM_ID, personal_conversation_id

ADMIN = "0b5e7f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
USERS = ["29:anna", "29:bertil", "29:cecilia", "29:david"]
COMING_ELECTION = (dt.date.today() + dt.timedelta(days=61)).isoformat()  # a past election is not sent


async def _install_everywhere(bot: RunningBot, teams) -> None:
    for user in USERS:
        await bot.send(teams.installation_update("add", user_id=user))
    await bot.send(teams.conversation_update(members_added=[BOT_ID], conversation_type="groupChat"))
    await bot.send(teams.conversation_update(members_added=[BOT_ID], conversation_type="channel"))
    await bot.send(teams.installation_update("remove", user_id=USERS[-1]))  # david uninstalls


async def test_send_delivers_exactly_one_announcement_to_every_installed_conversation(fake_connector, teams, tmp_path):
    settings = test_settings(
        STORAGE_URL=sqlite_url(tmp_path / "bot.db"), ANNOUNCE_RATE="50", ELECTION_DATE=COMING_ELECTION
    )
    bot = await RunningBot(fake_connector, settings).start()
    try:
        await _install_everywhere(bot, teams)
    finally:
        await bot.stop()
    fake_connector.clear()

    out, err = io.StringIO(), io.StringIO()
    assert await announce(["send", "--yes"], settings, out=out, err=err) == 0, err.getvalue()
    sent = [r for r in fake_connector.sent() if r.is_message]
    by_conversation = {}
    for request in sent:
        by_conversation.setdefault(request.conversation_id.split(";")[0], []).append(request)
    expected = {personal_conversation_id(u) for u in USERS[:-1]} | {GROUP_CHAT_ID, TEAM_ID}
    assert set(by_conversation) == expected
    assert all(len(requests) == 1 for requests in by_conversation.values())
    team_post = by_conversation[TEAM_ID][0]
    assert team_post.kind == "create_conversation"  # a new thread in the team's General channel
    assert "Viktig information" in fallback_text(team_post.activity)
    assert personal_conversation_id(USERS[-1]) not in by_conversation

    # a second send delivers nothing more
    fake_connector.clear()
    assert await announce(["send", "--yes"], settings, out=io.StringIO(), err=io.StringIO()) == 0
    assert [r for r in fake_connector.sent() if r.is_message] == []


async def test_only_admins_may_send_from_chat_and_only_after_confirming(fake_connector, teams):
    bot = await RunningBot(
        fake_connector, test_settings(ADMIN_AAD_IDS=ADMIN, ANNOUNCE_RATE="50", ELECTION_DATE=COMING_ELECTION)
    ).start()
    try:
        await bot.send(teams.installation_update("add", user_id="29:anna"))
        anna = personal_conversation_id("29:anna")
        welcomed = len(fake_connector.messages(anna))
        refused = await bot.send(
            teams.message("utskick skicka", user_id="29:mallory", aad_object_id="ffffffff-0000-0000-0000-000000000000")
        )
        assert "inte behörighet" in fallback_text(refused[0])

        preview = await bot.send(teams.message("utskick förhandsvisa", aad_object_id=ADMIN))
        assert "Viktig information" in str(card_of(preview[0]) or fallback_text(preview[0]))
        confirm = await bot.send(teams.message("utskick skicka", aad_object_id=ADMIN))
        assert len(fake_connector.messages(anna)) == welcomed  # nothing sent yet
        button = next(v for v in submit_values(confirm[0]) if v.get("action") == "confirm")
        started = await bot.send(teams.card_submit(button, aad_object_id=ADMIN))
        # the broadcast runs in the background: its first message may already be among the replies
        assert any("skickas nu" in fallback_text(reply) for reply in started), started
        await fake_connector.wait_for(welcomed + 1, conversation_id=anna, timeout=10)
        assert "Viktig information" in fallback_text(fake_connector.messages(anna)[-1])
        summary = await fake_connector.wait_for_message(lambda a: "skickat till" in fallback_text(a), timeout=10)
        assert "skickat till" in fallback_text(summary)
    finally:
        await bot.stop()
