"""Who answers a turn: the active guide, a pending clarification, or the knowledge base.

Plain Python: the activity handler turns an activity into a `TurnInput`, reads the user's typed
`UserState` once, calls `Conversation.handle`, writes the returned state once and sends the
returned messages. Nothing here imports the SDK, so the whole decision can be tested directly;
nothing here builds a card either (`cards/` renders answers, guide replies and offers).

What one turn says is one message: `handle` merges a turn's messages into one card. A 👍/👎
press returns no new message but `update`, the same card drawn again for the handler to put in
place of the one pressed, and `feedback` to record with the question.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError
from rapidfuzz import fuzz, process

from cards.actions import (
    ASK_CMD,
    FEEDBACK_CMD,
    GUIDE_CMD,
    HANDOFF_CMD,
    NONE_CMD,
    PERSON_CMD,
    command_of,
    handoff_payload,
)
from cards.answer import MAX_COMMENT, FeedbackRef, render_answer, wants_feedback
from cards.conversation import guide_offer
from cards.guide import HANDOFF_BUTTON, PersonHelp, render_guide_replies
from cards.message import OutgoingMessage, merge_messages
from dialogs import (
    DEFAULT_EXPIRY,
    GuideCommand,
    GuideState,
    GuideStatus,
    HandoffOffer,
    InvalidCommand,
    Pending,
    PendingOption,
    ReplyKind,
    UserState,
    accepts_typed,
    after_interruption,
    choose_guide,
    load_state,
    parse_text,
    parse_value,
    step,
)
from helpdesk.handoff import MAX_QUESTION, HandoffRequest, HandoffTarget
from knowledge.answers import NONE_OF_THESE, Answer, Composer, FollowUp
from knowledge.matcher import Match, Matcher
from knowledge.models import KnowledgeBase
from knowledge.text import simplify

__all__ = [
    "TurnInput",
    "Pending",
    "PendingOption",
    "HandoffOffer",
    "UserState",
    "TurnResult",
    "FeedbackGiven",
    "Conversation",
    "MAX_TEXT",
]

log = logging.getLogger(__name__)

TurnOutcome = Literal["answered", "asked_back", "unanswered", "guide", "other"]
HandoffReason = Literal["unanswered", "urgent"]

MAX_TEXT = 4000
"""Longer messages are answered from their first part; nobody asks a 50 000-character question."""
_HANDED_OFF = {
    "channel": "Jag har lämnat frågan vidare till stadens experter. De kan svara dig här i tråden.",
    "groupChat": "Jag har bett stadens experter att titta på frågan. De kan svara dig här i chatten.",
    "personal": "Tack! Jag har skickat frågan och ditt namn till stadens experter, så kontaktar någon dig.",
}
_OFFER = (
    f'Vill du att stadens experter hör av sig? Tryck på "{HANDOFF_BUTTON}", så '
    "skickas din fråga och ditt namn till dem."
)
_NONE_OF_THESE = {
    simplify(t)
    for t in (
        NONE_OF_THESE,
        "ingen",
        "inget",
        "inget av dem",
        "ingen av de",
        "ingetdera",
        "ingendera",
        "ingen av dessa",
        "none",
        "none of them",
        "nej ingen av dem",
        "nej",
    )
}
_ASK_FOR_QUESTION = {
    "channel": "Vad vill du fråga? Nämn mig och skriv din fråga här i tråden, så ber jag stadens experter "
    "att svara här.",
    "groupChat": "Vad vill du fråga? Nämn mig och skriv din fråga här i chatten, så ber jag stadens experter "
    "att svara här.",
    "personal": "Vad vill du fråga? Skriv din fråga i nästa meddelande, så skickar jag den och ditt namn till "
    "stadens experter. De hör av sig till dig.",
}
_SEND_OFFERED = f' Eller tryck på "{HANDOFF_BUTTON}" för att skicka frågan du ställde nyss.'
_ONLY_OUR_NAME = {"kanalvakten", "kanalvakt"}
"""The bot's name typed alone ("Kanalvakten?") is calling it, as a bare @mention is."""
_NEVER_MIND = {"avbryt", "nej", "nej tack", "glom det", "angra", "inget", "ingenting"}
"""Typed instead of the question for the experts: nothing is sent."""
OFFER_TTL = dt.timedelta(hours=1)
RESUME_OFFER_EVERY = dt.timedelta(days=1)
PENDING_TTL = dt.timedelta(hours=1)
"""A clarifying question older than this is no longer what the user answers."""
_OTHER_PLATFORM = "other"
"""In a feedback payload: the answer for a platform the guide does not cover."""


