"""Election readiness per conversation: which checklist items it has confirmed, by whom and when.

One record per (announcement, conversation), next to the delivery ledger, under
`readiness/<announcement id>/<conversation id>` (the conversation is the registry's id: the team
for a team). Anyone in the conversation ticks items on the announcement card and presses "Spara";
`ReadinessStore.save` applies that submit.

- Each save raises the record's `rev`, and every card shows the `rev` it was drawn from. A submit
  from a card drawn before the latest save (someone else saved meanwhile, or the card could not be
  refreshed) is refused as stale and changes nothing: its toggles show an older state, and saving
  them would silently undo the other person's ticks.
- Saves are compare-and-set writes on the item's e_tag (a new record is created with an e_tag no
  item can have), retried when another write came between the read and the write: two bot
  instances on one database or blob container never lose a save, and of two saves from the same
  card exactly one is applied.
- Who confirmed is a display name, personal data: `scrub_names` removes it `RETENTION_DAYS` after
  the election the record is for (`helpdesk.retention` calls it daily); status and time stay.

Plain Python: parsing a submit (`parse_submit`) and deciding readiness need no SDK.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from announcements.checklist import CheckItem
from storage import ETagConflictError, KeyedStorage
from storage.keys import READINESS_PREFIX
from storage.models import plain

__all__ = [
    "ItemStatus",
    "ItemState",
    "Readiness",
    "ChecklistSubmit",
    "SubmitProblem",
    "SaveResult",
    "ReadinessStore",
    "parse_submit",
    "DONE_INPUT",
    "USED_INPUT",
    "USED",
    "NOT_USED",
]

log = logging.getLogger(__name__)

ItemStatus = Literal["open", "done", "not_used"]

DONE_INPUT = "done:"
"""Input id prefix of an item's toggle (`done:<item id>`, value "true"/"false")."""
USED_INPUT = "used:"
"""Input id prefix of a platform item's choice (`used:<item id>`, value `USED`/`NOT_USED`)."""
USED, NOT_USED = "used", "not_used"

_MISSING_E_TAG = "kanalvakten:missing"
"""Create a new record with an e_tag no stored item has: of two creators only one wins."""
_ATTEMPTS = 8


class ItemState(BaseModel):
    """One item of one conversation."""

    model_config = ConfigDict(extra="ignore")

    status: ItemStatus = "open"
    """open (not confirmed), done, or not_used (a platform the team does not use)."""
    by: str | None = None
    """Display name of who set it; removed RETENTION_DAYS after the election."""
    at: dt.datetime | None = None
    """When it was set."""


class Readiness(BaseModel):
    """One conversation's checklist for one announcement."""

    model_config = ConfigDict(extra="ignore")

    announcement_id: str
    conversation_id: str
    """Registry id (the team id for a team)."""
    election_date: dt.date
    """The election the checklist is for: names are kept until RETENTION_DAYS after it."""
    items: dict[str, ItemState] = Field(default_factory=dict)
    """Item id -> state; an item not listed is open."""
    rev: int = 0
    """Raised by every save; a card carries the rev it shows."""
    updated_at: dt.datetime | None = None
    """When it was last saved."""
    names_removed_at: dt.datetime | None = None
    """When retention removed the names."""

    def state(self, item_id: str) -> ItemState:
        return self.items.get(item_id) or ItemState()

    def status(self, item_id: str) -> ItemStatus:
        return self.state(item_id).status

    def settled(self, items: Iterable[CheckItem]) -> int:
        """How many of `items` are done or marked not used."""
        return sum(1 for item in items if self.status(item.id) != "open")

    def is_ready(self, items: list[CheckItem]) -> bool:
        """Every item is done or marked not used."""
        return bool(items) and self.settled(items) == len(items)

    def last_confirmed_at(self) -> dt.datetime | None:
        times = [s.at for s in self.items.values() if s.status != "open" and s.at is not None]
        return max(times) if times else None


class ChecklistSubmit(BaseModel):
    """A "Spara" press, parsed: what the card says each item is now."""

    announcement_id: str
    rev: int
    choices: dict[str, ItemStatus]
    """Item id -> the status the card's inputs give."""


class SubmitProblem(BaseModel):
    """Why a submit cannot be used."""

    reason: Literal["malformed", "unknown_items"]
    unknown: list[str] = Field(default_factory=list)
    """Item ids the current checklist does not have."""


def parse_submit(value: Any, items: list[CheckItem]) -> ChecklistSubmit | SubmitProblem:
    """The card's payload (`cards.actions.checklist_payload` plus Teams' input values) as choices.

    Refuses (changes nothing) a payload without announcement and rev, an input for an item the
    checklist does not have, and values a toggle or choice cannot give."""
    if not isinstance(value, dict):
        return SubmitProblem(reason="malformed")
    announcement_id, raw_rev = value.get("announcement"), value.get("rev")
    if not isinstance(announcement_id, str) or not announcement_id or not isinstance(raw_rev, (int, str)):
        return SubmitProblem(reason="malformed")
    if isinstance(raw_rev, bool):
        return SubmitProblem(reason="malformed")
    try:
        rev = int(raw_rev)
    except ValueError:
        return SubmitProblem(reason="malformed")
    known = {item.id: item for item in items}
    done: dict[str, bool] = {}
    used: dict[str, bool] = {}
    unknown: list[str] = []
    for key, raw in value.items():
        if not isinstance(key, str):
            continue
        for prefix, target in ((DONE_INPUT, done), (USED_INPUT, used)):
            if not key.startswith(prefix):
                continue
            item_id = key[len(prefix) :]
            if item_id not in known or (target is used and not known[item_id].platform):
                unknown.append(item_id)
                continue
            text = str(raw).strip().lower() if isinstance(raw, (str, bool)) else None
            if target is done and text in ("true", "false"):
                target[item_id] = text == "true"
            elif target is used and text in (USED, NOT_USED):
                target[item_id] = text == USED
            else:
                return SubmitProblem(reason="malformed")
    if unknown:
        return SubmitProblem(reason="unknown_items", unknown=sorted(set(unknown)))
    if not done and not used:
        return SubmitProblem(reason="malformed")
    choices: dict[str, ItemStatus] = {}
    for item_id in known:
        if item_id not in done and item_id not in used:
            continue  # not on this card: left as it is
        if used.get(item_id) is False:
            choices[item_id] = "not_used"
        else:
            choices[item_id] = "done" if done.get(item_id) else "open"
    return ChecklistSubmit(announcement_id=announcement_id, rev=rev, choices=choices)


