"""The card the experts see when a question is handed to them (`helpdesk.handoff`)."""

from __future__ import annotations

from cards.message import OutgoingMessage, adaptive_card, fact_set, open_url_action, text_block
from helpdesk.handoff import HandoffRequest

__all__ = ["expert_message"]


def expert_message(request: HandoffRequest) -> OutgoingMessage:
    """The card the experts see: the question, where it was asked, how to reach the asker."""
    urgent = request.reason == "urgent"
    heading = "Brådskande: ett konto kan vara kapat" if urgent else "En fråga Kanalvakten inte kunde svara på"
    where = {"channel": "i en kanal", "groupChat": "i en gruppchatt"}.get(request.scope, "i en personlig chatt")
    if request.asker:
        how = f"{request.asker} vill att någon av er hör av sig."
    elif request.link:
        how = "Svara där frågan ställdes (länken nedan)."
    else:
        how = "Svara där frågan ställdes."
    facts = [("Ställd", where)] + ([("Av", request.asker)] if request.asker else [])
    card = adaptive_card(
        [
            text_block(heading, size="Medium", weight="Bolder", color="Attention" if urgent else None),
            text_block(f"”{request.question}”"),
            fact_set(facts),
            text_block(how, subtle=True),
        ],
        [open_url_action("Öppna frågan i Teams", request.link)] if request.link else None,
    )
    text = f"**{heading}**\n\n”{request.question}” (ställd {where})\n\n{how}"
    if request.link:
        text += f"\n\n{request.link}"
    return OutgoingMessage(text=text, card=card)
