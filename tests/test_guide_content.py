"""The guide's steps carry the source text's content: none missing, none changed in substance.

The YAML makes a few documented wording fixes to the source (a typo, a slash list, a missing
"för att"); they are applied to the source before comparing. Each step must then be close as a
whole (similarity) *and* keep every content word of the source step, so a swapped word that
changes the meaning ("SMS" to "e-post", "Stäng av" to "Slå på") fails even though the sentence
still looks similar.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from knowledge.loader import load_knowledge_base

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "source" / "000_d52aa89a18035eb5.txt"

# Wording fixes the YAML makes on purpose (source -> YAML).
WORDING_FIXES = {
    "skiva in": "skriva in",
    "bolaget/förvaltningen/stadsdelen": "bolaget, förvaltningen eller stadsdelen",
    "som används logga in": "som används för att logga in",
}
# Step 11's last sentence is said in the guide's summary rather than in the step.
MOVED_TO_SUMMARY = "Kontot och kommunikationskanalen har nu ett avsevärt högre skydd mot kapning och obehörigt användande."
MIN_SIMILARITY = 90
# Words that carry no instruction; the YAML may drop or reword them ("genom att klicka" -> ": klicka").
FILLER = {"att", "och", "genom", "på", "i", "en", "ett", "den", "det", "som", "för"}


def normalise(text: str) -> str:
    text = text.replace("”", '"').replace("“", '"').replace("„", '"').replace("’", "'")
    text = re.sub(r"\s+", " ", text).strip().rstrip(":.").strip()
    return text.casefold()


def words(text: str) -> list[str]:
    return re.findall(r"\w+", normalise(text))


def source_steps() -> list[str]:
    text = SOURCE.read_text(encoding="utf-8")
    section = text.split("Så här aktiverar eller hanterar du tvåfaktorsautentisering för facebook")[1]
    section = section.split("Lämna ett svar")[0]
    found = re.findall(r"^\s*(\d+)\.\s+(.+?)\s*$", section, re.M)
    assert [int(n) for n, _ in found] == list(range(1, len(found) + 1)), "source steps out of order"
    steps = []
    for _, step in found:
        for old, new in WORDING_FIXES.items():
            step = step.replace(old, new)
        steps.append(step)
    return steps


def differences(source: str, instruction: str) -> list[str]:
    """Why `instruction` does not carry `source`; empty when it does."""
    problems = []
    score = fuzz.ratio(normalise(source), normalise(instruction))
    if score < MIN_SIMILARITY:
        problems.append(f"similarity {score:.0f} < {MIN_SIMILARITY}")
    have = set(words(instruction))
    missing = [w for w in words(source) if w not in FILLER and w not in have]
    if missing:
        problems.append(f"missing words: {', '.join(missing)}")
    return problems


SOURCE_STEPS = source_steps()
GUIDE = load_knowledge_base().guide("facebook_2fa")


def test_the_source_has_eleven_steps_and_so_does_the_guide() -> None:
    assert len(SOURCE_STEPS) == 11
    assert [s.number for s in GUIDE.steps] == list(range(1, 12))


@pytest.mark.parametrize("number", range(1, 12))
def test_each_step_instruction_carries_the_source_step(number: int) -> None:
    source = SOURCE_STEPS[number - 1]
    if number == 11:
        assert MOVED_TO_SUMMARY in source
        source = source.replace(MOVED_TO_SUMMARY, "")
    assert differences(source, GUIDE.steps[number - 1].instruction) == []


def test_the_last_steps_closing_sentence_is_in_the_summary() -> None:
    assert "avsevärt högre skydd mot kapning och obehörigt användande" in normalise(GUIDE.summary)


def test_no_source_step_is_missing_from_the_guide() -> None:
    instructions = [s.instruction for s in GUIDE.steps]
    for number, source in enumerate(SOURCE_STEPS, start=1):
        best = max(range(11), key=lambda i: fuzz.ratio(normalise(source), normalise(instructions[i])))
        assert best == number - 1, f"source step {number} best matches guide step {best + 1}"


@pytest.mark.parametrize(("number", "changed"), [
    pytest.param(4, "Välj e-post som säkerhetsmetod och tryck ”Nästa”.", id="sms-became-email"),
    pytest.param(7, "Slå på möjligheten att den kommande veckan logga in utan kod och klicka på ”Slutför”.",
                 id="turn-off-became-turn-on"),
    pytest.param(10, "Spara koderna och tryck sedan ”Stäng”.", id="safe-place-dropped"),
    pytest.param(9, "Klicka på ”Stäng”.", id="another-step-in-its-place"),
])
def test_the_comparison_catches_a_changed_step(number: int, changed: str) -> None:
    assert differences(SOURCE_STEPS[number - 1], changed) != []
