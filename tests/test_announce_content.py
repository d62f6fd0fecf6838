"""The announcement's content and cards."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from announcements.content import announcement_content
from cards.announcement import render_announcement, render_confirm, render_preview
from config import load_settings
from knowledge.loader import DATA_DIR, load_knowledge_base
from knowledge.models import Election
from teams.compose import election_of
from tests.cardschema import validate_card

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base()


def test_the_announcement_is_filled_with_the_configured_election(kb):
    settings = load_settings(election_name="Riksdagsvalet", election_date=dt.date(2026, 9, 13))
    content = announcement_content(kb, election_of(kb, settings), today=dt.date(2026, 9, 6))
    assert content.id == kb.announcement.id
    assert content.heading.endswith("inför Riksdagsvalet")
    assert "Riksdagsvalet är den 13 september 2026, om 7 dagar." in content.paragraphs[0]
    assert "{" not in content.heading + "".join(content.paragraphs)


def test_a_past_election_reads_as_past(kb):
    content = announcement_content(kb, Election(name="EU-valet", date=dt.date(2019, 5, 26)), dt.date(2026, 1, 1))
    assert "EU-valet var den 26 maj 2019" in content.paragraphs[0]
    assert "om " not in content.paragraphs[0].split("EU-valet var")[1]


def test_the_card_is_valid_adaptive_card_1_5_with_the_three_buttons(kb):
    message = render_announcement(announcement_content(kb, today=dt.date(2026, 1, 1)))
    validate_card(message.card)
    assert message.card["version"] == "1.5"
    actions = {a["title"]: a["data"] for a in message.card["actions"]}
    assert actions == {
        "Starta Facebook-guiden": {"cmd": "guide", "action": "start", "guide": "facebook_2fa"},
        "Länkar för alla kanaler": {"cmd": "ask", "topic": "enable_2fa"},
        "Ställ en fråga": {"cmd": "ask", "topic": "capabilities"},
    }
    assert all(a["type"] == "Action.Submit" for a in message.card["actions"])


def test_the_text_fallback_says_it_all(kb):
    message = render_announcement(announcement_content(kb, today=dt.date(2026, 1, 1)))
    for word in ("Viktig information", "tvåfaktorsinloggning", "Utse någon", "moderera", "starta Facebook-guiden"):
        assert word in message.text
    assert message.card["fallbackText"] == message.text


def test_the_admin_preview_and_confirm_cards_are_valid(kb):
    content = announcement_content(kb, today=dt.date(2026, 1, 1))
    preview = render_preview(content, {"personal": 3, "groupChat": 1, "team": 2}, already_sent=1)
    validate_card(preview.card)
    assert "6 konversationer (5 återstår)" in preview.text
    confirm = render_confirm(content, total=6, remaining=5)
    validate_card(confirm.card)
    assert confirm.card["actions"][0]["data"] == {"cmd": "announce", "action": "confirm", "id": content.id}


@pytest.mark.parametrize(
    "today, passed",
    [
        pytest.param(dt.date(2026, 9, 12), False, id="the-day-before"),
        pytest.param(dt.date(2026, 9, 13), False, id="election-day"),
        pytest.param(dt.date(2026, 9, 14), True, id="the-day-after"),
    ],
)
def test_an_election_has_passed_only_after_its_day(kb, today, passed):
    content = announcement_content(kb, Election(name="Riksdagsvalet", date=dt.date(2026, 9, 13)), today)
    assert content.election_passed is passed and content.as_of == today


def test_the_preview_of_a_past_election_puts_a_warning_first(kb):
    content = announcement_content(kb, Election(name="EU-valet", date=dt.date(2019, 5, 26)), dt.date(2026, 1, 1))
    preview = render_preview(content, {"personal": 3, "groupChat": 1, "team": 2})
    validate_card(preview.card)
    title, warning = preview.card["body"][:2]
    assert title["text"] == "Förhandsvisning av utskick"
    assert warning["color"] == "Attention" and "EU-valet var 2019-05-26" in warning["text"]
    assert preview.text.split("\n\n")[1].startswith("**Varning: Valdatumet har passerat")
    assert preview.card["fallbackText"] == preview.text


def test_the_announcement_comes_from_the_knowledge_base_in_knowledge_dir(tmp_path):
    """As a new user would try it: an edited copy of the knowledge base, named by KNOWLEDGE_DIR,
    is what `python bot.py announce preview` shows (it used to show the shipped one)."""
    data = tmp_path / "kunskap"
    shutil.copytree(DATA_DIR, data)
    path = data / "announcement.yaml"
    text = path.read_text(encoding="utf-8")
    shipped_id = load_knowledge_base().announcement.id
    assert f"id: {shipped_id}\n" in text and "  heading: Viktig information" in text
    path.write_text(
        text.replace(f"id: {shipped_id}\n", "id: egen-version-2\n").replace(
            "  heading: Viktig information", "  heading: Vår egen rubrik – Viktig information"
        ),
        encoding="utf-8",
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "KNOWLEDGE_DIR": str(data),
        "STORAGE_URL": "memory://",
        "ELECTION_NAME": "Riksdagsvalet",
        "ELECTION_DATE": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
    }
    result = subprocess.run(
        [sys.executable, "bot.py", "announce", "preview"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Announcement egen-version-2" in result.stdout
    assert "Vår egen rubrik – Viktig information" in result.stdout and "inför Riksdagsvalet" in result.stdout
    assert shipped_id not in result.stdout
