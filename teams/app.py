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
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from announcements.registry import ConversationRegistry
from config import Settings
from helpdesk.retention import purge
from knowledge.models import KnowledgeBase
from storage import KeyedStorage
from teams import msrest_fix
from teams.admin import AnnouncementAdmin
from teams.auth import IdentityServiceUnavailable
from teams.bot_authentication import create_bot_authentication
from teams.compose import announcement_service, conversation_for, election_of, load_kb, open_storage
from teams.handler import KanalvaktenBot, on_turn_error

__all__ = ["create_app", "SETTINGS", "STORAGE", "BOT", "ADAPTER", "KNOWLEDGE", "MAX_BODY_BYTES"]

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


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _has_id(body: dict[str, Any], key: str) -> bool:
    part = body.get(key)
    return isinstance(part, dict) and isinstance(part.get("id"), str) and bool(part["id"].strip())


def _activity_problem(body: Any) -> str | None:
    """What makes a body unusable as an activity, in the words of the 400 answer; None if fine."""
    if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
        return "body is not a Bot Framework activity (no type)"
    for key in ("conversation", "from", "recipient"):
        if not _has_id(body, key):
            return f"activity lacks {key}.id"
    if not isinstance(body.get("channelId"), str) or not body["channelId"]:
        return "activity lacks channelId"
    service_url = body.get("serviceUrl")
    if (
        not isinstance(service_url, str)
        or urlsplit(service_url).scheme not in ("http", "https")
        or not urlsplit(service_url).hostname
    ):
        return "activity lacks a valid serviceUrl"
    if body["channelId"] == "msteams" and not isinstance(body.get("channelData"), dict):
        return "activity from Teams lacks channelData"
    for key in ("channelData", "value", "entities", "text"):
        expected = {"channelData": dict, "entities": list, "text": str}.get(key)
        if expected and body.get(key) is not None and not isinstance(body[key], expected):
            return f"activity {key} has the wrong type"
    return None


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
    problem = _activity_problem(body)
    if problem:
        return _problem(400, problem)
    try:
        activity = Activity().deserialize(body)
    except Exception:  # noqa: BLE001 - msrest raises many kinds for odd shapes
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
        return web.json_response(data=invoke_response.body, status=invoke_response.status)
    return web.Response(status=201)


async def healthz(request: web.Request) -> web.Response:
    kb = request.app[KNOWLEDGE]
    settings = request.app[SETTINGS]
    return web.json_response(
        {
            "status": "ok",
            "storage": settings.storage_url.split(":", 1)[0],
            "topics": len(kb.topics),
            "auth": settings.auth_enabled,
        }
    )


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


def create_app(
    settings: Settings,
    *,
    storage: KeyedStorage | None = None,
    knowledge: KnowledgeBase | None = None,
    clock: Any = None,
    credentials: Any = None,
) -> web.Application:
    """Build the whole bot. Raises KnowledgeBaseError (file:line: reason) on a broken knowledge base.

    `credentials` replaces botbuilder's outgoing credentials factory (tests)."""
    msrest_fix.apply()
    kb = knowledge or load_kb(settings)
    _warn_about_unconfigured_content(kb, settings)
    conversation = conversation_for(kb, settings)
    owns_storage = storage is None  # a storage handed in (tests) is the caller's to close
    storage = storage or open_storage(settings)

    registry = ConversationRegistry(storage, announce_channel_id=settings.announce_channel_id)
    admin = AnnouncementAdmin(announcement_service(settings, storage, kb), app_id=settings.app_id)
    bot = KanalvaktenBot(
        conversation,
        storage,
        allowed_tenants=settings.allowed_tenants,
        registry=registry,
        admin_hook=admin.handle,
        clock=clock,
    )
    authentication = create_bot_authentication(settings, credentials_factory=credentials)
    adapter = CloudAdapter(authentication)
    adapter.on_turn_error = on_turn_error

    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_errors])
    app[SETTINGS] = settings
    app[KNOWLEDGE] = kb
    app[STORAGE] = storage
    app[BOT] = bot
    app[ADAPTER] = adapter
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
