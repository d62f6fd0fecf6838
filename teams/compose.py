"""From `Settings` to the plain objects the bot is built of: the one place they are read.

The entry points (`bot.py`, `teams.app.create_app`) load the configuration and the knowledge base
once and build everything here; domain code (`assistant`, `announcements`, `helpdesk`,
`knowledge`, `dialogs`) only ever receives plain values: the knowledge base, the election, the
support contact, the broadcast rate, channel and user ids.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from announcements.broadcast import BroadcastPolicy
from announcements.checklist import ChecklistError, checklist_items
from announcements.clock import Clock
from announcements.service import AnnouncementService, SenderFactory
from assistant.conversation import Conversation
from config import Settings
from helpdesk.handoff import HandoffTarget
from knowledge.loader import DATA_DIR, KnowledgeBaseError, Problem, load_knowledge_base
from knowledge.matcher import Matcher, matcher_for
from knowledge.models import Election, KnowledgeBase
from knowledge.runtime import composer_for, configured_election
from storage import KeyedStorage, create_storage

__all__ = ["load_kb", "election_of", "open_storage", "conversation_for", "announcement_service"]


def load_kb(settings: Settings) -> KnowledgeBase:
    """The knowledge base from KNOWLEDGE_DIR (default: the shipped one); KnowledgeBaseError if broken
    (also when the announcement's checklist names a topic the knowledge base lacks)."""
    folder = Path(settings.knowledge_dir) if settings.knowledge_dir else None
    kb = load_knowledge_base(folder)
    try:
        checklist_items(kb)
    except ChecklistError as exc:
        raise KnowledgeBaseError([Problem((folder or DATA_DIR) / "announcement.yaml", 1, str(exc))]) from None
    return kb


def election_of(kb: KnowledgeBase, settings: Settings) -> Election:
    """The configured election: ELECTION_NAME / ELECTION_DATE over the knowledge base's."""
    return configured_election(kb, settings.election_name, settings.election_date)


def open_storage(settings: Settings) -> KeyedStorage:
    """The storage STORAGE_URL names (nothing is opened until first use)."""
    return create_storage(
        settings.storage_url, azure_connection_string=settings.azure_storage_connection_string.get_secret_value()
    )


def conversation_for(kb: KnowledgeBase, settings: Settings, matcher: Matcher | None = None) -> Conversation:
    """The turn logic with the configured election, support contact, guide expiry and hand-off."""
    return Conversation(
        kb,
        matcher or matcher_for(kb),
        composer_for(kb, election_of(kb, settings), settings.support_contact),
        guide_expiry=dt.timedelta(days=settings.guide_expiry_days),
        handoff=HandoffTarget(channel_id=settings.experts_channel_id, expert_ids=settings.expert_aad_ids),
    )


def announcement_service(
    settings: Settings,
    storage: KeyedStorage,
    kb: KnowledgeBase | None = None,
    *,
    sender_factory: SenderFactory | None = None,
    clock: Clock | None = None,
    policy: BroadcastPolicy | None = None,
) -> AnnouncementService:
    """The announcement service on `storage`; by default it sends through the Bot Connector."""
    kb = kb if kb is not None else load_kb(settings)
    if sender_factory is None:
        from teams.sender import sender_from_settings

        sender_factory = functools.partial(sender_from_settings, settings)
    return AnnouncementService(
        storage,
        kb,
        election=election_of(kb, settings),
        admin_ids=settings.admin_aad_ids,
        sender_factory=sender_factory,
        clock=clock,
        policy=policy or BroadcastPolicy(rate=settings.announce_rate),
    )
