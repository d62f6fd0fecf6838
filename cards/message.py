"""The outgoing message every answering module's result is turned into, and card building blocks.

A message is plain data: the text fallback (always present: screen readers, notifications, and
clients that cannot render cards read it) and an optional Adaptive Card 1.5 as a dict. Only the
activity edge turns it into an `Activity` (`teams.activity.to_activity`).

Card buttons are `Action.Submit` with `data = {"cmd": <command>, ...}` (payloads in `cards.actions`);
a submit's `value` is treated as a command, never as free text.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from cards.actions import CMD

__all__ = [
    "OutgoingMessage",
    "CARD_CONTENT_TYPE",
    "adaptive_card",
    "text_block",
    "submit_action",
    "button",
    "open_url_action",
    "fact_set",
]

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


class OutgoingMessage(BaseModel):
    """One message to send."""

    text: str = Field(min_length=1)
    """Plain-text (light Markdown) fallback; always set."""
    card: dict[str, Any] | None = None
    """Adaptive Card 1.5 JSON, or None for a text-only message."""
    suggested: list[tuple[str, str]] = Field(default_factory=list)
    """Quick replies (title, text to send), shown only in 1:1 chats as Teams requires."""


def adaptive_card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None,
                  fallback_text: str | None = None) -> dict[str, Any]:
    """An Adaptive Card 1.5 with full width in Teams."""
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        card["actions"] = actions
    if fallback_text:
        card["fallbackText"] = fallback_text
    return card


def text_block(text: str, *, size: str | None = None, weight: str | None = None,
               subtle: bool = False, wrap: bool = True, color: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "TextBlock", "text": text, "wrap": wrap}
    if size:
        block["size"] = size
    if weight:
        block["weight"] = weight
    if subtle:
        block["isSubtle"] = True
    if color:
        block["color"] = color
    return block


def button(title: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A button that sends `payload` (from `cards.actions`) back as the activity's `value`."""
    return {"type": "Action.Submit", "title": title, "data": payload}


def submit_action(title: str, cmd: str, **data: Any) -> dict[str, Any]:
    """A button that sends `{"cmd": cmd, **data}` back as the activity's `value`."""
    return button(title, {CMD: cmd, **data})


def open_url_action(title: str, url: str) -> dict[str, Any]:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def fact_set(facts: list[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": t, "value": v} for t, v in facts]}
