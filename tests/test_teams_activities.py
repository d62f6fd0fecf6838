"""The activity builders produce what Teams sends, as botbuilder itself reads it."""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, ChannelAccount
from botbuilder.schema.teams import TeamInfo, TeamsChannelAccount, TeamsChannelData

from tests.fake_connector import FakeConnector
from tests.teams_activities import (
    BOT_ID,
    CHANNEL_ID,
    TEAM_ID,
    TENANT_ID,
    USER_AAD_ID,
    TeamsActivities,
)


class _NoAuth:
    APP_ID = ""
    APP_PASSWORD = ""


def test_a_personal_message_reads_as_a_teams_activity(teams: TeamsActivities) -> None:
    activity = Activity().deserialize(teams.message("Hur slår jag på 2FA?"))
    assert activity.channel_id == "msteams" and activity.type == "message"
    assert activity.conversation.conversation_type == "personal"
    # Teams sends conversation.tenantId; botbuilder's schema maps "tenantID", so the tenant is
    # only in additional_properties there. Read it from channelData.tenant.id instead.
    assert activity.conversation.tenant_id is None
    assert activity.conversation.additional_properties["tenantId"] == TENANT_ID
    assert activity.conversation.id.startswith("a:1")
    assert activity.from_property.aad_object_id == USER_AAD_ID
    assert activity.recipient.id == BOT_ID and activity.recipient.name == "Kanalvakten"
    assert activity.service_url == teams.service_url
    assert TeamsChannelData().deserialize(activity.channel_data).tenant.id == TENANT_ID


def test_messages_from_one_user_share_a_conversation_but_not_an_id(
    teams: TeamsActivities,
) -> None:
    first, second = teams.message("ett"), teams.message("två")
    assert first["conversation"]["id"] == second["conversation"]["id"]
    assert first["id"] != second["id"]


def test_a_channel_post_starts_a_thread_and_a_reply_stays_in_it(teams: TeamsActivities) -> None:
    post = teams.message("fråga", conversation_type="channel", mention_bot=True)
    assert post["conversation"]["id"] == f"{CHANNEL_ID};messageid={post['id']}"
    data = TeamsChannelData().deserialize(post["channelData"])
    assert data.team.id == TEAM_ID and data.channel.id == CHANNEL_ID
    reply = teams.message("följdfråga", conversation_type="channel", reply_to_id=post["id"])
    assert reply["conversation"]["id"] == post["conversation"]["id"]
    assert reply["replyToId"] == post["id"]


def test_a_mention_of_the_bot_is_removed_by_botbuilder(teams: TeamsActivities) -> None:
    activity = Activity().deserialize(teams.message("hjälp", conversation_type="groupChat", mention_bot=True))
    assert activity.text == "<at>Kanalvakten</at> hjälp"
    assert activity.conversation.is_group is True
    TurnContext.remove_recipient_mention(activity)
    assert activity.text.strip() == "hjälp"


def test_a_card_submit_has_a_value_and_no_text(teams: TeamsActivities) -> None:
    activity = teams.card_submit({"action": "platform", "platform": "instagram"}, reply_to_id="1700000000999")
    assert "text" not in activity
    assert activity["value"] == {"action": "platform", "platform": "instagram"}
    assert activity["replyToId"] == "1700000000999"


def test_a_team_install_is_a_team_member_added_event_in_the_general_channel(
    teams: TeamsActivities,
) -> None:
    update = teams.conversation_update([BOT_ID], conversation_type="channel")
    assert update["conversation"]["id"] == TEAM_ID
    assert update["channelData"]["eventType"] == "teamMemberAdded"
    assert update["membersAdded"] == [{"id": BOT_ID}]
    personal = teams.conversation_update([BOT_ID])
    assert "eventType" not in personal["channelData"]


async def test_teams_activity_handler_dispatches_the_built_activities(
    fake_connector: FakeConnector, teams: TeamsActivities
) -> None:
    seen: list[str] = []

    class Recorder(TeamsActivityHandler):
        async def on_teams_members_added(
            self,
            members: list[TeamsChannelAccount],
            team_info: TeamInfo,
            turn_context: TurnContext,
        ) -> None:
            seen.append(f"added {[m.id for m in members]} team={team_info.id}")

        async def on_installation_update_add(self, turn_context: TurnContext) -> None:
            seen.append("installed")

        async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
            seen.append("uninstalled")

        async def on_message_activity(self, turn_context: TurnContext) -> None:
            seen.append(f"message {turn_context.activity.value}")

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_NoAuth()))
    bot = Recorder()
    for activity in (
        teams.conversation_update([BOT_ID], conversation_type="channel"),
        teams.installation_update("add"),
        teams.installation_update("remove", conversation_type="channel"),
        teams.card_submit({"action": "start_guide"}),
    ):
        await adapter.process_activity("", Activity().deserialize(activity), bot.on_turn)
    assert seen == [
        f"added ['{BOT_ID}'] team={TEAM_ID}",
        "installed",
        "uninstalled",
        "message {'action': 'start_guide'}",
    ]
    assert fake_connector.requests == []  # the bot itself needs no member lookup


def test_members_may_be_given_as_channel_accounts(teams: TeamsActivities) -> None:
    update = teams.conversation_update(
        members_removed=[{"id": "29:someone", "aadObjectId": "x"}], conversation_type="channel"
    )
    assert update["channelData"]["eventType"] == "teamMemberRemoved"
    assert ChannelAccount().deserialize(update["membersRemoved"][0]).aad_object_id == "x"
