"""Load: 50 conversations talking to the bot at once for 30 s, through the real endpoint.

Everything is production's except Teams: `python bot.py`'s app (SQLite storage, the matcher, the
guide, the reply transport with Teams' per-conversation limits, the flood guard) served on
loopback, and the fake Bot Connector in the same process. Each of `conversations` clients sends a
message, waits for the HTTP answer (the reply has been delivered by then) and sends the next, for
`seconds`. A client spreads its turns over `users_per_client` personal chats, so each chat gets
at most a message every few seconds: what a person types, so the flood guard and the 60-in-30 s
limit are in force but are not what is measured.

Reports turns per second, latency per turn (p50, p99, max: the HTTP round trip, which includes
the reply to the fake connector), errors (a non-2xx answer, or a turn the bot did not answer:
must be 0), and memory: the process's resident peak (`ru_maxrss`, which includes the fake
connector's record of every request) and the resident size before and after the run.
"""

from __future__ import annotations

import asyncio
import collections
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.turns import TURN_MIX

__all__ = ["run"]


async def run(seconds: float = 30.0, conversations: int = 50, *, users_per_client: int = 64) -> dict[str, Any]:
    """Run the load; returns the measurements."""
    import aiohttp

    from assistant.flood import FloodGuard
    from teams.outbound import reply_limiter
    from tests.bot_harness import RunningBot, test_settings
    from tests.fake_connector import FakeConnector
    from tests.teams_activities import TeamsActivities

    latencies: list[float] = []
    errors: collections.Counter[str] = collections.Counter()
    delivered: collections.Counter[str] = collections.Counter()

    with tempfile.TemporaryDirectory(prefix="kanalvakten-load-") as folder:
        async with FakeConnector() as fake:
            remember = fake._remember

            async def counting(record: Any) -> None:  # per-conversation count, O(1) per request
                if record.is_message and record.conversation_id:
                    delivered[record.conversation_id] += 1
                await remember(record)

            fake._remember = counting  # type: ignore[method-assign]
            settings = test_settings(STORAGE_URL=f"sqlite:///{Path(folder) / 'load.db'}", LOG_LEVEL="WARNING")
            bot = await RunningBot(
                fake, settings, flood_guard=FloodGuard(), reply_limits=reply_limiter()
            ).start()  # production's flood guard and limits, not the test harness's
            teams = TeamsActivities(fake.url)
            rss_before = _current_rss_mb()
            deadline = time.perf_counter() + seconds
            connector = aiohttp.TCPConnector(limit=0)

            async with aiohttp.ClientSession(connector=connector) as session:

                async def client(number: int) -> None:
                    turn = 0
                    while time.perf_counter() < deadline:
                        slot = turn % users_per_client
                        user = f"29:load-{number}-{slot}"
                        activity = teams.message(
                            TURN_MIX[(turn // users_per_client + slot) % len(TURN_MIX)], user_id=user
                        )
                        conversation = activity["conversation"]["id"]
                        before = delivered[conversation]
                        started = time.perf_counter()
                        try:
                            async with session.post(f"{bot.url}/api/messages", json=activity) as response:
                                await response.read()
                                status = response.status
                        except aiohttp.ClientError as exc:
                            errors[type(exc).__name__] += 1
                            continue
                        finally:
                            latencies.append(time.perf_counter() - started)
                            turn += 1
                        if status not in (200, 201):
                            errors[f"HTTP {status}"] += 1
                        elif delivered[conversation] == before:
                            errors["no reply"] += 1

                started = time.perf_counter()
                await asyncio.gather(*(client(n) for n in range(conversations)))
                elapsed = time.perf_counter() - started
            rss_after = _current_rss_mb()
            await bot.stop()

    ordered = sorted(latencies)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "conversations at once": conversations,
        "seconds": round(elapsed, 1),
        "turns": len(latencies),
        "turns/s": round(len(latencies) / elapsed, 1) if elapsed else 0,
        "ms/turn p50, p99, max": (
            f"{statistics.median(ordered) * 1000:.1f}, {_percentile(ordered, 0.99) * 1000:.1f}, "
            f"{ordered[-1] * 1000:.1f}"
            if ordered
            else "-"
        ),
        "errors": sum(errors.values()),
        **({"error kinds": dict(errors)} if errors else {}),
        "rss before, after (MB)": f"{rss_before}, {rss_after}",
        "max_rss_mb": round(rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024, 1),
    }


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * fraction + 0.5) - 1))]


def _current_rss_mb() -> float | None:
    """Resident size now (Linux /proc); None elsewhere."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return round(pages * resource.getpagesize() / (1024 * 1024), 1)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--conversations", type=int, default=50)
    args = parser.parse_args()
    for key, value in asyncio.run(run(args.seconds, args.conversations)).items():
        print(f"{key}: {value}")
