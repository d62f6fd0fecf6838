"""Every button on every card the bot can send fits a phone, and a link looks like a link.

The cards are drawn here from the real knowledge base, without the SDK: every topic's answer
(for every platform), the clarifying questions, every guide reply in a personal chat and in a
thread, the answers' feedback states, the welcome cards, the guide offer, the announcement and
the admin's cards, and the experts' card. `MAX_BUTTON_TITLE` (cards/message.py) says why 28.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from announcements.content import announcement_content
from cards.announcement import render_announcement, render_confirm, render_preview
from cards.answer import FeedbackRef, render_answer
from cards.conversation import guide_offer
from cards.guide import PersonHelp, render_guide_replies
from cards.handoff import expert_message
from cards.message import LINK_MARK, MAX_BUTTON_TITLE, OutgoingMessage, card_actions, merge_messages
from cards.welcome import welcome_message
from dialogs import reminder
from helpdesk.handoff import HandoffRequest
from knowledge.answers import Composer
from knowledge.loader import load_knowledge_base
from knowledge.models import Election
from tests.cardschema import validate_card
from tests.test_guide_cards import _at, _every_reply

KB = load_knowledge_base()
TODAY = dt.date(2026, 8, 20)
_FACEBOOK = KB.guide("facebook_2fa")
assert _FACEBOOK is not None
FACEBOOK = _FACEBOOK


def _answers() -> Iterator[tuple[str, OutgoingMessage]]:
    composer = Composer(KB)
    answers = [(f"topic-{t.id}", composer.topic(t.id, today=TODAY)) for t in KB.topics]
    answers += [(f"enable_2fa-{p.id}", composer.enable_2fa([p.id], TODAY)) for p in KB.platforms]
    answers += [("enable_2fa-every-platform", composer.enable_2fa([p.id for p in KB.platforms], TODAY))]
    answers += [
        ("clarify-platform", composer.clarify_platform()),
        ("out-of-scope", composer.out_of_scope(TODAY)),
        ("other-platform", composer.other_platform()),
    ]
    ref = FeedbackRef(question_id="0" * 32, asked_at=dt.datetime(2026, 8, 20, tzinfo=dt.UTC), topic="why_2fa")
    for name, answer in answers:
        yield name, render_answer(answer)
        for given in (None, "up", "down", "comment"):
            yield f"{name}-feedback-{given}", render_answer(answer, ref, given=given)
    footer = render_guide_replies([reminder(_at(4), FACEBOOK)], KB)
    yield "answer-with-guide-footer", merge_messages([render_answer(answers[0][1], ref), *footer])[0]


def _guide() -> Iterator[tuple[str, OutgoingMessage]]:
    for param in _every_reply(FACEBOOK):
        (reply,) = param.values
        for person in (PersonHelp(handoff=True), PersonHelp(handoff=False)):
            for in_thread in (False, True):
                for message in render_guide_replies([reply], KB, person, in_thread=in_thread):
                    yield f"guide-{param.id}-{'thread' if in_thread else 'personal'}-{person.handoff}", message


def _other() -> Iterator[tuple[str, OutgoingMessage]]:
    yield "welcome-personal", welcome_message("personal")
    yield "welcome-team", welcome_message("channel")
    yield "guide-offer", guide_offer(FACEBOOK)
    yield "guide-offer-finished", guide_offer(FACEBOOK, finished=True)
    content = announcement_content(KB, Election(name="Riksdagsvalet", date=dt.date(2026, 9, 13)), TODAY)
    yield "announcement", render_announcement(content)
    yield "announcement-preview", render_preview(content, {"personal": 3, "team": 1})
    yield "announcement-confirm", render_confirm(content, 4, 4)
    request = HandoffRequest(
        question="Vad gör vi?", reason="urgent", scope="channel", link="https://teams.microsoft.com/l/message/x"
    )
    yield "experts", expert_message(request)


_CARDS = [*_answers(), *_guide(), *_other()]
EVERY_CARD = [pytest.param(message, id=name) for name, message in _CARDS]


def _buttons(message: OutgoingMessage) -> list[dict[str, Any]]:
    assert message.card is not None
    return card_actions(message.card)


def test_the_cards_here_cover_every_kind_of_card_with_buttons() -> None:
    kinds = {name.split("-")[0] for name, _ in _CARDS}
    assert {"topic", "enable_2fa", "clarify", "guide", "welcome", "announcement", "experts"} <= kinds
    assert sum(len(_buttons(message)) for _, message in _CARDS) > 500


@pytest.mark.parametrize("message", EVERY_CARD)
def test_every_button_fits_a_phone_card_and_a_link_looks_like_one(message: OutgoingMessage) -> None:
    validate_card(message.card)  # type: ignore[arg-type]
    too_long = [a["title"] for a in _buttons(message) if len(a["title"]) > MAX_BUTTON_TITLE]
    assert not too_long, f"longer than {MAX_BUTTON_TITLE} characters: {too_long}"
    for action in _buttons(message):
        if action["type"] == "Action.OpenUrl":
            assert action["title"].endswith(LINK_MARK), action
        else:  # a button that asks the bot something looks plain
            assert LINK_MARK.strip() not in action["title"], action
    assert all(len(row) <= 6 for row in _rows(message)), "more than six buttons side by side"


def _rows(message: OutgoingMessage) -> list[list[dict[str, Any]]]:
    """The card's own buttons and each ActionSet's: each is one row in Teams."""
    rows = [message.card.get("actions", [])]  # type: ignore[union-attr]
    stack: list[Any] = list(message.card["body"])  # type: ignore[index]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "ActionSet":
                rows.append(node["actions"])
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(node)
    return rows


@pytest.mark.parametrize("topic", [pytest.param(t, id=t.id) for t in KB.topics])
def test_every_topic_fits_a_button_as_it_is_offered(topic) -> None:
    """A "menade du…" choice and the related questions offer topics by `label`."""
    assert len(topic.label) <= MAX_BUTTON_TITLE
