"""GDPR retention: what the bot keeps about people is deleted after `RETENTION_DAYS`.

- per-user state (`dialogs.state.UserState`: guide position, a pending clarifying question, an
  open offer to forward a question), under `storage.keys.USER_STATE_PREFIX`: deleted when
  untouched for the retention period; an offer nobody accepted is dropped after a day;
- the anonymous question log: events older than the retention period;
- the scrubbed texts of unanswered, asked-back and 👎 questions (`helpdesk.question_texts`) and the hand-off
  records (`helpdesk.handoff`): older than the retention period;
- greeting flags older than the retention period;
- conversations the bot was removed from (the announcement registry): deleted that long after
  they were marked gone. Installed conversations are kept: they are where announcements go;
- who confirmed an election-readiness checklist item (a display name,
  `announcements.readiness`): removed `RETENTION_DAYS` after the election the checklist was for;
  what was confirmed and when stays for the report.

After deleting, the storage is compacted (`KeyedStorage.compact`): SQLite's write-ahead log
would otherwise still hold the deleted texts until its next checkpoint.

The running bot purges once a day; `python bot.py report --purge` does it on demand.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pydantic import BaseModel, ValidationError

from announcements.readiness import ReadinessStore
from dialogs.state import UserState
from helpdesk.question_log import time_key
from storage import ETagConflictError, KeyedStorage
from storage.keys import (
    GREETED_PREFIX,
    HANDOFF_PREFIX,
    QUESTION_PREFIX,
    QUESTION_TEXT_PREFIX,
    REGISTRY_PREFIX,
    USER_STATE_PREFIX,
)
from storage.models import plain

__all__ = ["PurgeResult", "purge"]

log = logging.getLogger(__name__)

_BATCH = 200
_OFFER_KEPT = dt.timedelta(days=1)
"""An unanswered offer to forward a question (assistant.conversation.OFFER_TTL is an hour) is
dropped after a day."""


class PurgeResult(BaseModel):
    """How much was deleted."""

    user_states: int = 0
    question_events: int = 0
    question_texts: int = 0
    handoffs: int = 0
    gone_conversations: int = 0
    readiness_names: int = 0
    """Readiness records whose who-confirmed names were removed."""


def _parse(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def _delete_in_batches(storage: KeyedStorage, keys: list[str]) -> None:
    for start in range(0, len(keys), _BATCH):
        await storage.delete(keys[start : start + _BATCH])


async def _purge_user_states(storage: KeyedStorage, now: dt.datetime, cutoff: dt.datetime) -> int:
    user_keys = await storage.keys(USER_STATE_PREFIX)
    stale = []
    for start in range(0, len(user_keys), _BATCH):
        batch = await storage.read(user_keys[start : start + _BATCH])
        offers_to_drop: dict[str, Any] = {}
        for key, value in batch.items():
            try:
                state = UserState.model_validate(plain(value))
            except ValidationError:
                stale.append(key)  # unreadable: nothing the bot can use, so nothing to keep
                continue
            touched = state.latest_touch()
            if touched is None or touched < cutoff:
                stale.append(key)
            elif state.handoff_offer and now - _aware(state.handoff_offer.offered_at) > _OFFER_KEPT:
                # A question no one sent is not kept longer than its offer; compare-and-set, so a
                # turn of that user at this moment is never overwritten.
                state.handoff_offer = None
                offers_to_drop[key] = {**state.model_dump(mode="json"), "e_tag": value.get("e_tag")}
        for key, item in offers_to_drop.items():
            try:
                await storage.write({key: item})
            except ETagConflictError:
                log.info("user state changed during the purge; its offer is dropped on the next run")
    await _delete_in_batches(storage, stale)
    return len(stale)


async def purge(storage: KeyedStorage, now: dt.datetime, retention_days: int) -> PurgeResult:
    cutoff = now - dt.timedelta(days=retention_days)
    result = PurgeResult()
    result.user_states = await _purge_user_states(storage, now, cutoff)

    floor = f"{QUESTION_PREFIX}{time_key(cutoff)}"
    old_events = [k for k in await storage.keys(QUESTION_PREFIX) if k < floor]
    await _delete_in_batches(storage, old_events)
    result.question_events = len(old_events)

    text_floor = f"{QUESTION_TEXT_PREFIX}{time_key(cutoff)}"
    old_texts = [k for k in await storage.keys(QUESTION_TEXT_PREFIX) if k < text_floor]
    await _delete_in_batches(storage, old_texts)
    result.question_texts = len(old_texts)

    handoff_keys = await storage.keys(HANDOFF_PREFIX)
    old_handoffs = []
    for start in range(0, len(handoff_keys), _BATCH):
        batch = await storage.read(handoff_keys[start : start + _BATCH])
        # unreadable: nothing the bot can use, so nothing to keep
        old_handoffs += [k for k, v in batch.items() if (_parse(dict(v).get("created_at")) or cutoff) <= cutoff]
    await _delete_in_batches(storage, old_handoffs)
    result.handoffs = len(old_handoffs)

    greeted = await storage.keys(GREETED_PREFIX)
    stale_greetings = []
    for start in range(0, len(greeted), _BATCH):
        batch = await storage.read(greeted[start : start + _BATCH])
        stale_greetings += [k for k, v in batch.items() if (_parse(dict(v).get("at")) or cutoff) < cutoff]
    await _delete_in_batches(storage, stale_greetings)

    registry_keys = await storage.keys(REGISTRY_PREFIX)
    gone = []
    for start in range(0, len(registry_keys), _BATCH):
        batch = await storage.read(registry_keys[start : start + _BATCH])
        for key, value in batch.items():
            gone_at = _parse(dict(value).get("gone_at"))
            if dict(value).get("installed") is False and gone_at is not None and gone_at < cutoff:
                gone.append(key)
    await _delete_in_batches(storage, gone)
    result.gone_conversations = len(gone)

    result.readiness_names = await ReadinessStore(storage).scrub_names(now, retention_days)
    # Always: a user state whose offer was dropped above was rewritten, not deleted, and its old
    # version (with the question) is in SQLite's log as much as any deleted text.
    await storage.compact()
    if any(result.model_dump().values()):
        log.info(
            "retention (%d days): deleted %d user states, %d question events, %d question texts, "
            "%d hand-offs, %d removed conversations, names in %d readiness checklists",
            retention_days,
            result.user_states,
            result.question_events,
            result.question_texts,
            result.handoffs,
            result.gone_conversations,
            result.readiness_names,
        )
    return result
