"""Runs the real bot (the same aiohttp app `python bot.py` serves) on loopback for end-to-end tests.

`RunningBot.send(activity)` POSTs a Teams-shaped activity to `/api/messages` over real HTTP and
returns what the bot sent to the fake connector during that turn (the turn finishes before the
HTTP answer, so no waiting is needed). Tests read like a conversation:

    replies = await bot.send(teams.message("tvåfaktor insta"))
    assert "instagram.com" in replies[0]["text"]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from config import Settings, load_settings
from storage import KeyedStorage
from teams.app import create_app
from tests.cardschema import validate_card
from tests.fake_connector import FakeConnector

__all__ = ["RunningBot", "bot", "test_settings", "card_of", "all_text", "submit_values"]

CARD = "application/vnd.microsoft.card.adaptive"


def test_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {"HOST": "127.0.0.1", "PORT": 0, "STORAGE_URL": "memory://", "MicrosoftAppId": ""}
    base.update(overrides)
    return load_settings(_env_file=None, **base)


test_settings.__test__ = False  # type: ignore[attr-defined]  # not a test


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
        self.app_options = app_options
        """Further keyword arguments for `create_app` (e.g. `credentials`)."""
        self.url = ""
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
        """One turn; returns the activities the bot sent during it. Every card is schema-checked."""
        before = len(self.connector.sent())
        status, text = await self.post(activity)
        assert status in (200, 201, 202), (status, text)
        replies = [r.activity for r in self.connector.sent()[before:] if r.is_message]
        for reply in replies:
            assert reply.get("text"), f"message without a text fallback: {reply}"
            card = card_of(reply)
            if card is not None:
                validate_card(card)
        return replies  # type: ignore[return-value]


def card_of(activity: dict[str, Any]) -> dict[str, Any] | None:
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") == CARD:
            return attachment["content"]
    return None


def all_text(activity: dict[str, Any]) -> str:
    """Text fallback plus every string in the card, for assertions on content."""
    parts = [activity.get("text") or ""]

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
    """The data of every Action.Submit on the card, in order."""
    card = card_of(activity) or {}
    return [a["data"] for a in card.get("actions", []) if a.get("type") == "Action.Submit"]


@pytest.fixture
async def bot(fake_connector: FakeConnector) -> AsyncIterator[RunningBot]:
    """The bot with in-memory storage, talking to the fake connector."""
    running = await RunningBot(fake_connector, test_settings()).start()
    yield running
    await running.stop()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"
