"""Reminders to the conversations whose checklist is not done, in rounds, each delivered like the
announcement (the same `Broadcaster`: rate limits, ledger, exactly once).

- Who: installed conversations that got the announcement (its ledger says `sent`) and have not
  settled every item, and that got no reminder in the last 72 hours (`REMINDER_GAP`: a reminder
  `sent`, or `in_flight` when a run stopped, counts as got). A conversation the announcement has
  not reached gets the announcement, not a reminder. None after the election day (the service
  refuses, as for the announcement).
- Rounds: round n is delivered under the ledger id `<announcement id>-reminder-<n>`, so the
  ledger, the run lock and the status are the announcement's own. The rounds are one document,
  `reminder-rounds/<announcement id>`, written with compare-and-set: of two processes starting a
  round at once, one creates it and the other resumes that same round (and meets its run lock).
  A round that did not finish (a crash, failures) is resumed by the next `remind` with its own
  recipients, before any new round is started; what it already delivered is not sent again.
- Each reminder carries that conversation's own checklist (drawn just before it is sent), so it can
  be ticked there; a save updates every checklist card of the conversation (`card_activities`).

Plain Python: the sender, storage and clock come from the caller.
"""

from __future__ import annotations

import datetime as dt
import logging

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from announcements.content import AnnouncementContent
from announcements.ledger import Ledger, LedgerEntry
from announcements.readiness import ReadinessStore
from announcements.registry import ConversationRecord, ConversationRegistry
from storage import ETagConflictError, KeyedStorage
from storage.keys import REMINDER_ROUNDS_PREFIX
from storage.models import plain

__all__ = [
    "REMINDER_GAP",
    "ReminderRound",
    "ReminderRounds",
    "ReminderPlan",
    "Reminders",
    "CardRef",
    "reminder_ledger_id",
]

log = logging.getLogger(__name__)

REMINDER_GAP = dt.timedelta(hours=72)
"""No conversation gets more than one reminder in this long."""
_MISSING_E_TAG = "kanalvakten:missing"
_ATTEMPTS = 8


def reminder_ledger_id(announcement_id: str, number: int) -> str:
    """The ledger id of reminder round `number` (from 1)."""
    return f"{announcement_id}-reminder-{number}"


class ReminderRound(BaseModel):
    """One reminder round: who it is for, and whether it finished."""

    model_config = ConfigDict(extra="ignore")

    number: int
    ledger_id: str
    created_at: dt.datetime
    recipients: list[str]
    """Conversation ids chosen when the round was created."""
    finished_at: dt.datetime | None = None
    """Set when a run of the round ended; an unfinished round is resumed before a new one starts."""
    result: str | None = None
    """One line: sent, failed, gone."""


class ReminderRounds(BaseModel):
    """Every reminder round of one announcement, oldest first."""

    model_config = ConfigDict(extra="ignore")

    announcement_id: str
    rounds: list[ReminderRound] = Field(default_factory=list)


class ReminderPlan(BaseModel):
    """Who a reminder would go to now, and why the others would not get one."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    recipients: list[ConversationRecord] = Field(default_factory=list)
    ready: list[str] = Field(default_factory=list)
    """Every item settled: nothing to remind of."""
    reminded_recently: list[str] = Field(default_factory=list)
    """Got a reminder within `REMINDER_GAP`."""
    not_delivered: list[str] = Field(default_factory=list)
    """The announcement has not reached them (send it first)."""


class CardRef(BaseModel):
    """A checklist card the bot posted into a conversation."""

    kind: str
    """"announcement" or "reminder"."""
    ledger_id: str
    activity_id: str
    """Teams' id of the posted message."""


