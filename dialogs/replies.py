"""What the guide engine answers, as plain data; `cards.guide` turns it into Teams messages.

The engine says *what* to show (which step, which note, which offer) and carries the guide's
content with it; the wording around it lives in one place, the card renderer, so the state
machine can be tested without caring about phrasing and the phrasing changed without touching it.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

__all__ = ["ReplyKind", "StepNote", "GuideReply"]


class ReplyKind(StrEnum):
    """Which kind of message to show."""

    INTRO = "intro"
    """What the guide is and how to leave it; sent before step 1 on a fresh start."""
    STEP = "step"
    """One step's card (possibly with a note on top)."""
    HELP = "help"
    """The current step's help, after "Jag har fastnat"."""
    STUCK_AGAIN = "stuck_again"
    """Stuck again on a step whose help was already given: a person or the platform's own help."""
    SUMMARY = "summary"
    """After the last step: what is now protected, links to the other platforms."""
    CONFIRM_RESTART = "confirm_restart"
    """Started again while in a guide: continue where you were, or start over?"""
    CANCELLED = "cancelled"
    """The guide was stopped."""
    PAUSED = "paused"
    """The guide was put aside; "fortsätt" picks it up again."""
    RESUME_OFFER = "resume_offer"
    """The user came back to a paused or long-idle guide: continue at step N?"""
    REMINDER = "reminder"
    """After an interruption was answered: where you are and how to go on."""
    NOT_IN_GUIDE = "not_in_guide"
    """A guide command with no guide running; offers to start one."""
    INVALID = "invalid"
    """A button we cannot use; shows where the user is, changes nothing."""


class StepNote(StrEnum):
    """Why a step is shown again or what just happened, shown above the step."""

    FIRST_STEP = "first_step"
    """"Tillbaka" on step 1: there is nothing before it."""
    STALE_BUTTON = "stale_button"
    """A button on an older card was pressed; the current step is shown instead."""
    RESTARTED = "restarted"
    """Started over from step 1."""
    RESUMED = "resumed"
    """Picked up at the saved step."""
    REPEATED = "repeated"
    """Shown again on request."""


class GuideReply(BaseModel):
    """One message the engine wants sent, with everything the card needs."""

    model_config = ConfigDict(frozen=True)

    kind: ReplyKind
    """What to show."""
    guide_id: str
    """The guide the reply is about; buttons carry it back."""
    guide_title: str
    """The guide's title for headings."""
    total: int
    """Number of steps in the guide."""
    step: int | None = None
    """The step the reply is about (the user's current step), when there is one."""
    instruction: str | None = None
    """The step's instruction (step, help, invalid, reminder)."""
    click: str | None = None
    """What to click for the step, if the guide says."""
    why: str | None = None
    """Why the step matters (recovery codes), if the guide says."""
    help: str | None = None
    """What to check when stuck (help)."""
    help_url: str | None = None
    """The platform's own help page."""
    text: str | None = None
    """The guide's intro or summary text (intro, summary)."""
    note: StepNote | None = None
    """Shown above a step: why it is shown (first step, stale button, resumed...)."""
    platform: str | None = None
    """The guide's platform id; the summary links to the *other* platforms' help."""
    other_guide_id: str | None = None
    """confirm_restart: the guide the user is already in, when it is not this one."""
    other_step: int | None = None
    """confirm_restart: the step the user is on in the guide already running."""
