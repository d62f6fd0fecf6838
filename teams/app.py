"""The aiohttp application: one factory that builds adapter, bot, stores and routes.

`create_app(settings)` builds everything (through `teams.compose`, with the knowledge base loaded
once and handed to the bot and the announcements); nothing is built at import time. Resources (storage,
the announcement scheduler) are opened and closed in `cleanup_ctx`, so shutdown is graceful.
`POST /api/messages` validates the request itself before botbuilder sees it: botbuilder 4.17.1
answers a missing Content-Type or a body that is not JSON with a 500 and a stack trace.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity
from msrest.serialization import Deserializer, Model

import logsafe
from announcements.clock import SystemClock
from announcements.ratelimit import TeamsRateLimiter
from announcements.registry import ConversationRegistry
from assistant.flood import FloodGuard
from config import Settings
from helpdesk.retention import purge
from knowledge.models import KnowledgeBase
from observability.logs import correlation_scope
from storage import KeyedStorage
from storage.health import StorageProbe
from teams import msrest_fix
from teams.admin import AnnouncementAdmin, ReportAdmin, chain_admin_hooks
from teams.auth import IdentityServiceUnavailable
from teams.bot_authentication import create_bot_authentication
from teams.compose import announcement_service, conversation_for, election_of, load_kb, open_storage
from teams.handler import KanalvaktenBot, on_turn_error
from teams.handoff import ExpertDesk
from teams.outbound import ConnectorTransport, OutboundAuthentication, OutboundLimits, reply_limiter
from teams.service_url import service_url_problem

__all__ = ["create_app", "SETTINGS", "STORAGE", "BOT", "ADAPTER", "KNOWLEDGE", "TRANSPORT", "HEALTH", "MAX_BODY_BYTES"]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
"""Teams activities are a few KB; anything near a megabyte is not one (413)."""
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""A JSON escape of a UTF-16 surrogate (U+D800..U+DFFF), paired or lone."""

SETTINGS = web.AppKey("settings", Settings)
KNOWLEDGE = web.AppKey("knowledge", KnowledgeBase)
STORAGE = web.AppKey("storage", KeyedStorage)
BOT = web.AppKey("bot", KanalvaktenBot)
ADAPTER = web.AppKey("adapter", CloudAdapter)
TRANSPORT = web.AppKey("transport", ConnectorTransport)
HEALTH = web.AppKey("health", StorageProbe)


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _has_id(body: dict[str, Any], key: str) -> bool:
    part = body.get(key)
    return isinstance(part, dict) and isinstance(part.get("id"), str) and bool(part["id"].strip())


def _plain(text: str) -> bool:
    """No control characters: ids end up in URLs and HTTP headers of the Bot Connector calls."""
    return not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text)


def _activity_problem(body: Any, *, authenticated: bool = False) -> str | None:
    """What makes a body unusable as an activity, in the words of the 400 answer; None if fine.

    No more than botbuilder needs: Teams sends activities without `channelData` (a channel message
    that @mentions a colleague, a `composeExtension/query`), and botbuilder accepts them. The
    `serviceUrl` must be one the bot may send to (teams/service_url.py): with authentication off
    only loopback or a Bot Framework/Teams service address, never one with credentials in it."""
    if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
        return "body is not a Bot Framework activity (no type)"
    for key in ("conversation", "from", "recipient"):
        if not _has_id(body, key):
            return f"activity lacks {key}.id"
        if not _plain(body[key]["id"]):
            return f"activity {key}.id has control characters"
    if not isinstance(body.get("channelId"), str) or not body["channelId"]:
        return "activity lacks channelId"
    problem = service_url_problem(body.get("serviceUrl"), authenticated=authenticated)
    if problem:
        return problem
    for key in ("channelData", "value", "entities", "text"):
        expected = {"channelData": dict, "entities": list, "text": str}.get(key)
        if expected and body.get(key) is not None and not isinstance(body[key], expected):
            return f"activity {key} has the wrong type"
    return None


_TIMESTAMPS = ("timestamp", "localTimestamp", "expiration")


