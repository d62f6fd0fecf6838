"""Our plain messages as Bot Framework activities, and starting a channel thread: once, for all.

`to_activity` is the one conversion from `cards.message.OutgoingMessage` to a botbuilder
`Activity`, used for replies in a turn, the hand-off to the experts and announcements.
`start_channel_thread` is the one way a new thread is started in a Teams channel (hand-off to
the experts' channel, announcements to a team).
"""

from __future__ import annotations

from typing import Any

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

__all__ = ["to_activity", "start_channel_thread", "conversation_scope"]


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


def conversation_scope(activity: Activity) -> str:
    """personal, groupChat or channel, from Teams' conversationType."""
    kind = (activity.conversation.conversation_type if activity.conversation else None) or "personal"
    return kind if kind in ("personal", "groupChat", "channel") else "personal"