class TurnInput(BaseModel):
    """What the user did this turn, stripped of the channel's envelope."""

    text: str = ""
    """Typed text with the bot's @mention removed."""
    value: Any = None
    """Card submit payload, if the turn is a button press."""
    scope: Literal["personal", "groupChat", "channel"] = "personal"
    """Where the conversation is; decides e.g. whether quick replies may be shown."""
    now: dt.datetime
    """Timezone-aware time of the turn."""


class FeedbackGiven(BaseModel):
    """👍 or 👎 (and perhaps a comment) on the answer to one question, to record with it."""

    question_id: str
    """The question event's id."""
    asked_at: dt.datetime | None = None
    """When the question was asked (finds its event directly)."""
    value: Literal["up", "down"]
    """👍 or 👎."""
    comment: str | None = None
    """What the user wrote after 👎, if anything."""
    topic: str | None = None
    """The topic the answer was about."""


class _FeedbackValue(BaseModel):
    """What a feedback button may send (`cards.actions.feedback_payload` plus the comment field);
    extra keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    value: Literal["up", "down", "comment"]
    q: StrictStr = Field(pattern=r"^[0-9a-f]{32}$")
    at: dt.datetime | None = None
    topic: StrictStr
    platforms: list[StrictStr] = Field(default_factory=list, max_length=10)
    comment: StrictStr | None = None
    """The comment field (`cards.actions.COMMENT_INPUT`), after 👎."""


class TurnResult(BaseModel):
    """What to send and what to keep."""

    state: UserState
    """State to save."""
    messages: list[OutgoingMessage] = Field(default_factory=list)
    """Messages to send, in order (`Conversation.handle` returns at most one)."""
    update: OutgoingMessage | None = None
    """The card the button was pressed on, drawn again: to replace it in place (👍/👎)."""
    feedback: FeedbackGiven | None = None
    """Feedback to record with its question."""
    question_id: str | None = None
    """The id of this turn's question event, when its answer carries 👍/👎."""
    topic: str | None = None
    """Topic answered, for statistics without the question text."""
    unanswered: bool = False
    """The knowledge base had no answer (candidates for handing to people)."""
    unsure: bool = False
    """The bot asked "Menade du…?": the question's text is worth a curator's look too."""
    handoff: HandoffRequest | None = None
    """A question to hand to people now."""
    platform: str | None = None
    """Platform the answer was about."""
    outcome: TurnOutcome = "other"
    """What kind of turn this was, for the anonymous question log."""


