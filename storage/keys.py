"""Every storage key prefix, defined once.

One storage holds everything, one JSON document per key; the prefix says what a document is.
Retention and the registry list documents by prefix (`KeyedStorage.keys(prefix)`), so a prefix
is never spelled anywhere else.
"""

from __future__ import annotations

__all__ = [
    "USER_STATE_PREFIX",
    "GREETED_PREFIX",
    "REGISTRY_PREFIX",
    "LEDGER_PREFIX",
    "SCHEDULE_PREFIX",
    "BROADCAST_LOCK_PREFIX",
    "QUESTION_PREFIX",
    "HEALTH_PREFIX",
    "user_state_key",
    "greeted_key",
]

USER_STATE_PREFIX = "users/"
"""One user's state in one conversation (`dialogs.state.UserState`):
`users/<channel>/<conversation id>/<user id>`. (Before this layout the state lived under
botbuilder's `<channel>/conversations/<conversation>/users/<user>` keys; those are not migrated:
a user in the middle of a guide when the bot is upgraded simply starts afresh, and retention
no longer reads them. Delete them by hand if you want the space back; they hold no names.)"""
GREETED_PREFIX = "greeted/"
"""`greeted/<conversation id>`: the welcome was posted there (it is posted once)."""
REGISTRY_PREFIX = "registry/"
"""`registry/<conversation or team id>`: where announcements can go (`announcements.registry`)."""
LEDGER_PREFIX = "ledger/"
"""`ledger/<announcement id>/<conversation id>`: one delivery (`announcements.ledger`)."""
SCHEDULE_PREFIX = "schedule/"
"""`schedule/<announcement id>`: a send time (`announcements.schedule`)."""
BROADCAST_LOCK_PREFIX = "broadcast-lock/"
"""`broadcast-lock/<announcement id>`: the run lock of a send (`announcements.broadcast`)."""
QUESTION_PREFIX = "questions/"
"""`questions/<ISO time>/<random>`: the anonymous question log, in time order (`helpdesk.question_log`)."""

HEALTH_PREFIX = "health/"
"""`health/<instance>`: written and deleted again by `/healthz` to prove the store takes writes
(`storage.health`); normally absent, and never more than one per running instance."""


def user_state_key(channel_id: str, conversation_id: str, user_id: str) -> str:
    """Where one user's state in one conversation is kept."""
    return f"{USER_STATE_PREFIX}{channel_id}/{conversation_id}/{user_id}"


def greeted_key(conversation_id: str) -> str:
    return f"{GREETED_PREFIX}{conversation_id}"
