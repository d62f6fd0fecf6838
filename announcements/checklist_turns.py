"""What the bot does when someone presses "Spara" on a checklist, or an admin asks for readiness.

Plain Python: `teams.readiness` hands over the submit and who pressed it, and gets back what to
reply and which cards to redraw (every checklist card in the conversation: the announcement and
any reminders), and posts those with the Bot Connector.

A save is refused, with a short Swedish reply, and changes nothing, when:
- the conversation removed the bot (or was never registered);
- the card belongs to another announcement than the one configured now, or to none delivered here;
- the card names items the checklist does not have (it was edited since) or carries odd values;
- the card is older than the latest save (someone else saved meanwhile): the reply says so, and the
  cards are redrawn to show what is saved, so the next press starts from the truth.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from announcements.admin import is_admin
from announcements.broadcast import BroadcastBusy
from announcements.content import AnnouncementContent
from announcements.ledger import Ledger
from announcements.readiness import Readiness, ReadinessStore, SubmitProblem, parse_submit
from announcements.readiness_report import build_report
from announcements.registry import ConversationRecord, ConversationRegistry
from announcements.reminders import Reminders
from announcements.service import AnnouncementService, ElectionPassed, NoChecklist, ReminderSummary
from cards.actions import CHECKLIST_CMD, command_of
from cards.announcement import election_passed_text, render_announcement
from cards.checklist import render_readiness, render_reminder
from cards.message import OutgoingMessage
from knowledge.answers import election_when
from knowledge.text import simplify, without_mentions

__all__ = [
    "CardUpdate",
    "ChecklistOutcome",
    "is_checklist_submit",
    "is_readiness_command",
    "handle_checklist_submit",
    "handle_readiness_command",
    "reminder_done_message",
    "REFUSALS",
]

log = logging.getLogger(__name__)

REFUSALS = {
    "removed": (
        "Kanalvakten är borttagen från den här konversationen, så checklistan kan inte sparas här. "
        "Lägg till Kanalvakten igen om ni vill fortsätta med den."
    ),
    "other_announcement": (
        "Den här checklistan hör till ett tidigare utskick och kan inte sparas längre. "
        "Använd checklistan i det senaste utskicket från Kanalvakten. Inget har ändrats."
    ),
    "not_here": (
        "Den här checklistan hör inte till något utskick i den här konversationen, så jag sparade "
        "ingenting. Använd checklistan i utskicket från Kanalvakten."
    ),
    "unknown_items": (
        "Checklistan har ändrats sedan kortet skickades, så jag kunde inte spara den. Inget har ändrats. "
        "Använd den senaste checklistan från Kanalvakten."
    ),
    "malformed": "Det där kunde jag inte spara: kortet skickade något jag inte känner igen. Inget har ändrats.",
    "stale": (
        "Någon annan sparade checklistan innan du, så ditt kort visade en äldre version. "
        "Jag har inte sparat något; kortet visar nu det som är sparat. Kryssa i igen och tryck på Spara."
    ),
}
"""The refusals, each a reason a save changes nothing."""

_READINESS_COMMANDS = {"beredskap", "beredskapen", "beredskapsrapport", "checklistor"}


class CardUpdate(BaseModel):
    """Redraw one posted checklist card."""

    conversation_id: str
    """Where the card is: the chat, or the team thread `<channel>;messageid=<root>`."""
    activity_id: str
    message: OutgoingMessage


class ChecklistOutcome(BaseModel):
    """What a checklist submit leads to."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    result: Literal["saved", "unchanged", "refused", "remind_started", "other"]
    reason: str | None = None
    """For a refusal: a key of `REFUSALS` (or "not_admin", "election_passed", ...)."""
    reply: OutgoingMessage | None = None
    """What to post in the conversation (None: the redrawn card says it all)."""
    updates: list[CardUpdate] = Field(default_factory=list)
    readiness: Readiness | None = None
    """The conversation's readiness after the submit."""


def is_checklist_submit(value: Any) -> bool:
    return command_of(value) == CHECKLIST_CMD


def is_readiness_command(text: str) -> bool:
    """ "beredskap" (case, accents, an @mention and a trailing "!" ignored)."""
    return simplify(without_mentions(text)) in _READINESS_COMMANDS


def _refused(reason: str) -> ChecklistOutcome:
    return ChecklistOutcome(result="refused", reason=reason, reply=OutgoingMessage(text=REFUSALS[reason]))


def _where(record: ConversationRecord, activity_id: str) -> str:
    """The conversation id a posted card is updated in."""
    if record.scope == "team":
        return f"{record.channel_id or record.id};messageid={activity_id}"
    return record.id


