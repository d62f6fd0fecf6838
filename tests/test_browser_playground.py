"""The real Teams client page, in a real browser: headless Chromium on the Agents Playground.

`python bot.py` runs behind the Microsoft 365 Agents Playground (tests/playground.py); the Node
driver tools/browser/drive.mjs (playwright-core, pinned in tools/browser, on Debian's Chromium)
opens the Playground's page and does what a person does: types a question, reads what appears,
presses a card button, presses 👍. It prints a JSON summary of what the page showed; the tests
below judge it. Screenshots of each step, the summary and both logs go to tests/artifacts/browser/.

Needs Node.js and Chromium (`.ci/run` installs Chromium; `make node-deps` the npm packages);
skipped where they are missing, except under CI, where every test must run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.node_tools import ROOT, installed, unavailable
from tests.playground import run_playground

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
QUESTION = "hur slår jag på tvåfaktor på instagram?"
INSTAGRAM_2FA = "https://www.instagram.com/accounts/two_factor_authentication/"


def _chromium() -> str:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    unavailable("Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> dict:
    """What the Playground page showed while the driver asked, pressed a button and pressed 👍."""
    browser = _chromium()
    installed("browser", "node_modules/playwright-core/package.json")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    work = tmp_path_factory.mktemp("browser")
    try:
        with run_playground(work) as url:
            done = subprocess.run(
                [
                    "node",
                    str(ROOT / "tools" / "browser" / "drive.mjs"),
                    "--url",
                    url,
                    "--question",
                    QUESTION,
                    "--artifacts",
                    str(ARTIFACTS),
                    "--chromium",
                    browser,
                ],
                capture_output=True,
                text=True,
                timeout=300,
            )
    finally:
        for log in (work / "bot.log", work / "devTools" / "m365agentsplayground.log"):
            if log.exists():
                shutil.copy(log, ARTIFACTS / log.name)
    (ARTIFACTS / "driver.stderr.txt").write_text(done.stderr)
    try:
        summary = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"the browser driver printed no summary (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    (ARTIFACTS / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    if done.returncode != 0 or summary.get("error"):
        pytest.fail(f"the browser driver failed: {summary.get('error')}\n{done.stderr}")
    return summary


def test_the_page_shows_the_answer_with_its_link(page):
    assert page["messages_after_question"] >= 1, page
    texts = "\n".join(m["text"] for m in page["answer"])
    assert "Instagram" in texts
    buttons = [b for m in page["answer"] for b in m["buttons"]]
    assert INSTAGRAM_2FA in [b["url"] for b in buttons if b["link"]], "the official link should be a card button"
    assert any(not b["link"] for b in buttons), "the answer card should offer a question button"


def test_a_question_gets_exactly_one_message_with_one_rendered_card(page):
    assert page["messages_after_question"] == 1, page["answer"]
    assert page["cards"] == 1, page["answer"]


def test_pressing_a_card_button_gets_a_reply(page):
    clicked = page["clicked"]
    assert clicked is not None, "no card button that asks the bot something was found"
    assert clicked["messages"] >= 1, clicked
    assert clicked["cards"] >= 1, clicked
    # The reply is about what the button said, not a fallback.
    assert clicked["title"].rstrip("?").lower() in "\n".join(m["text"] for m in clicked["answer"]).lower()


def test_thumbs_up_updates_the_card_in_place(page):
    feedback = page["feedback"]
    assert feedback and feedback["found"], "no 👍 button on the answer cards"
    assert feedback["messages_after"] == feedback["messages_before"], "👍 posted a new message instead"
    assert feedback["cards_after"] == 1
    assert feedback["changed"], "the card did not change after 👍"
    assert feedback["thanks"], f"the updated card does not thank the user: {feedback['card_after']!r}"
    assert not feedback["thumbs_up_still_there"], "the updated card still offers 👍"
