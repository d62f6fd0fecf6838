"""Builders for Teams-shaped inbound activities, as the Bot Connector posts them to the bot.

Plain dicts (the JSON on the wire), so end-to-end tests exercise the bot's own deserialisation.
The shapes follow what Teams sends: `channelId` "msteams", `serviceUrl`, `from.aadObjectId`,
`conversation.conversationType` personal / groupChat / channel with `tenantId`, Teams-style
conversation ids (personal `a:1…`, channel `19:…@thread.tacv2;messageid=<root id>`),
`channelData.tenant`, and for channels `channelData.team` / `channelData.channel`.

Gotcha, faithful to Teams: the conversation carries `tenantId`, while botbuilder 4.17.1 maps
`ConversationAccount.tenant_id` to "tenantID", so after `Activity().deserialize` the tenant is
not in `activity.conversation.tenant_id`; read `activity.channel_data["tenant"]["id"]`
(`TeamsChannelData`) instead.

Defaults are stable, so consecutive messages from the default user land in the same
conversation (which is what conversation state needs). Every activity gets a fresh `id`.
`TeamsActivities(service_url)` binds the fake connector's URL once (see the `teams` fixture).
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from typing import Any, Literal

__all__ = [
    "BOT_ID",
    "BOT_NAME",
    "TENANT_ID",
    "USER_ID",
    "USER_AAD_ID",
    "USER_NAME",
    "TEAM_ID",
    "CHANNEL_ID",
    "GROUP_CHAT_ID",
    "ConversationType",
    "TeamsActivities",
    "message",
    "card_submit",
    "conversation_update",
    "installation_update",
    "personal_conversation_id",
    "channel_thread_id",
    "mention_text",
    "next_activity_id",
]

ConversationType = Literal["personal", "groupChat", "channel"]

BOT_ID = "28:bot-id"
"""The bot's channel account id, as Teams addresses it (`28:<MicrosoftAppId>`)."""
BOT_NAME = "Kanalvakten"
TENANT_ID = "5f0c3a2e-8b7d-4c1a-9e6f-2d4b8a7c1e90"
USER_ID = "29:1Aa0bB1cC2dD3eE4fF5gG6hH7iI8jJ9kK"
USER_AAD_ID = "0b5e7f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
USER_NAME = "Åsa Öberg"
TEAM_ID = "19:team-valkansliet-general@thread.tacv2"
"""A team's id is the id of its General channel."""
CHANNEL_ID = "19:kanal-sociala-medier@thread.tacv2"
GROUP_CHAT_ID = "19:groupchat-kommunikatorer@thread.v2"

_ids = itertools.count(int(time.time() * 1000))


def next_activity_id() -> str:
    """A fresh Teams-style activity id (epoch milliseconds, unique within the process)."""
    return str(next(_ids))


def personal_conversation_id(user_id: str = USER_ID) -> str:
    """The 1:1 conversation between the bot and `user_id`; stable per user."""
    return "a:1" + "".join(ch for ch in user_id.split(":", 1)[-1] if ch.isalnum())


def channel_thread_id(channel_id: str, root_id: str) -> str:
    """The conversation id of a thread in a channel: `<channel>;messageid=<root activity id>`."""
    return f"{channel_id};messageid={root_id}"


def mention_text(name: str = BOT_NAME) -> str:
    return f"<at>{name}</at>"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _account(member: str | dict[str, Any]) -> dict[str, Any]:
    return {"id": member} if isinstance(member, str) else dict(member)


def _base(
    activity_type: str,
    *,
    conversation_type: ConversationType,
    conversation_id: str,
    service_url: str,
    user_id: str,
    aad_object_id: str,
    user_name: str,
    tenant_id: str,
    team_id: str,
    channel_id: str,
    activity_id: str,
) -> dict[str, Any]:
    conversation: dict[str, Any] = {
        "conversationType": conversation_type,
        "tenantId": tenant_id,
        "id": conversation_id,
    }
    if conversation_type != "personal":
        conversation["isGroup"] = True
    channel_data: dict[str, Any] = {"tenant": {"id": tenant_id}}
    if conversation_type == "channel":
        channel_data.update(
            teamsTeamId=team_id,
            teamsChannelId=channel_id,
            team={"id": team_id, "name": "Valkansliet"},
            channel={"id": channel_id, "name": "Sociala medier"},
        )
    return {
        "type": activity_type,
        "id": activity_id,
        "timestamp": _now(),
        "localTimestamp": _now(),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user_id, "name": user_name, "aadObjectId": aad_object_id},
        "conversation": conversation,
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "locale": "sv-SE",
        "channelData": channel_data,
    }


def _conversation_id(
    conversation_type: ConversationType,
    conversation_id: str | None,
    *,
    user_id: str,
    channel_id: str,
    thread_root: str | None,
) -> str:
    if conversation_id is not None:
        return conversation_id
    if conversation_type == "personal":
        return personal_conversation_id(user_id)
    if conversation_type == "groupChat":
        return GROUP_CHAT_ID
    return channel_thread_id(channel_id, thread_root) if thread_root else channel_id


