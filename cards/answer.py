"""Render a knowledge-base `Answer` as a Teams message: Adaptive Card 1.5 and a text fallback."""

from __future__ import annotations

from cards.message import OutgoingMessage, adaptive_card, button, open_url_action, text_block
from knowledge.answers import Answer

__all__ = ["render_answer", "answer_text"]


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
        lines.append(("Välj: " if answer.kind in {"clarify_platform", "did_you_mean"} else "Du kan också fråga om: ") + choices)
    return "\n".join(lines).strip()


def render_answer(answer: Answer) -> OutgoingMessage:
    body = [text_block(answer.title, size="Medium", weight="Bolder")]
    text = answer.text[len(answer.title):].strip() if answer.text.startswith(answer.title) else answer.text
    body.extend(text_block(paragraph) for paragraph in text.split("\n\n") if paragraph.strip())
    actions = [open_url_action(link.label, str(link.url)) for link in answer.links]
    actions += [
        button(f.label, f.data) for f in answer.followups
    ]
    # Teams shows at most six actions on a card; links first, they are the point of the answer.
    card = adaptive_card(body, actions[:6], fallback_text=answer_text(answer))
    suggested = [(f.label, f.label) for f in answer.followups] if answer.kind == "clarify_platform" else []
    return OutgoingMessage(text=answer_text(answer), card=card, suggested=suggested)
