"""Handing questions the bot cannot answer to people (the help channel's experts).

Where it goes is configuration: `EXPERTS_CHANNEL_ID` (a new thread in the experts' channel) or,
without a channel, `EXPERT_AAD_IDS` (the experts are @mentioned in the thread where the question
was asked). What is forwarded is minimal: the question text and where it was asked, never the
asker's name; in a personal chat nothing is forwarded until the user presses a button.
The experts' card is `cards.handoff.expert_message`; `teams.handoff` posts it.

Each hand-off is remembered as a `HandoffRecord` under `handoffs/<id>`, so that an expert's
"Besvarad" button (which carries only the id) can tell the asker, in the conversation where they
asked, that an answer has come, and update the experts' card. The record holds what that takes
and no more: the asker's conversation address without their name or id, the id of the message
that asked, what the experts' card showed, and where that card is. Retention deletes it after
`RETENTION_DAYS`.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any, Literal

from pydantic import BaseModel, Field

from storage import ETagConflictError, KeyedStorage
from storage.keys import handoff_key
from storage.models import plain

__all__ = [
    "HandoffTarget",
    "HandoffRequest",
    "HandoffRecord",
    "MAX_QUESTION",
    "new_handoff_id",
    "valid_handoff_id",
    "save_handoff",
    "load_handoff",
    "mark_answered",
    "unmark_answered",
    "AnsweredOutcome",
]

MAX_QUESTION = 1000
"""Forwarded questions are cut to this many characters."""


class HandoffTarget(BaseModel):
    """Where unanswered questions go."""

    channel_id: str = ""
    """Experts' channel (19:…@thread.tacv2); a new thread per question."""
    expert_ids: list[str] = Field(default_factory=list)
    """Azure AD object ids to @mention in the asking thread when no channel is set."""

    @property
    def enabled(self) -> bool:
        return bool(self.channel_id or self.expert_ids)

    def reaches(self, scope: str) -> bool:
        """Mentions only work where others can read along: not in a personal chat."""
        return bool(self.channel_id) or (bool(self.expert_ids) and scope != "personal")


class HandoffRequest(BaseModel):
    """One question for people to answer."""

    question: str = Field(max_length=MAX_QUESTION)
    """What was asked, cut to MAX_QUESTION."""
    reason: Literal["unanswered", "urgent"]
    """Out of scope, or urgent (an account may be hijacked)."""
    scope: str
    """personal, groupChat or channel: where it was asked."""
    asker: str | None = None
    """The asker's display name: only from a personal chat, where the user chose to send it."""
    link: str | None = None
    """Deep link to the question in Teams (channel or group chat), so experts answer in place."""


_ID = re.compile(r"^[0-9a-f]{20}$")


def new_handoff_id() -> str:
    """A random id, unguessable: the "Besvarad" button carries it and nothing else."""
    return secrets.token_hex(10)


def valid_handoff_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_ID.match(value))


class HandoffRecord(BaseModel):
    """One question handed to the experts, kept until answered and at most `RETENTION_DAYS`."""

    id: str
    """`new_handoff_id()`; the storage key is `handoffs/<id>`."""
    created_at: dt.datetime
    """When it was handed over; retention's clock."""
    request: HandoffRequest
    """What the experts' card shows (to draw it again as answered)."""
    reference: dict[str, Any]
    """The asker's conversation as a Bot Framework conversation reference (JSON), without the
    user: where "an answer has come" is posted."""
    asker_message_id: str | None = None
    """The message that asked (the notice replies to it)."""
    experts_conversation_id: str | None = None
    """Where the experts' card is: the new thread in the experts' channel, or the asking thread
    when the experts were @mentioned there."""
    experts_activity_id: str | None = None
    """The experts' card's message id (updated in place when answered)."""
    answered_at: dt.datetime | None = None
    """When an expert pressed "Besvarad"; a second press is refused."""


async def save_handoff(storage: KeyedStorage, record: HandoffRecord) -> None:
    await storage.write({handoff_key(record.id): record.model_dump(mode="json")})


async def load_handoff(storage: KeyedStorage, handoff_id: str) -> tuple[HandoffRecord, str | None] | None:
    """The record and its e_tag, or None when there is none (never made, or deleted by retention)."""
    if not valid_handoff_id(handoff_id):
        return None
    key = handoff_key(handoff_id)
    stored = (await storage.read([key])).get(key)
    if stored is None:
        return None
    return HandoffRecord.model_validate(plain(stored)), stored.get("e_tag")


AnsweredOutcome = Literal["answered", "already", "missing"]


async def mark_answered(
    storage: KeyedStorage, handoff_id: str, now: dt.datetime
) -> tuple[AnsweredOutcome, HandoffRecord | None]:
    """Mark the hand-off answered, once: compare-and-set, so of two experts pressing at the same
    moment exactly one gets "answered" and the other "already"."""
    loaded = await load_handoff(storage, handoff_id)
    if loaded is None:
        return "missing", None
    record, e_tag = loaded
    if record.answered_at is not None:
        return "already", record
    record.answered_at = now
    try:
        await storage.write({handoff_key(record.id): {**record.model_dump(mode="json"), "e_tag": e_tag}})
    except ETagConflictError:
        return "already", record
    return "answered", record


async def unmark_answered(storage: KeyedStorage, record: HandoffRecord) -> None:
    """Undo `mark_answered` (the asker could not be told), so the button can be pressed again."""
    record.answered_at = None
    await save_handoff(storage, record)
