"""The guide engine: one command applied to one user's state, through an explicit table.

`step(state, command, guide, now) -> (state, replies)` is the whole contract. Which moves exist is
data (`TRANSITIONS`, keyed by phase and action); a pair that is not in the table is refused with
a harmless answer, and a move that makes no sense at the current step (back on step 1, a button
from an older card) shows the current step again instead of moving. The state is never changed by
input we could not use, so the handler can save whatever comes back.

A typical turn, as `assistant.conversation` runs it (the handler reads and writes `UserState`):

    now = datetime.now(UTC)
    state = load_state(user.guide, now, expiry)              # None: no guide, or expired
    if activity.value is not None:
        command = parse_value(activity.value)                # None: another module's button
    else:
        command = parse_text(activity.text)                  # None: not a guide phrase
    if command is not None and accepts_typed(state, command):
        guide = choose_guide(kb, command, state)
        state, replies = step(state, command, guide, now)
        messages = render_guide_replies(replies, kb)         # cards.guide
    else:
        messages = answer_from_knowledge_base(activity.text)
        running = kb.guide(state.guide_id) if state else None
        if follow := after_interruption(state, running, now, expiry):
            messages += render_guide_replies([follow], kb)
    user.guide = state                                       # None: no guide any more
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TypedDict, Unpack

from dialogs.commands import GuideAction, GuideCommand, InvalidCommand
from dialogs.replies import GuideReply, ReplyKind, StepNote
from dialogs.state import DEFAULT_EXPIRY, GuideState, GuideStatus
from knowledge.models import Guide, KnowledgeBase
from knowledge.text import simplify

__all__ = [
    "DEFAULT_IDLE",
    "Phase",
    "Transition",
    "TRANSITIONS",
    "step",
    "accepts_typed",
    "choose_guide",
    "reminder",
    "pending_resume",
    "after_interruption",
]

log = logging.getLogger(__name__)

DEFAULT_IDLE = dt.timedelta(minutes=30)
"""An active guide untouched this long counts as left: answers stop saying "Du är på steg N"
under them, and the user is offered to resume instead (`assistant.conversation` offers it once
a day)."""

Result = tuple[GuideState | None, list[GuideReply]]
Transition = Callable[[GuideState | None, GuideCommand, Guide, dt.datetime], Result]


class Phase(StrEnum):
    """Where the user is, as far as the table cares."""

    NONE = "none"
    """No guide (never started, cancelled, finished, expired, or another guide's state)."""
    ACTIVE = "active"
    """Walking the guide."""
    PAUSED = "paused"
    """Put aside; waiting to be resumed."""


# ---------------------------------------------------------------------------------------------
# Replies


class _ReplyFields(TypedDict, total=False):
    """The `GuideReply` fields a transition fills in (the rest come from the guide)."""

    step: int | None
    instruction: str | None
    click: str | None
    why: str | None
    help: str | None
    text: str | None
    note: StepNote | None
    other_guide_id: str | None
    other_step: int | None


def _reply(kind: ReplyKind, guide: Guide, **fields: Unpack[_ReplyFields]) -> GuideReply:
    return GuideReply(
        kind=kind,
        guide_id=guide.id,
        guide_title=guide.title,
        total=len(guide.steps),
        help_url=str(guide.help_url),
        platform=guide.platform,
        **fields,
    )


def _step_reply(
    guide: Guide, number: int, kind: ReplyKind = ReplyKind.STEP, note: StepNote | None = None
) -> GuideReply:
    data = guide.steps[number - 1]
    return _reply(
        kind,
        guide,
        step=number,
        instruction=data.instruction,
        click=data.click,
        why=data.why,
        help=data.help,
        note=note,
    )


def _touch(state: GuideState, now: dt.datetime, **changes: object) -> GuideState:
    return state.model_copy(update={**changes, "updated_at": now})


# ---------------------------------------------------------------------------------------------
# Transitions: (state, command, guide, now) -> (new state, replies)


def _begin(state: GuideState | None, command: GuideCommand, guide: Guide, now: dt.datetime) -> Result:
    """Fresh start at step 1, with the intro (what this is, how to leave)."""
    new = GuideState(guide_id=guide.id, step=1, status=GuideStatus.ACTIVE, started_at=now, updated_at=now)
    return new, [_reply(ReplyKind.INTRO, guide, text=guide.intro), _step_reply(guide, 1)]


def _restart(state: GuideState | None, command: GuideCommand, guide: Guide, now: dt.datetime) -> Result:
    """Start over at step 1; the intro was already seen."""
    new = GuideState(guide_id=guide.id, step=1, status=GuideStatus.ACTIVE, started_at=now, updated_at=now)
    return new, [_step_reply(guide, 1, note=StepNote.RESTARTED)]


def _next(state: GuideState | None, command: GuideCommand, guide: Guide, now: dt.datetime) -> Result:
    """One step on; after the last step the summary, and the guide is finished."""
    assert state is not None
    if state.step >= len(guide.steps):
        return (_touch(state, now, status=GuideStatus.FINISHED), [_reply(ReplyKind.SUMMARY, guide, text=guide.summary)])
    new = _touch(state, now, step=state.step + 1)
    return new, [_step_reply(guide, new.step)]


def _back(state: GuideState | None, command: GuideCommand, guide: Guide, now: dt.datetime) -> Result:
    """One step back; on step 1 say so and show step 1 again."""
    assert state is not None
    if state.step <= 1:
        return _touch(state, now), [_step_reply(guide, 1, note=StepNote.FIRST_STEP)]
    new = _touch(state, now, step=state.step - 1)
    return new, [_step_reply(guide, new.step)]


def _repeat(state: GuideState | None, command: GuideCommand, guide: Guide, now: dt.datetime) -> Result:
    assert state is not None
    return _touch(state, now), [_step_reply(guide, state.step, note=StepNote.REPEATED)]


def _help(state: GuideState | None, command: GuideCommand, guide: Guide, now: dt.datetime) -> Result:
    """The current step's help and the platform's own help link; the step does not move.

    Stuck again on the same step: the help did not help, so repeating it would not either. Offer
    a person and the platform's own help instead (the screen may no longer look like the guide).
    """
    assert state is not None
    new = _touch(state, now, status=GuideStatus.ACTIVE, stuck_at=state.step)
    kind = ReplyKind.STUCK_AGAIN if state.stuck_at == state.step else ReplyKind.HELP
    return new, [_step_reply(guide, state.step, kind=kind)]


def _resume(state: GuideState | None, command: GuideCommand, guide: Guide, now: dt.datetime) -> Result:
    """Back to the saved step (from a pause, a resume offer or "fortsätt" mid-guide)."""
    assert state is not None
    new = _touch(state, now, status=GuideStatus.ACTIVE)
    return new, [_step_reply(guide, state.step, note=StepNote.RESUMED)]


def _pause(state: GuideState | None, command: GuideCommand, guide: Guide, now: dt.datetime) -> Result:
    assert state is not None
    new = _touch(state, now, status=GuideStatus.PAUSED)
    return new, [_reply(ReplyKind.PAUSED, guide, step=state.step)]


def _cancel(state: GuideState | None, command: GuideCommand, guide: Guide, now: dt.datetime) -> Result:
    """Stop; the stored state is deleted (None)."""
    step_no = state.step if state is not None and state.guide_id == guide.id else None
    return None, [_reply(ReplyKind.CANCELLED, guide, step=step_no)]


def _confirm_restart(state: GuideState | None, command: GuideCommand, guide: Guide, now: dt.datetime) -> Result:
    """Started again while in a guide: ask, move nothing."""
    assert state is not None
    same = state.guide_id == guide.id
    return _touch(state, now), [
        _reply(
            ReplyKind.CONFIRM_RESTART,
            guide,
            step=state.step if same else None,
            other_guide_id=state.guide_id,
            other_step=state.step,
        )
    ]


def _not_in_guide(state: GuideState | None, command: GuideCommand, guide: Guide, now: dt.datetime) -> Result:
    """A guide command with nothing to apply it to: offer to start, keep whatever state there was."""
    return state, [_reply(ReplyKind.NOT_IN_GUIDE, guide)]


TRANSITIONS: Mapping[tuple[Phase, GuideAction], Transition] = {
    # No guide running: only starting makes sense; the rest offers to start.
    (Phase.NONE, "start"): _begin,
    (Phase.NONE, "restart"): _begin,
    **{(Phase.NONE, a): _not_in_guide for a in ("next", "back", "repeat", "stuck", "resume", "pause")},
    (Phase.NONE, "cancel"): _cancel,
    # Walking the guide.
    (Phase.ACTIVE, "next"): _next,
    (Phase.ACTIVE, "back"): _back,
    (Phase.ACTIVE, "repeat"): _repeat,
    (Phase.ACTIVE, "stuck"): _help,
    (Phase.ACTIVE, "resume"): _resume,
    (Phase.ACTIVE, "pause"): _pause,
    (Phase.ACTIVE, "cancel"): _cancel,
    (Phase.ACTIVE, "start"): _confirm_restart,
    (Phase.ACTIVE, "restart"): _restart,
    # Put aside: anything that means "go on" resumes at the saved step, never further.
    **{(Phase.PAUSED, a): _resume for a in ("next", "back", "repeat", "resume")},
    (Phase.PAUSED, "stuck"): _help,
    (Phase.PAUSED, "pause"): _pause,
    (Phase.PAUSED, "cancel"): _cancel,
    (Phase.PAUSED, "start"): _confirm_restart,
    (Phase.PAUSED, "restart"): _restart,
}
"""Every allowed move. Pairs not listed are refused (state kept, current step shown)."""

# Buttons that act on "the step on this card": a press from an older card must not move anything.
_STEP_BOUND: frozenset[str] = frozenset({"next", "back", "repeat", "stuck"})


# ---------------------------------------------------------------------------------------------
# Public API


def _phase(state: GuideState | None, guide: Guide, action: str) -> Phase:
    if state is None or state.status is GuideStatus.FINISHED:
        return Phase.NONE
    if state.guide_id != guide.id and action not in ("start", "restart"):
        # The state belongs to a guide we were not given (e.g. removed from the knowledge base).
        return Phase.NONE
    return Phase.ACTIVE if state.status is GuideStatus.ACTIVE else Phase.PAUSED


def _is_stale(state: GuideState, command: GuideCommand) -> bool:
    if command.action not in _STEP_BOUND:
        return False
    wrong_step = command.step is not None and command.step != state.step
    wrong_guide = command.guide is not None and command.guide != state.guide_id
    return wrong_step or wrong_guide


def _refuse(state: GuideState | None, guide: Guide, reason: str) -> Result:
    """Leave the state exactly as it was and show where the user is."""
    log.info("guide input refused: %s", reason)
    if state is not None and state.guide_id == guide.id and state.status is not GuideStatus.FINISHED:
        number = min(state.step, len(guide.steps))
        return state, [_step_reply(guide, number, kind=ReplyKind.INVALID)]
    return state, [_reply(ReplyKind.INVALID, guide)]


def step(state: GuideState | None, command: GuideCommand | InvalidCommand, guide: Guide, now: dt.datetime) -> Result:
    """Apply one command to one user's guide state.

    `guide` is the guide the command is about: the state's guide for moves, the guide to start for
    start/restart (`choose_guide` picks it). Returns the state to save (None: delete it) and the
    replies to send, in order. Input that cannot be used returns the state unchanged.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if isinstance(command, InvalidCommand):
        return _refuse(state, guide, command.reason)
    if state is not None and state.guide_id == guide.id and state.step > len(guide.steps):
        # The guide's data lost steps since the state was saved: stay on the last one.
        state = state.model_copy(update={"step": len(guide.steps)})
    phase = _phase(state, guide, command.action)
    transition = TRANSITIONS.get((phase, command.action))
    if transition is None:
        return _refuse(state, guide, f"no move for {command.action!r} when {phase}")
    if phase is Phase.ACTIVE and state is not None and _is_stale(state, command):
        log.debug("stale %s button (card step %s, now on %s)", command.action, command.step, state.step)
        return state, [_step_reply(guide, state.step, note=StepNote.STALE_BUTTON)]
    return transition(state, command, guide, now)


def accepts_typed(state: GuideState | None, command: GuideCommand | InvalidCommand) -> bool:
    """Should this command take the turn, or is the text better answered by the knowledge base?

    Buttons always go to the guide. Typed words go to it while the guide is active; when it is
    paused or absent only unmistakable guide phrases do ("fortsätt", "börja om", "starta
    guiden"), so an "ok" or "klar" said about something else is not swallowed by an old guide.
    """
    if isinstance(command, InvalidCommand) or not command.typed:
        return True
    if state is None or state.status is GuideStatus.FINISHED:
        return command.action in ("start", "restart", "resume")
    if state.status is GuideStatus.PAUSED:
        return command.action in ("start", "restart", "resume", "cancel", "pause")
    return True


def choose_guide(kb: KnowledgeBase, command: GuideCommand | InvalidCommand, state: GuideState | None) -> Guide | None:
    """The guide a command is about: the running one for moves, the asked-for one for starts.

    For start/restart: the button's guide id, else a typed platform or guide word ("starta
    facebook-guiden"), else the running guide, else the first guide in the knowledge base.
    For every other action: the running guide, so a stale or foreign button is judged against it.
    None only when the knowledge base has no guides.
    """
    running = kb.guide(state.guide_id) if state is not None else None
    if isinstance(command, InvalidCommand):
        return running or (kb.guides[0] if kb.guides else None)
    if command.action in ("start", "restart"):
        if command.guide and (asked := kb.guide(command.guide)):
            return asked
        if command.target and (typed := _guide_for_word(kb, command.target)):
            return typed
    if running is not None:
        return running
    if command.guide and (asked := kb.guide(command.guide)):
        return asked
    return kb.guides[0] if kb.guides else None


def _guide_for_word(kb: KnowledgeBase, word: str) -> Guide | None:
    word = simplify(word)
    for guide in kb.guides:
        if word in (simplify(guide.id), simplify(guide.platform)):
            return guide
        platform = kb.platform(guide.platform)
        if word == simplify(platform.name) or word in {simplify(a) for a in platform.aliases}:
            return guide
    return None


def reminder(state: GuideState, guide: Guide) -> GuideReply:
    """Where the user stands and how to go on; sent after an interruption was answered."""
    number = min(state.step, len(guide.steps))
    return _step_reply(guide, number, kind=ReplyKind.REMINDER)


def pending_resume(
    state: GuideState | None,
    guide: Guide | None,
    now: dt.datetime,
    expiry: dt.timedelta = DEFAULT_EXPIRY,
    idle: dt.timedelta = DEFAULT_IDLE,
) -> GuideReply | None:
    """An offer to continue at the saved step, for a user who left (paused) or came back later.

    None when there is nothing to offer: no state, finished, expired (quietly), a guide we no
    longer have, or an active guide touched within `idle` (then `reminder` is the right answer).
    """
    if state is None or guide is None or state.guide_id != guide.id:
        return None
    if state.status is GuideStatus.FINISHED or state.is_expired(now, expiry):
        return None
    if state.status is GuideStatus.ACTIVE and now - state.updated_at < idle:
        return None
    number = min(state.step, len(guide.steps))
    return _step_reply(guide, number, kind=ReplyKind.RESUME_OFFER)


def after_interruption(
    state: GuideState | None,
    guide: Guide | None,
    now: dt.datetime,
    expiry: dt.timedelta = DEFAULT_EXPIRY,
    idle: dt.timedelta = DEFAULT_IDLE,
) -> GuideReply | None:
    """What to add after answering something else: a resume offer, a reminder, or nothing.

    A paused or long-idle guide gets the resume offer; an active one the reminder of where the
    user is; no guide (or a finished, expired or unknown one) nothing at all.
    """
    offer = pending_resume(state, guide, now, expiry, idle)
    if offer is not None or state is None or guide is None or state.guide_id != guide.id:
        return offer
    return reminder(state, guide) if state.is_active and not state.is_expired(now, expiry) else None