class PressedCard(BaseModel):
    """The card a "Spara" came from, as the submit tells it."""

    activity_id: str | None = None
    """The submit's replyToId."""
    conversation_id: str
    """The conversation of the submit (a team's thread)."""
    kind: Literal["announcement", "reminder"] = "announcement"


async def card_updates(
    service: AnnouncementService,
    content: AnnouncementContent,
    record: ConversationRecord,
    readiness: Readiness | None,
    pressed: PressedCard | None = None,
) -> list[CardUpdate]:
    """Every checklist card in the conversation, drawn with `readiness`: those the ledger knows
    (the announcement and reminders), and the pressed one if the ledger has no id for it (a
    connector that answers a send without the message's id, as the Agents Playground does)."""
    refs = [
        (ref.kind, ref.activity_id, _where(record, ref.activity_id))
        for ref in await Reminders(service.storage).card_activities(content.id, record.id)
    ]
    if pressed is not None and pressed.activity_id and pressed.activity_id not in {r[1] for r in refs}:
        refs.append((pressed.kind, pressed.activity_id, pressed.conversation_id))
    when = election_when(content.election, content.as_of)
    out = []
    for kind, activity_id, conversation_id in refs:
        if kind == "announcement":
            message = render_announcement(content, readiness)
        else:
            message = render_reminder(content.checklist, readiness, content.id, content.election.name, when)
        out.append(CardUpdate(conversation_id=conversation_id, activity_id=activity_id, message=message))
    return out


async def handle_checklist_submit(
    value: dict[str, Any],
    *,
    service: AnnouncementService,
    conversation_id: str,
    by: str | None,
    aad_object_id: str | None,
    now: dt.datetime,
    conversation_type: str = "personal",
    pressed_activity_id: str | None = None,
    turn_conversation_id: str | None = None,
    on_reminder_done: Callable[[ReminderSummary | BaseException], Awaitable[None]] | None = None,
) -> ChecklistOutcome:
    """A press on a checklist card: "Spara" from anyone in the conversation (`conversation_id` is
    its registry id; `pressed_activity_id` the submit's replyToId, in `turn_conversation_id`), or
    an admin's "Skicka påminnelse"."""
    action = value.get("action")
    if action == "remind":
        return await _remind(service, aad_object_id, conversation_type, on_reminder_done)
    if action != "save":
        return ChecklistOutcome(
            result="other", reply=OutgoingMessage(text="Det knappvalet känner jag inte igen. Inget har ändrats.")
        )
    record = await ConversationRegistry(service.storage).get(conversation_id)
    if record is None or not record.installed:
        log.info("checklist save refused: %s is not (or no longer) installed", conversation_id)
        return _refused("removed")
    content = service.content()
    parsed = parse_submit(value, content.checklist)
    if isinstance(parsed, SubmitProblem):
        log.info("checklist save refused in %s: %s %s", conversation_id, parsed.reason, parsed.unknown)
        return _refused(parsed.reason)
    if parsed.announcement_id != content.id:
        log.info("checklist save refused: card of %s, current is %s", parsed.announcement_id, content.id)
        return _refused("other_announcement")
    delivered = await Ledger(service.storage).get(content.id, conversation_id)
    if delivered is None or delivered.status not in ("sent", "in_flight"):
        return _refused("not_here")
    pressed = PressedCard(
        activity_id=pressed_activity_id,
        conversation_id=turn_conversation_id or conversation_id,
        kind="reminder" if value.get("card") == "reminder" else "announcement",
    )
    result = await ReadinessStore(service.storage).save(
        parsed, conversation_id, by=by, now=now, election_date=content.election.date
    )
    if result.outcome == "stale":
        log.info(
            "checklist save refused in %s: card rev %d, stored %d", conversation_id, parsed.rev, result.readiness.rev
        )
        outcome = _refused("stale")
        outcome.updates = await card_updates(service, content, record, result.readiness, pressed)
        outcome.readiness = result.readiness
        return outcome
    if result.outcome == "unchanged":
        return ChecklistOutcome(
            result="unchanged",
            readiness=result.readiness,
            reply=OutgoingMessage(text="Inget har ändrats sedan det senast sparades."),
        )
    log.info("checklist of %s saved: %s (rev %d)", conversation_id, ", ".join(result.changed), result.readiness.rev)
    return ChecklistOutcome(
        result="saved",
        readiness=result.readiness,
        updates=await card_updates(service, content, record, result.readiness, pressed),
    )