class Conversation:
    """One turn at a time, for any channel and storage; built once per app."""

    def __init__(
        self,
        kb: KnowledgeBase,
        matcher: Matcher,
        composer: Composer,
        guide_expiry: dt.timedelta = DEFAULT_EXPIRY,
        handoff: HandoffTarget | None = None,
    ):
        self.kb = kb
        self.matcher = matcher
        self.composer = composer
        self.guide_expiry = guide_expiry
        self.handoff = handoff or HandoffTarget()
        self._other_platform_title = composer.other_platform().title
        """The answer for a platform the guide does not cover is drawn again by its own name."""

    # ------------------------------------------------------------------ entry point
    def handle(self, turn: TurnInput, state: UserState) -> TurnResult:
        """The turn's answer as one message (or a card update), and the state to keep."""
        result = self._handle(turn, state)
        result.messages = merge_messages(result.messages)
        return result

    def _handle(self, turn: TurnInput, state: UserState) -> TurnResult:
        guide_state = load_state(state.guide, turn.now, self.guide_expiry)
        pending = state.pending if state.pending and turn.now - state.pending.asked_at < PENDING_TTL else None
        offer = (
            state.handoff_offer
            if state.handoff_offer and turn.now - state.handoff_offer.offered_at < OFFER_TTL
            else None
        )
        asked = state.person_requested_at
        asked = asked if asked is not None and turn.now - asked < OFFER_TTL else None
        state = UserState(
            guide=guide_state,
            pending=pending,
            touched_at=turn.now,
            handoff_offer=offer,
            resume_offered_at=state.resume_offered_at if guide_state is not None else None,
            person_requested_at=asked,
        )

        if turn.value is not None:
            return self._submit(turn, state, guide_state)
        text = turn.text[:MAX_TEXT]
        if not any(ch.isalnum() for ch in text) or simplify(text) in _ONLY_OUR_NAME:
            # empty, a bare @mention or the bot's name alone, only emoji or punctuation
            return self._empty(turn, state, guide_state)

        command = parse_text(text)
        if command is not None and accepts_typed(guide_state, command):
            wanted = self._platform_without_guide(command)
            if wanted is not None:  # "starta guiden för Instagram": no such guide, give its answer
                return self._answer_topic(turn, state, guide_state, "enable_2fa", wanted)
            return self._guide(turn, state, guide_state, command)
        if state.person_requested_at is not None:  # the question they were asked to write
            return self._question_for_people(turn, state, guide_state, text)

        match = self.matcher.match(text)
        if pending is not None and pending.kind == "choice" and self._none_of_these(pending, text):
            return self._none_of_them(turn, state, guide_state, pending)
        if pending is not None:
            picked = self._pick(pending, text, match)
            if picked is not None:
                state.pending = None
                return self._answer_topic(turn, state, guide_state, picked.topic, picked.platform)

        if guide_state is not None and guide_state.is_active and match.topic in (None, "capabilities"):
            # "jag hittar inte pilen", "det funkar inte", "hjälp": stuck on the step, most likely
            return self._guide(turn, state, guide_state, GuideCommand(action="stuck", guide=guide_state.guide_id))
        if match.topic == "human_contact":
            return self._person(turn, state, guide_state, typed=text)
        if match.topic == "enable_2fa" and match.platforms == ["facebook"]:
            guide = self.kb.guide_for("facebook")
            if guide is not None:  # "hur slår jag på tvåfaktor på Facebook?" starts the guide
                state.pending = None
                return self._guide(turn, state, guide_state, GuideCommand(action="start", guide=guide.id))
        if command is not None and match.topic is None and self.kb.guides:
            return self._no_guide_running(turn, state, guide_state, command)
        answer = self.composer.compose(match, turn.now.date())
        return self._reply(turn, state, guide_state, answer, question=text, platforms=match.platforms)

    # ------------------------------------------------------------------ branches
    def _submit(self, turn: TurnInput, state: UserState, guide_state: GuideState | None) -> TurnResult:
        value = turn.value
        cmd = command_of(value)
        if cmd == GUIDE_CMD:
            command = parse_value(value)
            if command is None:
                command = InvalidCommand(reason="empty guide payload")
            return self._guide(turn, state, guide_state, command)
        if cmd == HANDOFF_CMD and self.handoff.reaches(turn.scope):
            offer, state.handoff_offer = state.handoff_offer, None
            if offer is None:
                message = OutgoingMessage(text="Den frågan finns inte kvar hos mig. Skriv den gärna igen.")
                return self._finish(turn, state, guide_state, [message], remind=True)
            request = HandoffRequest(question=offer.question, reason=offer.reason, scope=turn.scope)
            message = OutgoingMessage(text=_HANDED_OFF.get(turn.scope, _HANDED_OFF["personal"]))
            result = self._finish(turn, state, guide_state, [message], remind=True)
            result.handoff = request
            return result
        if cmd == NONE_CMD:  # "Ingen av dem" under a "menade du…" choice
            return self._none_of_them(turn, state, guide_state, state.pending)
        if cmd == FEEDBACK_CMD:
            return self._feedback(turn, state, value)
        if cmd == PERSON_CMD:
            return self._person(turn, state, guide_state, typed=None)
        if cmd == ASK_CMD:
            topic, platform = value.get("topic"), value.get("platform")
            if self.kb.has_topic(topic) and (platform is None or self.kb.has_platform(platform) or platform == "all"):
                state.pending = None
                return self._answer_topic(turn, state, guide_state, topic, platform)
        log.info("unusable card submit (%s)", type(value).__name__)
        message = OutgoingMessage(
            text="Den knappen känner jag inte igen, den kan höra till ett äldre meddelande. "
            'Skriv din fråga, eller "hjälp" för att se vad jag kan.'
        )
        return self._finish(turn, state, guide_state, [message], remind=True)

    def _feedback(self, turn: TurnInput, state: UserState, value: dict[str, Any]) -> TurnResult:
        """👍, 👎 or a comment: the same answer card again with the buttons replaced, and the
        feedback to record. A button we cannot use gets the usual unknown-button answer."""
        try:
            given = _FeedbackValue.model_validate(value)
        except ValidationError:
            given = None
        platforms = given.platforms if given else []
        known = (
            given is not None
            and self.kb.has_topic(given.topic)
            and all(self.kb.has_platform(p) or p == _OTHER_PLATFORM for p in platforms)
        )
        if given is None or not known:
            log.info("unusable feedback submit")
            message = OutgoingMessage(
                text="Den knappen känner jag inte igen, den kan höra till ett äldre "
                'meddelande. Skriv din fråga, eller "hjälp" för att se vad jag kan.'
            )
            return TurnResult(state=state, messages=[message])
        answer = self._answer_again(given.topic, platforms, turn.now.date())
        ref = FeedbackRef(question_id=given.q, asked_at=given.at or turn.now, topic=given.topic, platforms=platforms)
        comment = " ".join((given.comment or "").split())[:MAX_COMMENT] or None
        # An empty comment sent: the comment field stays.
        shown = ("comment" if comment else "down") if given.value == "comment" else given.value
        card = render_answer(answer, ref, given=shown)
        recorded = FeedbackGiven(
            question_id=given.q,
            asked_at=given.at,
            value="up" if given.value == "up" else "down",
            comment=comment,
            topic=given.topic,
        )
        return TurnResult(state=state, update=card, feedback=recorded, topic=given.topic)

    def _answer_again(self, topic: str, platforms: list[str], today: dt.date) -> Answer:
        """The answer a feedback button sits under, drawn again from its topic and platforms."""
        if platforms == [_OTHER_PLATFORM]:
            return self.composer.other_platform()
        return self.composer.topic(topic, today=today, platforms=platforms or None)

    def _no_guide_running(
        self, turn: TurnInput, state: UserState, guide_state: GuideState | None, command: GuideCommand
    ) -> TurnResult:
        """A guide word ("nästa", "avbryt") with no guide running: say so, offer to start one."""
        if guide_state is not None and guide_state.status is GuideStatus.PAUSED:
            # the resume offer under it says how to go on
            return self._finish(
                turn, state, guide_state, [OutgoingMessage(text="Guiden är pausad just nu.")], remind=True
            )
        if command.action == "next":  # "ok", "klar" after an answer or a finished guide: an acknowledgement
            return TurnResult(
                state=state,
                messages=[OutgoingMessage(text="Okej! Säg till om du undrar något mer om säkerheten i era kanaler.")],
            )
        finished = guide_state is not None and guide_state.status is GuideStatus.FINISHED
        guide = (self.kb.guide(guide_state.guide_id) if finished and guide_state else None) or self.kb.guides[0]
        return TurnResult(state=state, messages=[guide_offer(guide, finished=finished)])

    def _empty(self, turn: TurnInput, state: UserState, guide_state: GuideState | None) -> TurnResult:
        message = OutgoingMessage(
            text='Hej! Vad vill du veta? Fråga till exempel "hur slår jag på tvåfaktorsinloggning på Instagram?", '
            'eller skriv "hjälp" så ser du vad jag kan.'
        )
        return self._finish(turn, state, guide_state, [message], remind=True)

    def _guide(self, turn: TurnInput, state: UserState, guide_state: GuideState | None, command) -> TurnResult:
        guide = (
            choose_guide(self.kb, command, guide_state)
            if isinstance(command, GuideCommand)
            else (self.kb.guide(guide_state.guide_id) if guide_state else None) or self.kb.guides[0]
        )
        if guide is None:
            return TurnResult(state=state, messages=[OutgoingMessage(text="Det finns ingen guide än.")])
        new_state, replies = step(guide_state, command, guide, turn.now)
        state.guide = new_state
        person = PersonHelp(handoff=self.handoff.reaches(turn.scope), contact=self.composer.support_contact)
        stuck = next((r for r in replies if r.kind == ReplyKind.STUCK_AGAIN), None)
        if stuck is not None and person.handoff:
            # The button sends this, never text from the card (a forged button cannot add any).
            question = (
                f"Fastnat på steg {stuck.step} av {stuck.total} i guiden {stuck.guide_title}: {stuck.instruction}"
            )
            state.handoff_offer = HandoffOffer(
                question=question[:MAX_QUESTION], reason="unanswered", offered_at=turn.now
            )
        messages = render_guide_replies(replies, self.kb, person, in_thread=turn.scope != "personal")
        started = isinstance(command, GuideCommand) and command.action in ("start", "restart")
        return TurnResult(
            state=state,
            messages=messages,
            topic="enable_2fa",
            platform=guide.platform,
            outcome="guide" if started else "other",
        )

    def _none_of_them(
        self, turn: TurnInput, state: UserState, guide_state: GuideState | None, pending: Pending | None
    ) -> TurnResult:
        """None of the topics offered: out of scope, and the question may go to people as usual."""
        state.pending = None
        question = pending.question if pending is not None and pending.kind == "choice" else None
        return self._reply(turn, state, guide_state, self.composer.out_of_scope(turn.now.date()), question=question)

    def _answer_topic(
        self, turn: TurnInput, state: UserState, guide_state: GuideState | None, topic: str, platform: str | None
    ) -> TurnResult:
        if topic == "human_contact":
            return self._person(turn, state, guide_state, typed=None)
        guide = self.kb.guide_for("facebook") if topic == "enable_2fa" and platform == "facebook" else None
        if guide:
            return self._guide(turn, state, guide_state, GuideCommand(action="start", guide=guide.id))
        platforms = None if platform in (None, "all") else [platform]
        answer = self.composer.topic(topic, today=turn.now.date(), platforms=platforms)
        return self._reply(turn, state, guide_state, answer, platforms=platforms)

    def _reply(
        self,
        turn: TurnInput,
        state: UserState,
        guide_state: GuideState | None,
        answer: Answer,
        question: str | None = None,
        platforms: list[str] | None = None,
    ) -> TurnResult:
        if answer.kind in ("clarify_platform", "did_you_mean"):
            state.pending = Pending(
                kind="platform" if answer.kind == "clarify_platform" else "choice",
                options=[
                    PendingOption(topic=f.data["topic"], platform=f.data.get("platform"), label=f.label)
                    for f in answer.followups
                    if command_of(f.data) == ASK_CMD
                ],
                asked_at=turn.now,
                question=question[:MAX_QUESTION]
                if question and answer.kind == "did_you_mean" and self.handoff.reaches(turn.scope)
                else None,
            )
        else:
            state.pending = None
        handoff = None
        wants_people = answer.kind == "out_of_scope" or answer.handoff
        if question and wants_people and self.handoff.reaches(turn.scope):
            reason: HandoffReason = "urgent" if answer.handoff else "unanswered"
            if turn.scope == "personal":  # nothing leaves a personal chat without the user's say-so
                state.handoff_offer = HandoffOffer(question=question[:MAX_QUESTION], reason=reason, offered_at=turn.now)
                answer = answer.model_copy(
                    update={
                        "text": answer.text + "\n\n" + _OFFER,
                        "followups": [FollowUp(label=HANDOFF_BUTTON, data=handoff_payload()), *answer.followups][:4],
                    }
                )
            else:
                handoff = HandoffRequest(question=question[:MAX_QUESTION], reason=reason, scope=turn.scope)
                answer = answer.model_copy(update={"text": answer.text + "\n\n" + _HANDED_OFF[turn.scope]})
        elif answer.kind == "out_of_scope":  # no experts to hand to from here: who else can help
            contact = self.composer.topic("human_contact", today=turn.now.date()).text
            answer = answer.model_copy(update={"text": answer.text + "\n\n" + contact})
        feedback = None
        if wants_feedback(answer):
            assert answer.topic is not None
            if answer.topic == "enable_2fa" and answer.title == self._other_platform_title:
                platforms = [_OTHER_PLATFORM]
            feedback = FeedbackRef(
                question_id=uuid.uuid4().hex,
                asked_at=turn.now,
                topic=answer.topic,
                platforms=list(dict.fromkeys(platforms or [])),
            )
        result = self._finish(turn, state, guide_state, [render_answer(answer, feedback)], remind=True)
        result.question_id = feedback.question_id if feedback else None
        result.topic = "enable_2fa" if answer.kind == "clarify_platform" else answer.topic
        result.platform = answer.platform
        outcomes: dict[str, TurnOutcome] = {
            "out_of_scope": "unanswered",
            "clarify_platform": "asked_back",
            "did_you_mean": "asked_back",
        }
        result.outcome = outcomes.get(answer.kind, "answered")
        result.unanswered = answer.kind == "out_of_scope"
        result.unsure = answer.kind == "did_you_mean"
        result.handoff = handoff
        return result

    def _person(
        self, turn: TurnInput, state: UserState, guide_state: GuideState | None, typed: str | None
    ) -> TurnResult:
        """Someone wants a person ("prata med en människa", the 👎 card's "fråga en person").

        With experts reachable from here: in a thread a typed request goes to them at once (they
        answer in the thread); otherwise the user is asked to write the question, and their next
        message goes. With no experts reachable: the support contact, or the user's own IT
        support and communications department."""
        answer = self.composer.topic("human_contact", today=turn.now.date())
        handoff = None
        if not self.handoff.reaches(turn.scope):
            pass  # the topic's answer names the contact
        elif typed and turn.scope != "personal":
            handoff = HandoffRequest(question=typed[:MAX_QUESTION], reason="unanswered", scope=turn.scope)
            answer = answer.model_copy(update={"text": _HANDED_OFF[turn.scope], "followups": [], "links": []})
        else:
            state.person_requested_at = turn.now
            text, followups = _ASK_FOR_QUESTION.get(turn.scope, _ASK_FOR_QUESTION["personal"]), []
            if turn.scope == "personal" and state.handoff_offer is not None:
                text += _SEND_OFFERED
                followups = [FollowUp(label=HANDOFF_BUTTON, data=handoff_payload())]
            answer = answer.model_copy(update={"text": text, "followups": followups, "links": []})
        result = self._finish(turn, state, guide_state, [render_answer(answer)], remind=True)
        result.topic, result.outcome, result.handoff = "human_contact", "answered", handoff
        return result

    def _question_for_people(
        self, turn: TurnInput, state: UserState, guide_state: GuideState | None, text: str
    ) -> TurnResult:
        """The message after "Vad vill du fråga?": to the experts (or, if they cannot be reached
        from here any more, the contact)."""
        state.person_requested_at = None
        if simplify(text) in _NEVER_MIND:
            message = OutgoingMessage(text="Okej, då skickar jag ingenting. Fråga mig gärna något annat.")
            return self._finish(turn, state, guide_state, [message], remind=True)
        if not self.handoff.reaches(turn.scope):
            return self._person(turn, state, guide_state, typed=None)
        message = OutgoingMessage(text=_HANDED_OFF.get(turn.scope, _HANDED_OFF["personal"]))
        result = self._finish(turn, state, guide_state, [message], remind=True)
        # Kept for the curator's report like any question the bot could not answer itself.
        result.outcome = "unanswered"
        result.handoff = HandoffRequest(question=text[:MAX_QUESTION], reason="unanswered", scope=turn.scope)
        return result

    def _finish(
        self,
        turn: TurnInput,
        state: UserState,
        guide_state: GuideState | None,
        messages: list[OutgoingMessage],
        remind: bool,
    ) -> TurnResult:
        """Add the guide reminder (interruption answered) or a resume offer, then scope quick replies."""
        if remind and guide_state is not None:
            guide = self.kb.guide(guide_state.guide_id)
            follow = after_interruption(guide_state, guide, turn.now, self.guide_expiry)
            if follow is not None and follow.kind == ReplyKind.RESUME_OFFER:
                # Offer to resume once a day, not under every answer for a week.
                last = state.resume_offered_at
                if last is not None and turn.now - last < RESUME_OFFER_EVERY:
                    follow = None
                else:
                    state.resume_offered_at = turn.now
            if follow is not None:
                messages = [*messages, *render_guide_replies([follow], self.kb, in_thread=turn.scope != "personal")]
        return TurnResult(state=state, messages=messages)

    # ------------------------------------------------------------------ helpers
    def _platform_without_guide(self, command: GuideCommand) -> str | None:
        if command.action not in ("start", "restart") or not command.target:
            return None
        platform = self.matcher.match(command.target).platform
        return platform if platform and self.kb.guide_for(platform) is None else None

    @staticmethod
    def _none_of_these(pending: Pending, text: str) -> bool:
        """The typed answer "ingen av dem" (or the number of that last button) to a choice."""
        said = simplify(text)
        return said in _NONE_OF_THESE or said == str(len(pending.options) + 1)

    def _pick(self, pending: Pending, text: str, match: Match) -> PendingOption | None:
        """A typed answer to a clarifying question: a number, "alla", a platform or an option's
        label. A message that is a question of its own ("vårt instagram är kapat") is not one."""
        words = simplify(text).split()
        if len(words) > 6 or match.topic not in (None, "enable_2fa", *[o.topic for o in pending.options]):
            return None
        if len(words) == 1 and words[0].isdigit():
            index = int(words[0]) - 1
            return pending.options[index] if 0 <= index < len(pending.options) else None
        if pending.kind == "platform":
            if " ".join(words) in {"alla", "alla kanaler", "all", "samtliga", "allihop"}:
                return next((o for o in pending.options if o.platform == "all"), None)
            if match.platform and match.topic in (None, "enable_2fa"):
                return next((o for o in pending.options if o.platform == match.platform), None)
            return None
        labels = [simplify(o.label) for o in pending.options]
        hit = process.extractOne(" ".join(words), labels, scorer=fuzz.WRatio, score_cutoff=85)
        return pending.options[hit[2]] if hit else None