class Reminders:
    """Plan, open and close reminder rounds through the bot's storage."""

    def __init__(self, storage: KeyedStorage) -> None:
        self._storage = storage
        self._ledger = Ledger(storage)

    @staticmethod
    def key(announcement_id: str) -> str:
        return REMINDER_ROUNDS_PREFIX + announcement_id

    async def _read(self, announcement_id: str) -> tuple[ReminderRounds, str | None]:
        key = self.key(announcement_id)
        found = (await self._storage.read([key])).get(key)
        if found is None:
            return ReminderRounds(announcement_id=announcement_id), None
        try:
            return ReminderRounds.model_validate(plain(found)), found.get("e_tag")
        except ValidationError:
            log.warning("unreadable reminder rounds of %s: starting afresh", announcement_id)
            return ReminderRounds(announcement_id=announcement_id), found.get("e_tag")

    async def rounds(self, announcement_id: str) -> ReminderRounds:
        return (await self._read(announcement_id))[0]

    async def _write(self, rounds: ReminderRounds, e_tag: str | None) -> None:
        document = {**rounds.model_dump(mode="json"), "e_tag": e_tag or _MISSING_E_TAG}
        await self._storage.write({self.key(rounds.announcement_id): document})

    async def last_reminded(self, rounds: ReminderRounds) -> dict[str, dt.datetime]:
        """When each conversation last got a reminder (sent, or possibly sent: in flight)."""
        out: dict[str, dt.datetime] = {}
        for round_ in rounds.rounds:
            for conversation_id, entry in (await self._ledger.entries(round_.ledger_id)).items():
                when = _delivered_at(entry)
                if when is not None and (conversation_id not in out or when > out[conversation_id]):
                    out[conversation_id] = when
        return out

    async def plan(
        self,
        content: AnnouncementContent,
        now: dt.datetime,
        *,
        rounds: ReminderRounds | None = None,
        recent_rule: bool = True,
    ) -> ReminderPlan:
        """Who a reminder round started now would go to (`recent_rule=False`: without the
        72-hour rule, for a round being resumed)."""
        rounds = rounds or await self.rounds(content.id)
        records = await ConversationRegistry(self._storage).installed()
        delivered = await self._ledger.entries(content.id)
        readiness = await ReadinessStore(self._storage).all(content.id)
        last = await self.last_reminded(rounds) if recent_rule else {}
        plan = ReminderPlan()
        for record in records:
            entry = delivered.get(record.id)
            record_readiness = readiness.get(record.id)
            if entry is None or entry.status != "sent":
                plan.not_delivered.append(record.id)
            elif record_readiness is not None and record_readiness.is_ready(content.checklist):
                plan.ready.append(record.id)
            elif record.id in last and now - last[record.id] < REMINDER_GAP:
                plan.reminded_recently.append(record.id)
            else:
                plan.recipients.append(record)
        return plan

    async def open_round(
        self, content: AnnouncementContent, now: dt.datetime
    ) -> tuple[ReminderRound | None, bool, ReminderPlan]:
        """The round to run now: an unfinished one (resumed: True), or a new one with the plan's
        recipients; (None, False, plan) when nobody needs a reminder."""
        for _ in range(_ATTEMPTS):
            rounds, e_tag = await self._read(content.id)
            last = rounds.rounds[-1] if rounds.rounds else None
            if last is not None and last.finished_at is None:
                # Resumed with its own recipients (chosen under the 72-hour rule when it was
                # created), less those that are ready or gone by now.
                plan = await self.plan(content, now, rounds=rounds, recent_rule=False)
                wanted = set(last.recipients)
                plan.recipients = [r for r in plan.recipients if r.id in wanted]
                return last, True, plan
            plan = await self.plan(content, now, rounds=rounds)
            if not plan.recipients:
                return None, False, plan
            number = (last.number if last else 0) + 1
            new = ReminderRound(
                number=number,
                ledger_id=reminder_ledger_id(content.id, number),
                created_at=now,
                recipients=[r.id for r in plan.recipients],
            )
            try:
                await self._write(rounds.model_copy(update={"rounds": [*rounds.rounds, new]}), e_tag)
            except ETagConflictError:
                continue  # another process started a round at this moment: resume that one
            log.info("%s: reminder round %d for %d conversations", content.id, number, len(new.recipients))
            return new, False, plan
        raise RuntimeError(f"{content.id}: could not open a reminder round after {_ATTEMPTS} attempts")

    async def finish_round(self, announcement_id: str, number: int, now: dt.datetime, result: str) -> None:
        """Mark round `number` finished (the next `remind` starts a new round)."""
        for _ in range(_ATTEMPTS):
            rounds, e_tag = await self._read(announcement_id)
            updated = [
                r.model_copy(update={"finished_at": now, "result": result}) if r.number == number else r
                for r in rounds.rounds
            ]
            try:
                await self._write(rounds.model_copy(update={"rounds": updated}), e_tag)
                return
            except ETagConflictError:
                continue
        log.error("%s: could not mark reminder round %d finished", announcement_id, number)

    async def card_activities(self, announcement_id: str, conversation_id: str) -> list[CardRef]:
        """Every checklist card posted into the conversation: the announcement, then reminders."""
        refs: list[CardRef] = []
        entry = await self._ledger.get(announcement_id, conversation_id)
        if entry is not None and entry.activity_id and entry.status == "sent":
            refs.append(CardRef(kind="announcement", ledger_id=announcement_id, activity_id=entry.activity_id))
        for round_ in (await self.rounds(announcement_id)).rounds:
            if conversation_id not in round_.recipients:
                continue
            entry = await self._ledger.get(round_.ledger_id, conversation_id)
            if entry is not None and entry.activity_id and entry.status == "sent":
                refs.append(CardRef(kind="reminder", ledger_id=round_.ledger_id, activity_id=entry.activity_id))
        return refs


def _delivered_at(entry: LedgerEntry) -> dt.datetime | None:
    if entry.status == "sent":
        return entry.finished_at or entry.last_attempt_at
    if entry.status == "in_flight":
        return entry.last_attempt_at
    return None
