"""Handing questions the bot cannot answer to people (the help channel's experts).

Where it goes is configuration: `EXPERTS_CHANNEL_ID` (a new thread in the experts' channel) or,
without a channel, `EXPERT_AAD_IDS` (the experts are @mentioned in the thread where the question
was asked). What is forwarded is minimal: the question text and where it was asked, never the
asker's name; in a personal chat nothing is forwarded until the user presses a button.
The experts' card is `cards.handoff.expert_message`; `teams.handler` posts it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["HandoffTarget", "HandoffRequest", "MAX_QUESTION"]

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
