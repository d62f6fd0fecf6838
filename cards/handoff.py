"""The card the experts see when a question is handed to them (`helpdesk.handoff`), and what the
asker is told when an expert marks it answered.

Everything a user typed (the question, their display name) is escaped (`cards.escape`): on the
experts' card a typed link, bold text or `<at>` tag is shown as typed, never rendered.
"""

from __future__ import annotations

from typing import Any

from cards.actions import answered_payload
from cards.escape import escape_markdown
from cards.message import OutgoingMessage, adaptive_card, button, fact_set, open_url_action, text_block
from helpdesk.handoff import HandoffRequest

__all__ = ["expert_message", "with_expert_mentions", "answered_notice", "ANSWERED_BUTTON"]

ANSWERED_BUTTON = "Besvarad"


def expert_message(
    request: HandoffRequest, *, handoff_id: str | None = None, answered_by: str | None = None
) -> OutgoingMessage:
    """The card the experts see: the question, where it was asked, how to reach the asker, and
    "Besvarad" (with `handoff_id`), or who answered it (`answered_by`)."""
    urgent = request.reason == "urgent"
    heading = "Brådskande: ett konto kan vara kapat" if urgent else "En fråga Kanalvakten inte kunde svara på"
    where = {"channel": "i en kanal", "groupChat": "i en gruppchatt"}.get(request.scope, "i en personlig chatt")
    question = escape_markdown(request.question)
    asker = escape_markdown(request.asker) if request.asker else None
    if asker:
        how = f"{asker} vill att någon av er hör av sig."
    elif request.link:
        how = "Svara där frågan ställdes (länken nedan)."
    else:
        how = "Svara där frågan ställdes."
    facts = [("Ställd", where)] + ([("Av", asker)] if asker else [])
    body = [
        text_block(heading, size="Medium", weight="Bolder", color="Attention" if urgent else None),
        text_block(f"”{question}”"),
        fact_set(facts),
        text_block(how, subtle=True),
    ]
    text = f"**{heading}**\n\n”{question}” (ställd {where})\n\n{how}"
    if request.link:
        text += f"\n\n{request.link}"
    actions: list[dict[str, Any]] = [open_url_action("Öppna frågan i Teams", request.link)] if request.link else []
    if answered_by is not None:
        done = f"Besvarad av {escape_markdown(answered_by)}. Den som frågade har fått veta att svaret har kommit."
        body.append(text_block(done, weight="Bolder", color="Good"))
        text += f"\n\n{done}"
    elif handoff_id is not None:
        actions.append(button(ANSWERED_BUTTON, answered_payload(handoff_id)))
        tell = f"Tryck på ”{ANSWERED_BUTTON}” när frågan är besvarad, så meddelar jag den som frågade."
        body.append(text_block(tell, subtle=True))
        text += f"\n\n{tell}"
    return OutgoingMessage(text=text, card=adaptive_card(body, actions or None, fallback_text=text))


def with_expert_mentions(message: OutgoingMessage, expert_ids: list[str]) -> OutgoingMessage:
    """The experts' card @mentioning each expert (Azure AD object ids): mentions on an Adaptive
    Card are `<at>` tags in a TextBlock plus `msteams.entities`, so they survive without `text`."""
    tags = [f"<at>expert {n}</at>" for n in range(1, len(expert_ids) + 1)]
    entities = [
        {"type": "mention", "text": tag, "mentioned": {"id": aad_id, "name": tag[4:-5]}}
        for tag, aad_id in zip(tags, expert_ids, strict=True)
    ]
    assert message.card is not None
    card = {
        **message.card,
        "body": [text_block(" ".join(tags)), *message.card["body"]],
        "msteams": {**message.card.get("msteams", {}), "entities": entities},
    }
    return message.model_copy(update={"card": card})


_ANSWERED = {
    "channel": "Stadens experter har svarat på din fråga här i tråden.",
    "groupChat": "Stadens experter har svarat på din fråga här i chatten.",
    "personal": (
        "Stadens experter har svarat på frågan du skickade till dem. Titta efter deras svar i Teams eller i din e-post."
    ),
}


def answered_notice(scope: str) -> OutgoingMessage:
    """What the asker is told, where they asked, when an expert presses "Besvarad"."""
    return OutgoingMessage(text=_ANSWERED.get(scope, _ANSWERED["personal"]))
