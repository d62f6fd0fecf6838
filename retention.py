"""GDPR retention: what the bot keeps about people is deleted after `RETENTION_DAYS`.

- per-user state (guide position, a pending clarifying question), keyed by conversation and user
  id: deleted when untouched for the retention period;
- the anonymous question log: events older than the retention period;
- conversations the bot was removed from (the announcement registry): deleted that long after
  they were marked gone. Installed conversations are kept: they are where announcements go.

The running bot purges once a day; `python bot.py report --purge` does it on demand.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from pydantic import BaseModel

from question_log import QUESTION_PREFIX
from storage import KeyedStorage

__all__ = ["PurgeResult", "purge", "USER_STATE_MARKER"]

log = logging.getLogger(__name__)

USER_STATE_MARKER = "/users/"
"""botbuilder's PrivateConversationState keys: <channel>/conversations/<conversation>/users/<user>."""
_REGISTRY_PREFIX = "registry/"
_BATCH = 200
_OFFER_KEPT = dt.timedelta(days=1)
"""An unanswered offer to forward a question (conversation.OFFER_TTL is an hour) is dropped after a day."""


class PurgeResult(BaseModel):
    """How much was deleted."""

    user_states: int = 0
    question_events: int = 0
    gone_conversations: int = 0


def _parse(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _latest_touch(state: dict[str, Any]) -> dt.datetime | None:
    user = state.get("kanalvakten") if isinstance(state.get("kanalvakten"), dict) else {}
    guide = user.get("guide") if isinstance(user.get("guide"), dict) else {}
    pending = user.get("pending") if isinstance(user.get("pending"), dict) else {}
    times = [_parse(user.get("touched_at")), _parse(guide.get("updated_at")), _parse(pending.get("asked_at"))]
    times = [t for t in times if t is not None]
    return max(times) if times else None


def _expired_offer(state: dict[str, Any], now: dt.datetime) -> bool:
    user = state.get("kanalvakten") if isinstance(state.get("kanalvakten"), dict) else {}
    offer = user.get("handoff_offer") if isinstance(user.get("handoff_offer"), dict) else None
    offered = _parse(offer.get("offered_at")) if offer else None
    return offered is not None and now - offered > _OFFER_KEPT


async def _delete_in_batches(storage: KeyedStorage, keys: list[str]) -> None:
    for start in range(0, len(keys), _BATCH):
        await storage.delete(keys[start : start + _BATCH])


async def purge(storage: KeyedStorage, now: dt.datetime, retention_days: int) -> PurgeResult:
    cutoff = now - dt.timedelta(days=retention_days)
    result = PurgeResult()

    user_keys = [k for k in await storage.keys("") if USER_STATE_MARKER in k]
    stale = []
    for start in range(0, len(user_keys), _BATCH):
        batch = await storage.read(user_keys[start : start + _BATCH])
        offers_to_drop = {}
        for key, value in batch.items():
            value = dict(value)
            touched = _latest_touch(value)
            if touched is None or touched < cutoff:
                stale.append(key)
            elif _expired_offer(value, now):
                user = dict(value["kanalvakten"])
                user["handoff_offer"] = None  # a question no one sent: not kept longer than its offer
                offers_to_drop[key] = {**{k: v for k, v in value.items() if k != "e_tag"}, "kanalvakten": user}
        if offers_to_drop:
            await storage.write(offers_to_drop)
    await _delete_in_batches(storage, stale)
    result.user_states = len(stale)

    floor = f"{QUESTION_PREFIX}{cutoff.astimezone(dt.UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"
    old_events = [k for k in await storage.keys(QUESTION_PREFIX) if k < floor]
    await _delete_in_batches(storage, old_events)
    result.question_events = len(old_events)

    greeted = await storage.keys("greeted/")
    stale_greetings = []
    for start in range(0, len(greeted), _BATCH):
        batch = await storage.read(greeted[start : start + _BATCH])
        stale_greetings += [k for k, v in batch.items() if (_parse(dict(v).get("at")) or cutoff) < cutoff]
    await _delete_in_batches(storage, stale_greetings)

    registry_keys = await storage.keys(_REGISTRY_PREFIX)
    gone = []
    for start in range(0, len(registry_keys), _BATCH):
        batch = await storage.read(registry_keys[start : start + _BATCH])
        for key, value in batch.items():
            gone_at = _parse(dict(value).get("gone_at"))
            if dict(value).get("installed") is False and gone_at is not None and gone_at < cutoff:
                gone.append(key)
    await _delete_in_batches(storage, gone)
    result.gone_conversations = len(gone)

    if result.user_states or result.question_events or result.gone_conversations:
        log.info("retention (%d days): deleted %d user states, %d question events, %d removed conversations",
                 retention_days, result.user_states, result.question_events, result.gone_conversations)
    return result
