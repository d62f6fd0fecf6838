"""Content its owners extend without code: a topic and a platform added as data alone.

The additions (tests/data/new_topic.yaml: `fake_accounts` with six examples, new_platform.yaml:
`tiktok`) and the paraphrases to recognise (new_topic_test.jsonl, new_platform_test.jsonl) were
written by a separate session that never saw the knowledge base or the matcher. The first score,
before anyone looked at the paraphrases, was 0.15 for the topic and 0.65 for the platform; the
misses led to general changes (compounds with the examples' words, particle verbs, common verbs as
function words, and the shared vocabulary's `impersonate` and `report` concepts).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cards.message import card_actions
from knowledge.answers import Composer
from knowledge.evaluation import evaluate, read_examples
from knowledge.loader import DATA_DIR, load_knowledge_base
from knowledge.matcher import Matcher
from tests.bot_harness import RunningBot, all_text, card_of, submit_values, test_settings

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


def append_entry(path: Path, entry: str) -> None:
    """Add one YAML entry (a mapping, as a communicator writes it) to the list in `path`."""
    lines = entry.rstrip("\n").splitlines()
    block = "\n".join(("  - " if i == 0 else "    ") + line if line.strip() else "" for i, line in enumerate(lines))
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + block + "\n", encoding="utf-8")


def copy_with_additions(target: Path) -> Path:
    shutil.copytree(DATA_DIR, target)
    append_entry(target / "topics.yaml", (DATA / "new_topic.yaml").read_text(encoding="utf-8"))
    append_entry(target / "platforms.yaml", (DATA / "new_platform.yaml").read_text(encoding="utf-8"))
    return target


def _check(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "knowledge", "--data", str(data_dir), "check"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def extended(tmp_path_factory) -> Path:
    """A copy of the knowledge base with `fake_accounts` and `tiktok` added as YAML only."""
    return copy_with_additions(tmp_path_factory.mktemp("kb") / "data")


@pytest.fixture(scope="module")
def matcher(extended) -> Matcher:
    return Matcher(load_knowledge_base(extended))


def test_the_additions_pass_the_check_without_warnings(extended):
    result = _check(extended)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: 15 topics, 5 platforms")
    assert "warning" not in result.stderr


@pytest.mark.parametrize("paraphrases", ["new_topic_test.jsonl", "new_platform_test.jsonl"])
def test_a_topic_or_platform_added_as_data_is_recognised_in_new_paraphrases(matcher, paraphrases):
    report = evaluate(matcher, read_examples(DATA / paraphrases))
    assert report.accuracy >= 0.85, "\n".join(report.lines())


def test_the_additions_leave_the_shipped_topics_as_good(matcher):
    report = evaluate(matcher, read_examples(DATA / "blind3.jsonl"))
    assert report.accuracy >= 0.96, "\n".join(report.lines())
    assert report.rejection_rate >= 0.95, "\n".join(report.lines())


def test_a_platform_added_as_data_is_no_longer_another_platform(matcher, extended):
    match = matcher.match("tvåfaktor på tiktok")
    assert (match.topic, match.platforms) == ("enable_2fa", ["tiktok"])
    answer = Composer(load_knowledge_base(extended)).compose(match)
    assert "https://support.tiktok.com/" in [str(link.url) for link in answer.links]


async def test_the_bot_answers_the_new_topic_and_platform_from_a_knowledge_dir(fake_connector, teams, extended):
    bot = await RunningBot(fake_connector, test_settings(KNOWLEDGE_DIR=str(extended))).start()
    try:
        replies = await bot.send(teams.message("någon har gjort ett falskt konto i vårt namn, vad gör jag?"))
        assert "Falska konton" in all_text(replies[0])
        replies = await bot.send(teams.message("hur slår jag på tvåstegsverifiering på tiktok?"))
        urls = [a["url"] for a in card_actions(card_of(replies[0])) if a["type"] == "Action.OpenUrl"]
        assert urls == ["https://support.tiktok.com/"]
        replies = await bot.send(teams.card_submit({"cmd": "ask", "topic": "fake_accounts"}))
        assert "Falska konton" in all_text(replies[0])
        replies = await bot.send(teams.message("hur slår jag på tvåfaktor?"))
        assert {"cmd": "ask", "topic": "enable_2fa", "platform": "tiktok"} in submit_values(replies[0])
    finally:
        await bot.stop()


def test_a_topic_with_too_few_examples_is_refused_with_file_and_line(tmp_path):
    data = copy_with_additions(tmp_path / "data")
    text = (data / "topics.yaml").read_text(encoding="utf-8")
    cut = text.index('  - "Någon har skapat en fejkad Facebooksida i vårt namn"')
    (data / "topics.yaml").write_text(text[:cut], encoding="utf-8")  # two examples left
    result = _check(data)
    assert result.returncode == 1
    line = next(row for row in result.stderr.splitlines() if "examples" in row)
    assert line.startswith(f"{data / 'topics.yaml'}:") and "at least 5" in line


def test_an_example_taken_for_another_topic_is_a_warning_with_file_and_line(tmp_path):
    data = copy_with_additions(tmp_path / "data")
    mixed_up = "Hur slår jag på tvåfaktorsinloggning på Instagram?"
    path = data / "topics.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + f'\n      - "{mixed_up}"\n', encoding="utf-8")
    result = _check(data)
    assert result.returncode == 0, result.stderr
    warning = next(row for row in result.stderr.splitlines() if mixed_up in row)
    number = len(path.read_text(encoding="utf-8").rstrip("\n").splitlines())
    assert warning.startswith(f"{path}:{number}: warning:") and "'enable_2fa'" in warning
