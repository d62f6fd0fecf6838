"""What the bot keeps about one user in one conversation: `UserState`, with the guide position.

`UserState` is stored as one JSON document per (conversation, user) under
`storage.keys.user_state_key`: the activity handler reads it once per turn, hands the typed model
to `assistant.conversation`, and writes the returned model back once; retention
(`helpdesk.retention`) reads the same model. So a guide survives a restart and works on SQLite
or Blob alike.

Reading is forgiving on purpose: a guide untouched for longer than the expiry (`load_state`), or
a stored guide this version cannot read, is treated as no guide at all, quietly; the user simply
is not in a guide any more, which is always a safe answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
)

__all__ = [
    "DEFAULT_EXPIRY",
    "GuideStatus",
    "GuideState",
    "load_state",
    "dump_state",
    "PendingOption",
    "Pending",
    "HandoffOffer",
    "UserState",
]

log = logging.getLogger(__name__)

DEFAULT_EXPIRY = dt.timedelta(days=7)
"""A guide untouched this long is forgotten (configurable; the issue's default)."""


class GuideStatus(StrEnum):
    """Whether the user is walking the guide now."""

    ACTIVE = "active"
    """In the guide: typed commands like "nästa" move it."""
    PAUSED = "paused"
    """Left on purpose ("pausa"); offered to resume at the saved step."""
    FINISHED = "finished"
    """Reached the summary; kept only so a new start needs no confirmation."""


class GuideState(BaseModel):
    """One user's progress in one guide; keyed by (conversation, user) by the handler."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    guide_id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """The `Guide.id` being walked; looked up in the knowledge base on each turn."""
    step: int = Field(ge=1)
    """The current step, 1-based: the card the user has in front of them."""
    status: GuideStatus = GuideStatus.ACTIVE
    """Active, paused or finished."""
    started_at: AwareDatetime
    """When this run of the guide began (restart resets it)."""
    updated_at: AwareDatetime
    """Last time the user moved the guide; drives the resume offer and expiry."""
    stuck_at: int | None = None
    """The step whose help the user was last given; stuck there again, they are offered a
    person and the platform's own help instead of the same help once more."""

    def is_expired(self, now: dt.datetime, expiry: dt.timedelta = DEFAULT_EXPIRY) -> bool:
        """True when the guide has been left untouched for at least `expiry`."""
        return now - self.updated_at >= expiry

    @property
    def is_active(self) -> bool:
        return self.status is GuideStatus.ACTIVE


def load_state(
    stored: GuideState | Mapping[str, Any] | None, now: dt.datetime, expiry: dt.timedelta = DEFAULT_EXPIRY
) -> GuideState | None:
    """The guide state (a model, or its stored dict), or None when there is none, it cannot be
    read, or it has expired."""
    if not stored:
        return None
    if isinstance(stored, GuideState):
        state = stored
    else:
        try:
            state = GuideState.model_validate(dict(stored))
        except (ValidationError, TypeError, ValueError) as exc:
            log.warning("ignoring unreadable guide state: %s", exc)
            return None
    if state.is_expired(now, expiry):
        log.debug("guide %s untouched since %s: expired", state.guide_id, state.updated_at)
        return None
    return state


def dump_state(state: GuideState | None) -> dict[str, Any] | None:
    """The JSON-ready dict to store, or None to delete the stored state."""
    return None if state is None else state.model_dump(mode="json")


class PendingOption(BaseModel):
    """One answer to a clarifying question."""

    topic: str
    """Topic the option leads to."""
    platform: str | None = None
    """Platform, for enable_2fa."""
    label: str
    """What the button said (typed answers are matched against it)."""


class Pending(BaseModel):
    """A clarifying question the bot asked and is waiting for an answer to."""

    kind: Literal["platform", "choice"]
    """Asked for the platform, or offered a "menade du…" choice."""
    options: list[PendingOption]
    """What the user can pick."""
    asked_at: dt.datetime
    """When it was asked; old questions expire."""
    question: str | None = None
    """The question behind a "menade du…" choice, kept only where it may go to the experts and
    only while the choice is open: "Ingen av dem" hands it on as an unanswered question."""


class HandoffOffer(BaseModel):
    """The question behind a "Fråga experterna" button."""

    question: str
    """What was asked (cut to helpdesk.handoff.MAX_QUESTION)."""
    reason: Literal["unanswered", "urgent"]
    """Out of scope, or urgent (hijack)."""
    offered_at: dt.datetime
    """The offer expires after an hour (assistant.conversation.OFFER_TTL)."""


class UserState(BaseModel):
    """Everything the bot keeps about one user in one conversation: no names, and question text
    only while an offer to forward it to the experts is open (an hour)."""

    model_config = ConfigDict(extra="ignore")

    guide: GuideState | None = None
    """Where the user stands in a guide, or None."""
    pending: Pending | None = None
    """The clarification waiting for an answer."""
    touched_at: dt.datetime | None = None
    """Last turn of this user here; retention deletes the state when it gets old."""
    resume_offered_at: dt.datetime | None = None
    """When the user was last offered to resume a guide they left."""
    handoff_offer: HandoffOffer | None = None
    """A question the user may send to the experts (personal chat); kept here, not in the card,
    so a forged button cannot make the bot post made-up text to the experts."""
    person_requested_at: dt.datetime | None = None
    """The user asked for a person and was asked to write their question: their next message
    (within an hour) goes to the experts."""

    @field_validator("guide", mode="wrap")
    @classmethod
    def _forgiving_guide(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> GuideState | None:
        """A stored guide this version cannot read is no guide; the rest of the state stays."""
        try:
            guide: GuideState | None = handler(value)
        except ValidationError as exc:
            log.warning("ignoring unreadable guide state: %s", exc)
            return None
        return guide

    def latest_touch(self) -> dt.datetime | None:
        """The last time anything here was touched (retention's clock), or None."""
        times = [
            self.touched_at,
            self.guide.updated_at if self.guide else None,
            self.pending.asked_at if self.pending else None,
        ]
        found = [_aware(t) for t in times if t is not None]
        return max(found) if found else None


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
