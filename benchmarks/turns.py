"""Whole turns through the real endpoint: POST /api/messages -> matcher -> SQLite state -> reply
to the fake Bot Connector, on loopback. Reports milliseconds per turn (median, p99) for a mix of
questions and guide steps, with SQLite and with memory storage side by side in one run."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.bot_harness import RunningBot, test_settings
from tests.fake_connector import FakeConnector
from tests.teams_activities import TeamsActivities

__all__ = ["run", "TURN_MIX"]

TURN_MIX = [
    "hur slår jag på tvåfaktor på instagram?",
    "vad är återställningskoder?",
    "starta guiden",
    "nästa",
    "nästa",
    "tillbaka",
    "avbryt",
    "Hur bokar jag en tvättid?",
    "linkedin 2fa",
    "varför behöver vi tvåfaktorsautentisering inför valet?",
    "tack!",
]
"""The turns every benchmark plays: questions, the guide walked a little, out of scope, small talk."""


async def _measure(storage_url: str, turns: int) -> list[float]:
    async with FakeConnector() as connector:
        teams = TeamsActivities(connector.url)
        bot = await RunningBot(connector, test_settings(STORAGE_URL=storage_url)).start()
        try:
            for text in TURN_MIX:  # warm-up
                await bot.send(teams.message(text))
            samples = []
            for index in range(turns):
                activity = teams.message(TURN_MIX[index % len(TURN_MIX)], user_id=f"29:user-{index % 20}")
                start = time.perf_counter()
                await bot.post(activity)
                samples.append((time.perf_counter() - start) * 1000)
            return samples
        finally:
            await bot.stop()


async def run(turns: int = 300) -> dict[str, str]:
    with tempfile.TemporaryDirectory() as folder:
        sqlite = await _measure(f"sqlite:///{Path(folder) / 'bench.db'}", turns)
    memory = await _measure("memory://", turns)
    result = {}
    for name, samples in (("sqlite", sqlite), ("memory", memory)):
        ordered = sorted(samples)
        result[f"{name} ms/turn median, p99"] = (
            f"{statistics.median(samples):.2f}, {ordered[int(len(ordered) * 0.99) - 1]:.2f}"
        )
    result["sqlite / memory (median)"] = f"{statistics.median(sqlite) / statistics.median(memory):.2f}"
    return result


if __name__ == "__main__":
    for key, value in asyncio.run(run()).items():
        print(f"{key}: {value}")
