"""The conversations the bot is installed in, remembered so an announcement can reach them.

One record per place an announcement goes: a personal chat, a group chat, or a team (not one per
channel: a team gets a new thread in one channel, the General channel unless `ANNOUNCE_CHANNEL_ID`
names a channel of that team). Records live in the bot's `Storage` under `registry/<id>`, where
the id is the conversation id, or the team id for a team (in Teams the General channel's
conversation id is the team id).

Personal data is kept to what a proactive send needs: the conversation reference without the
user (no names, no user ids) and without conversation names; scope, team/channel/tenant ids and
when the bot last saw the conversation. A team's name, and the name of the channel announcements
go to, are kept from Teams' channelData when an activity carries them (the readiness report
names teams by them; they name no person). Uninstalled or unreachable (403/404) conversations stay
as records with `installed = False` and the reason, so the ledger and status can explain them.
"""

from __future__ import annotations

import datetime as dt
import logging
import weakref
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from storage import KeyedStorage, read_models, write_models
from storage.keys import REGISTRY_PREFIX

__all__ = [
    "Scope",
    "TEAM_ARCHIVED",
    "TEAM_DELETED",
    "CHANNEL_DELETED",
    "ConversationRecord",
    "ConversationRegistry",
    "REGISTRY_PREFIX",
    "registry_id",
    "reduce_reference",
    "scope_of",
]

log = logging.getLogger(__name__)

Scope = Literal["personal", "groupChat", "team"]

TEAM_ARCHIVED = "team archived"
"""`gone_reason` of a team Teams reported archived (teamArchived); teamUnarchived takes it away."""
TEAM_DELETED = "team deleted"
"""`gone_reason` of a deleted team (teamDeleted, teamHardDeleted); teamRestored takes it away."""
CHANNEL_DELETED = "channel deleted"
"""`gone_reason` of a team whose announcement channel was deleted; channelRestored takes it away."""
_LIFECYCLE = frozenset({TEAM_ARCHIVED, TEAM_DELETED, CHANNEL_DELETED})
"""Marks Teams sets and takes away; one may replace another (a deleted team that was archived)."""

_TOUCH_EVERY = dt.timedelta(hours=1)
"""`last_seen` is rewritten at most this often, so a chatty conversation costs few writes."""
_CACHE_LIMIT = 50_000
"""Records remembered in memory per storage; beyond it the cache starts afresh (costs one read each)."""
_KNOWN: weakref.WeakKeyDictionary[Any, dict[str, ConversationRecord]] = weakref.WeakKeyDictionary()
"""What this process last registered or read, per storage object: every registry on the same
storage shares it, so a conversation retired here (uninstall, 403/404 on a send) is re-read."""


class ConversationRecord(BaseModel):
    """One place the bot can post to proactively."""

    model_config = ConfigDict(extra="ignore")

    id: str
    """Registry id: the conversation id; for a team, the team id (= its General channel)."""
    scope: Scope
    """personal, groupChat or team (Teams' own names)."""
    reference: dict[str, Any]
    """Conversation reference (botbuilder's serialised shape) without user and names."""
    service_url: str
    """Bot Connector endpoint for this conversation's region."""
    tenant_id: str | None = None
    """Azure AD tenant the conversation belongs to."""
    team_id: str | None = None
    """For a team: its id (the General channel's conversation id)."""
    channel_id: str | None = None
    """For a team: the channel a new thread is started in."""
    first_seen: dt.datetime
    """When the bot first recorded the conversation."""
    last_seen: dt.datetime
    """When an activity from it was last recorded (refreshed at most hourly)."""
    installed: bool = True
    """False once uninstalled or found unreachable; announcements skip it."""
    gone_reason: str | None = None
    """Why it is no longer installed ("uninstalled", "403 Forbidden on send", ...)."""
    gone_at: dt.datetime | None = None
    """When it was marked gone."""
    team_name: str | None = None
    """For a team: its name, as Teams last sent it (channelData.team.name)."""
    channel_name: str | None = None
    """For a team: the name of `channel_id`, when Teams sent it (None: the General channel)."""


