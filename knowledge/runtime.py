"""The knowledge base combined with configuration: the configured election and support contact."""

from __future__ import annotations

from knowledge.answers import Composer
from knowledge.models import Election, KnowledgeBase

__all__ = ["configured_election", "composer_for"]


def configured_election(kb: KnowledgeBase, settings: object) -> Election:
    """ELECTION_NAME / ELECTION_DATE override the knowledge base's election when set."""
    name = getattr(settings, "election_name", "") or kb.election.name
    date = getattr(settings, "election_date", None) or kb.election.date
    return Election(name=name, date=date)


def composer_for(kb: KnowledgeBase, settings: object) -> Composer:
    contact = getattr(settings, "support_contact", "") or None
    return Composer(kb, election=configured_election(kb, settings), support_contact=contact)
