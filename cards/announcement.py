"""The pre-election announcement as a Teams message, and the admin's preview/confirm cards.

Buttons: start the Facebook guide, the 2FA links for every platform, and "ask a question"
(the bot's capabilities). Every button is an `Action.Submit` the activity handler already
understands as a command (`guide`/`ask`), so the announcement needs no handler of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cards.actions import ANNOUNCE_CMD, announce_payload, ask_payload, start_guide_payload
from cards.checklist import checklist_body, checklist_text
from cards.message import OutgoingMessage, adaptive_card, button, fact_set, text_block

if TYPE_CHECKING:
    from announcements.content import AnnouncementContent
    from announcements.readiness import Readiness

__all__ = [
    "ANNOUNCEMENT_ACTIONS",
    "announcement_text",
    "render_announcement",
    "render_preview",
    "render_confirm",
    "election_passed_text",
    "CONFIRM_CMD",
]

CONFIRM_CMD = ANNOUNCE_CMD
"""`cmd` of the admin's confirm button (`cards.actions.announce_payload`)."""

ANNOUNCEMENT_ACTIONS: list[dict[str, Any]] = [
    button("Starta Facebook-guiden", start_guide_payload("facebook_2fa")),
    button("Länkar för alla kanaler", ask_payload("enable_2fa")),
    button("Ställ en fråga", ask_payload("capabilities")),
]

_TEXT_HINT = (
    'Skriv "starta Facebook-guiden" till Kanalvakten för en guide steg för steg, eller ställ en '
    'fråga, till exempel "hur slår jag på tvåfaktorsinloggning på Instagram?".'
)


def announcement_text(content: AnnouncementContent, readiness: Readiness | None = None) -> str:
    """The text fallback (notifications, screen readers, clients without cards)."""
    parts = [f"**{content.heading}**", *content.paragraphs]
    if content.checklist:
        parts.append(f"Checklista inför {content.election.name} (kryssa i den på kortet i Teams):")
        parts.append(checklist_text(content.checklist, readiness))
    return "\n\n".join([*parts, _TEXT_HINT])


def render_announcement(
    content: AnnouncementContent, readiness: Readiness | None = None, *, interactive: bool = True
) -> OutgoingMessage:
    """The announcement as Adaptive Card 1.5 plus text, with its checklist: to tick and save
    (`readiness` is what the conversation has saved), or, for an admin's preview, as a list."""
    body = [text_block(content.heading, size="Medium", weight="Bolder")]
    body += [text_block(p) for p in content.paragraphs]
    body += checklist_body(content.checklist, readiness, content.id, content.election.name, interactive=interactive)
    text = announcement_text(content, readiness)
    actions = [dict(a) for a in ANNOUNCEMENT_ACTIONS]
    if content.checklist and interactive:  # these buttons ask something; they carry no ticks
        actions = [{**a, "associatedInputs": "none"} for a in actions]
    card = adaptive_card(body, actions, fallback_text=text)
    return OutgoingMessage(text=text, card=card)


def election_passed_text(content: AnnouncementContent) -> str:
    """For an admin: why an announcement for a past election is not sent, and what to do."""
    election = content.election
    return (
        f"Valdatumet har passerat: {election.name} var {election.date.isoformat()}, så utskicket skulle "
        "motsäga sig självt och kan inte skickas. Lägg först in det kommande valet (ELECTION_NAME och "
        "ELECTION_DATE i Kanalvaktens inställningar, eller valet i kunskapsbasen) och förhandsvisa sedan igen."
    )


def render_preview(content: AnnouncementContent, counts: dict[str, int], already_sent: int = 0) -> OutgoingMessage:
    """For an admin: the announcement as it will look, then who it goes to, then how to send it
    (or, when the election has passed, a warning that it cannot be sent)."""
    message = render_announcement(content, interactive=False)
    total = sum(counts.values())
    facts = [
        ("Personliga chattar", str(counts.get("personal", 0))),
        ("Gruppchattar", str(counts.get("groupChat", 0))),
        ("Team (ny tråd i kanalen)", str(counts.get("team", 0))),
        ("Redan skickat till", str(already_sent)),
    ]
    summary = f"Utskicket {content.id} går till {total} konversationer ({max(0, total - already_sent)} återstår)."
    warning = f"Varning: {election_passed_text(content)}" if content.election_passed else None
    footer = "Inget kan skickas förrän valet är ändrat." if warning else 'Skriv "utskick skicka" för att skicka.'
    body = [text_block("Förhandsvisning av utskick", size="Large", weight="Bolder")]
    if warning:
        body.append(text_block(warning, weight="Bolder", color="Attention"))
    body += [
        text_block(summary, subtle=True),
        fact_set(facts),
        {"type": "Container", "style": "emphasis", "items": message.card["body"]},  # type: ignore[index]
        text_block(footer, subtle=True),
    ]
    card = adaptive_card(body)
    text = "\n\n".join(
        [
            "**Förhandsvisning av utskick**",
            *([f"**{warning}**"] if warning else []),
            summary,
            ", ".join(f"{title}: {value}" for title, value in facts),
            "---",
            message.text,
            "---",
            footer,
        ]
    )
    card["fallbackText"] = text
    return OutgoingMessage(text=text, card=card)


def render_confirm(content: AnnouncementContent, total: int, remaining: int) -> OutgoingMessage:
    """For an admin who typed "utskick skicka": one button that really sends."""
    text = (
        f"Vill du skicka utskicket {content.id} ({content.heading}) nu? Det går till {remaining} av "
        f"{total} konversationer (de som redan har fått det hoppas över)."
    )
    body = [text_block("Skicka utskick?", size="Medium", weight="Bolder"), text_block(text)]
    actions = [
        button("Skicka nu", announce_payload("confirm", content.id)),
        button("Avbryt", announce_payload("cancel", content.id)),
    ]
    card = adaptive_card(body, actions, fallback_text=text)
    return OutgoingMessage(text=text + ' (Kortet har knappen "Skicka nu".)', card=card)
