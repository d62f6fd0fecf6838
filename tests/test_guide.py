"""The guide engine as a state machine: commands in, state and replies out (no Teams involved)."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from dialogs import (
    DEFAULT_EXPIRY,
    TRANSITIONS,
    GuideCommand,
    GuideReply,
    GuideState,
    GuideStatus,
    InvalidCommand,
    ReplyKind,
    StepNote,
    accepts_typed,
    after_interruption,
    choose_guide,
    dump_state,
    load_state,
    parse_text,
    parse_value,
    pending_resume,
    reminder,
    step,
)
from dialogs.commands import GUIDE_ACTIONS
from dialogs.guide import Phase
from knowledge.loader import load_knowledge_base
from knowledge.models import Guide, GuideStep, KnowledgeBase

T0 = dt.datetime(2026, 5, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


@pytest.fixture(scope="module")
def facebook(kb: KnowledgeBase) -> Guide:
    guide = kb.guide("facebook_2fa")
    assert guide is not None
    return guide


@pytest.fixture(scope="module")
def linkedin() -> Guide:
    """A made-up two-step guide: another platform is data, not code."""
    return Guide(
        id="linkedin_2fa",
        platform="linkedin",
        title="Tvåstegsverifiering på LinkedIn",
        intro="Två steg för att slå på tvåstegsverifiering på LinkedIn.",
        steps=[
            GuideStep(
                number=1, instruction="Öppna Inställningar och sekretess.", help="Klicka på din bild uppe till höger."
            ),
            GuideStep(
                number=2,
                instruction="Slå på tvåstegsverifiering under Logga in och säkerhet.",
                click="Slå på",
                help="Ange koden som skickas till din telefon.",
            ),
        ],
        summary="Klart, LinkedIn-kontot är skyddat.",
        help_url="https://www.linkedin.com/help/linkedin/answer/544",
    )


class User:
    """One person talking to the guide, the way the handler drives it."""

    def __init__(self, kb: KnowledgeBase, now: dt.datetime = T0):
        self.kb = kb
        self.now = now
        self.state: GuideState | None = None
        self.replies: list[GuideReply] = []

    def later(self, **delta: float) -> User:
        self.now += dt.timedelta(**delta)
        return self

    def _apply(self, command: GuideCommand | InvalidCommand) -> list[GuideReply]:
        assert accepts_typed(self.state, command)
        guide = choose_guide(self.kb, command, self.state)
        assert guide is not None
        self.state, self.replies = step(self.state, command, guide, self.now)
        return self.replies

    def say(self, text: str) -> list[GuideReply] | None:
        """None when the text is not for the guide (the handler would ask the knowledge base)."""
        command = parse_text(text)
        if command is None or not accepts_typed(self.state, command):
            return None
        return self._apply(command)

    def press(self, value: object) -> list[GuideReply]:
        command = parse_value(value)
        assert command is not None, "a guide button must be handled by the guide"
        return self._apply(command)

    def press_button(self, action: str) -> list[GuideReply]:
        """Press the button on the card the user has in front of them now."""
        assert self.state is not None
        return self.press({"cmd": "guide", "action": action, "guide": self.state.guide_id, "step": self.state.step})

    @property
    def kinds(self) -> list[ReplyKind]:
        return [r.kind for r in self.replies]

    @property
    def at(self) -> int | None:
        return self.state.step if self.state else None


# --- starting -------------------------------------------------------------------------------------


def test_starting_the_guide_introduces_it_and_shows_step_1(kb: KnowledgeBase, facebook: Guide) -> None:
    user = User(kb)
    replies = user.say("Starta guiden")
    assert [r.kind for r in replies] == [ReplyKind.INTRO, ReplyKind.STEP]
    assert replies[0].text == facebook.intro and "avbryt" in replies[0].text
    first = replies[1]
    assert (first.step, first.total, first.instruction) == (1, 11, facebook.steps[0].instruction)
    assert user.state is not None and user.state.status is GuideStatus.ACTIVE
    assert user.state.started_at == user.state.updated_at == T0


def test_the_handler_can_start_the_guide_for_a_how_to_question(kb: KnowledgeBase, facebook: Guide) -> None:
    """The matcher says enable_2fa/facebook; the handler starts the guide with a command of its own."""
    state, replies = step(None, GuideCommand(action="start", guide="facebook_2fa"), facebook, T0)
    assert state is not None and state.step == 1 and replies[-1].step == 1


# --- full runs ------------------------------------------------------------------------------------

NEXT_WORDS = ["nästa", "Nästa!", "klar", "ok", "OKEJ.", "done", "next", "nasta", "Klart!", "ok!"]


def test_a_full_run_by_typed_commands_reaches_the_summary(kb: KnowledgeBase, facebook: Guide) -> None:
    user = User(kb)
    user.say("starta guiden")
    seen = [user.replies[-1].step]
    for word in NEXT_WORDS:
        user.later(minutes=2).say(word)
        assert user.kinds == [ReplyKind.STEP]
        seen.append(user.replies[0].step)
        assert user.replies[0].instruction == facebook.steps[user.at - 1].instruction
    assert seen == list(range(1, 12))
    user.say("nästa")
    assert user.kinds == [ReplyKind.SUMMARY]
    assert user.replies[0].text == facebook.summary
    assert user.state is not None and user.state.status is GuideStatus.FINISHED


def test_a_full_run_by_button_presses_reaches_the_summary(kb: KnowledgeBase) -> None:
    user = User(kb)
    user.press({"cmd": "guide", "action": "start", "guide": "facebook_2fa"})
    for expected in range(2, 12):
        user.press_button("next")
        assert (user.kinds, user.at) == ([ReplyKind.STEP], expected)
    user.press_button("next")
    assert user.kinds == [ReplyKind.SUMMARY]


def test_after_the_summary_typed_words_are_no_longer_taken_by_the_guide(kb: KnowledgeBase) -> None:
    user = User(kb)
    user.say("starta guiden")
    for _ in range(11):
        user.say("nästa")
    assert user.say("ok") is None  # "ok" after the summary is small talk, not a guide command
    assert user.say("starta guiden") is not None and user.kinds == [ReplyKind.INTRO, ReplyKind.STEP]


# --- moving around --------------------------------------------------------------------------------


def test_back_on_step_1_says_it_is_the_first_step_and_stays(kb: KnowledgeBase) -> None:
    user = User(kb)
    user.say("starta guiden")
    for word in ("tillbaka", "Back!", "föregående"):
        user.say(word)
        assert user.at == 1 and user.kinds == [ReplyKind.STEP]
        assert user.replies[0].note is StepNote.FIRST_STEP and user.replies[0].step == 1
    user.press_button("back")
    assert user.at == 1 and user.replies[0].note is StepNote.FIRST_STEP


def test_back_goes_one_step_back(kb: KnowledgeBase) -> None:
    user = User(kb)
    user.say("starta guiden")
    user.say("nästa")
    user.say("nästa")
    user.say("tillbaka")
    assert user.at == 2 and user.replies[0].step == 2 and user.replies[0].note is None


def test_repeat_shows_the_same_step_again(kb: KnowledgeBase) -> None:
    user = User(kb)
    user.say("starta guiden")
    user.say("nästa")
    for word in ("upprepa", "repeat", "igen"):
        user.say(word)
        assert user.at == 2 and user.replies[0].step == 2 and user.replies[0].note is StepNote.REPEATED


@pytest.mark.parametrize(
    "text",
    [
        "Jag har fastnat!",
        "fastnat",
        "stuck",
        "hjälp med steget",
        "det ser annorlunda ut",
        "hittar inte",
        "jag hittar det inte",
    ],
)
def test_stuck_gives_the_steps_help_and_the_platforms_help_link(kb: KnowledgeBase, facebook: Guide, text: str) -> None:
    user = User(kb)
    user.say("starta guiden")
    user.say("nästa")
    replies = user.say(text)
    assert replies is not None and [r.kind for r in replies] == [ReplyKind.HELP]
    assert replies[0].help == facebook.steps[1].help
    assert replies[0].help_url == str(facebook.help_url)
    assert user.at == 2


def test_stuck_again_on_the_same_step_offers_more_than_the_same_help(kb: KnowledgeBase, facebook: Guide) -> None:
    user = User(kb)
    user.say("starta guiden")
    user.say("nästa")
    assert [r.kind for r in user.say("fastnat")] == [ReplyKind.HELP]
    again = user.say("det ser annorlunda ut")
    assert [r.kind for r in again] == [ReplyKind.STUCK_AGAIN]
    assert again[0].step == 2 and again[0].help_url == str(facebook.help_url) and user.at == 2
    # a new step is a new start: its first "fastnat" gives that step's help
    user.say("nästa")
    assert [r.kind for r in user.say("fastnat")] == [ReplyKind.HELP]
    assert user.at == 3


@pytest.mark.parametrize("word", ["avbryt", "Sluta!", "cancel", "stop", "avsluta"])
def test_cancel_stops_the_guide_and_forgets_it(kb: KnowledgeBase, word: str) -> None:
    user = User(kb)
    user.say("starta guiden")
    user.say("nästa")
    user.say(word)
    assert user.state is None and user.kinds == [ReplyKind.CANCELLED]
    assert user.say("nästa") is None  # no guide: "nästa" is for the knowledge base again


def test_starting_again_mid_guide_asks_instead_of_restarting(kb: KnowledgeBase) -> None:
    user = User(kb)
    user.say("starta guiden")
    for _ in range(3):
        user.say("nästa")
    user.say("starta guiden")
    assert user.kinds == [ReplyKind.CONFIRM_RESTART] and user.at == 4
    assert user.replies[0].step == 4 and user.replies[0].other_guide_id == "facebook_2fa"
    user.say("fortsätt")
    assert user.at == 4 and user.replies[0].note is StepNote.RESUMED
    user.say("börja om")
    assert user.at == 1 and user.replies[0].note is StepNote.RESTARTED


def test_restart_resets_the_start_time(kb: KnowledgeBase) -> None:
    user = User(kb)
    user.say("starta guiden")
    user.later(minutes=5).say("nästa")
    user.press({"cmd": "guide", "action": "restart", "guide": "facebook_2fa"})
    assert user.state is not None and user.state.started_at == user.now and user.at == 1


# --- leaving and coming back ----------------------------------------------------------------------


def test_a_paused_guide_resumes_at_the_saved_step(kb: KnowledgeBase) -> None:
    user = User(kb)
    user.say("starta guiden")
    for _ in range(4):
        user.say("nästa")
    user.say("pausa")
    assert user.kinds == [ReplyKind.PAUSED] and user.state is not None
    assert user.state.status is GuideStatus.PAUSED and user.at == 5
    assert user.later(hours=3).say("ok") is None  # a stray "ok" does not wake an old guide
    user.say("fortsätt")
    assert user.at == 5 and user.state.status is GuideStatus.ACTIVE
    assert user.replies[0].step == 5 and user.replies[0].note is StepNote.RESUMED


def test_a_next_button_on_a_paused_guide_resumes_without_skipping(kb: KnowledgeBase) -> None:
    user = User(kb)
    user.say("starta guiden")
    user.say("nästa")
    user.say("pausa")
    user.press_button("next")
    assert user.at == 2 and user.replies[0].step == 2 and user.state.status is GuideStatus.ACTIVE


def test_a_user_who_paused_is_offered_to_resume(kb: KnowledgeBase, facebook: Guide) -> None:
    user = User(kb)
    user.say("starta guiden")
    user.say("nästa")
    user.say("pausa")
    offer = pending_resume(user.state, facebook, user.now + dt.timedelta(minutes=1))
    assert offer is not None and offer.kind is ReplyKind.RESUME_OFFER and offer.step == 2


def test_a_user_who_comes_back_after_a_while_is_offered_to_resume(kb: KnowledgeBase, facebook: Guide) -> None:
    user = User(kb)
    user.say("starta guiden")
    user.say("nästa")
    assert pending_resume(user.state, facebook, user.now + dt.timedelta(minutes=10)) is None
    offer = pending_resume(user.state, facebook, user.now + dt.timedelta(days=2))
    assert offer is not None and offer.step == 2


def test_a_guide_untouched_for_seven_days_expires_quietly(kb: KnowledgeBase, facebook: Guide) -> None:
    user = User(kb)
    user.say("starta guiden")
    user.say("nästa")
    stored = dump_state(user.state)
    six_days = T0 + dt.timedelta(days=6, hours=23)
    seven_days = T0 + DEFAULT_EXPIRY
    assert load_state(stored, six_days) == user.state
    assert load_state(stored, seven_days) is None
    assert pending_resume(user.state, facebook, seven_days) is None
    assert load_state(stored, T0 + dt.timedelta(days=2), expiry=dt.timedelta(days=1)) is None


def test_a_finished_guide_offers_no_resume(kb: KnowledgeBase, facebook: Guide) -> None:
    user = User(kb)
    user.say("starta guiden")
    for _ in range(11):
        user.say("nästa")
    assert pending_resume(user.state, facebook, user.now + dt.timedelta(days=1)) is None


def test_after_an_interruption_the_reminder_says_where_the_user_is(kb: KnowledgeBase, facebook: Guide) -> None:
    user = User(kb)
    user.say("starta guiden")
    for _ in range(3):
        user.say("nästa")
    assert user.say("vad är återställningskoder?") is None  # the handler answers it from the KB
    note = reminder(user.state, facebook)
    assert (note.kind, note.step, note.total, note.guide_title) == (ReplyKind.REMINDER, 4, 11, facebook.title)
    user.say("nästa")
    assert user.at == 5


def test_after_an_interruption_the_handler_adds_a_reminder_or_a_resume_offer(
    kb: KnowledgeBase, facebook: Guide
) -> None:
    user = User(kb)
    assert after_interruption(user.state, None, user.now) is None  # no guide: nothing to add
    user.say("starta guiden")
    user.say("nästa")
    assert after_interruption(user.state, facebook, user.now).kind is ReplyKind.REMINDER
    assert after_interruption(user.state, facebook, user.now + dt.timedelta(hours=2)).kind is ReplyKind.RESUME_OFFER
    assert after_interruption(user.state, facebook, user.now + dt.timedelta(days=8)) is None
    user.say("pausa")
    assert after_interruption(user.state, facebook, user.now).kind is ReplyKind.RESUME_OFFER
    user.say("fortsätt")
    for _ in range(10):
        user.say("nästa")
    assert after_interruption(user.state, facebook, user.now) is None  # finished


# --- stale and malformed input --------------------------------------------------------------------


def test_a_next_button_on_an_old_card_does_not_skip_steps(kb: KnowledgeBase) -> None:
    user = User(kb)
    user.say("starta guiden")
    for _ in range(5):
        user.say("nästa")
    before = user.state
    for action in ("next", "back", "stuck", "repeat"):
        user.press({"cmd": "guide", "action": action, "guide": "facebook_2fa", "step": 3})
        assert user.state is before and user.at == 6
        assert user.kinds == [ReplyKind.STEP] and user.replies[0].step == 6
        assert user.replies[0].note is StepNote.STALE_BUTTON


def test_a_double_pressed_next_button_moves_one_step(kb: KnowledgeBase) -> None:
    user = User(kb)
    user.say("starta guiden")
    press = {"cmd": "guide", "action": "next", "guide": "facebook_2fa", "step": 1}
    user.press(press)
    user.press(press)
    assert user.at == 2 and user.replies[0].note is StepNote.STALE_BUTTON


def test_a_button_from_another_guide_does_not_move_this_one(kb: KnowledgeBase) -> None:
    user = User(kb)
    user.say("starta guiden")
    user.press({"cmd": "guide", "action": "next", "guide": "linkedin_2fa", "step": 1})
    assert user.at == 1 and user.replies[0].note is StepNote.STALE_BUTTON


MALFORMED = [
    pytest.param({"cmd": "guide", "action": "fly"}, id="unknown-action"),
    pytest.param({"cmd": "guide", "step": "x"}, id="step-not-a-number-and-no-action"),
    pytest.param({"cmd": "guide", "action": "next", "step": "x"}, id="step-not-a-number"),
    pytest.param({"cmd": "guide", "action": "next", "step": 0}, id="step-zero"),
    pytest.param({"cmd": "guide", "action": "next", "step": True}, id="step-boolean"),
    pytest.param({"cmd": "guide", "action": "next", "guide": "../../etc"}, id="guide-id-garbage"),
    pytest.param({"cmd": "guide", "action": ["next"]}, id="action-list"),
    pytest.param({}, id="empty-object"),
    pytest.param({"cmd": 5}, id="cmd-not-text"),
    pytest.param("nästa", id="a-string"),
    pytest.param(["next"], id="a-list"),
    pytest.param(None, id="null"),
]


@pytest.mark.parametrize("value", MALFORMED)
def test_a_malformed_submit_gets_a_helpful_reply_and_leaves_the_state_alone(kb: KnowledgeBase, value: object) -> None:
    user = User(kb)
    user.say("starta guiden")
    user.say("nästa")
    before = user.state
    command = parse_value(value)
    assert isinstance(command, InvalidCommand)
    user.press(value)
    assert user.state is before
    assert user.kinds == [ReplyKind.INVALID] and user.replies[0].step == 2
    assert user.replies[0].instruction is not None


def test_a_malformed_submit_without_a_guide_offers_to_start_one(kb: KnowledgeBase) -> None:
    user = User(kb)
    user.press({"cmd": "guide", "action": "fly"})
    assert user.state is None and user.kinds == [ReplyKind.INVALID] and user.replies[0].step is None


def test_another_modules_submit_is_not_taken_by_the_guide() -> None:
    assert parse_value({"cmd": "topic", "topic": "recovery_codes"}) is None


def test_a_submit_with_extra_keys_from_teams_still_works() -> None:
    command = parse_value({"cmd": "guide", "action": "next", "guide": "facebook_2fa", "step": 4, "msteams": {}})
    assert command == GuideCommand(action="next", guide="facebook_2fa", step=4)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   \n\t", id="whitespace"),
        pytest.param("x" * 50_000, id="50000-chars"),
        pytest.param("nästa " * 10_000, id="50000-chars-of-commands"),
        pytest.param("!!!", id="punctuation"),
    ],
)
def test_empty_or_huge_text_is_not_a_command_and_keeps_the_guide(kb: KnowledgeBase, facebook: Guide, text: str) -> None:
    user = User(kb)
    user.say("starta guiden")
    user.say("nästa")
    before = user.state
    started = time.perf_counter()
    assert user.say(text) is None
    assert time.perf_counter() - started < 0.5
    assert user.state is before
    assert reminder(user.state, facebook).step == 2


# --- state, storage, many users -------------------------------------------------------------------


def test_the_state_survives_a_json_round_trip(kb: KnowledgeBase) -> None:
    user = User(kb)
    user.say("starta guiden")
    user.later(minutes=3).say("nästa")
    stored = json.loads(json.dumps(dump_state(user.state)))
    assert stored["guide_id"] == "facebook_2fa" and stored["step"] == 2 and stored["status"] == "active"
    restored = load_state(stored, user.now)
    assert restored == user.state
    assert restored.updated_at.tzinfo is not None


def test_unreadable_stored_state_counts_as_no_guide() -> None:
    assert load_state({"guide_id": "facebook_2fa", "step": "two"}, T0) is None
    assert load_state({"step": 1}, T0) is None
    assert load_state(None, T0) is None
    assert dump_state(None) is None


def test_the_engine_refuses_a_naive_clock(facebook: Guide) -> None:
    with pytest.raises(ValueError):
        step(None, GuideCommand(action="start"), facebook, dt.datetime(2026, 5, 20, 9, 0))


def test_two_users_in_one_channel_keep_their_own_progress(kb: KnowledgeBase) -> None:
    """The handler keys state by (conversation, user); the engine never shares anything between them."""
    channel: dict[str, GuideState | None] = {}
    alice, bob = User(kb), User(kb)
    alice.say("starta guiden")
    bob.say("starta guiden")
    for _ in range(5):
        alice.say("nästa")
    bob.say("nästa")
    channel["alice"], channel["bob"] = alice.state, bob.state
    assert (alice.at, bob.at) == (6, 2)
    bob.say("avbryt")
    channel["bob"] = bob.state
    assert channel["alice"] is alice.state and alice.at == 6 and channel["bob"] is None


# --- data-driven ----------------------------------------------------------------------------------


def test_any_guide_from_the_data_runs_without_code_changes(linkedin: Guide) -> None:
    state, replies = step(None, GuideCommand(action="start", guide=linkedin.id), linkedin, T0)
    assert [r.kind for r in replies] == [ReplyKind.INTRO, ReplyKind.STEP]
    assert replies[1].total == 2 and replies[1].guide_title == linkedin.title
    state, replies = step(state, parse_text("nästa"), linkedin, T0)
    assert replies[0].step == 2 and replies[0].click == "Slå på"
    state, replies = step(state, parse_text("nästa"), linkedin, T0)
    assert replies[0].kind is ReplyKind.SUMMARY and replies[0].text == linkedin.summary
    assert state is not None and state.status is GuideStatus.FINISHED


def test_a_typed_platform_picks_that_platforms_guide(kb: KnowledgeBase, linkedin: Guide) -> None:
    both = kb.model_copy(update={"guides": [*kb.guides, linkedin]})
    assert choose_guide(both, parse_text("starta linkedin-guiden"), None).id == "linkedin_2fa"
    assert choose_guide(both, parse_text("starta fb-guiden"), None).id == "facebook_2fa"
    assert choose_guide(both, parse_text("starta guiden"), None).id == "facebook_2fa"


def test_starting_another_guide_mid_guide_asks_first(kb: KnowledgeBase, linkedin: Guide) -> None:
    both = kb.model_copy(update={"guides": [*kb.guides, linkedin]})
    user = User(both)
    user.say("starta guiden")
    user.say("nästa")
    user.say("starta linkedin-guiden")
    assert user.kinds == [ReplyKind.CONFIRM_RESTART] and user.state.guide_id == "facebook_2fa"
    assert user.replies[0].guide_id == "linkedin_2fa" and user.replies[0].other_step == 2
    user.press({"cmd": "guide", "action": "restart", "guide": "linkedin_2fa"})
    assert user.state.guide_id == "linkedin_2fa" and user.at == 1


def test_a_guide_that_lost_steps_keeps_the_user_on_its_last_step(facebook: Guide, linkedin: Guide) -> None:
    state = GuideState(guide_id="linkedin_2fa", step=7, started_at=T0, updated_at=T0)
    new, replies = step(state, parse_text("upprepa"), linkedin, T0)
    assert new.step == 2 and replies[0].step == 2


# --- the transition table -------------------------------------------------------------------------


def test_every_phase_and_action_has_a_defined_move() -> None:
    missing = [(p, a) for p in Phase for a in GUIDE_ACTIONS if (p, a) not in TRANSITIONS]
    assert missing == []


def test_without_a_guide_moves_offer_to_start_one(facebook: Guide) -> None:
    for action in ("next", "back", "repeat", "stuck", "resume", "pause"):
        state, replies = step(None, GuideCommand(action=action), facebook, T0)
        assert state is None and [r.kind for r in replies] == [ReplyKind.NOT_IN_GUIDE]


# --- typed commands -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("nästa", "next"),
        ("Nästa!", "next"),
        ("NÄSTA", "next"),
        ("nasta", "next"),
        ("  ok  ", "next"),
        ("Okej.", "next"),
        ("klar!", "next"),
        ("Done", "next"),
        ("next", "next"),
        ("tillbaka", "back"),
        ("Back", "back"),
        ("föregående", "back"),
        ("foregaende", "back"),
        ("upprepa", "repeat"),
        ("Repeat!", "repeat"),
        ("igen", "repeat"),
        ("avbryt", "cancel"),
        ("Sluta!", "cancel"),
        ("cancel", "cancel"),
        ("stop", "cancel"),
        ("avsluta", "cancel"),
        ("Jag har fastnat!", "stuck"),
        ("fastnat", "stuck"),
        ("stuck", "stuck"),
        ("hjälp med steget", "stuck"),
        ("hjalp med steget", "stuck"),
        ("starta guiden", "start"),
        ("Starta Facebook-guiden!", "start"),
        ("starta guiden igen", "start"),
        ("guiden", "start"),
        ("start guide", "start"),
        ("fortsätt", "resume"),
        ("Fortsatt", "resume"),
        ("återuppta", "resume"),
        ("continue", "resume"),
        ("resume", "resume"),
        ("börja om", "restart"),
        ("borja om", "restart"),
        ("restart", "restart"),
        ("starta om", "restart"),
        ("pausa", "pause"),
        ("<at>Kanalvakten</at> nästa", "next"),
    ],
)
def test_typed_commands_are_understood_in_swedish_and_english(text: str, action: str) -> None:
    command = parse_text(text)
    assert command is not None and command.action == action and command.typed


def test_continue_means_resume_not_next() -> None:
    assert parse_text("fortsätt").action == "resume"


def test_a_typed_platform_is_kept_as_the_target() -> None:
    assert parse_text("starta facebook-guiden").target == "facebook"
    assert parse_text("starta guiden för Instagram").target == "instagram"
    assert parse_text("starta guiden").target is None


@pytest.mark.parametrize(
    "text",
    [
        "nästa steg är oklart, vad betyder Redigera?",
        "vad är återställningskoder?",
        "hur slår jag på tvåfaktor på Facebook?",
        "ok men vad händer om jag tappar telefonen",
        "var hittar jag guiden om valet",
    ],
)
def test_questions_are_not_mistaken_for_commands(text: str) -> None:
    assert parse_text(text) is None


def test_typed_words_only_take_the_turn_when_they_make_sense(kb: KnowledgeBase) -> None:
    active = GuideState(guide_id="facebook_2fa", step=3, started_at=T0, updated_at=T0)
    paused = active.model_copy(update={"status": GuideStatus.PAUSED})
    ok, resume, start = parse_text("ok"), parse_text("fortsätt"), parse_text("starta guiden")
    assert accepts_typed(active, ok) and accepts_typed(active, resume)
    assert not accepts_typed(paused, ok) and accepts_typed(paused, resume)
    assert not accepts_typed(None, ok) and accepts_typed(None, start)
    assert accepts_typed(None, parse_value({"cmd": "guide", "action": "next"}))  # buttons always
