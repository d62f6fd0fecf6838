"""Handing questions the bot cannot answer to people (the help channel's experts).

Where it goes is configuration: `EXPERTS_CHANNEL_ID` (a new thread in the experts' channel) or,
without a channel, `EXPERT_AAD_IDS` (the experts are @mentioned in the thread where the question
was asked). What is forwarded is minimal: the question text and where it was asked, never the
asker's name; in a personal chat nothing is forwarded until the user presses a button.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from cards.message import OutgoingMessage, adaptive_card, fact_set, text_block

__all__ = ["HandoffTarget", "HandoffRequest", "expert_message", "MAX_QUESTION"]

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


def expert_message(request: HandoffRequest) -> OutgoingMessage:
    """The card the experts see."""
    heading = "Brådskande: ett konto kan vara kapat" if request.reason == "urgent" else "En fråga till er"
    where = {"channel": "i en kanal", "groupChat": "i en gruppchatt"}.get(request.scope, "i en personlig chatt")
    intro = (
        "Kanalvakten fick en fråga den inte kunde svara på. Svara gärna där frågan ställdes."
        if request.reason == "unanswered"
        else "Någon säger att ett konto kan vara kapat. Ta kontakt så snart du kan."
    )
    card = adaptive_card([
        text_block(heading, size="Medium", weight="Bolder", color="Attention" if request.reason == "urgent" else None),
        text_block(intro, subtle=True),
        text_block(f"”{request.question}”"),
        fact_set([("Ställd", where)]),
    ])
    text = f"**{heading}**\n\n{intro}\n\n”{request.question}” (ställd {where})"
    return OutgoingMessage(text=text, card=card)
