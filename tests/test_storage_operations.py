"""What a turn costs in storage: an ordinary message is one state read and one write.

A counting storage wraps the in-memory one and records every operation with its keys. Through
the bot's real endpoint: the first message registers the conversation, every later ordinary
message reads the user's state once and writes it once (together with the anonymous question
event), and the registry check is answered from memory until the conversation's reference
changes or an hour has passed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from announcements.registry import ConversationRegistry
from storage import KeyedStorage, MemoryStorage
from storage.keys import QUESTION_PREFIX, REGISTRY_PREFIX, USER_STATE_PREFIX
from tests.bot_harness import RunningBot, fallback_text, test_settings

NOW = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)


class CountingStorage(KeyedStorage):
    """A `MemoryStorage` that records `(operation, keys)` for every call."""

    def __init__(self) -> None:
        self.inner = MemoryStorage()
        self.calls: list[tuple[str, list[str]]] = []

    async def read(self, keys: list[str]) -> dict[str, Any]:
        self.calls.append(("read", list(keys)))
        return await self.inner.read(keys)

    async def write(self, changes: dict[str, Any]) -> None:
        self.calls.append(("write", list(changes)))
        await self.inner.write(changes)

    async def delete(self, keys: list[str]) -> None:
        self.calls.append(("delete", list(keys)))
        await self.inner.delete(keys)

    async def keys(self, prefix: str = "") -> list[str]:
        self.calls.append(("keys", [prefix]))
        return await self.inner.keys(prefix)

    async def close(self) -> None:
        await self.inner.close()


def _prefixes(keys: list[str]) -> list[str]:
    return sorted(k.split("/", 1)[0] + "/" for k in keys)


async def test_an_ordinary_message_costs_one_state_read_and_one_write(fake_connector, teams):
    storage = CountingStorage()
    bot = await RunningBot(fake_connector, test_settings(), storage=storage, clock=lambda: NOW).start()
    try:
        await bot.send(teams.message("hej"))  # the first turn also registers the conversation
        assert any(op == "write" and _prefixes(keys) == [REGISTRY_PREFIX] for op, keys in storage.calls)

        storage.calls.clear()
        replies = await bot.send(teams.message("hur slår jag på tvåfaktor på instagram?"))
        assert "instagram" in fallback_text(replies[0]).lower()
    finally:
        await bot.stop()
    assert [op for op, _ in storage.calls] == ["read", "write"], storage.calls
    (_, read), (_, written) = storage.calls
    assert _prefixes(read) == [USER_STATE_PREFIX]
    assert _prefixes(written) == sorted([QUESTION_PREFIX, USER_STATE_PREFIX])  # the state and the anonymous log


async def test_a_turn_that_is_not_logged_writes_only_the_state(fake_connector, teams):
    storage = CountingStorage()
    bot = await RunningBot(fake_connector, test_settings(), storage=storage, clock=lambda: NOW).start()
    try:
        await bot.send(teams.message("hej"))
        storage.calls.clear()
        await bot.send(teams.message("?"))  # nothing to answer: no question event
    finally:
        await bot.stop()
    assert [(op, _prefixes(keys)) for op, keys in storage.calls] == [
        ("read", [USER_STATE_PREFIX]),
        ("write", [USER_STATE_PREFIX]),
    ]


def _reference(service_url: str = "https://smba.trafficmanager.net/emea/") -> dict[str, Any]:
    return {
        "bot": {"id": "28:b"},
        "conversation": {"id": "a:1anna", "conversationType": "personal"},
        "channelId": "msteams",
        "serviceUrl": service_url,
    }


async def test_the_registry_remembers_from_memory_until_the_reference_changes():
    storage = CountingStorage()
    registry = ConversationRegistry(storage)
    await registry.remember(_reference(), "personal", None, None, "t", NOW)
    assert [op for op, _ in storage.calls] == ["read", "write"]

    storage.calls.clear()
    for minutes in (1, 30, 59):
        await registry.remember(_reference(), "personal", None, None, "t", NOW + dt.timedelta(minutes=minutes))
    assert storage.calls == []  # same conversation, same reference, within the hour: no storage at all

    await registry.remember(
        _reference("https://smba.trafficmanager.net/amer/"),
        "personal",
        None,
        None,
        "t",
        NOW + dt.timedelta(minutes=2),
        service_url_vouched=True,
    )
    assert [op for op, _ in storage.calls] == ["read", "write"]  # a new (token-vouched) service URL is stored at once
    assert (await registry.get("a:1anna")).service_url == "https://smba.trafficmanager.net/amer/"

    storage.calls.clear()
    await registry.remember(
        _reference("https://smba.trafficmanager.net/amer/"), "personal", None, None, "t", NOW + dt.timedelta(hours=3)
    )
    assert [op for op, _ in storage.calls] == ["read", "write"]  # last_seen is refreshed hourly


async def test_a_retired_conversation_is_registered_again_when_it_speaks():
    storage = CountingStorage()
    await ConversationRegistry(storage).remember(_reference(), "personal", None, None, "t", NOW)
    # another registry on the same storage (the broadcaster's) marks it gone after a 403
    await ConversationRegistry(storage).mark_gone("a:1anna", "403 Forbidden on send", now=NOW)
    storage.calls.clear()
    record = await ConversationRegistry(storage).remember(
        _reference(), "personal", None, None, "t", NOW + dt.timedelta(minutes=5)
    )
    assert record.installed and [op for op, _ in storage.calls] == ["read", "write"]
