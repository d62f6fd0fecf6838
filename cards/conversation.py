"""The turn logic's own cards (`assistant.conversation`): the guide offer and the @mention hint."""

from __future__ import annotations

from cards.actions import start_guide_payload
from cards.message import OutgoingMessage, adaptive_card, button, text_block
from knowledge.models import Guide

__all__ = ["guide_offer", "with_mention_hint", "MENTION_HINT"]

MENTION_HINT = ("Här i kanalen: nämn mig först när du skriver, till exempel \"@Kanalvakten nästa\", "
                "eller använd knapparna.")


def guide_offer(guide: Guide, *, finished: bool = False) -> OutgoingMessage:
    """A guide word ("avbryt", "tillbaka") with no guide running: offer to start one (again)."""
    if finished:
        text = (f"Du har gått igenom hela {guide.title}, så ingen guide är igång just nu. Vill du gå "
                "igenom den igen? Skriv \"starta guiden\" eller tryck på knappen.")
    else:
        text = (f"Du är inte i någon guide just nu. Vill du gå igenom {guide.title} steg för steg? "
                "Skriv \"starta guiden\" eller tryck på knappen.")
    card = adaptive_card([text_block(text)], [button("Starta guiden", start_guide_payload(guide.id))])
    return OutgoingMessage(text=text, card=card)


def with_mention_hint(message: OutgoingMessage) -> OutgoingMessage:
    """In channels and group chats typed commands need an @mention; say so under the guide."""
    card = None
    if message.card is not None:
        card = {**message.card, "body": [*message.card.get("body", []), text_block(MENTION_HINT, subtle=True)]}
    return message.model_copy(update={"text": f"{message.text}\n\n{MENTION_HINT}", "card": card})