def scope_of(conversation_type: str | None) -> Scope:
    """Teams' `conversation.conversationType` as a registry scope ("channel" is a team)."""
    return {"channel": "team", "groupChat": "groupChat"}.get(conversation_type or "personal", "personal")  # type: ignore[return-value]


def registry_id(conversation_id: str, scope: str, team_id: str | None = None) -> str:
    """The record id for an activity's conversation: the team for a team, else the conversation."""
    if scope == "team" and team_id:
        return team_id
    return _base_conversation_id(conversation_id)


def _base_conversation_id(conversation_id: str) -> str:
    # Channel conversation ids of replies carry ";messageid=..."; the thread's channel is before it.
    return conversation_id.split(";", 1)[0]


def reduce_reference(reference: dict[str, Any], conversation_id: str) -> dict[str, Any]:
    """Keep what a proactive send needs; drop the user, names and the activity id."""
    conversation = dict(reference.get("conversation") or {})
    kept_conversation = {
        k: v for k, v in conversation.items() if k in ("conversationType", "isGroup", "tenantId") and v is not None
    }
    kept_conversation["id"] = conversation_id
    bot = reference.get("bot") or {}
    reduced: dict[str, Any] = {
        "bot": {"id": bot.get("id")} if bot.get("id") else None,
        "conversation": kept_conversation,
        "channelId": reference.get("channelId") or reference.get("channel_id") or "msteams",
        "serviceUrl": reference.get("serviceUrl") or reference.get("service_url"),
    }
    if reference.get("locale"):
        reduced["locale"] = reference["locale"]
    return {k: v for k, v in reduced.items() if v is not None}


