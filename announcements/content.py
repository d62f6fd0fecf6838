"""The announcement as content: the knowledge base's template filled with the configured election.

The text lives in the knowledge base's `announcement.yaml` (communicators edit it; `KNOWLEDGE_DIR`
names another folder); the caller hands over the knowledge base it loaded once and the configured
election (the knowledge base's unless ELECTION_NAME / ELECTION_DATE override it). `{election_when}` reads
as past when the date is past ("EU-valet var den 26 maj 2019 ..."), never as coming — and such an
announcement contradicts itself ("inför EU-valet ... EU-valet var ..."), so `election_passed` tells
the service, the CLI and the admin's cards to refuse sending it.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from announcements.checklist import CheckItem, checklist_items
from knowledge.answers import election_when
from knowledge.models import Election, KnowledgeBase

__all__ = ["AnnouncementContent", "announcement_content"]


class AnnouncementContent(BaseModel):
    """The announcement ready to render: no placeholders left."""

    model_config = ConfigDict(frozen=True)

    id: str
    """Ledger key (from the knowledge base)."""
    heading: str
    """Card heading, election filled in."""
    paragraphs: list[str] = Field(min_length=1)
    """Body paragraphs, election filled in."""
    election: Election
    """The election it speaks of."""
    as_of: dt.date
    """The day the text was filled in for ("om N dagar" counts from it)."""
    checklist: list[CheckItem] = Field(default_factory=list)
    """What each conversation confirms on the card, expanded for the configured platforms."""

    @property
    def election_passed(self) -> bool:
        """The election day is before `as_of`: the text says it is over, so it must not be sent.
        The election day itself still counts as coming."""
        return self.as_of > self.election.date


def announcement_content(
    kb: KnowledgeBase, election: Election | None = None, today: dt.date | None = None
) -> AnnouncementContent:
    """Fill the knowledge base's announcement with `election` (default: the knowledge base's)."""
    election = election or kb.election
    today = today or dt.date.today()
    values = {"election_name": election.name, "election_when": election_when(election, today)}
    template = kb.announcement
    return AnnouncementContent(
        id=template.id,
        heading=_fill(template.heading, values),
        paragraphs=[_fill(p, values) for p in template.paragraphs],
        election=election,
        as_of=today,
        checklist=checklist_items(kb),
    )


def _fill(text: str, values: dict[str, str]) -> str:
    # str.format_map would choke on a stray brace a communicator typed; replace known names only.
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text
