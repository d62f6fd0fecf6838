"""The Microsoft 365 Agents Playground (npm, pinned in tools/playground) in front of `python bot.py`.

`run_playground(work)` starts the bot as a separate process (as in production; in-memory storage,
a free loopback port) and the Playground (Microsoft's local Teams emulator) pointed at it, and
yields the Playground's URL; the bot logs to work/bot.log, the Playground to work/devTools/.
`playground` is the same as a module-scoped fixture.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.node_tools import ROOT, installed

__all__ = ["free_port", "wait_http", "run_playground", "playground"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2):
                return
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def run_playground(work: Path) -> Iterator[str]:
    program = installed("playground", "node_modules/.bin/agentsplayground")
    bot_port, pg_port = free_port(), free_port()
    env = {
        **os.environ,
        "PORT": str(bot_port),
        "HOST": "127.0.0.1",
        "STORAGE_URL": "memory://",
        "MicrosoftAppId": "",
        "LOG_LEVEL": "WARNING",
    }
    with open(work / "bot.log", "w") as bot_log:
        bot = subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py")], cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=bot_log
        )
    emulator = subprocess.Popen(
        [
            str(program),
            "-e",
            f"http://127.0.0.1:{bot_port}/api/messages",
            "-c",
            "msteams",
            "-p",
            str(pg_port),
            "--disable-telemetry",
        ],
        cwd=work,
        env={**os.environ, "TEAMSAPPTESTER_BROWSER": "none"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"http://127.0.0.1:{bot_port}/healthz", 30)
        wait_http(f"http://127.0.0.1:{pg_port}/_debug/ping", 60)
        yield f"http://127.0.0.1:{pg_port}"
    finally:
        for process in (emulator, bot):
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture(scope="module")
def playground(tmp_path_factory) -> Iterator[str]:
    """The URL of a Playground in front of a fresh `python bot.py`, for one test module."""
    with run_playground(tmp_path_factory.mktemp("playground")) as url:
        yield url
