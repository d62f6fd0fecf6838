"""Health and storage faults (issue 12, item 6).

- `/healthz` answers 503 with the reason while the store cannot be written, cheaply (cached).
- A user then gets one apology, not an answer followed by "Oj, något gick fel", and a guide step
  is neither skipped nor shown twice: the state is saved before the answer goes out.
- The SQLite file and its -wal/-shm companions are readable by their owner only.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from storage import KeyedStorage, MemoryStorage, SqliteStorage
from storage.health import StorageProbe
from teams.app import HEALTH
from teams.handler import STORAGE_APOLOGY
from tests.bot_harness import RunningBot, test_settings
from tests.fake_connector import FakeConnector
from tests.test_bot_guide import go_to_step, shown_steps, text_of

GENERIC_APOLOGY = "Oj, något gick fel"


class FlakyStorage(KeyedStorage):
    """A `MemoryStorage` whose writes (and, if asked, reads) fail like a read-only SQLite file."""

    def __init__(self) -> None:
        self.inner = MemoryStorage()
        self.fail_writes = False
        self.fail_reads = False
        self.writes = 0

    def _fail(self) -> None:
        raise sqlite3.OperationalError("attempt to write a readonly database")

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if self.fail_reads:
            raise sqlite3.OperationalError("disk I/O error")
        return await self.inner.read(keys)

    async def write(self, changes: dict[str, Any]) -> None:
        if self.fail_writes:
            self._fail()
        self.writes += 1
        await self.inner.write(changes)

    async def delete(self, keys: list[str]) -> None:
        if self.fail_writes:
            self._fail()
        await self.inner.delete(keys)

    async def keys(self, prefix: str = "") -> list[str]:
        return await self.inner.keys(prefix)

    async def close(self) -> None:
        await self.inner.close()


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def flaky() -> FlakyStorage:
    return FlakyStorage()


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
async def flaky_bot(fake_connector: FakeConnector, flaky: FlakyStorage, ticks: Ticks) -> AsyncIterator[RunningBot]:
    probe = StorageProbe(flaky, ttl=5.0, clock=ticks)
    running = await RunningBot(fake_connector, test_settings(), storage=flaky, health=probe).start()
    yield running
    await running.stop()


async def healthz(bot: RunningBot) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(f"{bot.url}/healthz") as response:
        return response.status, await response.json()


# --- /healthz -----------------------------------------------------------------------------------


async def test_healthz_is_200_while_the_store_takes_writes_and_leaves_no_key_behind(flaky_bot, flaky):
    status, body = await healthz(flaky_bot)
    assert (status, body["status"]) == (200, "ok")
    assert await flaky.keys("health/") == []


async def test_healthz_answers_503_with_the_reason_when_the_store_cannot_be_written(flaky_bot, flaky, ticks):
    flaky.fail_writes = True
    status, body = await healthz(flaky_bot)
    assert status == 503
    assert body["status"] == "unavailable"
    assert "storage cannot be written" in body["reason"]
    assert "OperationalError" in body["reason"] and "readonly" in body["reason"]

    flaky.fail_writes = False
    ticks.now += 6  # past the cache
    assert (await healthz(flaky_bot))[0] == 200


async def test_healthz_is_cheap_many_polls_cost_one_probe_until_the_cache_expires(flaky_bot, flaky, ticks):
    probe = flaky_bot._runner.app[HEALTH]  # type: ignore[union-attr]
    results = await asyncio.gather(*(healthz(flaky_bot) for _ in range(20)))
    assert {status for status, _ in results} == {200}
    assert probe.probes == 1
    flaky.fail_writes = True
    assert (await healthz(flaky_bot))[0] == 200  # cached: the store was fine a moment ago
    ticks.now += 6
    assert (await healthz(flaky_bot))[0] == 503
    assert probe.probes == 2


async def test_a_probe_that_hangs_counts_as_a_failure():
    class Hanging(MemoryStorage):
        async def write(self, changes: dict[str, Any]) -> None:
            await asyncio.Event().wait()

    verdict = await StorageProbe(Hanging(), timeout=0.05).check()
    assert verdict is not None and "did not answer" in verdict


async def test_a_credential_in_a_storage_error_is_not_shown():
    class Leaky(MemoryStorage):
        async def write(self, changes: dict[str, Any]) -> None:
            raise RuntimeError("403 for https://acct.blob.core.windows.net/c/health?sv=2024&sig=SECRETSIG&se=1")

    verdict = await StorageProbe(Leaky()).check()
    assert verdict is not None and "SECRETSIG" not in verdict and "sig=" in verdict


# --- what the user gets -------------------------------------------------------------------------


async def test_when_the_store_cannot_be_written_the_user_gets_one_apology_and_no_answer(flaky_bot, teams, flaky):
    flaky.fail_writes = True
    replies = await flaky_bot.send(teams.message("vad är tvåfaktorsautentisering?"))
    assert [r.get("text") for r in replies] == [STORAGE_APOLOGY]
    assert GENERIC_APOLOGY not in text_of(replies)


async def test_when_the_store_cannot_be_read_the_user_gets_the_same_one_apology(flaky_bot, teams, flaky):
    flaky.fail_reads = True
    replies = await flaky_bot.send(teams.message("vad är tvåfaktorsautentisering?"))
    assert [r.get("text") for r in replies] == [STORAGE_APOLOGY]


async def test_a_guide_step_is_neither_repeated_nor_skipped_across_a_storage_fault(flaky_bot, teams, flaky):
    await go_to_step(flaky_bot, teams, 3)
    flaky.fail_writes = True
    for _ in range(3):  # the user keeps trying while the store is down
        replies = await flaky_bot.send(teams.message("nästa"))
        assert [r.get("text") for r in replies] == [STORAGE_APOLOGY]
        assert shown_steps(replies) == set()
    flaky.fail_writes = False
    assert shown_steps(await flaky_bot.send(teams.message("nästa"))) == {4}
    assert shown_steps(await flaky_bot.send(teams.message("nästa"))) == {5}


async def test_a_step_that_could_not_be_delivered_is_shown_again_next_time(flaky_bot, teams, fake_connector):
    from tests.teams_activities import personal_conversation_id

    await go_to_step(flaky_bot, teams, 2)
    fake_connector.fail(personal_conversation_id(), status=500, times=1)  # the state was saved first
    await flaky_bot.send(teams.message("nästa"))
    assert shown_steps(await flaky_bot.send(teams.message("nästa"))) == {3}


# --- the SQLite file ----------------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """A umask that would make new files world-readable (0644), as on most systems."""
    old = os.umask(0o022)
    yield
    os.umask(old)


async def test_the_sqlite_file_and_its_wal_and_shm_are_readable_by_their_owner_only(tmp_path, open_umask):
    path = tmp_path / "data" / "kanalvakten.db"
    storage = SqliteStorage(path)
    await storage.write({"users/x": {"a": 1}})
    try:
        assert _mode(path) == 0o600
        for companion in ("-wal", "-shm"):
            file = path.with_name(path.name + companion)
            assert file.exists(), companion
            assert _mode(file) == 0o600, companion
        assert _mode(path.parent) & 0o077 == 0
    finally:
        await storage.close()


async def test_an_existing_world_readable_sqlite_file_is_narrowed_to_the_owner(tmp_path, open_umask):
    path = tmp_path / "old.db"
    first = SqliteStorage(path)
    await first.write({"k": {"v": 1}})
    await first.close()
    os.chmod(path, 0o644)
    second = SqliteStorage(path)
    assert (await second.read(["k"]))["k"]["v"] == 1
    await second.close()
    assert _mode(path) == 0o600


async def test_healthz_on_sqlite_reports_ok_and_leaves_the_file_private(tmp_path, fake_connector, open_umask):
    settings = test_settings(STORAGE_URL=f"sqlite:///{tmp_path / 'bot.db'}")
    running = await RunningBot(fake_connector, settings).start()
    try:
        status, body = await healthz(running)
        assert status == 200 and body["storage"] == "sqlite"
    finally:
        await running.stop()
    assert _mode(tmp_path / "bot.db") == 0o600
