"""The delivery ledger: for each (announcement, conversation), what happened to the send.

An entry is written *before* each attempt (`in_flight`) and *after* it (`sent`, `failed`, `gone`,
or back to `pending` while a retry waits). So a second run, or a run after a crash, sends only
what is missing and never repeats a confirmed send.

The one at-least-once window: an entry left `in_flight` means the process stopped between writing
the entry and recording Teams' answer — the message may or may not have been delivered. The next
run sends it again and reports it (`resent_after_interruption`). Teams allows no better: the Bot
Connector's send API (`POST /v3/conversations/{id}/activities`, and `POST /v3/conversations` for a
new channel thread) takes no idempotency key and the bot cannot ask afterwards whether a message it
never got an answer for was posted (there is no "list my messages" call for a chat). Between
"possibly twice" and "possibly never" for those few, we choose "possibly twice".

Entries live under `ledger/<announcement id>/<conversation id>`. A recipient without an entry is
`pending`: nothing has been tried.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict

from storage import KeyedStorage, read_models, write_models
from storage.keys import LEDGER_PREFIX

__all__ = ["DeliveryStatus", "LedgerEntry", "Ledger", "DeliveryPlan", "plan_delivery", "LEDGER_PREFIX"]

DeliveryStatus = Literal["pending", "in_flight", "sent", "failed", "gone"]


class LedgerEntry(BaseModel):
    """One announcement to one conversation."""

    model_config = ConfigDict(extra="ignore")

    announcement_id: str
    """The announcement's id from the knowledge base."""
    conversation_id: str
    """Registry id of the conversation (the team id for a team)."""
    status: DeliveryStatus = "pending"
    """pending (waiting or retrying), in_flight (a request is out), sent, failed, gone."""
    attempts: int = 0
    """Requests made, over all runs."""
    reason: str | None = None
    """Last error ("429 Too Many Requests", "503 ...", "network: ..."), or why it failed/is gone."""
    first_attempt_at: dt.datetime | None = None
    """When the first request started."""
    last_attempt_at: dt.datetime | None = None
    """When the latest request started."""
    finished_at: dt.datetime | None = None
    """When it became sent, failed or gone."""
    activity_id: str | None = None
    """The message id Teams returned (the thread id for a new channel thread)."""
    interrupted: int = 0
    """How many times a run found this entry `in_flight` and so resent it (at-least-once window)."""

    # -- the transitions of one delivery (the caller saves the entry after each) --------------

    def start_attempt(self, now: dt.datetime) -> None:
        """A request is about to go out: `in_flight` (saved *before* the request)."""
        self.status = "in_flight"
        self.attempts += 1
        self.first_attempt_at = self.first_attempt_at or now
        self.last_attempt_at = now

    def retry_later(self, reason: str) -> None:
        """The request failed and a retry waits: back to `pending`, with the reason."""
        self.status, self.reason = "pending", reason

    def finish(
        self,
        status: Literal["sent", "failed", "gone"],
        now: dt.datetime,
        *,
        reason: str | None = None,
        activity_id: str | None = None,
    ) -> None:
        """The delivery ended: `sent` (with Teams' message id), `failed` or `gone` (with the reason)."""
        self.status, self.reason, self.finished_at = status, reason, now
        if activity_id is not None:
            self.activity_id = activity_id


class Ledger:
    """Read and write ledger entries through the bot's Storage."""

    def __init__(self, storage: KeyedStorage) -> None:
        self._storage = storage

    @staticmethod
    def key(announcement_id: str, conversation_id: str) -> str:
        return f"{LEDGER_PREFIX}{announcement_id}/{conversation_id}"

    async def get(self, announcement_id: str, conversation_id: str) -> LedgerEntry | None:
        key = self.key(announcement_id, conversation_id)
        return (await read_models(self._storage, [key], LedgerEntry)).get(key)

    async def entries(self, announcement_id: str) -> dict[str, LedgerEntry]:
        """Every entry of one announcement, by conversation id."""
        keys = await self._storage.keys(f"{LEDGER_PREFIX}{announcement_id}/")
        found = await read_models(self._storage, keys, LedgerEntry)
        return {entry.conversation_id: entry for entry in found.values()}

    async def announcements(self) -> list[str]:
        """Ids of the announcements the ledger holds entries for."""
        keys = await self._storage.keys(LEDGER_PREFIX)
        return sorted({k[len(LEDGER_PREFIX) :].split("/", 1)[0] for k in keys})

    async def save(self, entry: LedgerEntry) -> None:
        await write_models(self._storage, {self.key(entry.announcement_id, entry.conversation_id): entry})


@dataclass
class DeliveryPlan:
    """What a run has to do, from the ledger: who to send to, and who to skip."""

    to_send: list[LedgerEntry] = field(default_factory=list)
    """Entries to deliver, in recipient order (new ones are `pending` and not yet saved)."""
    already_sent: list[str] = field(default_factory=list)
    """Conversation ids whose entry is `sent`: never sent again."""
    gone: list[str] = field(default_factory=list)
    """Conversation ids whose entry is `gone`."""
    resent_after_interruption: list[str] = field(default_factory=list)
    """Conversation ids found `in_flight` (a run stopped mid-request): sent again, maybe twice."""


def plan_delivery(
    announcement_id: str, conversation_ids: Iterable[str], entries: dict[str, LedgerEntry]
) -> DeliveryPlan:
    """Sort recipients by their ledger entries; a conversation listed twice is planned once.

    An `in_flight` entry has its `interrupted` count raised (saved with its next attempt).
    """
    plan = DeliveryPlan()
    seen: set[str] = set()
    for conversation_id in conversation_ids:
        if conversation_id in seen:
            continue
        seen.add(conversation_id)
        entry = entries.get(conversation_id)
        if entry is None:
            plan.to_send.append(LedgerEntry(announcement_id=announcement_id, conversation_id=conversation_id))
        elif entry.status == "sent":
            plan.already_sent.append(conversation_id)
        elif entry.status == "gone":
            plan.gone.append(conversation_id)
        else:
            if entry.status == "in_flight":
                entry.interrupted += 1
                plan.resent_after_interruption.append(conversation_id)
            plan.to_send.append(entry)
    return plan
