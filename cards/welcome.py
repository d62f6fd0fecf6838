"""The greeting when Kanalvakten is installed: a welcome card in a personal chat, one short
introduction in a team or group chat."""

from __future__ import annotations

from cards.actions import ask_payload, start_guide_payload
from cards.message import OutgoingMessage, adaptive_card, button, text_block

__all__ = ["welcome_message"]

_WELCOME_EXAMPLES = [
    ("Skydda Instagram-kontot", ask_payload("enable_2fa", "instagram")),
    ("Starta Facebook-guiden", start_guide_payload("facebook_2fa")),
    ("Om kontot kapas", ask_payload("account_hijacked")),
    ("Återställningskoder", ask_payload("recovery_codes")),
]


def welcome_message(scope: str) -> OutgoingMessage:
    """Personal chat: a short welcome card with example questions; team or group: one short intro."""
    if scope == "personal":
        intro = (
            "Hej! Jag är Kanalvakten. Jag hjälper dig att skydda verksamhetens sociala mediekonton, "
            "särskilt i valtider: tvåfaktorsinloggning, återställningskoder, kapade konton och moderering. "
            "Skriv din fråga med egna ord, eller tryck på en av knapparna:"
        )
        card = adaptive_card(
            [text_block("Välkommen till Kanalvakten", size="Medium", weight="Bolder"), text_block(intro)],
            [button(title, data) for title, data in _WELCOME_EXAMPLES],
        )
        text = intro + "\n\n" + "\n".join(f"- {title}" for title, _ in _WELCOME_EXAMPLES)
        return OutgoingMessage(text=text, card=card)
    intro = (
        "Hej! Jag är Kanalvakten och svarar på frågor om hur ni skyddar era sociala mediekonton, "
        'särskilt i valtider. Nämn mig (@Kanalvakten) med din fråga, till exempel "@Kanalvakten hur '
        'slår jag på tvåfaktorsinloggning på Instagram?".'
    )
    card = adaptive_card(
        [text_block("Kanalvakten är här", size="Medium", weight="Bolder"), text_block(intro)],
        [button("Vad kan du hjälpa till med?", ask_payload("capabilities"))],
    )
    return OutgoingMessage(text=intro, card=card)