async def _remind(
    service: AnnouncementService,
    aad_object_id: str | None,
    conversation_type: str,
    on_done: Callable[[ReminderSummary | BaseException], Awaitable[None]] | None,
) -> ChecklistOutcome:
    if not is_admin(aad_object_id, service.admin_ids):
        log.warning("reminder refused: %s is not in ADMIN_AAD_IDS", aad_object_id or "(no AAD id)")
        return ChecklistOutcome(
            result="refused",
            reason="not_admin",
            reply=OutgoingMessage(text="Du har inte behörighet att skicka påminnelser. Inget har skickats."),
        )
    if conversation_type != "personal":
        return ChecklistOutcome(
            result="refused",
            reason="not_personal",
            reply=OutgoingMessage(text="Påminnelser skickas bara från en personlig chatt med Kanalvakten."),
        )
    try:
        content = service.reminder_content()
    except ElectionPassed as exc:
        return ChecklistOutcome(
            result="refused",
            reason="election_passed",
            reply=OutgoingMessage(text=f"{election_passed_text(exc.content)} Ingen påminnelse har skickats."),
        )
    except NoChecklist:
        return ChecklistOutcome(
            result="refused",
            reason="no_checklist",
            reply=OutgoingMessage(text="Utskicket har ingen checklista, så det finns inget att påminna om."),
        )
    if service.is_reminding():
        return ChecklistOutcome(result="refused", reason="busy", reply=OutgoingMessage(text=_REMINDING))
    plan = await service.reminder_plan()
    if not plan.recipients:
        return ChecklistOutcome(
            result="other",
            reply=OutgoingMessage(
                text="Ingen konversation behöver en påminnelse just nu (de som inte är klara har fått en "
                "de senaste 72 timmarna, eller har inte fått utskicket än)."
            ),
        )
    try:
        service.start_remind(on_done=on_done)
    except BroadcastBusy:
        return ChecklistOutcome(result="refused", reason="busy", reply=OutgoingMessage(text=_REMINDING))
    log.info("reminder for %s started by admin %s", content.id, aad_object_id)
    return ChecklistOutcome(
        result="remind_started",
        reply=OutgoingMessage(
            text=f"Påminnelsen skickas nu till {len(plan.recipients)} konversationer. "
            "Jag säger till här när det är klart."
        ),
    )


_REMINDING = "En påminnelse skickas redan. Ingen ny startades, och ingen får den två gånger."


async def handle_readiness_command(
    service: AnnouncementService, aad_object_id: str | None, *, conversation_type: str = "personal"
) -> OutgoingMessage:
    """ "beredskap": for admins in a personal chat, the readiness summary card."""
    if not is_admin(aad_object_id, service.admin_ids):
        log.warning("readiness report refused: %s is not in ADMIN_AAD_IDS", aad_object_id or "(no AAD id)")
        return OutgoingMessage(
            text="Beredskapsrapporten är till för dem som administrerar Kanalvakten. Be dem om hjälp."
        )
    if conversation_type != "personal":
        return OutgoingMessage(text="Beredskapsrapporten visas bara i en personlig chatt med Kanalvakten.")
    content = service.content()
    if not content.checklist:
        return OutgoingMessage(text="Utskicket har ingen checklista, så det finns ingen beredskap att visa.")
    report = await build_report(service.storage, content)
    remind = 0
    if not content.election_passed:
        remind = len((await service.reminder_plan()).recipients)
    log.info("readiness report shown to admin %s", aad_object_id)
    return render_readiness(report, remind_count=remind)


def reminder_done_message(result: ReminderSummary | BaseException) -> OutgoingMessage:
    """The admin's "done" message after a reminder started from the card."""
    if isinstance(result, BaseException):
        log.warning("reminder ended with %s: %s", type(result).__name__, result)
        if isinstance(result, BroadcastBusy):
            return OutgoingMessage(text=_REMINDING)
        return OutgoingMessage(
            text="Påminnelsen kunde inte skickas klart på grund av ett tekniskt fel. Det som hann skickas "
            'är sparat; tryck på "Skicka påminnelse" igen för resten, eller be den som sköter Kanalvakten '
            "att titta i loggen."
        )
    if result.broadcast is None:
        return OutgoingMessage(text="Ingen konversation behövde en påminnelse.")
    b = result.broadcast
    text = f"Påminnelsen är skickad till {b.sent} konversationer"
    if b.failed:
        text += f", misslyckades för {b.failed} (tryck igen för att försöka med dem)"
    return OutgoingMessage(text=text + ".")
