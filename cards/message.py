"""The outgoing message every answering module's result is turned into, and card building blocks.

A message is plain data: the text fallback (always present: screen readers, notifications, and
clients that cannot render cards read it) and an optional Adaptive Card 1.5 as a dict. Only the
activity edge turns it into an `Activity` (`teams.activity.to_activity`): a message with a card
is sent as the card alone, its text going into the card's `fallbackText` and the activity's
`summary` (Teams shows an activity with both text and a card as two messages).

What one turn says is one message: `merge_messages` folds a turn's messages into one card.

Card buttons are `Action.Submit` with `data = {"cmd": <command>, ...}` (payloads in `cards.actions`);
a submit's `value` is treated as a command, never as free text. Link buttons (`open_url_action`)
end in `LINK_MARK`, so they can be told from buttons that ask the bot something; every button
title fits `MAX_BUTTON_TITLE` characters.
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
    "action_set",
    "merge_messages",
    "card_actions",
    "Mention",
    "LINK_MARK",
    "MAX_BUTTON_TITLE",
]

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"

LINK_MARK = " ↗"
"""Ends every link button's title: a link leaves Teams, a plain button asks the bot."""
MAX_BUTTON_TITLE = 28
"""Characters in a button title, the link mark included. On a 330-px phone card a button has
about 330 - 2 * 16 (card padding) - 2 * 12 (button padding) = 274 px for its title; Teams' 14-px
semibold Segoe UI averages about 7.5 px a character in Swedish text, so some 36 characters fit.
28 leaves a fifth for wide letters (m, w, å) and larger text settings, and holds the words
Swedish makes long: "tvåfaktorsinloggning" alone is 20."""


class Mention(BaseModel):
    """Someone to @mention in a message (the asker in a channel thread, the experts)."""

    id: str
    """Their Teams user id (29:…) or Azure AD object id."""
    name: str
    """Their display name, shown in the mention."""


class OutgoingMessage(BaseModel):
    """One message to send."""

    text: str = Field(min_length=1)
    """Plain-text (light Markdown) fallback; always set. With a card it becomes the card's
    `fallbackText` and the activity's `summary`, never a second message."""
    card: dict[str, Any] | None = None
    """Adaptive Card 1.5 JSON, or None for a text-only message."""
    mentions: list[Mention] = Field(default_factory=list)
    """People to @mention at the top of the message (`teams.activity.to_activity` adds the tags)."""


def adaptive_card(
    body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None, fallback_text: str | None = None
) -> dict[str, Any]:
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


def text_block(
    text: str,
    *,
    size: str | None = None,
    weight: str | None = None,
    subtle: bool = False,
    wrap: bool = True,
    color: str | None = None,
) -> dict[str, Any]:
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
    """A link button; its title ends in `LINK_MARK` (added here, once)."""
    title = title if title.endswith(LINK_MARK) else title + LINK_MARK
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def fact_set(facts: list[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": t, "value": v} for t, v in facts]}


def action_set(actions: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """Buttons inside the card's body, next to what they belong to."""
    return {"type": "ActionSet", "actions": actions, **extra}


def card_actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action on a card: its own, those in ActionSets at any depth, and those of
    ShowCard cards, in order."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action."):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    walk(card.get("actions", []))
    return found


def merge_messages(messages: list[OutgoingMessage]) -> list[OutgoingMessage]:
    """A turn's messages as one: one card, or one text when none has a card.

    Each part keeps its buttons beside it: the buttons of every part but the last move into an
    ActionSet under that part's body; the last part's buttons stay the card's own. Parts are
    divided by a separator; the text fallbacks are joined in the same order.
    """
    if len(messages) <= 1:
        return list(messages)
    text = "\n\n".join(m.text for m in messages)
    mentions = [mention for m in messages for mention in m.mentions]
    if all(m.card is None for m in messages):
        return [OutgoingMessage(text=text, mentions=mentions)]
    body: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        part = list(message.card.get("body", [])) if message.card else [text_block(message.text)]
        if body and part:
            part[0] = {**part[0], "separator": True, "spacing": "Medium"}
        body += part
        own = list(message.card.get("actions", [])) if message.card else []
        if index < len(messages) - 1:
            if own:
                body.append(action_set(own))
        else:
            actions = own
    return [OutgoingMessage(text=text, card=adaptive_card(body, actions, fallback_text=text), mentions=mentions)]