class SaveResult(BaseModel):
    """What a save did."""

    outcome: Literal["saved", "unchanged", "stale"]
    """saved; unchanged (the card already showed the stored state); stale (refused: the card was
    drawn before the latest save)."""
    readiness: Readiness
    """The record as stored after this save (or as found, when nothing was written)."""
    changed: list[str] = Field(default_factory=list)
    """Item ids this save changed."""


class ReadinessStore:
    """Read and save readiness records through the bot's storage."""

    def __init__(self, storage: KeyedStorage) -> None:
        self._storage = storage

    @staticmethod
    def key(announcement_id: str, conversation_id: str) -> str:
        return f"{READINESS_PREFIX}{announcement_id}/{conversation_id}"

    async def _read(self, key: str) -> tuple[Readiness | None, str | None]:
        found = (await self._storage.read([key])).get(key)
        if found is None:
            return None, None
        e_tag = found.get("e_tag") if isinstance(found, dict) else None
        try:
            return Readiness.model_validate(plain(found)), e_tag
        except ValidationError:
            log.warning("unreadable readiness record %s is replaced by the next save", key)
            return None, e_tag

    async def get(self, announcement_id: str, conversation_id: str) -> Readiness | None:
        return (await self._read(self.key(announcement_id, conversation_id)))[0]

    async def all(self, announcement_id: str) -> dict[str, Readiness]:
        """Every record of one announcement, by conversation id."""
        keys = await self._storage.keys(f"{READINESS_PREFIX}{announcement_id}/")
        out: dict[str, Readiness] = {}
        for start in range(0, len(keys), 200):
            found = await self._storage.read(keys[start : start + 200])
            for key, value in found.items():
                try:
                    record = Readiness.model_validate(plain(value))
                except ValidationError:
                    log.warning("unreadable readiness record %s skipped", key)
                    continue
                out[record.conversation_id] = record
        return out

    async def save(
        self,
        submit: ChecklistSubmit,
        conversation_id: str,
        *,
        by: str | None,
        now: dt.datetime,
        election_date: dt.date,
    ) -> SaveResult:
        """Apply a submit with compare-and-set; `stale` when the card's rev is not the stored one."""
        key = self.key(submit.announcement_id, conversation_id)
        for _ in range(_ATTEMPTS):
            current, e_tag = await self._read(key)
            record = current or Readiness(
                announcement_id=submit.announcement_id, conversation_id=conversation_id, election_date=election_date
            )
            if submit.rev != record.rev:
                return SaveResult(outcome="stale", readiness=record)
            changed = [i for i, status in submit.choices.items() if record.status(i) != status]
            if not changed:
                return SaveResult(outcome="unchanged", readiness=record)
            items = dict(record.items)
            for item_id in changed:
                status = submit.choices[item_id]
                items[item_id] = (
                    ItemState(status=status) if status == "open" else ItemState(status=status, by=by, at=now)
                )
            updated = record.model_copy(
                update={"items": items, "rev": record.rev + 1, "updated_at": now, "election_date": election_date}
            )
            document = {**updated.model_dump(mode="json"), "e_tag": e_tag or _MISSING_E_TAG}
            try:
                await self._storage.write({key: document})
            except ETagConflictError:
                log.info("readiness of %s changed while saving; reading it again", conversation_id)
                continue
            return SaveResult(outcome="saved", readiness=updated, changed=changed)
        raise RuntimeError(f"readiness of {conversation_id}: could not save after {_ATTEMPTS} attempts")

    async def scrub_names(self, now: dt.datetime, retention_days: int) -> int:
        """Remove who-confirmed names from records whose election ended more than
        `retention_days` ago; returns how many records lost their names."""
        scrubbed = 0
        keys = await self._storage.keys(READINESS_PREFIX)
        for start in range(0, len(keys), 200):
            batch = await self._storage.read(keys[start : start + 200])
            for key, value in batch.items():
                try:
                    record = Readiness.model_validate(plain(value))
                except ValidationError:
                    continue
                if now.date() <= record.election_date + dt.timedelta(days=retention_days):
                    continue
                if not any(s.by for s in record.items.values()):
                    continue
                items = {i: s.model_copy(update={"by": None}) for i, s in record.items.items()}
                cleaned = record.model_copy(update={"items": items, "names_removed_at": now})
                try:
                    await self._storage.write({key: {**cleaned.model_dump(mode="json"), "e_tag": value.get("e_tag")}})
                except ETagConflictError:
                    log.info("readiness %s changed during the purge; its names go on the next run", key)
                    continue
                scrubbed += 1
        return scrubbed
