"""The knowledge base combined with configured values: the election and the support contact.

Plain values in (the caller reads them from its configuration once), no settings object.
"""

from __future__ import annotations

import datetime as dt

from knowledge.answers import Composer
from knowledge.models import Election, KnowledgeBase

__all__ = ["configured_election", "composer_for"]


def configured_election(kb: KnowledgeBase, name: str = "", date: dt.date | None = None) -> Election:
    """A configured name / date (ELECTION_NAME / ELECTION_DATE) override the knowledge base's."""
    return Election(name=name or kb.election.name, date=date or kb.election.date)


def composer_for(kb: KnowledgeBase, election: Election | None = None, support_contact: str = "") -> Composer:
    """The composer for `election` (default: the knowledge base's) and the support contact."""
    return Composer(kb, election=election or kb.election, support_contact=support_contact or None)
