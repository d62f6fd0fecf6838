"""Where one user stands in a guide, as stored in conversation state.

The state is a small frozen pydantic model saved as a JSON dict (`dump_state`) in whatever
botbuilder `Storage` the bot uses, so a guide survives a restart and works on SQLite or Blob alike.
Reading it back (`load_state`) is forgiving on purpose: a guide untouched for longer than the
expiry, or a stored dict this version cannot read, is treated as no guide at all, quietly; the
user simply is not in a guide any more, which is always a safe answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

__all__ = ["DEFAULT_EXPIRY", "GuideStatus", "GuideState", "load_state", "dump_state"]

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


def load_state(stored: Mapping[str, Any] | None, now: dt.datetime,
               expiry: dt.timedelta = DEFAULT_EXPIRY) -> GuideState | None:
    """The stored state, or None when there is none, it cannot be read, or it has expired."""
    if not stored:
        return None
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
