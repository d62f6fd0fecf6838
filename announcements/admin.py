"""What the activity handler calls when someone types "utskick förhandsvisa" / "utskick skicka"
in a personal chat, or presses the confirm button.

Only people listed by Azure AD object id in `ADMIN_AAD_IDS` may; everyone else is told they are
not allowed, and the attempt is logged (the object id, no name). A send needs two steps: the
command shows a confirm card, and only its button (`{"cmd": "announce", "action": "confirm",
"id": <announcement id>}`) starts the send, in the background; the handler is told when it ends.
Nothing is sent for an election whose date has passed (the admin is told to configure the coming
one first), and a second press while the send runs is answered, not started again. What the admin
reads is always Swedish; exception details go to the log only.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from announcements.broadcast import BroadcastBusy
from announcements.service import AnnouncementChanged, AnnouncementService, ElectionPassed
from cards.actions import ANNOUNCE_CMD, command_of
from cards.announcement import election_passed_text, render_confirm, render_preview
from cards.message import OutgoingMessage
from knowledge.text import simplify, without_mentions

__all__ = [
    "AdminCommand",
    "AdminReply",
    "is_admin",
    "parse_admin_command",
    "is_admin_submit",
    "handle_admin_command",
    "handle_admin_submit",
    "summary_message",
]

log = logging.getLogger(__name__)

AdminCommand = Literal["preview", "send"]

_COMMANDS = {
    "utskick forhandsvisa": "preview",
    "utskick forhandsgranska": "preview",
    "utskick visa": "preview",
    "utskick skicka": "send",
}


class AdminReply(BaseModel):
    """What to answer, and whether a send was started."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    message: OutgoingMessage
    """The reply to post in the chat."""
    started: bool = False
    """A background send was started (the handler's `on_done` will be called)."""


def is_admin(aad_object_id: str | None, admin_ids: Collection[str]) -> bool:
    """True when the sender's Azure AD object id is in `admin_ids` (ADMIN_AAD_IDS; case-insensitive)."""
    if not aad_object_id:
        return False
    return aad_object_id.strip().lower() in {a.strip().lower() for a in admin_ids}


def parse_admin_command(text: str) -> AdminCommand | None:
    """ "utskick förhandsvisa" -> "preview", "utskick skicka" -> "send" (case, accents, a trailing
    "!" and an @mention ignored); anything else None."""
    return _COMMANDS.get(simplify(without_mentions(text)))  # type: ignore[return-value]


def is_admin_submit(value: Any) -> bool:
    """A card submit that belongs to `handle_admin_submit`."""
    return command_of(value) == ANNOUNCE_CMD


def _refuse(aad_object_id: str | None, what: str) -> AdminReply:
    log.warning("announcement %s refused: %s is not in ADMIN_AAD_IDS", what, aad_object_id or "(no AAD id)")
    return AdminReply(
        message=OutgoingMessage(
            text="Du har inte behörighet att göra utskick. Be den som administrerar Kanalvakten om hjälp."
        )
    )


def _election_passed(content: Any, aad_object_id: str | None, what: str) -> AdminReply:
    log.warning(
        "announcement %s %s by admin %s refused: %s was on %s, which has passed",
        content.id,
        what,
        aad_object_id,
        content.election.name,
        content.election.date.isoformat(),
    )
    return AdminReply(message=OutgoingMessage(text=f"{election_passed_text(content)} Inget har skickats."))


def _already_sending(announcement_id: str) -> AdminReply:
    return AdminReply(message=OutgoingMessage(text=_ALREADY_SENDING.format(id=announcement_id)))


_ALREADY_SENDING = (
    "Utskicket {id} pågår redan. Inget nytt utskick startades, och ingen får det två gånger. "
    'Skriv "utskick förhandsvisa" om en stund för att se hur långt det har kommit.'
)


def _personal_only() -> AdminReply:
    return AdminReply(message=OutgoingMessage(text="Utskick hanteras bara i en personlig chatt med Kanalvakten."))


