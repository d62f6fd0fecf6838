"""Logs (issue 12, item 7): JSON lines with a correlation id per turn; no secrets, tokens or questions.

- `python bot.py` with LOG_FORMAT=json writes one JSON object a line; the lines of one turn carry
  the correlation id the answer names in `X-Correlation-Id`, and two turns have different ones.
- With authentication on, turns with distinctive question texts are logged at DEBUG by our
  loggers, and neither the questions, the app password nor the tokens appear.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from observability.logs import CorrelationFilter, JsonFormatter, configure_logging, correlation_scope
from tests.bot_harness import RunningBot, test_settings
from tests.fake_identity import APP_ID, FakeIdentityService, mint
from tests.teams_activities import TeamsActivities
from tests.test_auth import FakeCredentialsFactory, FakeTokenEndpoint

ROOT = Path(__file__).resolve().parents[1]
OUR_LOGGERS = (
    "teams",
    "assistant",
    "dialogs",
    "knowledge",
    "cards",
    "storage",
    "announcements",
    "helpdesk",
    "observability",
    "config",
    "kanalvakten",
)
PASSWORD = "pw-Ubåt-7f3e-not-for-logs"
QUESTIONS = [
    "hur slår jag på tvåfaktor på instagram, frågar Ulrika-Zebra-4711?",
    "starta guiden",
    "Kan du boka en tvättstuga åt Ulrika-Zebra-4712?",
    "Vårt konto är kapat, Ulrika-Zebra-4713 hjälp!",
]
MARKERS = ["Ulrika-Zebra-4711", "Ulrika-Zebra-4712", "Ulrika-Zebra-4713", "tvättstuga"]


# --- the formatter ------------------------------------------------------------------------------


def test_a_json_line_has_the_fields_and_stays_one_line_with_a_newline_in_the_message():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("teams.test-json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with correlation_scope("abc123"):
            logger.warning("two\nlines")
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert {"time", "level", "logger", "message", "correlation_id"} <= set(first)
    assert (first["level"], first["logger"], first["message"], first["correlation_id"]) == (
        "WARNING",
        "teams.test-json",
        "two\nlines",
        "abc123",
    )
    assert second["correlation_id"] == "-"
    assert "ValueError: boom" in second["exception"]


def test_configure_logging_replaces_the_handlers_and_quiets_msrest():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("msrest").level)
    try:
        stream = io.StringIO()
        configure_logging("DEBUG", "json", stream=stream)
        logging.getLogger("msrest.http_logger").debug("Request body: secret")
        logging.getLogger("teams.x").info("hello")
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert [line["message"] for line in lines] == ["hello"]
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        logging.getLogger("msrest").setLevel(saved[2])


# --- python bot.py with LOG_FORMAT=json ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert process.poll() is None, "python bot.py exited"
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    pytest.fail("python bot.py did not start")


async def test_bot_py_with_log_format_json_writes_json_lines_with_one_correlation_id_per_turn(fake_connector, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "STORAGE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "MicrosoftAppId": "",
        "MicrosoftAppPassword": "",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "DEBUG",
    }
    log_file = (tmp_path / "stderr.log").open("w")
    process = subprocess.Popen(  # in an empty folder: no .env of the developer's is read
        [sys.executable, str(ROOT / "bot.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log_file,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    teams = TeamsActivities(fake_connector.url)
    ids = []
    try:
        await _wait_until_up(url, process)
        async with aiohttp.ClientSession() as session:
            for text in QUESTIONS[:3]:
                async with session.post(f"{url}/api/messages", json=teams.message(text)) as response:
                    assert response.status in (200, 201)
                    ids.append(response.headers["X-Correlation-Id"])
    finally:
        process.terminate()
        process.wait(timeout=30)
        log_file.close()
    stderr = (tmp_path / "stderr.log").read_text()
    lines = [line for line in stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message", "correlation_id"} <= set(r) for r in records)
    assert len(set(ids)) == 3
    for correlation in ids:
        turn = [r for r in records if r["correlation_id"] == correlation]
        assert any(r["logger"] == "teams.handler" and r["message"].startswith("answered") for r in turn), turn
    assert not [m for m in MARKERS if m in stderr], "a question text reached the log"


# --- nothing secret, at any level of our loggers ------------------------------------------------


async def test_turns_with_authentication_log_no_question_password_or_token(fake_connector, caplog):
    endpoint = FakeTokenEndpoint()
    async with FakeIdentityService() as idp:
        settings = test_settings(
            MicrosoftAppId=APP_ID,
            MicrosoftAppPassword=PASSWORD,
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=idp.channel_metadata_url,
            TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=idp.aad_metadata_url,
            EXPERTS_CHANNEL_ID="19:experter@thread.tacv2",
        )
        bot = await RunningBot(fake_connector, settings, credentials=FakeCredentialsFactory(endpoint)).start()
        teams = TeamsActivities(fake_connector.url)
        tokens = []
        try:
            with caplog.at_level(logging.DEBUG):
                for text in [*QUESTIONS, "nästa", "hjälp"]:
                    activity = teams.message(text)
                    token = mint(activity["serviceUrl"])
                    tokens.append(token)
                    status, body = await bot.post(activity, headers={"Authorization": f"Bearer {token}"})
                    assert status in (200, 201), body
                forged = teams.message(QUESTIONS[0])
                await bot.post(forged, headers={"Authorization": "Bearer " + tokens[0][:-4] + "AAAA"})
        finally:
            await bot.stop()
    ours = [r for r in caplog.records if r.name.split(".")[0] in OUR_LOGGERS]
    assert any(r.name == "teams.handler" for r in ours), "the turns logged nothing: the test sees nothing"
    logged = "\n".join(_everything(r) for r in ours)
    leaks = [m for m in [*MARKERS, PASSWORD, *tokens, *endpoint.tokens] if m in logged]
    assert leaks == []


def _everything(record: logging.LogRecord) -> str:
    parts: list[Any] = [record.getMessage()]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return " ".join(str(p) for p in parts)
