"""Two instances on one Azure Blob container (issue 12, item 9), with Azurite and the fake connector.

- Two `python bot.py` processes register conversations; then two `python bot.py announce send
  --yes` started at the same moment deliver the announcement once per conversation.
- Both instances' schedulers see the same scheduled announcement: it is sent once.
- A guide started on one instance continues on the other, step by step.

The announcement is kept exactly once by the run lock (compare-and-set on the blob's ETag,
`announcements/runlock.py`) and the ledger; the guide by the user state in the shared container.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import os
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from announcements.schedule import Schedules
from storage import AzureBlobStorage
from teams.compose import announcement_service
from tests.bot_harness import RunningBot, test_settings
from tests.fake_connector import FakeConnector
from tests.teams_activities import TeamsActivities, personal_conversation_id
from tests.test_bot_guide import shown_steps, text_of

ROOT = Path(__file__).resolve().parents[1]
ELECTION_DATE = (dt.date.today() + dt.timedelta(days=61)).isoformat()
USERS = [f"29:1two-instances-{n:02d}" for n in range(12)]


def _container() -> str:
    return f"two-{uuid.uuid4().hex[:12]}"


def _env(azurite: str, container: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "STORAGE_URL": f"azureblob://{container}",
        "AZURE_STORAGE_CONNECTION_STRING": azurite,
        "MicrosoftAppId": "",
        "MicrosoftAppPassword": "",
        "ELECTION_NAME": "Riksdagsvalet",
        "ELECTION_DATE": ELECTION_DATE,
        "ANNOUNCE_RATE": "50",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _start_bot_process(env: dict[str, str], folder: Path, name: str) -> tuple[asyncio.subprocess.Process, str]:
    port = _free_port()
    log = (folder / f"{name}.log").open("w")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        cwd=folder,
        env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while True:
            if process.returncode is not None:
                pytest.fail(f"{name} exited: {(folder / f'{name}.log').read_text()}")
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return process, url
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not start: {(folder / f'{name}.log').read_text()}")
            await asyncio.sleep(0.1)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()


def _deliveries(fake: FakeConnector) -> collections.Counter[str]:
    return collections.Counter(r.conversation_id or "" for r in fake.sent())


async def test_two_bot_processes_and_two_simultaneous_sends_deliver_once_per_conversation(
    azurite: str, fake_connector: FakeConnector, tmp_path: Path
) -> None:
    env = _env(azurite, _container())
    teams = TeamsActivities(fake_connector.url)
    first, first_url = await _start_bot_process(env, tmp_path, "bot-1")
    second, second_url = await _start_bot_process(env, tmp_path, "bot-2")
    try:
        async with aiohttp.ClientSession() as session:
            for number, user in enumerate(USERS):  # installed through both instances
                url = first_url if number % 2 else second_url
                activity = teams.installation_update("add", user_id=user)
                async with session.post(f"{url}/api/messages", json=activity) as response:
                    assert response.status in (200, 201), await response.text()
        assert len(fake_connector.sent()) == len(USERS)  # one welcome each
        fake_connector.clear()

        sends = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(ROOT / "bot.py"),
                "announce",
                "send",
                "--yes",
                cwd=tmp_path,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(2)
        ]
        results = await asyncio.wait_for(asyncio.gather(*(s.communicate() for s in sends)), timeout=180)
    finally:
        await _stop(first)
        await _stop(second)

    codes = [s.returncode for s in sends]
    outputs = [(out + err).decode(errors="replace") for out, err in results]
    assert 0 in codes, outputs
    assert set(codes) <= {0, 3}, outputs  # 3: the other send was running (BroadcastBusy)
    delivered = _deliveries(fake_connector)
    assert delivered == {personal_conversation_id(user): 1 for user in USERS}, outputs


@pytest.fixture
async def two_instances(azurite: str, fake_connector: FakeConnector) -> Any:
    container = _container()
    settings = test_settings(
        STORAGE_URL=f"azureblob://{container}",
        AZURE_STORAGE_CONNECTION_STRING=azurite,
        ELECTION_NAME="Riksdagsvalet",
        ELECTION_DATE=ELECTION_DATE,
        ANNOUNCE_RATE="50",
    )
    bots = [
        await RunningBot(fake_connector, settings, schedule_poll_seconds=0.2).start(),
        await RunningBot(fake_connector, settings, schedule_poll_seconds=0.2).start(),
    ]
    yield bots, container
    for running in bots:
        await running.stop()


async def test_the_schedulers_of_two_instances_send_a_scheduled_announcement_once(
    two_instances: Any, azurite: str, fake_connector: FakeConnector
) -> None:
    (first, second), container = two_instances
    teams = TeamsActivities(fake_connector.url)
    for number, user in enumerate(USERS):
        await (first if number % 2 else second).send(teams.installation_update("add", user_id=user))
    fake_connector.clear()

    storage = AzureBlobStorage(azurite, container)
    try:
        # what `python bot.py announce schedule --at …` stores (tests/test_announce_e2e.py runs the CLI)
        now = dt.datetime.now(dt.UTC)
        service = announcement_service(first.settings, storage)
        announcement = service.content().id
        await service.close()
        await Schedules(storage).schedule(announcement, now + dt.timedelta(seconds=1), now)
        await fake_connector.wait_for(len(USERS), timeout=60)
        deadline = time.monotonic() + 30
        while True:  # until the scheduler that sent it has recorded the end
            states = {item.state for item in await Schedules(storage).all()}
            if states == {"done"} or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert states == {"done"}
        await asyncio.sleep(1.0)  # five more polls of both schedulers: nothing more goes out
    finally:
        await storage.close()
    assert _deliveries(fake_connector) == {personal_conversation_id(user): 1 for user in USERS}


async def test_a_guide_started_on_one_instance_continues_on_the_other(two_instances: Any, teams) -> None:
    (first, second), _ = two_instances
    assert shown_steps(await first.send(teams.message("starta guiden"))) == {1}
    assert shown_steps(await second.send(teams.message("nästa"))) == {2}
    assert shown_steps(await first.send(teams.message("nästa"))) == {3}
    replies = await second.send(teams.message("tillbaka"))
    assert shown_steps(replies) == {2}, text_of(replies)
