"""Our plain messages as Bot Framework activities, and starting a channel thread: once, for all.

`to_activity` is the one conversion from `cards.message.OutgoingMessage` to a botbuilder
`Activity`, used for replies in a turn, the hand-off to the experts and announcements.
`start_channel_thread` is the one way a new thread is started in a Teams channel (hand-off to
the experts' channel, announcements to a team).
"""

from __future__ import annotations

from typing import Any, Literal

from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    CardAction,
    ChannelAccount,
    ConversationParameters,
    InputHints,
    SuggestedActions,
)

from cards.message import CARD_CONTENT_TYPE, OutgoingMessage

__all__ = ["to_activity", "start_channel_thread", "conversation_scope", "ConversationScope"]


def to_activity(message: OutgoingMessage) -> Activity:
    """An outgoing message as a message Activity: the card attachment plus the text fallback,
    a notification summary, and quick replies. The caller adds the addressing (a reply in a turn
    gets it from the turn; a proactive send sets conversation, bot and service URL)."""
    activity = Activity(
        type=ActivityTypes.message, text=message.text, input_hint=InputHints.accepting_input, text_format="markdown"
    )
    if message.card is not None:
        activity.attachments = [Attachment(content_type=CARD_CONTENT_TYPE, content=message.card)]
        activity.summary = message.text.splitlines()[0].strip("* ")[:200]
    if message.suggested:
        activity.suggested_actions = SuggestedActions(
            actions=[CardAction(type="imBack", title=title, value=value) for title, value in message.suggested]
        )
    return activity


async def start_channel_thread(
    client: Any, channel_id: str, activity: Activity, *, bot: ChannelAccount | None, tenant_id: str | None
) -> Any:
    """Post `activity` as a new thread in the Teams channel `channel_id` through `client` (a
    `ConnectorClient`): `POST /v3/conversations` with `isGroup` and `channelData.channel.id`, how
    Teams starts a channel thread proactively. Returns the connector's answer (its `activity_id`
    is the new thread's root message)."""
    parameters = ConversationParameters(
        is_group=True,
        bot=bot,
        channel_data={"channel": {"id": channel_id}},
        activity=activity,
        tenant_id=tenant_id,
    )
    return await client.conversations.create_conversation(parameters)


ConversationScope = Literal["personal", "groupChat", "channel"]
_DECLARED_SCOPES: dict[str, ConversationScope] = {
    "personal": "personal",
    "groupchat": "groupChat",
    "channel": "channel",
}
_CHANNEL_THREAD_DOMAINS = ("thread.tacv2", "thread.skype")
"""`19:…@thread.tacv2` is a Teams channel; `@thread.skype` a channel of the older kind (Microsoft's
published channel payloads, e.g. `19:…@thread.skype;messageid=…`)."""


def _has_section_id(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("id"), str) and bool(value["id"].strip())


def conversation_scope(activity: Activity) -> ConversationScope:
    """personal, groupChat or channel: where the activity comes from.

    Teams' `conversation.conversationType` when it names one (in any case: Microsoft's published
    meeting events say "groupchat"). Without it, what the activity shows, in this order:
    `channelData.team`/`channel` (a channel); a `19:…` conversation id: `19:meeting_…` is a meeting
    chat (a group chat), `…;messageid=…` a channel thread, `@thread.tacv2`/`@thread.skype` a channel,
    another `@thread.…` (`@thread.v2`) a group chat; `channelData.meeting` (a meeting chat, a group
    chat); `conversation.isGroup` (a group chat). Only then personal."""
    conversation = activity.conversation
    declared = conversation.conversation_type if conversation is not None else None
    if isinstance(declared, str) and declared.strip().lower() in _DECLARED_SCOPES:
        return _DECLARED_SCOPES[declared.strip().lower()]
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    if _has_section_id(data.get("team")) or _has_section_id(data.get("channel")):
        return "channel"
    conversation_id = conversation.id if conversation is not None and isinstance(conversation.id, str) else ""
    base = conversation_id.split(";", 1)[0].strip().lower()
    if base.startswith("19:"):
        if base.startswith("19:meeting_"):
            return "groupChat"
        if ";messageid=" in conversation_id:
            return "channel"
        domain = base.rpartition("@")[2]
        if domain in _CHANNEL_THREAD_DOMAINS:
            return "channel"
        if domain.startswith("thread."):
            return "groupChat"
    if isinstance(data.get("meeting"), dict):
        return "groupChat"
    if conversation is not None and conversation.is_group is True:
        return "groupChat"
    return "personal"
