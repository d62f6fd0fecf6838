"""Crash safety: a send killed with SIGKILL midway, then run again.

Everything is real: the CLI in its own process on SQLite, the fake connector in another process
recording each request to a file. Afterwards: every conversation got the announcement, and a
conversation got it twice only if the ledger had it `in_flight` at the moment of the kill.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from announcements.ledger import Ledger
from announcements.registry import ConversationRegistry
from storage import SqliteStorage

ROOT = Path(__file__).resolve().parents[1]
ANN = "infor-valet-2fa-1"
N = 40


def start_fake(record: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_connector", "--port", "0", "--record", str(record), "--delay", "0.15"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    assert line.startswith("listening on "), line + proc.stderr.read()
    return proc, line.split()[-1].rstrip("/") + "/"


def cli(db: Path, rate: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "STORAGE_URL": f"sqlite:///{db}",
        "ANNOUNCE_RATE": str(rate),
        "MicrosoftAppId": "",
        "MicrosoftAppPassword": "",
        "LOG_LEVEL": "WARNING",
        "ELECTION_NAME": "Riksdagsvalet",  # a coming election: a past one is refused
        "ELECTION_DATE": (dt.date.today() + dt.timedelta(days=61)).isoformat(),
    }
    return subprocess.Popen(
        [sys.executable, "bot.py", "announce", "send", "--yes"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def delivered(record: Path) -> list[str]:
    lines = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
    return [r["conversation_id"] for r in lines if r["kind"] == "send" and r["status"] == 200]


async def seed(db: Path, service_url: str) -> list[str]:
    storage = SqliteStorage(db)
    registry = ConversationRegistry(storage)
    ids = [f"a:1crash{i:03d}" for i in range(N)]
    now = dt.datetime.now(dt.UTC)
    for cid in ids:
        await registry.remember(
            {
                "bot": {"id": "28:bot"},
                "conversation": {"id": cid, "conversationType": "personal"},
                "channelId": "msteams",
                "serviceUrl": service_url,
            },
            "personal",
            None,
            None,
            "tenant",
            now,
        )
    await storage.close()
    return ids


async def ledger_status(db: Path) -> dict[str, str]:
    storage = SqliteStorage(db)
    entries = await Ledger(storage).entries(ANN)
    await storage.close()
    return {cid: e.status for cid, e in entries.items()}


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
async def test_a_send_killed_midway_then_rerun_misses_none_and_repeats_only_in_flight(tmp_path):
    record, db = tmp_path / "requests.jsonl", tmp_path / "state.db"
    fake, url = start_fake(record)
    try:
        ids = await seed(db, url)
        first = cli(db, rate=5)  # slow: 40 conversations take 8 s
        deadline = time.monotonic() + 30
        while len(delivered(record)) < 8 and time.monotonic() < deadline and first.poll() is None:
            await asyncio.sleep(0.05)
        assert first.poll() is None, "the first send ended before it could be killed"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert first.returncode == -signal.SIGKILL
        await asyncio.sleep(0.5)  # let requests already on the wire arrive at the fake
        status_at_kill = await ledger_status(db)
        at_kill = {cid for cid, s in status_at_kill.items() if s == "in_flight"}
        sent_at_kill = {cid for cid, s in status_at_kill.items() if s == "sent"}
        before = delivered(record)
        assert 8 <= len(before) < N

        second = cli(db, rate=50)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 0, out + err

        counts = {cid: 0 for cid in ids}
        for cid in delivered(record):
            counts[cid] += 1
        assert all(n >= 1 for n in counts.values()), [c for c, n in counts.items() if n == 0]
        twice = {cid for cid, n in counts.items() if n > 1}
        assert twice <= at_kill, (twice, at_kill)
        assert all(n <= 2 for n in counts.values())
        # the rerun sent everything not confirmed sent at the kill, and named the in-flight ones
        assert f"sent {N - len(sent_at_kill)}," in out, out
        assert set(before) - at_kill <= sent_at_kill  # confirmed sends were never repeated
        for cid in at_kill:
            assert cid in out  # listed as "resent after an interrupted run"
    finally:
        fake.send_signal(signal.SIGTERM)
        fake.wait(10)
