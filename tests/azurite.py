"""Azurite, Microsoft's Azure Storage emulator (npm, pinned in tools/azurite), for the Azure Blob tests.

`azurite` (session scope) runs `azurite-blob` in memory on a free loopback port and yields the
connection string of its development account. The pinned package is installed by `make node-deps`
(tests/node_tools.py); the tests that use it skip where Node.js or npm is not installed (fail under CI).
"""

from __future__ import annotations

import queue
import re
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from tests.node_tools import ROOT, installed

__all__ = ["azurite", "azurite_connection_string"]

START_TIMEOUT = 60.0

# Azurite's documented development account; the key is public and works only against the emulator.
_ACCOUNT = "devstoreaccount1"
_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LISTENING = re.compile(r"listens on (https?://[\w.\[\]:-]+?):(\d+)")


def azurite_connection_string(port: int) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={_ACCOUNT};AccountKey={_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{_ACCOUNT};"
    )


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def azurite() -> Iterator[str]:
    """The connection string of a running in-memory Azurite blob service (stopped at session end)."""
    program = installed("azurite", "node_modules/.bin/azurite-blob")
    process = subprocess.Popen(
        [
            str(program),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            "0",
            "--inMemoryPersistence",
            "--loose",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--silent",
        ],
        cwd=ROOT / "tools" / "azurite",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:  # reads to the end, so a chatty emulator never blocks on a full pipe
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, name="azurite-output", daemon=True)
    reader.start()
    seen: list[str] = []
    port = None
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while port is None:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"Azurite did not say where it listens within {START_TIMEOUT:.0f} s:\n" + "".join(seen))
            if line is None:
                pytest.fail(f"Azurite exited with {process.wait()} before listening:\n" + "".join(seen))
            seen.append(line)
            if found := _LISTENING.search(line):
                port = int(found.group(2))
        yield azurite_connection_string(port)
    finally:
        _stop(process)
        reader.join(timeout=10)  # the pipe ends with the process
        if process.stdout is not None and not reader.is_alive():
            process.stdout.close()
