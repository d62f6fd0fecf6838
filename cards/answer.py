"""Render a knowledge-base `Answer` as a Teams message: Adaptive Card 1.5 and a text fallback.

An answer to a topic carries 👍/👎 (`FeedbackRef` says which question they are about). Pressing
one draws the same card again with the buttons replaced (`given`): a thank-you, and after 👎 an
optional comment and "Fråga en person". The bot updates the card the user pressed in place.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from cards.actions import COMMENT_INPUT, feedback_payload, person_payload
from cards.message import OutgoingMessage, action_set, adaptive_card, button, open_url_action, text_block
from knowledge.answers import Answer

__all__ = [
    "FeedbackRef",
    "render_answer",
    "answer_text",
    "wants_feedback",
    "THANKS",
    "PERSON_BUTTON",
    "MAX_COMMENT",
]

THANKS = "Tack för ditt svar!"
PERSON_BUTTON = "Fråga en person"
MAX_COMMENT = 500
"""Characters a comment after 👎 may have."""
_NO_FEEDBACK_TOPICS = {"capabilities"}
"""Topic answers that are a menu rather than an answer: no 👍/👎."""

Given = Literal["up", "down", "comment"]


class FeedbackRef(BaseModel):
    """Which question an answer's 👍/👎 are about, and how to draw the answer again."""

    question_id: str
    """The question event's id (`helpdesk.question_log.QuestionEvent.id`)."""
    asked_at: dt.datetime
    """When it was asked (the event's time: its storage key starts with it)."""
    topic: str
    """The topic answered."""
    platforms: list[str] = Field(default_factory=list)
    """The platforms the answer was about."""


def wants_feedback(answer: Answer) -> bool:
    """Answers to a topic get 👍/👎; clarifying questions, small talk and the menu do not."""
    return answer.kind == "answer" and answer.topic is not None and answer.topic not in _NO_FEEDBACK_TOPICS


def answer_text(answer: Answer) -> str:
    """The plain-text form: what a client without cards, a notification or `knowledge ask` shows."""
    # A clarifying question is its own title: say it once.
    lines = [answer.text] if answer.text.startswith(answer.title) else [f"**{answer.title}**", "", answer.text]
    if answer.links:
        lines.append("")
        lines.extend(f"- {link.label} – {link.url}" for link in answer.links)
    if answer.followups:
        lines.append("")
        choices = ", ".join(f'"{f.label}"' for f in answer.followups)
        lines.append(
            ("Välj: " if answer.kind in {"clarify_platform", "did_you_mean"} else "Du kan också fråga om: ") + choices
        )
    return "\n".join(lines).strip()


def render_answer(
    answer: Answer, feedback: FeedbackRef | None = None, *, given: Given | None = None
) -> OutgoingMessage:
    """The answer's card: title, text, its links and follow-up questions beside it, and under
    them 👍/👎 (with `feedback`) or, once pressed (`given`), what replaced them."""
    body = [text_block(answer.title, size="Medium", weight="Bolder")]
    text = answer.text[len(answer.title) :].strip() if answer.text.startswith(answer.title) else answer.text
    body.extend(text_block(paragraph) for paragraph in text.split("\n\n") if paragraph.strip())
    # Links first, they are the point of the answer; six buttons in all at most.
    actions = [open_url_action(link.label, str(link.url)) for link in answer.links]
    actions += [button(f.label, f.data) for f in answer.followups]
    if actions:
        body.append(action_set(actions[:6]))
    if feedback is not None:
        body.append(_feedback_part(feedback, given))
    return OutgoingMessage(text=answer_text(answer), card=adaptive_card(body, fallback_text=answer_text(answer)))


def _feedback_part(ref: FeedbackRef, given: Given | None) -> dict[str, Any]:
    """ "Fick du svar?" 👍 👎, or the thank-you (after 👎 with a comment field and a person)."""

    def payload(value: str) -> dict[str, Any]:
        return feedback_payload(value, ref.question_id, ref.topic, ref.platforms, ref.asked_at.isoformat())

    items: list[dict[str, Any]]
    if given is None:
        items = [
            text_block("Fick du svar på din fråga?", subtle=True, size="Small"),
            action_set([button("👍 Ja", payload("up")), button("👎 Nej", payload("down"))]),
        ]
    elif given == "up":
        items = [text_block(THANKS, color="Good", weight="Bolder")]
    elif given == "down":
        items = [
            text_block(THANKS, color="Good", weight="Bolder"),
            {
                "type": "Input.Text",
                "id": COMMENT_INPUT,
                "label": "Vad saknades? (frivilligt)",
                "placeholder": "Skriv gärna vad du ville veta",
                "isMultiline": True,
                "maxLength": MAX_COMMENT,
            },
            action_set([button("Skicka", payload("comment")), button(PERSON_BUTTON, person_payload())]),
        ]
    else:
        items = [
            text_block("Tack! Din kommentar hjälper oss att göra svaren bättre.", color="Good", weight="Bolder"),
            action_set([button(PERSON_BUTTON, person_payload())]),
        ]
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}