def message(
    text: str | None,
    *,
    service_url: str,
    conversation_type: ConversationType = "personal",
    conversation_id: str | None = None,
    user_id: str = USER_ID,
    aad_object_id: str = USER_AAD_ID,
    user_name: str = USER_NAME,
    tenant_id: str = TENANT_ID,
    team_id: str = TEAM_ID,
    channel_id: str = CHANNEL_ID,
    mention_bot: bool = False,
    value: Any = None,
    reply_to_id: str | None = None,
) -> dict[str, Any]:
    """A message from a user. In a channel, a new post starts a thread whose id is its own
    activity id; `reply_to_id` puts it in the thread rooted at that id instead."""
    activity_id = next_activity_id()
    cid = _conversation_id(
        conversation_type,
        conversation_id,
        user_id=user_id,
        channel_id=channel_id,
        thread_root=reply_to_id or activity_id,
    )
    activity = _base(
        "message",
        conversation_type=conversation_type,
        conversation_id=cid,
        service_url=service_url,
        user_id=user_id,
        aad_object_id=aad_object_id,
        user_name=user_name,
        tenant_id=tenant_id,
        team_id=team_id,
        channel_id=channel_id,
        activity_id=activity_id,
    )
    activity["textFormat"] = "plain"
    entities: list[dict[str, Any]] = [
        {"type": "clientInfo", "locale": "sv-SE", "country": "SE", "platform": "Web", "timezone": "Europe/Stockholm"}
    ]
    if mention_bot:
        tag = mention_text()
        text = f"{tag} {text}" if text else tag
        entities.append({"type": "mention", "mentioned": {"id": BOT_ID, "name": BOT_NAME}, "text": tag})
    if text is not None:
        activity["text"] = text
    activity["entities"] = entities
    if value is not None:
        activity["value"] = value
    if reply_to_id is not None:
        activity["replyToId"] = reply_to_id
    return activity


def card_submit(value: Any, *, service_url: str, reply_to_id: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """What Teams posts when a user presses an `Action.Submit` button: `value`, no text.

    `reply_to_id` is the id of the card's message (Teams sets it; in a channel that also keeps
    the submit in the card's thread). Other keyword arguments as for `message`.
    """
    activity = message(None, service_url=service_url, value=value, reply_to_id=reply_to_id, **kwargs)
    activity["channelData"]["source"] = {"name": "message"}
    if reply_to_id is not None:
        activity["channelData"]["legacy"] = {"replyToId": reply_to_id}
    return activity


def conversation_update(
    members_added: list[str | dict[str, Any]] | None = None,
    members_removed: list[str | dict[str, Any]] | None = None,
    *,
    service_url: str,
    conversation_type: ConversationType = "personal",
    conversation_id: str | None = None,
    event_type: str | None = None,
    user_id: str = USER_ID,
    aad_object_id: str = USER_AAD_ID,
    user_name: str = USER_NAME,
    tenant_id: str = TENANT_ID,
    team_id: str = TEAM_ID,
    channel_id: str = CHANNEL_ID,
) -> dict[str, Any]:
    """Members joined or left. Pass `[BOT_ID]` as `members_added` for the bot being installed.

    Members are ids or channel-account dicts. In a team the conversation is the team's General
    channel and `channelData.eventType` is teamMemberAdded / teamMemberRemoved unless
    `event_type` says otherwise; in personal and group chats Teams sends no eventType.
    """
    if conversation_type == "channel" and conversation_id is None:
        conversation_id = team_id
    cid = _conversation_id(conversation_type, conversation_id, user_id=user_id, channel_id=channel_id, thread_root=None)
    activity = _base(
        "conversationUpdate",
        conversation_type=conversation_type,
        conversation_id=cid,
        service_url=service_url,
        user_id=user_id,
        aad_object_id=aad_object_id,
        user_name=user_name,
        tenant_id=tenant_id,
        team_id=team_id,
        channel_id=channel_id,
        activity_id=next_activity_id(),
    )
    if members_added:
        activity["membersAdded"] = [_account(m) for m in members_added]
    if members_removed:
        activity["membersRemoved"] = [_account(m) for m in members_removed]
    if event_type is None and conversation_type == "channel":
        event_type = "teamMemberAdded" if members_added else "teamMemberRemoved"
    if event_type is not None:
        activity["channelData"]["eventType"] = event_type
    return activity


def installation_update(
    action: Literal["add", "remove"] = "add",
    *,
    service_url: str,
    conversation_type: ConversationType = "personal",
    conversation_id: str | None = None,
    user_id: str = USER_ID,
    aad_object_id: str = USER_AAD_ID,
    user_name: str = USER_NAME,
    tenant_id: str = TENANT_ID,
    team_id: str = TEAM_ID,
    channel_id: str = CHANNEL_ID,
) -> dict[str, Any]:
    """The app was installed in (`add`) or removed from (`remove`) a chat or team."""
    if conversation_type == "channel" and conversation_id is None:
        conversation_id = team_id
    cid = _conversation_id(conversation_type, conversation_id, user_id=user_id, channel_id=channel_id, thread_root=None)
    activity = _base(
        "installationUpdate",
        conversation_type=conversation_type,
        conversation_id=cid,
        service_url=service_url,
        user_id=user_id,
        aad_object_id=aad_object_id,
        user_name=user_name,
        tenant_id=tenant_id,
        team_id=team_id,
        channel_id=channel_id,
        activity_id=next_activity_id(),
    )
    activity["action"] = action
    return activity


class TeamsActivities:
    """The builders above with `service_url` (and any other defaults) bound once."""

    def __init__(self, service_url: str, **defaults: Any) -> None:
        self.service_url = service_url
        self.defaults = defaults

    def _kw(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {"service_url": self.service_url, **self.defaults, **kwargs}

    def message(self, text: str | None, **kwargs: Any) -> dict[str, Any]:
        return message(text, **self._kw(kwargs))

    def card_submit(self, value: Any, **kwargs: Any) -> dict[str, Any]:
        return card_submit(value, **self._kw(kwargs))

    def conversation_update(
        self,
        members_added: list[str | dict[str, Any]] | None = None,
        members_removed: list[str | dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        return conversation_update(members_added, members_removed, **self._kw(kwargs))

    def installation_update(self, action: Literal["add", "remove"] = "add", **kwargs: Any) -> dict[str, Any]:
        return installation_update(action, **self._kw(kwargs))
