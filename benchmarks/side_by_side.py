"""Kanalvakten beside Microsoft's echo bot, in one run: latency, throughput and memory as ratios.

Both bots are real aiohttp servers on 127.0.0.1, each in its own process (so memory is its own,
and Kanalvakten's msrest fix cannot help the echo bot): the echo bot is the official sample
(teams/echo_sample.py: CloudAdapter + ActivityHandler, no storage, no fixes), Kanalvakten is
`teams.app.create_app` with its default SQLite storage and logging as `python bot.py` configures
it. This process is the load and a lean fake Bot Connector (it answers every reply and counts
them; tests/fake_connector.py records everything, which would make the connector the bottleneck).

- Latency: `SEQUENTIAL_TURNS` turns per bot, one at a time, alternating between the bots so a
  noisy neighbour slows both alike; p50 and p99 of the HTTP round trip (the turn, replies
  included, ends before the answer).
- Throughput: `CONCURRENCY` conversations, each sending its next message as soon as the previous
  one is answered, for `WINDOWS` windows of `WINDOW_SECONDS` per bot, alternating.
- Memory: peak resident set (VmHWM in /proc/<pid>/status) of each server process at the end.
- Match share: the matcher's median time on the same questions over Kanalvakten's p50 turn.

Kanalvakten gets the mixed questions and guide steps of benchmarks/turns.py; the echo bot the same
activities. Both must answer every request with 2xx and send at least one reply per turn.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from benchmarks.turns import _QUESTIONS
from tests.teams_activities import message

__all__ = ["run", "report"]

ROOT = Path(__file__).resolve().parents[1]
SEQUENTIAL_TURNS = 300
CONCURRENCY = 50
WINDOWS = 4
WINDOW_SECONDS = 2.5
WARM_UP_TURNS = 30
BOTS = ("echo", "kanalvakten")


# ---------------------------------------------------------------------------------------- servers
def _serve(kind: str, storage_url: str) -> None:
    """The child process: one bot on 127.0.0.1:<free port>; prints the port, stops on SIGTERM."""

    async def main() -> None:
        if kind == "echo":
            from teams.echo_sample import create_echo_app

            app = create_echo_app()
            runner = web.AppRunner(app)  # what the sample's web.run_app builds
        else:
            from bot import _configure_logging
            from config import load_settings
            from teams.app import create_app

            settings = load_settings(
                _env_file=None, HOST="127.0.0.1", PORT=0, STORAGE_URL=storage_url, MicrosoftAppId=""
            )
            _configure_logging(settings.log_level)
            app = create_app(settings)
            runner = web.AppRunner(app)  # what bot.py's web.run_app builds
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print(f"port {port}", flush=True)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(main())


class Server:
    """A bot in its own process (`python -m benchmarks.side_by_side serve KIND`)."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self.log_path = folder / f"{kind}.log"
        self.storage_url = f"sqlite:///{folder / 'kanalvakten.db'}"
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> Server:
        env = {**os.environ, "MicrosoftAppId": "", "MicrosoftAppPassword": "", "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.side_by_side", "serve", self.kind, self.storage_url],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("port "):
            self.stop()
            raise RuntimeError(f"{self.kind} did not start:\n{self.log_path.read_text()[-2000:]}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}/api/messages"
        return self

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (all its threads)."""
        assert self.process is not None
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc")  # pragma: no cover - Linux only

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# ---------------------------------------------------------------------------------------- connector
class LeanConnector:
    """Answers the Bot Connector's send and reply with `{"id": …}` and counts them per bot."""

    def __init__(self) -> None:
        self.replies = dict.fromkeys(BOTS, 0)
        self.unexpected = 0
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _reply(self, request: web.Request) -> web.Response:
        await request.read()
        conversation = request.match_info["cid"]
        bot = "echo" if conversation.startswith("a:1echo") else "kanalvakten"
        self.replies[bot] += 1
        return web.Response(body=b'{"id":"%d"}' % next(self._ids), content_type="application/json")

    async def _other(self, request: web.Request) -> web.Response:
        self.unexpected += 1
        return web.Response(status=404)

    async def start(self) -> LeanConnector:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._reply)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._reply)
        app.router.add_route("*", "/{tail:.*}", self._other)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


