"""The load benchmark still runs (a short one): every turn answered, no errors."""

from __future__ import annotations

from benchmarks.load import run


async def test_a_short_load_run_answers_every_turn_without_errors():
    result = await run(seconds=2, conversations=5)
    assert result["turns"] > 0
    assert result["errors"] == 0, result.get("error kinds")
    assert result["max_rss_mb"] > 0
