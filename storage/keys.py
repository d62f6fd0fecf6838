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
    "QUESTION_TEXT_PREFIX",
    "HANDOFF_PREFIX",
    "READINESS_PREFIX",
    "REMINDER_ROUNDS_PREFIX",
    "HEALTH_PREFIX",
    "user_state_key",
    "greeted_key",
    "handoff_key",
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
READINESS_PREFIX = "readiness/"
"""`readiness/<announcement id>/<conversation id>`: the checklist a conversation confirmed, by whom
and when (`announcements.readiness`), next to that announcement's ledger."""
REMINDER_ROUNDS_PREFIX = "reminder-rounds/"
"""`reminder-rounds/<announcement id>`: the reminder rounds sent for an announcement; round n is
delivered with the ledger id `<announcement id>-reminder-<n>` (`announcements.reminders`)."""
QUESTION_PREFIX = "questions/"
"""`questions/<ISO time>/<random>`: the anonymous question log, in time order (`helpdesk.question_log`)."""
QUESTION_TEXT_PREFIX = "question-texts/"
"""`question-texts/<ISO time>/<random>`: the scrubbed text of a question the bot could not answer
or that got a 👎, with no user id, for the curator's report (`helpdesk.question_texts`)."""
HANDOFF_PREFIX = "handoffs/"
"""`handoffs/<id>`: a question handed to the experts, with where to tell the asker that it was
answered (`helpdesk.handoff`); deleted after the retention period."""

HEALTH_PREFIX = "health/"
"""`health/<instance>`: written and deleted again by `/healthz` to prove the store takes writes
(`storage.health`); normally absent, and never more than one per running instance."""


def user_state_key(channel_id: str, conversation_id: str, user_id: str) -> str:
    """Where one user's state in one conversation is kept."""
    return f"{USER_STATE_PREFIX}{channel_id}/{conversation_id}/{user_id}"


def greeted_key(conversation_id: str) -> str:
    return f"{GREETED_PREFIX}{conversation_id}"


def handoff_key(handoff_id: str) -> str:
    return f"{HANDOFF_PREFIX}{handoff_id}"
