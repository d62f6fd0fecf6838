"""Our plain messages as Bot Framework activities, and starting a channel thread: once, for all.

`to_activity` is the one conversion from `cards.message.OutgoingMessage` to a botbuilder
`Activity`, used for replies in a turn, the hand-off to the experts and announcements.
`start_channel_thread` is the one way a new thread is started in a Teams channel (hand-off to
the experts' channel, announcements to a team).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationParameters,
    InputHints,
    Mention,
)

from cards.message import CARD_CONTENT_TYPE, OutgoingMessage
from cards.message import Mention as MentionOf

__all__ = [
    "to_activity",
    "start_channel_thread",
    "conversation_scope",
    "mention_tag",
    "SUMMARY_CHARS",
    "ConversationScope",
]

SUMMARY_CHARS = 200
"""The activity's `summary` (notifications, the chat list) is the fallback's first line, cut here."""
_NOT_IN_TAG = re.compile(r"[<>\[\]()*_`~#|\\]")


def mention_tag(name: str) -> str:
    """`<at>name</at>` with the characters that could end the tag or format it removed from the
    shown name (the entity carries the real name)."""
    shown = " ".join(_NOT_IN_TAG.sub("", name).split()) or "du"
    return f"<at>{shown}</at>"


def to_activity(message: OutgoingMessage) -> Activity:
    """An outgoing message as one message Activity.

    With a card: the card alone, no `text` (Teams would show text and card as two messages,
    and could not update the card later); the text fallback goes in the card's `fallbackText`
    and, its first line, in the activity's `summary`. Without a card: the text. Mentions are
    tags at the top, with their entities in the card's `msteams.entities` (or the activity's,
    for text). The caller adds the addressing (a reply in a turn gets it from the turn; a
    proactive send sets conversation, bot and service URL)."""
    activity = Activity(type=ActivityTypes.message, input_hint=InputHints.accepting_input)
    tags = [(mention, mention_tag(mention.name)) for mention in message.mentions]
    if message.card is None:
        prefix = " ".join(tag for _, tag in tags)
        activity.text = f"{prefix} {message.text}" if prefix else message.text
        activity.text_format = "markdown"
        if tags:
            activity.entities = [_mention_entity(mention, tag) for mention, tag in tags]
        return activity
    card = dict(message.card)  # only top-level keys are set below; the turn copies the activity it sends
    card["fallbackText"] = message.text
    if tags:
        card["body"] = [
            {"type": "TextBlock", "text": " ".join(tag for _, tag in tags), "wrap": True},
            *card.get("body", []),
        ]
        msteams = dict(card.get("msteams") or {})
        msteams["entities"] = [
            *(msteams.get("entities") or []),
            *(_mention_entity(mention, tag).serialize() for mention, tag in tags),
        ]
        card["msteams"] = msteams
    activity.attachments = [Attachment(content_type=CARD_CONTENT_TYPE, content=card)]
    activity.summary = _summary(message.text)
    return activity


def _summary(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), text)
    first = first.replace("**", "").strip(" -")
    return first if len(first) <= SUMMARY_CHARS else first[: SUMMARY_CHARS - 1].rstrip() + "…"


def _mention_entity(mention: MentionOf, tag: str) -> Mention:
    return Mention(mentioned=ChannelAccount(id=mention.id, name=mention.name), text=tag, type="mention")


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
