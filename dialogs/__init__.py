"""Guided dialogs: walking one person through a guide's steps, one step at a time.

A small state machine of our own (not botbuilder-dialogs): `commands` turns typed text and card
submits into `GuideCommand`s, `guide.step()` applies one command to a `GuideState` through an
explicit transition table and returns the new state plus `GuideReply`s, and `cards.guide` turns
the replies into Teams messages. `state` also holds `UserState`, everything kept per user and
conversation. Nothing here imports the SDK; the activity handler loads and saves the state and
sends the messages.

The engine is per user. The handler keys the stored `GuideState` by (conversation, user), so in a
channel or group chat every person walks their own guide: one person's "nästa" never moves
another's progress, and two colleagues can be on steps 3 and 9 in the same thread. We keep the
guide in the thread where it was asked rather than moving it to a 1:1 chat because the question,
the answer and any colleague who wants to follow along stay in one place, and a move would need
proactive messaging plus the app installed personally for every user (often not the case in a
channel), which fails silently when it is not.

The guide itself is data (`knowledge.models.Guide`): another platform's walkthrough is a new YAML
file, not new code.
"""

from dialogs.commands import GuideAction, GuideCommand, InvalidCommand, parse_text, parse_value
from dialogs.guide import (
    DEFAULT_IDLE,
    TRANSITIONS,
    accepts_typed,
    after_interruption,
    choose_guide,
    pending_resume,
    reminder,
    step,
)
from dialogs.replies import GuideReply, ReplyKind, StepNote
from dialogs.state import (
    DEFAULT_EXPIRY,
    GuideState,
    GuideStatus,
    HandoffOffer,
    Pending,
    PendingOption,
    UserState,
    dump_state,
    load_state,
)

__all__ = [
    "DEFAULT_EXPIRY",
    "DEFAULT_IDLE",
    "TRANSITIONS",
    "GuideAction",
    "GuideCommand",
    "GuideReply",
    "GuideState",
    "GuideStatus",
    "HandoffOffer",
    "Pending",
    "PendingOption",
    "UserState",
    "InvalidCommand",
    "ReplyKind",
    "StepNote",
    "accepts_typed",
    "after_interruption",
    "choose_guide",
    "dump_state",
    "load_state",
    "parse_text",
    "parse_value",
    "pending_resume",
    "reminder",
    "step",
]