class ConversationRegistry:
    """Remember, forget and list the conversations the bot is installed in."""

    def __init__(self, storage: KeyedStorage, *, announce_channel_id: str = "") -> None:
        self._storage = storage
        self._announce_channel_id = announce_channel_id.strip()
        try:
            self._known = _KNOWN.setdefault(storage, {})
        except TypeError:  # a storage that cannot be weakly referenced: a cache of its own
            self._known = {}

    async def remember(
        self,
        reference: dict[str, Any],
        scope: str,
        team_id: str | None,
        channel_id: str | None,
        tenant_id: str | None,
        now: dt.datetime,
        *,
        team_name: str | None = None,
        channel_name: str | None = None,
        service_url_vouched: bool = False,
    ) -> ConversationRecord:
        """Record (or refresh) the conversation an activity came from; returns the record.

        `team_name` / `channel_name`: channelData.team.name and channelData.channel.name, when the
        activity has them (Teams sends names with some events only; a missing name keeps the stored one).

        `service_url_vouched`: the reference's serviceUrl is the one the Bot Connector's token vouched
        for (its `serviceurl` claim, checked against the activity). Only such a URL replaces the one
        stored for a known conversation: an unauthenticated activity (authentication off, local
        development) can register a new conversation, but never re-point a known one to another
        address (the change is ignored and logged), or the next announcement would go there.


        Call it for `conversationUpdate` with the bot among `membersAdded`, `installationUpdate`
        add, and every message. `reference` is `TurnContext.get_conversation_reference(activity)
        .serialize()`; `channel_id` the Teams channel (channelData.channel.id) for a team.

        Answered from memory, with no storage operation, when this process registered the same
        conversation with the same reference (service URL, bot, tenant, ...) less than an hour ago;
        a changed reference, a retired record or an older one is read and written as usual. A
        record retired by *another* process (a CLI send that got 403) is noticed within the hour.
        """
        if scope not in ("personal", "groupChat", "team"):
            raise ValueError(f"unknown conversation scope {scope!r}")
        conversation_id = str((reference.get("conversation") or {}).get("id") or "")
        if not conversation_id:
            raise ValueError("the conversation reference has no conversation id")
        service_url = reference.get("serviceUrl") or reference.get("service_url")
        if not service_url:
            raise ValueError("the conversation reference has no serviceUrl")
        if scope == "team" and not team_id:
            raise ValueError("a team conversation needs the team id")
        record_id = registry_id(conversation_id, scope, team_id)
        key = REGISTRY_PREFIX + record_id
        cached = self._known.get(key)

        def refreshed(base: ConversationRecord | None) -> tuple[str, ConversationRecord]:
            """`base` (cached or stored) updated from this activity; the service URL it keeps."""
            url = _kept_service_url(base, str(service_url), service_url_vouched)
            record = self._record(
                base, record_id, reference, scope, team_id, channel_id, tenant_id, url, now, (team_name, channel_name)
            )
            return url, record

        if cached is not None and cached.installed and now - cached.last_seen < _TOUCH_EVERY:
            url, candidate = refreshed(cached)
            if _same(cached, candidate):
                if url != service_url:
                    _log_ignored_service_url(record_id, str(service_url))
                return cached
        existing = (await read_models(self._storage, [key], ConversationRecord)).get(key)
        url, record = refreshed(existing)
        if url != service_url:
            _log_ignored_service_url(record_id, str(service_url))
        if (
            existing is not None
            and existing.installed
            and _same(existing, record)
            and now - existing.last_seen < _TOUCH_EVERY
        ):
            self._cache(key, existing)
            return existing
        if existing is None or not existing.installed:
            log.info("conversation %s (%s) registered", record_id, scope)
        await write_models(self._storage, {key: record})
        self._cache(key, record)
        return record

    def _cache(self, key: str, record: ConversationRecord) -> None:
        if len(self._known) >= _CACHE_LIMIT:
            self._known.clear()
        self._known[key] = record

    def _record(
        self,
        existing: ConversationRecord | None,
        record_id: str,
        reference: dict[str, Any],
        scope: str,
        team_id: str | None,
        channel_id: str | None,
        tenant_id: str | None,
        service_url: Any,
        now: dt.datetime,
        names: tuple[str | None, str | None] = (None, None),
    ) -> ConversationRecord:
        """The record an activity describes, given what is stored (`existing`)."""
        target_channel: str | None = None
        team_name = channel_name = None
        if scope == "team":
            target_channel = record_id  # General
            seen_configured = channel_id and channel_id == self._announce_channel_id
            kept_configured = existing is not None and existing.channel_id == self._announce_channel_id
            if self._announce_channel_id and (seen_configured or kept_configured):
                target_channel = self._announce_channel_id
            team_name = _name(names[0]) or (existing.team_name if existing else None)
            seen_name = _name(names[1]) if channel_id and channel_id == target_channel else None
            kept_name = existing.channel_name if existing and existing.channel_id == target_channel else None
            channel_name = seen_name or kept_name

        record = ConversationRecord(
            id=record_id,
            scope=scope,  # type: ignore[arg-type]
            reference={**reduce_reference(reference, record_id), "serviceUrl": str(service_url)},
            service_url=str(service_url),
            tenant_id=tenant_id or (reference.get("conversation") or {}).get("tenantId"),
            team_id=team_id if scope == "team" else None,
            channel_id=target_channel,
            first_seen=existing.first_seen if existing else now,
            last_seen=now,
            team_name=team_name,
            channel_name=channel_name,
        )
        return record

    async def forget(
        self,
        conversation_id: str,
        reason: str = "uninstalled",
        *,
        team_id: str | None = None,
        now: dt.datetime | None = None,
    ) -> ConversationRecord | None:
        """The bot was removed (`membersRemoved` with the bot, `installationUpdate` remove)."""
        return await self._retire(team_id or _base_conversation_id(conversation_id), reason, now)

    async def mark_gone(
        self, record_id: str, reason: str, *, now: dt.datetime | None = None
    ) -> ConversationRecord | None:
        """A send answered 403/404: the bot can no longer post there; never try again."""
        return await self._retire(record_id, reason, now)

    async def _retire(self, record_id: str, reason: str, now: dt.datetime | None) -> ConversationRecord | None:
        key = REGISTRY_PREFIX + record_id
        self._known.pop(key, None)
        existing = (await read_models(self._storage, [key], ConversationRecord)).get(key)
        if existing is None:
            log.info("conversation %s not in the registry; nothing to forget (%s)", record_id, reason)
            return None
        if not existing.installed and not (reason in _LIFECYCLE and existing.gone_reason in _LIFECYCLE):
            return existing  # an uninstall or a 403 stays the reason
        retired = existing.model_copy(
            update={
                "installed": False,
                "gone_reason": reason,
                "gone_at": now or dt.datetime.now(dt.UTC),
            }
        )
        await write_models(self._storage, {key: retired})
        log.info("conversation %s (%s) no longer reachable: %s", record_id, existing.scope, reason)
        return retired

    async def channel_deleted(
        self, team_id: str, channel_id: str, *, now: dt.datetime | None = None
    ) -> ConversationRecord | None:
        """A channel of the team was deleted: when it is the one announcements go to, the team is
        marked (CHANNEL_DELETED) and skipped until the channel is restored; another channel is not
        the registry's concern."""
        record = await self.get(team_id)
        if record is None or record.channel_id != channel_id:
            log.info("deleted channel %s is not where announcements to team %s go", channel_id, team_id)
            return record
        return await self._retire(team_id, CHANNEL_DELETED, now)

    async def reinstate(
        self, record_id: str, reason: str, *, channel_id: str | None = None, now: dt.datetime | None = None
    ) -> ConversationRecord | None:
        """Take away a mark Teams set (`reason`: TEAM_ARCHIVED, TEAM_DELETED, CHANNEL_DELETED) when the
        team is unarchived or restored, or the channel restored (`channel_id` then names it). A record
        gone for another reason (uninstalled, 403) stays gone."""
        key = REGISTRY_PREFIX + record_id
        self._known.pop(key, None)
        existing = (await read_models(self._storage, [key], ConversationRecord)).get(key)
        if existing is None or existing.installed or existing.gone_reason != reason:
            return existing
        if channel_id is not None and existing.channel_id != channel_id:
            return existing
        reinstated = existing.model_copy(update={"installed": True, "gone_reason": None, "gone_at": None})
        await write_models(self._storage, {key: reinstated})
        log.info("conversation %s (%s) reachable again: no longer %s", record_id, existing.scope, reason)
        return reinstated

    async def get(self, record_id: str) -> ConversationRecord | None:
        key = REGISTRY_PREFIX + record_id
        return (await read_models(self._storage, [key], ConversationRecord)).get(key)

    async def all(self) -> list[ConversationRecord]:
        """Every record, installed or not, ordered by scope then id."""
        keys = await self._storage.keys(REGISTRY_PREFIX)
        records = list((await read_models(self._storage, keys, ConversationRecord)).values())
        order = {"team": 0, "groupChat": 1, "personal": 2}
        return sorted(records, key=lambda r: (order[r.scope], r.id))

    async def installed(self) -> list[ConversationRecord]:
        """The conversations an announcement goes to."""
        return [r for r in await self.all() if r.installed]


def _name(value: Any) -> str | None:
    """A team or channel name as Teams sent it, trimmed; None when absent or not text."""
    return value.strip()[:200] or None if isinstance(value, str) else None


def _kept_service_url(existing: ConversationRecord | None, service_url: str, vouched: bool) -> str:
    """The service URL to store: the activity's if vouched for or the conversation is new, else the stored one."""
    if vouched or existing is None:
        return service_url
    return existing.service_url


def _log_ignored_service_url(record_id: str, service_url: str) -> None:
    log.warning(
        "conversation %s: serviceUrl %s from an unauthenticated activity ignored; the stored one is kept",
        record_id,
        service_url[:200],
    )


def _same(a: ConversationRecord, b: ConversationRecord) -> bool:
    fields = ("scope", "reference", "service_url", "tenant_id", "team_id", "channel_id", "team_name", "channel_name")
    return all(getattr(a, f) == getattr(b, f) for f in fields)