# ---------------------------------------------------------------------------------------- load
@dataclass
class Load:
    """Turns sent to one bot."""

    server: Server
    connector: LeanConnector
    session: aiohttp.ClientSession
    turns: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    throughput: list[tuple[int, float]] = field(default_factory=list)
    """(turns, seconds) per window."""
    cpu_seconds: float = 0.0
    cpu_turns: int = 0
    """Server CPU time and turns over the measured phases."""

    def body(self, user: int, index: int) -> bytes:
        text = _QUESTIONS[(user + index) % len(_QUESTIONS)]
        # the user id decides the conversation id, which tells the connector which bot replied
        prefix = "echo" if self.server.kind == "echo" else "kv"
        activity = message(text, service_url=self.connector.url, user_id=f"29:{prefix}-user-{user}")
        return json.dumps(activity).encode()

    async def turn(self, user: int, index: int) -> float:
        data = self.body(user, index)
        start = time.perf_counter()
        async with self.session.post(
            self.server.url, data=data, headers={"Content-Type": "application/json"}
        ) as response:
            await response.read()
            if response.status >= 300:
                raise RuntimeError(f"{self.server.kind} answered {response.status}")
        self.turns += 1
        return (time.perf_counter() - start) * 1000

    async def window(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        done = 0

        async def conversation(user: int) -> None:
            nonlocal done
            for index in itertools.count():
                if time.perf_counter() >= deadline:
                    return
                await self.turn(user, index)
                done += 1

        start, cpu = time.perf_counter(), self.server.cpu_seconds()
        await asyncio.gather(*(conversation(user) for user in range(CONCURRENCY)))
        self.throughput.append((done, time.perf_counter() - start))
        self.cpu_seconds += self.server.cpu_seconds() - cpu
        self.cpu_turns += done

    @property
    def turns_per_second(self) -> float:
        return sum(n for n, _ in self.throughput) / sum(s for _, s in self.throughput)


def _match_median_us() -> float:
    from knowledge.loader import load_knowledge_base
    from knowledge.matcher import Matcher

    matcher = Matcher(load_knowledge_base())
    samples = []
    for _ in range(200):
        for text in _QUESTIONS:
            start = time.perf_counter()
            matcher.match(text)
            samples.append((time.perf_counter() - start) * 1e6)
    return statistics.median(samples)


async def run(
    sequential: int = SEQUENTIAL_TURNS, windows: int = WINDOWS, window_seconds: float = WINDOW_SECONDS
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        servers = {kind: Server(kind, folder) for kind in BOTS}
        connector = await LeanConnector().start()
        sessions = [aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) for _ in BOTS]
        try:
            for server in servers.values():
                server.start()
            loads = {
                kind: Load(servers[kind], connector, session) for kind, session in zip(BOTS, sessions, strict=True)
            }
            for load in loads.values():  # warm-up: imports, first clients, SQLite file, threads
                for index in range(WARM_UP_TURNS):
                    await load.turn(index % 20, index)
                await load.window(0.5)
                load.throughput.clear()
            cpu = {kind: server.cpu_seconds() for kind, server in servers.items()}
            for index in range(sequential):  # alternate, and alternate who goes first
                order = BOTS if index % 2 == 0 else BOTS[::-1]
                for kind in order:
                    loads[kind].latencies_ms.append(await loads[kind].turn(index % 20, index))
            for kind, load in loads.items():
                load.cpu_seconds += servers[kind].cpu_seconds() - cpu[kind]
                load.cpu_turns += sequential
            for round_ in range(windows):
                for kind in BOTS if round_ % 2 == 0 else BOTS[::-1]:
                    await loads[kind].window(window_seconds)
            memory = {kind: server.peak_rss_mb() for kind, server in servers.items()}
        finally:
            for server in servers.values():
                server.stop()
            for session in sessions:
                await session.close()
            await connector.close()
        for kind, load in loads.items():
            if connector.replies[kind] < load.turns:
                raise RuntimeError(f"{kind}: {connector.replies[kind]} replies for {load.turns} turns")
        if connector.unexpected:
            raise RuntimeError(f"{connector.unexpected} unexpected requests at the connector")
    return {
        "loads": loads,
        "memory_mb": memory,
        "replies": dict(connector.replies),
        "match_us": _match_median_us(),
        "window_seconds": window_seconds * windows,
    }


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def report(result: dict[str, Any]) -> str:
    echo, kv = result["loads"]["echo"], result["loads"]["kanalvakten"]
    memory = result["memory_mb"]
    rows: list[tuple[str, Callable[[Load], float], str]] = [
        ("p50 latency, ms", lambda load: statistics.median(load.latencies_ms), ".2f"),
        ("p99 latency, ms", lambda load: _p(load.latencies_ms, 0.99), ".2f"),
        (f"throughput, turns/s ({CONCURRENCY} conversations)", lambda load: load.turns_per_second, ".0f"),
        ("server CPU per turn, ms", lambda load: load.cpu_seconds / load.cpu_turns * 1000, ".2f"),
        ("peak RSS, MB", lambda load: memory[load.server.kind], ".0f"),
        ("replies per turn", lambda load: result["replies"][load.server.kind] / load.turns, ".2f"),
    ]
    width = max(len(name) for name, _, _ in rows)
    lines = [f"{'':{width}}  {'echo bot':>9}  {'Kanalvakten':>11}  {'Kanalvakten / echo':>18}"]
    for name, value, fmt in rows:
        e, k = value(echo), value(kv)
        lines.append(f"{name:{width}}  {e:>9{fmt}}  {k:>11{fmt}}  {k / e:>18.2f}")
    p50_ratio = statistics.median(kv.latencies_ms) / statistics.median(echo.latencies_ms)
    lines.append(
        f"\nthroughput ratio (Kanalvakten / echo): {kv.turns_per_second / echo.turns_per_second:.2f}   (target >= 3)"
    )
    lines.append(f"p50 ratio (Kanalvakten / echo): {p50_ratio:.2f}   (target <= 0.33)")
    share = result["match_us"] / 1000 / statistics.median(kv.latencies_ms)
    lines.append(f"match: median {result['match_us']:.0f} µs = {share:.2%} of Kanalvakten's p50 turn   (target < 1 %)")
    lines.append(
        f"({len(kv.latencies_ms)} sequential turns per bot, alternating; throughput over "
        f"{result['window_seconds']:g} s per bot in alternating windows)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="(internal) run one bot")
    serve.add_argument("kind", choices=BOTS)
    serve.add_argument("storage_url")
    args = parser.parse_args(argv)
    if args.command == "serve":
        _serve(args.kind, args.storage_url)
        return 0
    print(report(asyncio.run(run())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
