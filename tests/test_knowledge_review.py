"""`python -m knowledge review`: one self-contained page with every answer as a person sees it,
where each text and link is written, and the evaluation result per topic."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
from pathlib import Path

import pytest

from cards.answer import render_answer
from cards.html import card_html, markdown_html
from knowledge.__main__ import main
from knowledge.answers import Composer
from knowledge.loader import DATA_DIR, load_knowledge_base
from knowledge.models import Election
from knowledge.sources import read_sources

ROOT = Path(__file__).resolve().parents[1]
DEV_SET = ROOT.parent / "shared" / "eval" / "dev.jsonl"
TODAY = "2026-11-29"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("review") / "review.html"
    assert main(["review", "--out", str(out), "--eval", str(DEV_SET), "--today", TODAY]) == 0
    assert [p.name for p in out.parent.iterdir()] == ["review.html"]  # one file, nothing beside it
    return out.read_text(encoding="utf-8")


def shown(text: str) -> str:
    """How a text from the knowledge base appears in the page."""
    return markdown_html(text)


def test_the_page_is_self_contained(page: str) -> None:
    assert page.startswith("<!doctype html>")
    for external in ("<script", "<link", " src=", "@import", "url("):
        assert external not in page


def test_every_topic_answer_is_shown_as_its_card(page: str) -> None:
    kb = load_knowledge_base()
    composer = Composer(kb, election=kb.election)
    for topic in kb.topics:
        card = render_answer(composer.topic(topic.id, today=dt.date.fromisoformat(TODAY))).card
        assert card_html(card) in page, topic.id  # the same card JSON the bot sends, rendered


def test_every_platform_answer_and_guide_step_with_its_help_is_shown(page: str) -> None:
    kb = load_knowledge_base()
    for platform in kb.platforms:
        assert shown(platform.enable_answer) in page
    for guide in kb.guides:
        assert shown(guide.intro) in page and shown(guide.summary) in page
        for step in guide.steps:
            assert shown(step.instruction) in page and shown(step.help) in page
            assert f"Steg {step.number} av {len(guide.steps)}" in page
        assert "Fortfarande fastnat" in page  # what someone stuck twice is offered


def test_every_link_is_listed_with_the_file_and_line_it_is_written_on(page: str) -> None:
    sources = read_sources()
    assert sources.links
    for ref in sources.links:
        assert html.escape(ref.url) in page
        assert html.escape(str(ref.place)) in page
    # the line is the right one
    close = next(r for r in sources.links if r.where == "topics/close_comments/links/0/url")
    line = (DATA_DIR / "topics.yaml").read_text(encoding="utf-8").splitlines()[close.place.line - 1]
    assert close.url in line


def test_answers_about_the_election_are_shown_both_ways(page: str) -> None:
    assert "inför ett val" in page and "Inför ett val finns" in page  # today: the 2019 election has passed
    assert "Före ett kommande val" in page and "Inför riksdagsvalet finns" in page


@pytest.mark.skipif(not DEV_SET.is_file(), reason="../shared/eval/dev.jsonl not present")
def test_the_evaluation_result_is_shown_per_topic(page: str) -> None:
    kb = load_knowledge_base()
    results = re.findall(r'id="topic-([a-z0-9_]+)".*?Utvärdering \(dev\.jsonl\): ([^<]+)', page, re.S)
    assert {topic for topic, _ in results} == {t.id for t in kb.topics}
    assert all(re.search(r"\d+ av \d+ frågor rätt|inga frågor", result) for _, result in results)


def test_without_an_evaluation_file_the_page_says_so(tmp_path: Path) -> None:
    out = tmp_path / "review.html"
    assert main(["review", "--out", str(out), "--eval", str(tmp_path / "none.jsonl")]) == 0
    assert "Ingen utvärderingsfil" in out.read_text(encoding="utf-8")


def test_a_topic_added_in_a_copy_of_the_knowledge_base_is_shown_with_its_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    topics = data / "topics.yaml"
    text = topics.read_text(encoding="utf-8")
    marker = "  - id: close_comments\n    title: Stänga av kommentarer\n"
    assert marker in text
    topics.write_text(
        text.replace(marker, "  - id: close_comments\n    title: Stänga av kommentarerna {electon_name}\n"),
        encoding="utf-8",
    )
    answer = "    answer: >-\n      Att stänga möjligheten att kommentera"
    topics.write_text(
        topics.read_text(encoding="utf-8").replace(
            answer, "    answer: >-\n      Inför {electon_name}: att stänga möjligheten att kommentera"
        ),
        encoding="utf-8",
    )
    out = tmp_path / "review.html"
    assert main(["--data", str(data), "review", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "Stänga av kommentarerna" in page
    assert "Okänd platshållare <code>{electon_name}</code>" in page  # the typo is pointed out
    line = (
        next(
            n
            for n, row in enumerate(topics.read_text(encoding="utf-8").splitlines(), 1)
            if "Inför {electon_name}" in row
        )
        - 1
    )  # the answer: key
    assert f"topics.yaml:{line}" in page


def test_the_card_renderer_shows_what_teams_shows() -> None:
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "TextBlock", "text": "Rubrik", "size": "Large", "weight": "Bolder"},
            {
                "type": "TextBlock",
                "text": "Se **mer** på [hjälpen](https://example.org/a?b=1&c=2) <b>",
                "isSubtle": True,
            },
            {"type": "Container", "style": "warning", "items": [{"type": "TextBlock", "text": "Varför?"}]},
            {"type": "FactSet", "facts": [{"title": "Team", "value": "3"}]},
        ],
        "actions": [
            {"type": "Action.OpenUrl", "title": "Öppna", "url": "https://example.org/"},
            {"type": "Action.Submit", "title": "Nästa", "data": {"cmd": "guide"}, "style": "positive"},
        ],
    }
    rendered = card_html(card)
    assert '<div class="tm-text tm-large tm-bold">Rubrik</div>' in rendered
    assert "<b>mer</b>" in rendered and '<a href="https://example.org/a?b=1&amp;c=2">hjälpen</a>' in rendered
    assert "&lt;b&gt;" in rendered  # text is escaped, never markup
    assert "tm-style-warning" in rendered and "<td>Team</td><td>3</td>" in rendered
    assert 'href="https://example.org/"' in rendered and "tm-btn-positive" in rendered


def test_the_default_output_is_dist_review_html() -> None:
    from knowledge.__main__ import REVIEW_FILE

    assert REVIEW_FILE == ROOT / "dist" / "review.html"


def test_other_election_wording_uses_the_configured_name_when_coming(tmp_path: Path) -> None:
    kb = load_knowledge_base()
    composer = Composer(kb, election=Election(name="EU-valet 2029", date=dt.date(2029, 6, 10)))
    text = composer.topic("election_risk", today=dt.date(2026, 11, 29)).text
    assert text.startswith("Inför EU-valet 2029") and "EU-valet 2029 är den 10 juni 2029" in text