def _drop_unreadable_timestamps(body: dict[str, Any]) -> None:
    """Timestamps botbuilder cannot parse are dropped, not the activity: Microsoft's published
    meeting events carry `"localTimestamp": "2023-02-23T11:34:07.478-8"`, which msrest refuses
    (and with it the whole activity). Nothing here reads them; the turn goes on without."""
    for key in _TIMESTAMPS:
        value = body.get(key)
        if value is None:
            continue
        try:
            Deserializer.deserialize_iso(value)
        except Exception:  # noqa: BLE001 - msrest raises DeserializationError, or TypeError for a non-string
            log.info("activity %s %r is not an ISO 8601 time; left out", key, str(value)[:40])
            del body[key]


async def messages(request: web.Request) -> web.StreamResponse:
    """Bot Framework messaging endpoint."""
    if request.content_type != "application/json":
        return _problem(415, "Content-Type must be application/json")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return _problem(413, "request body too large")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _problem(413, "request body too large")
    try:
        text = raw.decode("utf-8")
        body = json.loads(text)
        if _SURROGATE_ESCAPE.search(text):
            # "\ud800" is valid JSON but no character: replace lone surrogates before anything uses
            # them. Only an escape can make one (strict UTF-8 cannot), so most bodies skip this.
            body = json.loads(json.dumps(body, ensure_ascii=False).encode("utf-8", "replace"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _problem(400, "body is not valid JSON")
    problem = _activity_problem(body, authenticated=request.app[SETTINGS].auth_enabled)
    if problem:
        return _problem(400, problem)
    try:
        activity = Activity().deserialize(body)
    except Exception:  # noqa: BLE001 - msrest raises many kinds for odd shapes
        # Timestamps are parsed only for an activity msrest refused: most have readable ones.
        _drop_unreadable_timestamps(body)
        try:
            activity = Activity().deserialize(body)
        except Exception:  # noqa: BLE001 - as above
            return _problem(400, "body is not a Bot Framework activity")

    app = request.app
    auth_header = request.headers.get("Authorization", "")
    try:
        invoke_response = await app[ADAPTER].process_activity(auth_header, activity, app[BOT].on_turn)
    except PermissionError:  # teams.auth.TokenRejected, logged with its reason in teams/bot_authentication.py
        return _problem(401, "unauthorized")
    except IdentityServiceUnavailable:
        return _problem(503, "identity service unavailable, try again")
    if invoke_response:
        return web.json_response(data=_json_ready(invoke_response.body), status=invoke_response.status)
    return web.Response(status=201)


def _json_ready(body: Any) -> Any:
    """An invoke response body as JSON-ready values: botbuilder answers some invokes with its own
    models (an `adaptiveCard/action` without a value gets an `AdaptiveCardInvokeResponse` 400),
    which `json.dumps` cannot write; botbuilder's own aiohttp adapter serializes them the same way."""
    if isinstance(body, Model):
        try:
            return serializer_helper(body)
        except Exception:  # noqa: BLE001 - e.g. an error response whose value is an exception
            return {
                spec["key"]: _json_ready(getattr(body, name))
                for name, spec in type(body)._attribute_map.items()
                if getattr(body, name, None) is not None
            }
    if isinstance(body, BaseException):  # botbuilder's error value: Exception("BadRequest", "Missing value")
        code, *message = [str(arg) for arg in body.args] or [type(body).__name__]
        return {"code": code, "message": " ".join(message)}
    if isinstance(body, list):
        return [_json_ready(item) for item in body]
    if isinstance(body, dict):
        return {key: _json_ready(value) for key, value in body.items()}
    return body


async def healthz(request: web.Request) -> web.Response:
    """200 when the bot can work; 503 with the reason when its store cannot be written (a write
    and a delete of a health key, cached for a few seconds: `storage.health`)."""
    kb = request.app[KNOWLEDGE]
    settings = request.app[SETTINGS]
    problem = await request.app[HEALTH].check()
    body: dict[str, Any] = {
        "status": "ok" if problem is None else "unavailable",
        "storage": settings.storage_url.split(":", 1)[0],
        "topics": len(kb.topics),
        "auth": settings.auth_enabled,
    }
    if problem is not None:
        body["reason"] = problem
    return web.json_response(body, status=200 if problem is None else 503)


@web.middleware
async def _correlation(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every log line of one request (one turn) carries the same new correlation id (`logs`), which
    the answer repeats in `X-Correlation-Id` so an operator can find the turn's lines."""
    with correlation_scope() as correlation:
        response = await handler(request)
        if not response.prepared:
            response.headers["X-Correlation-Id"] = correlation
        return response


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """No stack trace reaches a client: unexpected errors become a plain 500 and a log line."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _problem(500, "internal error")


def _warn_about_unconfigured_content(kb: KnowledgeBase, settings: Settings) -> None:
    """What users would notice if it stayed at the shipped defaults: said once, at start."""
    election = election_of(kb, settings)
    if election.date < dt.date.today():
        log.warning(
            "the configured election (%s, %s) has passed: set ELECTION_NAME and ELECTION_DATE",
            election.name,
            election.date,
        )
    if not settings.support_contact:
        log.warning(
            "SUPPORT_CONTACT is not set: the hijacked-account answer sends users to %r "
            "(organisation.yaml's support_contact)",
            kb.organisation.support_contact,
        )


class _ServiceClock(SystemClock):
    """The announcement service's clock when `create_app` is given one (tests): its wall time,
    real sleeps."""

    def __init__(self, now: Any) -> None:
        self._now = now

    def utcnow(self) -> dt.datetime:
        return self._now()


def create_app(
    settings: Settings,
    *,
    storage: KeyedStorage | None = None,
    knowledge: KnowledgeBase | None = None,
    clock: Any = None,
    credentials: Any = None,
    outbound: OutboundLimits | None = None,
    reply_limits: TeamsRateLimiter | None = None,
    flood_guard: FloodGuard | None = None,
    health: StorageProbe | None = None,
    schedule_poll_seconds: float = 30.0,
) -> web.Application:
    """Build the whole bot. Raises KnowledgeBaseError (file:line: reason) on a broken knowledge base.

    `credentials` replaces botbuilder's outgoing credentials factory (tests). `outbound` (timeouts,
    concurrency, retries), `reply_limits` (the replies' rate limiter) and `flood_guard` (per-user
    flood control) default to production's; `health` is the storage probe of `/healthz`;
    `schedule_poll_seconds` how often the announcement scheduler looks for due sends."""
    msrest_fix.apply()
    logsafe.install()  # user-controlled strings in log arguments never start a new log line
    kb = knowledge or load_kb(settings)
    _warn_about_unconfigured_content(kb, settings)
    conversation = conversation_for(kb, settings)
    owns_storage = storage is None  # a storage handed in (tests) is the caller's to close
    storage = storage or open_storage(settings)

    registry = ConversationRegistry(storage, announce_channel_id=settings.announce_channel_id)
    service = announcement_service(settings, storage, kb, clock=_ServiceClock(clock) if clock else None)
    admin = AnnouncementAdmin(service, app_id=settings.app_id, clock=clock)
    report = ReportAdmin(storage, kb, admin_ids=settings.admin_aad_ids, retention_days=settings.retention_days)
    bot = KanalvaktenBot(
        conversation,
        storage,
        allowed_tenants=settings.allowed_tenants,
        registry=registry,
        admin_hook=chain_admin_hooks(report.handle, admin.handle),
        clock=clock,
        experts=ExpertDesk(conversation.handoff, storage, app_id=settings.app_id, clock=clock),
        flood_guard=flood_guard or FloodGuard(),
    )
    # Every Bot Connector call of a turn: one HTTP session, timeouts, per-serviceUrl bound, Teams'
    # per-conversation limits for replies (one limiter for the app) and retries (teams/outbound.py).
    transport = ConnectorTransport(limits=outbound, limiter=reply_limits or reply_limiter())
    authentication = OutboundAuthentication(
        create_bot_authentication(settings, credentials_factory=credentials), transport
    )
    adapter = CloudAdapter(authentication)
    adapter.on_turn_error = on_turn_error

    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_correlation, _errors])
    app[SETTINGS] = settings
    app[KNOWLEDGE] = kb
    app[STORAGE] = storage
    app[BOT] = bot
    app[ADAPTER] = adapter
    app[TRANSPORT] = transport
    app[HEALTH] = health or StorageProbe(storage)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)

    now = clock or (lambda: dt.datetime.now(dt.UTC))

    async def daily_retention() -> None:
        while True:
            try:
                await purge(storage, now(), settings.retention_days)
            except Exception:
                log.exception("retention purge failed")
            await asyncio.sleep(24 * 3600)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        background = await admin.start_background()
        retention = asyncio.create_task(daily_retention())
        yield
        retention.cancel()
        await asyncio.gather(retention, return_exceptions=True)
        await admin.stop_background(background)
        await authentication.close()
        if owns_storage:
            await app[STORAGE].close()

    app.cleanup_ctx.append(resources)
    return app
