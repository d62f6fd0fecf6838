"""The broadcast benchmark still runs (a small one): rate held, nothing missing or doubled."""

from __future__ import annotations

from benchmarks.broadcast import run


async def test_a_small_benchmark_broadcast_holds_the_rate_and_delivers_each_once():
    result = await run(n=60, rate=50)
    assert result["sent"] == 60 and result["missing"] == 0 and result["duplicates"] == 0
    assert result["busiest_second"] <= 50 + 2  # arrival jitter at the in-process connector
    assert 0 < result["achieved_rate_per_s"] <= 55
    assert result["max_rss_mb"] > 0
