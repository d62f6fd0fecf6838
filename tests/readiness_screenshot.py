"""`python -m tests.readiness_screenshot [FILE.png]`: the README's picture of the checklist card.

Starts `python bot.py` (the Playground's user as admin, a coming election) behind the Microsoft 365
Agents Playground (tests/playground.py) and runs tools/browser/checklist.mjs in headless Chromium:
the admin sends the announcement to the Playground chat, ticks items, saves, and the updated card
is saved as a PNG (default docs/readiness-checklist.png). Needs Node and Chromium (`make node-deps`).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.node_tools import ROOT, installed
from tests.playground import run_playground

PLAYGROUND_ADMIN = "00000000-0000-0000-0000-0000000000020"
"""The Playground's own user (Alex Wilber)'s Azure AD object id."""


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs" / "readiness-checklist.png"
    installed("playground", "node_modules/.bin/agentsplayground")
    installed("browser", "node_modules/playwright-core/package.json")
    os.environ.update(
        ADMIN_AAD_IDS=PLAYGROUND_ADMIN,
        ELECTION_NAME="Riksdagsvalet",
        ELECTION_DATE=(dt.date.today() + dt.timedelta(days=12)).isoformat(),
        ANNOUNCE_RATE="50",
    )
    with tempfile.TemporaryDirectory() as work, run_playground(Path(work)) as url:
        done = subprocess.run(
            ["node", str(ROOT / "tools" / "browser" / "checklist.mjs"), "--url", url, "--out", str(out.resolve())],
            cwd=ROOT / "tools" / "browser",
            capture_output=True,
            text=True,
            timeout=300,
        )
        print(done.stdout, end="")
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            print((Path(work) / "bot.log").read_text(encoding="utf-8")[-4000:], file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
