"""Kanalvakten beside Microsoft's echo bot, in one run: latency, throughput and memory as ratios.

Both bots are real aiohttp servers on 127.0.0.1, each in its own process (so memory is its own,
and Kanalvakten's msrest fix cannot help the echo bot): the echo bot is the official sample
(teams/echo_sample.py: CloudAdapter + ActivityHandler, no storage, no fixes), Kanalvakten is
`teams.app.create_app` with its default SQLite storage and logging as `python bot.py` configures
it. This process is the load (one keep-alive connection per conversation) and a lean fake Bot
Connector that answers every reply and counts them, both on plain asyncio streams: they sit on
every turn's path, so they are kept cheap (tests/fake_connector.py records and parses everything
and would dominate Kanalvakten's turn; aiohttp's client and server cost about half a millisecond
per turn).

- Latency: `SEQUENTIAL_TURNS` turns per bot, one at a time, alternating between the bots so a
  noisy neighbour slows both alike; p50 and p99 of the HTTP round trip (the turn, replies
  included, ends before the answer).
- Throughput: `CONCURRENCY` conversations, each sending its next message as soon as the previous
  one is answered, for `WINDOWS` windows of `WINDOW_SECONDS` per bot, alternating.
- CPU: user + system time of each server process over both phases, per turn (/proc/<pid>/stat).
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
from urllib.parse import unquote

from aiohttp import web

from benchmarks.turns import TURN_MIX
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
            from announcements.ratelimit import TeamsRateLimiter
            from assistant.flood import FloodGuard
            from bot import freeze_startup_objects
            from config import load_settings
            from observability.logs import configure_logging
            from teams.app import create_app

            settings = load_settings(
                _env_file=None, HOST="127.0.0.1", PORT=0, STORAGE_URL=storage_url, MicrosoftAppId=""
            )
            configure_logging(settings.log_level)
            # Teams' pacing (7 replies a second per conversation, 50 in all) and the flood guard are
            # policy, not cost: the echo bot has neither, and the sequential run sends one user's
            # turns back to back. They are off here; `benchmarks/load.py` runs with them on.
            app = create_app(
                settings,
                flood_guard=FloodGuard(burst=1_000_000, window=1.0),
                reply_limits=TeamsRateLimiter(rate=1_000_000, per_conversation_rate=1_000_000, windows=()),
            )
            freeze_startup_objects()  # as bot.py does
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
        self.port = 0

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
        self.port = int(line.split()[1])
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


# ---------------------------------------------------------------------------------------- HTTP
# The load and the connector speak HTTP/1.1 on plain asyncio streams: both sit on every turn's
# path (the turn waits for the connector's answer), so their own cost is kept to a minimum and out
# of the way of the two bots being compared. Bodies have a Content-Length (requests, urllib3 and
# aiohttp send one here); anything else is refused loudly.


async def _read_message(reader: asyncio.StreamReader) -> tuple[str, bytes]:
    """(start line, body) of one HTTP/1.1 request or response."""
    head = await reader.readuntil(b"\r\n\r\n")
    start, *lines = head.decode("latin-1").split("\r\n")
    length = None
    for line in lines:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding":
            raise RuntimeError(f"unexpected Transfer-Encoding: {value.strip()}")
    return start, await reader.readexactly(length or 0)


class LeanConnector:
    """Answers the Bot Connector's send and reply with `{"id": …}` and counts them per bot."""

    def __init__(self) -> None:
        self.replies = dict.fromkeys(BOTS, 0)
        self.unexpected = 0
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.StreamWriter, asyncio.Task[None]] = {}
        self.url = ""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections[writer] = asyncio.current_task()  # type: ignore[assignment]
        try:
            while True:
                start, _ = await _read_message(reader)
                method, target, _ = start.split(" ", 2)
                parts = unquote(target.split("?", 1)[0]).split("/")
                # /v3/conversations/{conversation}/activities[/{activity}]
                if method == "POST" and parts[1:3] == ["v3", "conversations"] and parts[4:5] == ["activities"]:
                    self.replies["echo" if parts[3].startswith("a:1echo") else "kanalvakten"] += 1
                    body = b'{"id":"%d"}' % next(self._ids)
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                        % (len(body), body)
                    )
                else:
                    self.unexpected += 1
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the bot (or close()) closed the connection
        finally:
            self._connections.pop(writer, None)
            writer.close()

    async def start(self) -> LeanConnector:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/"
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            tasks = list(self._connections.values())
            for writer in list(self._connections):
                writer.close()
            await asyncio.gather(*tasks, return_exceptions=True)


class _Client:
    """One keep-alive connection to a bot's /api/messages."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection("127.0.0.1", self._port)
        reader, writer = self._streams
        writer.write(
            b"POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (self._port, len(body), body)
        )
        start, answer = await _read_message(reader)
        return int(start.split(" ", 2)[1]), answer

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


# ---------------------------------------------------------------------------------------- load
@dataclass
class Load:
    """Turns sent to one bot, each conversation on its own connection."""

    server: Server
    connector: LeanConnector
    turns: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    throughput: list[tuple[int, float]] = field(default_factory=list)
    """(turns, seconds) per window."""
    cpu_seconds: float = 0.0
    cpu_turns: int = 0
    """Server CPU time and turns over the measured phases."""
    clients: dict[int, _Client] = field(default_factory=dict)

    def body(self, user: int, index: int) -> bytes:
        text = TURN_MIX[(user + index) % len(TURN_MIX)]
        # the user id decides the conversation id, which tells the connector which bot replied
        prefix = "echo" if self.server.kind == "echo" else "kv"
        activity = message(text, service_url=self.connector.url, user_id=f"29:{prefix}-user-{user}")
        return json.dumps(activity).encode()

    async def turn(self, user: int, index: int) -> float:
        client = self.clients.get(user) or self.clients.setdefault(user, _Client(self.server.port))
        data = self.body(user, index)
        start = time.perf_counter()
        status, answer = await client.post(data)
        elapsed = (time.perf_counter() - start) * 1000
        if status >= 300:
            raise RuntimeError(f"{self.server.kind} answered {status}: {answer[:200]!r}")
        self.turns += 1
        return elapsed

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

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def _match_median_us() -> float:
    from knowledge.loader import load_knowledge_base
    from knowledge.matcher import Matcher

    matcher = Matcher(load_knowledge_base())
    samples = []
    for _ in range(200):
        for text in TURN_MIX:
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
        loads = {kind: Load(servers[kind], connector) for kind in BOTS}
        try:
            for server in servers.values():
                server.start()
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
            for load in loads.values():
                load.close()
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
