"""`make bench`: the matcher beside its naive baseline, whole turns, a broadcast to 2 000
conversations, 50 conversations at once for 30 s (`benchmarks.load`), and last Kanalvakten beside
Microsoft's echo bot (the table the README quotes)."""

from __future__ import annotations

import asyncio
import sys


def main() -> int:
    from benchmarks import matcher

    print(
        "== Matcher (dev: ../shared/eval/dev.jsonl; held-out: tests/data/heldout.jsonl and the"
        f" {len(matcher.HELD_OUT_SETS) - 1} blind sets under tests/data)"
    )
    print(matcher.report(matcher.run()))
    from benchmarks import turns

    print("\n== Whole turns through POST /api/messages (fake connector on loopback)")
    for key, value in asyncio.run(turns.run()).items():
        print(f"{key}: {value}")
    from benchmarks import broadcast

    print("\n== Broadcast to 2 000 conversations on the fake connector")
    result = asyncio.run(broadcast.run())
    for key, value in result.items():
        print(f"{key}: {value}")
    from benchmarks import load

    print("\n== Load: 50 conversations at once for 30 s (production limits, SQLite, fake connector on loopback)")
    for key, value in asyncio.run(load.run()).items():
        print(f"{key}: {value}")

    from benchmarks import side_by_side

    print("\n== Kanalvakten beside Microsoft's echo bot sample (same run, same fake connector; own processes)")
    print(side_by_side.report(asyncio.run(side_by_side.run())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
