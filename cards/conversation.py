"""The turn logic's own cards (`assistant.conversation`): the guide offer."""

from __future__ import annotations

from cards.actions import start_guide_payload
from cards.message import OutgoingMessage, adaptive_card, button, text_block
from knowledge.models import Guide

__all__ = ["guide_offer"]


def guide_offer(guide: Guide, *, finished: bool = False) -> OutgoingMessage:
    """A guide word ("avbryt", "tillbaka") with no guide running: offer to start one (again)."""
    if finished:
        text = (
            f"Du har gått igenom hela {guide.title}, så ingen guide är igång just nu. Vill du gå "
            'igenom den igen? Skriv "starta guiden" eller tryck på knappen.'
        )
    else:
        text = (
            f"Du är inte i någon guide just nu. Vill du gå igenom {guide.title} steg för steg? "
            'Skriv "starta guiden" eller tryck på knappen.'
        )
    card = adaptive_card([text_block(text)], [button("Starta guiden", start_guide_payload(guide.id))])
    return OutgoingMessage(text=text, card=card)
