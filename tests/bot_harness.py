"""Runs the real bot (the same aiohttp app `python bot.py` serves) on loopback for end-to-end tests.

`RunningBot.send(activity)` POSTs a Teams-shaped activity to `/api/messages` over real HTTP and
returns what the bot sent to the fake connector during that turn (the turn finishes before the
HTTP answer, so no waiting is needed). Tests read like a conversation:

    replies = await bot.send(teams.message("tvåfaktor insta"))
    assert "instagram.com" in fallback_text(replies[0])

Every message the bot sends is checked on the way (`check_message`): text or a card, never both
(Teams would show them as two messages); a card carries its text fallback as the card's
`fallbackText` and the activity's `summary`, is a valid Adaptive Card 1.5, and has no suggested
actions beside it. Card updates (PUT, after 👍/👎) are checked the same way and kept in
`RunningBot.updates`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from announcements.ratelimit import TeamsRateLimiter
from assistant.flood import FloodGuard
from cards.message import card_actions
from config import Settings, load_settings
from storage import KeyedStorage
from teams.app import create_app
from tests.cardschema import validate_card
from tests.fake_connector import FakeConnector

__all__ = [
    "RunningBot",
    "bot",
    "test_settings",
    "card_of",
    "card_in",
    "all_text",
    "fallback_text",
    "submit_values",
    "check_message",
    "conversation_pace_flood_guard",
    "conversation_pace_limiter",
]

CARD = "application/vnd.microsoft.card.adaptive"


def test_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {"HOST": "127.0.0.1", "PORT": 0, "STORAGE_URL": "memory://", "MicrosoftAppId": ""}
    base.update(overrides)
    return load_settings(_env_file=None, **base)


test_settings.__test__ = False  # type: ignore[attr-defined]  # not a test


def conversation_pace_flood_guard() -> FloodGuard:
    """Tests talk faster than any person (a whole guide in a second): production's flood control
    would drop them. tests/test_throttling.py drives the real limits."""
    return FloodGuard(burst=1_000_000, window=1.0)


def conversation_pace_limiter() -> TeamsRateLimiter:
    """Teams' per-conversation pacing (7 a second) would make every conversation test wait; the
    real limits are tested in tests/test_throttling.py."""
    return TeamsRateLimiter(rate=1_000_000, per_conversation_rate=1_000_000, windows=())


class RunningBot:
    """The bot's aiohttp app served on 127.0.0.1:<free port>, with a client to talk to it."""

    def __init__(
        self,
        connector: FakeConnector,
        settings: Settings,
        storage: KeyedStorage | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        **app_options: Any,
    ):
        self.connector = connector
        self.settings = settings
        self.storage = storage
        self.clock = clock
        """The bot's clock (an aware datetime); None: the real time."""
        app_options.setdefault("flood_guard", conversation_pace_flood_guard())
        app_options.setdefault("reply_limits", conversation_pace_limiter())
        self.app_options = app_options
        """Further keyword arguments for `create_app` (e.g. `credentials`)."""
        self.url = ""
        self.updates: list[tuple[str | None, dict[str, Any]]] = []
        """(activity id, activity) of every card update (PUT) the bot made in the last `send`."""
        self.app: web.Application | None = None
        """The running application (after `start()`)."""
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    async def start(self) -> RunningBot:
        app = self.app = create_app(self.settings, storage=self.storage, clock=self.clock, **self.app_options)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        self._client = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._client = self._runner = None

    async def post(
        self,
        body: Any,
        *,
        content_type: str = "application/json",
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        assert self._client is not None
        import json

        data = raw if raw is not None else json.dumps(body).encode()
        async with self._client.post(
            f"{self.url}/api/messages", data=data, headers={"Content-Type": content_type, **(headers or {})}
        ) as response:
            return response.status, await response.text()

    async def send(self, activity: dict[str, Any]) -> list[dict[str, Any]]:
        """One turn; returns the messages the bot sent during it (card updates go to `updates`).
        Every message and update is checked with `check_message`."""
        before = len(self.connector.requests)
        status, text = await self.post(activity)
        assert status in (200, 201, 202), (status, text)
        made = self.connector.requests[before:]
        replies = [r.activity for r in made if r.is_message]
        self.updates = [
            (r.activity_id, r.activity)
            for r in made
            if r.kind == "update" and r.status < 300 and r.activity is not None
        ]
        for reply in [*replies, *(update for _, update in self.updates)]:
            check_message(reply)  # type: ignore[arg-type]
        return replies  # type: ignore[return-value]


def check_message(activity: dict[str, Any]) -> None:
    """What every message the bot sends must be: text or one card, never both; a card with its
    text fallback in `fallbackText` and `summary`, valid, and without suggested actions."""
    card = card_of(activity)
    if card is None:
        assert activity.get("text"), f"message with neither text nor a card: {activity}"
        return
    assert not activity.get("text"), f"a message with both text and a card (Teams shows two): {activity}"
    assert len(activity.get("attachments") or []) == 1, f"more than one attachment: {activity}"
    assert card.get("fallbackText"), f"a card without fallbackText: {card}"
    assert activity.get("summary"), f"a card message without a summary: {activity}"
    assert not activity.get("suggestedActions"), f"suggested actions beside a card: {activity}"
    validate_card(card)


def card_of(activity: dict[str, Any]) -> dict[str, Any] | None:
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") == CARD:
            return attachment["content"]
    return None


def card_in(activity: dict[str, Any]) -> dict[str, Any]:
    """The message's card; the test fails when it has none."""
    card = card_of(activity)
    assert card is not None, f"a message without a card: {activity}"
    return card


def fallback_text(activity: dict[str, Any]) -> str:
    """The message's plain text: its text, or its card's `fallbackText`."""
    card = card_of(activity)
    if card is not None:
        return card.get("fallbackText") or ""
    return activity.get("text") or ""


def all_text(activity: dict[str, Any]) -> str:
    """Text fallback plus every string in the card, for assertions on content."""
    parts = [fallback_text(activity)]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "title", "url") and isinstance(value, str):
                    parts.append(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card_of(activity))
    return "\n".join(parts)


def submit_values(activity: dict[str, Any]) -> list[dict[str, Any]]:
    """The data of every Action.Submit on the card (its own and in ActionSets), in order."""
    card = card_of(activity) or {}
    return [a["data"] for a in card_actions(card) if a.get("type") == "Action.Submit"]


@pytest.fixture
async def bot(fake_connector: FakeConnector) -> AsyncIterator[RunningBot]:
    """The bot with in-memory storage, talking to the fake connector."""
    running = await RunningBot(fake_connector, test_settings()).start()
    yield running
    await running.stop()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"
