"""The side-by-side benchmark still runs (a small one): both bots answer every turn, no time asserted."""

from __future__ import annotations

from benchmarks.side_by_side import report, run


async def test_a_small_side_by_side_run_answers_every_turn_and_reports_the_ratios():
    result = await run(sequential=6, windows=1, window_seconds=0.3)
    for kind in ("echo", "kanalvakten"):
        load = result["loads"][kind]
        assert len(load.latencies_ms) == 6 and load.turns_per_second > 0
        assert result["replies"][kind] >= load.turns  # run() raises if a bot missed a reply
        assert result["memory_mb"][kind] > 0
    text = report(result)
    assert "throughput ratio (Kanalvakten / echo)" in text and "p50 ratio (Kanalvakten / echo)" in text
