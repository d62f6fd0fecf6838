"""`python -m knowledge check`: a broken knowledge-base file is reported with file, line and reason."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.loader import DATA_DIR, KnowledgeBaseError, load_knowledge_base

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


def _check(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "knowledge", "--data", str(data_dir), "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_shipped_knowledge_base_passes_the_check():
    result = _check(DATA_DIR)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok:")
    assert "warning" not in result.stderr  # no example is taken for another topic


@pytest.mark.parametrize(
    "file, old, new, needle, reason",
    [
        pytest.param(
            "topics.yaml",
            "  - id: why_2fa\n    title: Varför",
            "  - id: why_2fa\n    title: [Varför",
            "title: [Varför",
            "invalid YAML",
            id="bad-yaml",
        ),
        pytest.param(
            "topics.yaml",
            "  - id: thanks\n    title: Varsågod!\n    answer: >-\n      Varsågod! Hör av dig om du undrar något mer om säkerheten i era kanaler.\n",  # noqa: E501
            "  - id: thanks\n    title: Varsågod!\n",
            "  - id: thanks",
            "answer: required field is missing",
            id="missing-answer",
        ),
        pytest.param(
            "topics.yaml",
            "related: [close_comments, monitor_channel]",
            "related: [close_the_comments, monitor_channel]",
            "  - id: moderate_discussion",
            "unknown related topic(s): close_the_comments",
            id="unknown-related-topic",
        ),
        pytest.param(
            "topics.yaml",
            "  - id: enable_2fa\n",
            "  - id: enable_two_factor\n",
            "  - id: enable_two_factor",
            "missing topic(s) the bot's replies point to: enable_2fa",
            id="core-topic-renamed",
        ),
        pytest.param(
            "topics.yaml",
            "  - id: human_contact",
            "  - id: Human contact",
            "  - id: Human contact",
            "String should match pattern",
            id="id-not-lower-case",
        ),
        pytest.param(
            "guides/facebook_2fa.yaml",
            "platform: facebook",
            "platform: facebok",
            "platform: facebok",
            "unknown platform 'facebok'",
            id="guide-for-unknown-platform",
        ),
        pytest.param(
            "topics.yaml",
            "  - id: greeting",
            "  - id: thanks",
            "  - id: thanks",
            "duplicate topic id 'thanks'",
            id="duplicate-topic-id",
        ),
        pytest.param(
            "platforms.yaml",
            "help_url: https://www.linkedin.com/help/linkedin/answer/544",
            "help_url: linkedin/answer/544",
            "help_url: linkedin/answer/544",
            "URL",
            id="invalid-url",
        ),
        pytest.param(
            "vocabulary.yaml",
            "  - id: thanks\n",
            "  - id: thanks\n    terms: [tack]\n  - id: thanks\n",
            "terms: [tack]",
            "duplicate concept id 'thanks'",
            id="duplicate-concept-id",
        ),
    ],
)
def test_a_broken_file_fails_the_check_with_file_line_and_reason(data_copy, file, old, new, needle, reason):
    path = data_copy / file
    _replace(path, old, new)
    result = _check(data_copy)
    assert result.returncode == 1
    assert reason in result.stderr
    reported = [line for line in result.stderr.splitlines() if reason in line][0]
    assert reported.startswith(f"{path}:"), reported
    line = int(reported.split(":")[1])
    # The reported line is the offending line or the start of the entry that holds it.
    nearby = path.read_text(encoding="utf-8").splitlines()[max(0, line - 4) : line + 3]
    assert any(needle in text for text in nearby), (reported, nearby)


def test_an_unknown_concept_in_a_topic_is_reported_at_that_topic(data_copy):
    path = data_copy / "topics.yaml"
    _replace(
        path, "    title: Prata med en person\n", "    title: Prata med en person\n    signals: {capabilites: 0.3}\n"
    )
    with pytest.raises(KnowledgeBaseError) as excinfo:
        load_knowledge_base(data_copy)
    problem = excinfo.value.problems[0]
    assert problem.file == data_copy / "topics.yaml"
    assert "unknown concept(s): capabilites" in problem.reason


def test_a_missing_file_is_reported(data_copy):
    (data_copy / "platforms.yaml").unlink()
    result = _check(data_copy)
    assert result.returncode == 1
    assert "platforms.yaml:0: file is missing" in result.stderr


def test_a_guide_with_steps_out_of_order_is_refused(data_copy):
    path = data_copy / "guides" / "facebook_2fa.yaml"
    _replace(path, "  - number: 3\n", "  - number: 4\n")
    with pytest.raises(KnowledgeBaseError) as excinfo:
        load_knowledge_base(data_copy)
    assert "numbered 1..11" in str(excinfo.value)
    assert str(path) in str(excinfo.value)


def test_the_bot_refuses_to_start_on_a_broken_knowledge_base(data_copy):
    _replace(
        data_copy / "platforms.yaml",
        "help_url: https://www.linkedin.com/help/linkedin/answer/544",
        "help_url: not-a-url",
    )
    result = subprocess.run(
        [sys.executable, "bot.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "KNOWLEDGE_DIR": str(data_copy), "STORAGE_URL": "memory://", "PORT": "0"},
    )
    assert result.returncode == 1
    assert f"{data_copy / 'platforms.yaml'}:" in result.stderr
    assert "help_url" in result.stderr and "Traceback" not in result.stderr
