"""Turn logic without the SDK: the "menade du…" choice and its two ways of being answered."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.conversation import Conversation, TurnInput, UserState
from cards.message import card_actions
from dialogs import GuideState
from knowledge.answers import Composer
from knowledge.loader import load_knowledge_base
from knowledge.matcher import Candidate, Match, Matcher

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


class TooCloseToCall(Matcher):
    """The real matcher, except that one phrase is judged ambiguous between two topics."""

    def match(self, question: str) -> Match:
        if question == "koder":
            return Match(
                topic="recovery_codes",
                platform=None,
                score=0.62,
                ambiguous=True,
                runners_up=[Candidate(topic="what_is_2fa", score=0.6)],
            )
        return super().match(question)


@pytest.fixture(scope="module")
def conversation() -> Conversation:
    kb = load_knowledge_base()
    return Conversation(kb, TooCloseToCall(kb), Composer(kb))


def _turn(conversation: Conversation, state: UserState, text: str = "", value=None):
    return conversation.handle(TurnInput(text=text, value=value, now=NOW), state)


def test_a_question_too_close_to_call_offers_a_choice(conversation):
    result = _turn(conversation, UserState(), "koder")
    assert result.messages[0].text.startswith("**Menade du…**")
    assert [o.topic for o in result.state.pending.options] == ["recovery_codes", "what_is_2fa"]
    assert result.outcome == "asked_back"


@pytest.mark.parametrize(
    "answer, title",
    [
        pytest.param("2", "Vad är tvåfaktorsinloggning?", id="by-number"),
        pytest.param("vad är tvåfaktorsinloggning", "Vad är tvåfaktorsinloggning?", id="by-label"),
    ],
)
def test_the_choice_can_be_answered_by_typing(conversation, answer, title):
    asked = _turn(conversation, UserState(), "koder")
    result = _turn(conversation, asked.state, answer)
    assert title in result.messages[0].text
    assert result.state.pending is None


def test_the_choice_can_be_answered_by_a_button(conversation):
    asked = _turn(conversation, UserState(), "koder")
    button = next(
        a["data"] for a in card_actions(asked.messages[0].card) if a.get("data", {}).get("topic") == "recovery_codes"
    )
    result = _turn(conversation, asked.state, value=button)
    assert "Återställningskoder" in result.messages[0].text


def test_a_new_question_instead_of_a_choice_is_answered_as_asked(conversation):
    asked = _turn(conversation, UserState(), "koder")
    result = _turn(conversation, asked.state, "när är valet?")
    assert "EU-valet" in result.messages[0].text


def test_the_state_is_typed_end_to_end_and_a_broken_guide_costs_only_the_guide(conversation):
    started = _turn(conversation, UserState(), "starta guiden")
    assert isinstance(started.state.guide, GuideState) and started.state.guide.step == 1
    stored = started.state.model_dump(mode="json")  # what the handler writes
    assert UserState.model_validate(stored) == started.state
    stored["guide"]["step"] = "två"  # written by some other version
    stored["pending"] = _turn(conversation, UserState(), "koder").state.pending.model_dump(mode="json")
    restored = UserState.model_validate(stored)
    assert restored.guide is None and restored.pending is not None


def test_a_near_miss_offers_the_plausible_topics_and_none_of_them(conversation):
    result = _turn(conversation, UserState(), "hur länge ska vi spara raderade kommentarer")
    message = result.messages[0]
    assert message.text.startswith("**Menade du…**")
    labels = [a["title"] for a in card_actions(message.card)]
    assert 1 <= len(labels) - 1 <= 3 and labels[-1] == "Ingen av dem"
    assert "Stänga av kommentarer" not in labels[:1]
    assert result.state.pending.kind == "choice" and result.outcome == "asked_back"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param("ingen av dem", id="typed"),
        pytest.param("nej", id="no"),
        pytest.param("3", id="number-of-the-last-button"),
    ],
)
def test_none_of_them_typed_gets_the_out_of_scope_answer(conversation, answer):
    asked = _turn(conversation, UserState(), "koder")  # two options: recovery_codes, what_is_2fa
    result = _turn(conversation, asked.state, answer)
    assert "utanför det jag kan" in result.messages[0].text
    assert result.state.pending is None and result.unanswered


def test_none_of_them_as_a_button_gets_the_out_of_scope_answer(conversation):
    asked = _turn(conversation, UserState(), "koder")
    button = next(a["data"] for a in card_actions(asked.messages[0].card) if a["title"] == "Ingen av dem")
    result = _turn(conversation, asked.state, value=button)
    assert "utanför det jag kan" in result.messages[0].text
    assert result.state.pending is None
