"""Broadcast benchmark: one announcement to 2 000 conversations on the fake connector.

Everything real except Teams: the CLI's service, the Bot Framework sender (botbuilder's
ConnectorClient over HTTP), the ledger on SQLite (written before and after each send), and the
fake Bot Connector in the same process. Reports the messages per second achieved against the
configured rate, and the peak memory.

Rate: the default is the production default, ANNOUNCE_RATE=30/s, so 2 000 conversations take
about 67 s — what a real send would take, and inside the two minutes `make bench` allows. The
achieved rate should sit just under the configured one (the limiter spaces sends evenly, and
nothing may exceed it); `run(rate=50)` shows the ceiling Teams allows.

Memory: `max_rss_mb` is the process's resident peak (ru_maxrss: interpreter, libraries and the
fake connector's 2 000 recorded requests included) and `rss_before_send_mb` the resident size
just before the send, so the difference is what the send itself added. `run(trace_memory=True)`
adds tracemalloc's Python-heap peak during the send; it is off by default because tracing
doubles the CPU cost and the busier event loop then distorts the rate being measured.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

__all__ = ["run"]


async def run(
    n: int = 2000, rate: float = 30.0, *, concurrency: int = 16, trace_memory: bool = False
) -> dict[str, Any]:
    """Broadcast to `n` fresh conversations at `rate`/s; returns the measurements."""
    from announcements.broadcast import BroadcastPolicy
    from announcements.registry import ConversationRegistry
    from config import load_settings
    from storage import SqliteStorage
    from teams.compose import announcement_service
    from teams.sender import BotFrameworkSender
    from tests.fake_connector import FakeConnector

    if trace_memory:
        tracemalloc.start()
    with tempfile.TemporaryDirectory(prefix="kanalvakten-bench-") as tmp:
        storage = SqliteStorage(Path(tmp) / "bench.db")
        async with FakeConnector() as fake:
            registry = ConversationRegistry(storage)
            now = dt.datetime.now(dt.UTC)
            for i in range(n):
                await registry.remember(
                    {
                        "bot": {"id": "28:bench-bot"},
                        "conversation": {"id": f"a:1bench{i:05d}", "conversationType": "personal"},
                        "channelId": "msteams",
                        "serviceUrl": fake.url,
                    },
                    "personal",
                    None,
                    None,
                    "bench-tenant",
                    now,
                )
            settings = load_settings(
                storage_url="memory://", announce_rate=rate, app_id="", election_date=now.date() + dt.timedelta(days=61)
            )  # a past one is refused
            service = announcement_service(
                settings,
                storage,
                sender_factory=BotFrameworkSender,
                policy=BroadcastPolicy(rate=rate, concurrency=concurrency),
            )
            rss_before = _current_rss_mb()
            if trace_memory:
                tracemalloc.reset_peak()
            started = time.perf_counter()
            summary = await service.send()
            elapsed = time.perf_counter() - started
            arrivals = sorted(r.received_at for r in fake.sent())
            per_conversation: dict[str | None, int] = {}
            for r in fake.sent():
                per_conversation[r.conversation_id] = per_conversation.get(r.conversation_id, 0) + 1
            await service.close()
        await storage.close()
    peak = None
    if trace_memory:
        peak = round(tracemalloc.get_traced_memory()[1] / (1024 * 1024), 1)
        tracemalloc.stop()
    window = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    busiest = _busiest_second(arrivals)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mb = rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
    return {
        "conversations": n,
        "configured_rate_per_s": rate,
        "achieved_rate_per_s": round((len(arrivals) - 1) / window, 2) if window else None,
        "busiest_second": busiest,
        "elapsed_s": round(elapsed, 1),
        "sent": summary.sent,
        "failed": summary.failed,
        "retried": summary.retried,
        "duplicates": sum(1 for c in per_conversation.values() if c > 1),
        "missing": n - len(per_conversation),
        "rss_before_send_mb": rss_before,
        "max_rss_mb": round(rss_mb, 1),
        **({"tracemalloc_peak_during_send_mb": peak} if trace_memory else {}),
    }


def _current_rss_mb() -> float | None:
    """Resident size now (Linux /proc); None elsewhere."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return round(pages * resource.getpagesize() / (1024 * 1024), 1)


def _busiest_second(times: list[float]) -> int:
    """Most messages the connector received within any one-second window."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--trace-memory", action="store_true")
    args = parser.parse_args()
    for key, value in asyncio.run(run(args.n, args.rate, trace_memory=args.trace_memory)).items():
        print(f"{key}: {value}")