async def handle_admin_command(
    command: AdminCommand,
    aad_object_id: str | None,
    service: AnnouncementService,
    *,
    conversation_type: str = "personal",
) -> AdminReply:
    """Preview, or the confirm card for a send. Never sends by itself."""
    if not is_admin(aad_object_id, service.admin_ids):
        return _refuse(aad_object_id, command)
    if conversation_type != "personal":
        return _personal_only()
    content = service.content()
    recipients = await service.recipients(content.id)
    if command == "preview":
        log.info("announcement %s previewed by admin %s", content.id, aad_object_id)
        return AdminReply(message=render_preview(content, recipients.counts, recipients.already_sent))
    if content.election_passed:
        return _election_passed(content, aad_object_id, "send")
    if service.is_sending(content.id):
        return _already_sending(content.id)
    total = len(recipients.installed)
    if recipients.remaining == 0:
        return AdminReply(
            message=OutgoingMessage(text=f"Utskicket {content.id} har redan gått ut till alla {total} konversationer.")
        )
    return AdminReply(message=render_confirm(content, total, recipients.remaining))


async def handle_admin_submit(
    value: dict[str, Any],
    aad_object_id: str | None,
    service: AnnouncementService,
    on_done: Any = None,
    *,
    conversation_type: str = "personal",
) -> AdminReply:
    """The confirm card's buttons. `on_done(summary_or_exception)` is awaited when the send ends
    (the handler posts `summary_message(...)` to the admin with `continue_conversation`)."""
    action = value.get("action")
    if not is_admin(aad_object_id, service.admin_ids):
        return _refuse(aad_object_id, f"submit {action!r}")
    if conversation_type != "personal":
        return _personal_only()
    if action == "cancel":
        return AdminReply(message=OutgoingMessage(text="Utskicket är avbrutet. Inget har skickats."))
    if action != "confirm":
        return AdminReply(message=OutgoingMessage(text="Det knappvalet känner jag inte igen."))
    expected = str(value.get("id") or "")
    content = service.content()
    current = content.id
    if expected != current:
        return AdminReply(message=OutgoingMessage(text=_changed_text(current)))
    if content.election_passed:
        return _election_passed(content, aad_object_id, "confirm")
    # No await from here to start_send: a second press handled meanwhile sees the first one's send.
    if service.is_sending(current):
        log.info("announcement %s: confirm pressed again by admin %s while it is being sent", current, aad_object_id)
        return _already_sending(current)
    log.info("announcement %s send confirmed by admin %s", current, aad_object_id)
    try:
        service.start_send(expected_id=current, on_done=on_done)
    except BroadcastBusy:
        return _already_sending(current)
    return AdminReply(
        started=True,
        message=OutgoingMessage(text=f"Utskicket {current} skickas nu. Jag säger till här när det är klart."),
    )


def _changed_text(current: str) -> str:
    return (
        f"Utskicket har ändrats sedan kortet skapades (nu: {current}). "
        'Skriv "utskick förhandsvisa" och titta på det igen.'
    )


def summary_message(result: Any) -> OutgoingMessage:
    """The admin's "done" message from a `BroadcastSummary`, or a short Swedish sentence for the
    exception that stopped it (its text, often English and technical, goes to the log only)."""
    if isinstance(result, BaseException):
        log.warning("announcement send ended with %s: %s", type(result).__name__, result)
        if isinstance(result, BroadcastBusy):
            text = (
                "Utskicket pågår redan (det skickas just nu från kommandoraden, schemaläggaren eller "
                "ett tidigare knapptryck), så inget nytt startades och ingen får det två gånger. "
                'Skriv "utskick förhandsvisa" om en stund för att se hur långt det har kommit.'
            )
        elif isinstance(result, ElectionPassed):
            text = f"{election_passed_text(result.content)} Inget har skickats."
        elif isinstance(result, AnnouncementChanged):
            text = _changed_text("se förhandsvisningen") + " Inget har skickats."
        else:
            text = (
                "Utskicket kunde inte genomföras på grund av ett tekniskt fel. Det som hann skickas är "
                'sparat; skriv "utskick skicka" igen för att skicka resten, eller be den som sköter '
                "Kanalvakten att titta i loggen."
            )
        return OutgoingMessage(text=text)
    text = (
        f"Utskicket {result.announcement_id} är klart: skickat till {result.sent}, "
        f"misslyckades för {result.failed}, borttagna konversationer {result.gone}, "
        f"redan skickat tidigare {result.skipped_already_sent} ({result.seconds:.0f} s)."
    )
    if result.failed:
        text += ' Skriv "utskick skicka" igen för att försöka med de som misslyckades.'
    if result.resent_after_interruption:
        text += (
            f" {len(result.resent_after_interruption)} konversationer kan ha fått det två gånger "
            "(ett tidigare utskick avbröts mitt i)."
        )
    return OutgoingMessage(text=text)
