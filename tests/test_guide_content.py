"""The guide's steps carry the source text's meaning: none missing, none changed in substance.

The source is the city's manual from 2019. The YAML may say a step in plainer Swedish ("Stäng av
valet att slippa koden den kommande veckan" for "Stäng av möjligheten att den kommande veckan
logga in utan kod"), so the steps are not compared word for word. Instead each step has the facts
it must state (what to click or choose, what to keep where), each written so that it matches
both the source step and the guide's step; a swapped fact that changes the meaning ("sms" to
"e-post", "Stäng av" to "Slå på", the safe place dropped) fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from knowledge.loader import load_knowledge_base

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "source" / "000_d52aa89a18035eb5.txt"

# Step 11's last sentence is said in the guide's summary rather than in the step.
MOVED_TO_SUMMARY = (
    "Kontot och kommunikationskanalen har nu ett avsevärt högre skydd mot kapning och obehörigt användande."
)

# Per step: regular expressions (case-insensitive) that the source step and the guide's step must
# both match. Alternatives cover the source's wording and the guide's plainer one.
FACTS: dict[int, list[str]] = {
    1: [r"inställningar", r"säkerhet och inloggning", r"pilen", r"övre högra hörnet"],
    2: [r"bläddra ned", r"använd tvåfaktorsautentisering", r"redigera"],
    3: [r"kom igång"],
    4: [r"\bsms\b", r"säkerhetsmetod", r"nästa"],
    5: [r"telefonnummer", r"om detta inte redan är gjort", r"nästa"],
    6: [r"bekräfta telefonnumret", r"\bkoden\b", r"\bsms\b"],
    7: [r"stäng av", r"(logga in utan kod|slippa koden)", r"kommande veckan", r"slutför"],
    8: [
        r"(registrerade telefonen|telefonen med det registrerade numret)",
        r"(förkomma|försvinner)",
        r"(ytterligare metod för inloggning|extra sätt att logga in)",
        r"återställningskoder",
        r"säkert ställe",
        r"förvaltning",
        r"bolag",
    ],
    9: [r"hämta koder"],
    10: [r"spara koderna", r"säkert men tillgängligt ställe", r"stäng"],
    11: [
        r"(färdiga|klara)",
        r"(samtliga enheter|från en dator eller mobil)",
        r"(nästa inloggning|nästa gång någon loggar in)",
        r"kod som (erhålls|kommer) via sms",
        r"(endast vid första inloggning|bara första gången)",
    ],
}


def normalise(text: str) -> str:
    text = text.replace("”", '"').replace("“", '"').replace("„", '"').replace("’", "'")
    return re.sub(r"\s+", " ", text).strip().casefold()


def source_steps() -> list[str]:
    text = SOURCE.read_text(encoding="utf-8")
    section = text.split("Så här aktiverar eller hanterar du tvåfaktorsautentisering för facebook")[1]
    section = section.split("Lämna ett svar")[0]
    found = re.findall(r"^\s*(\d+)\.\s+(.+?)\s*$", section, re.M)
    assert [int(n) for n, _ in found] == list(range(1, len(found) + 1)), "source steps out of order"
    return [step.replace("skiva in", "skriva in") for _, step in found]  # the source's typo


def missing_facts(number: int, text: str) -> list[str]:
    """The facts of step `number` that `text` does not state; empty when it states them all."""
    said = normalise(text)
    return [fact for fact in FACTS[number] if not re.search(fact, said)]


SOURCE_STEPS = source_steps()
GUIDE = load_knowledge_base().guide("facebook_2fa")


def test_the_source_has_eleven_steps_and_so_does_the_guide() -> None:
    assert len(SOURCE_STEPS) == 11
    assert [s.number for s in GUIDE.steps] == list(range(1, 12))
    assert sorted(FACTS) == list(range(1, 12))


@pytest.mark.parametrize("number", range(1, 12))
def test_the_facts_checked_are_the_source_steps_own(number: int) -> None:
    assert missing_facts(number, SOURCE_STEPS[number - 1]) == []


@pytest.mark.parametrize("number", range(1, 12))
def test_each_step_instruction_states_the_source_steps_facts(number: int) -> None:
    assert missing_facts(number, GUIDE.steps[number - 1].instruction) == []


def test_the_last_steps_closing_sentence_is_in_the_summary() -> None:
    assert MOVED_TO_SUMMARY in SOURCE_STEPS[10]
    assert "avsevärt högre skydd mot kapning och obehörigt användande" in normalise(GUIDE.summary)


@pytest.mark.parametrize(
    ("number", "changed"),
    [
        pytest.param(4, "Välj e-post som säkerhetsmetod och tryck ”Nästa”.", id="sms-became-email"),
        pytest.param(
            7,
            "Slå på valet att slippa koden den kommande veckan och klicka på ”Slutför”.",
            id="turn-off-became-turn-on",
        ),
        pytest.param(10, "Spara koderna och tryck sedan ”Stäng”.", id="safe-place-dropped"),
        pytest.param(9, "Klicka på ”Stäng”.", id="another-step-in-its-place"),
        pytest.param(8, "Skapa återställningskoder och spara dem på ett säkert ställe.", id="whose-place-dropped"),
    ],
)
def test_the_comparison_catches_a_changed_step(number: int, changed: str) -> None:
    assert missing_facts(number, changed) != []


# ---------------------------------------------------------------------------------------------
# What the 2019 manual did not say, and what has changed since


# How the guide shortens a place the manual describes, for the "Klicka:" line.
SHORTENED = {"pilen uppe till höger": "pilen i det övre högra hörnet"}


def test_the_guide_invents_no_menu_labels() -> None:
    """`click` names only what the manual's own step names; no "Skriv in koden > Fortsätt"."""
    for step in GUIDE.steps:
        for label in re.split(r"\s*>\s*", step.click or ""):
            label = normalise(label)
            if label:
                assert SHORTENED.get(label, label) in normalise(SOURCE_STEPS[step.number - 1]), (step.number, label)


def test_the_help_gives_no_menu_path_the_manual_does_not() -> None:
    helps = " ".join(normalise(s.help) for s in GUIDE.steps)
    for invented in ("inställningar och integritet", "konfigurera", "fortsätt"):
        assert invented not in helps


def test_the_intro_says_once_that_facebook_moved_the_settings_since_2019() -> None:
    intro = normalise(GUIDE.intro)
    assert "2019" in intro and "kontocenter" in intro
    said_elsewhere = [s.number for s in GUIDE.steps if "2019" in s.instruction]
    assert said_elsewhere == []


def test_recovery_codes_replace_the_sms_code_not_the_password() -> None:
    step10 = normalise(GUIDE.steps[9].help + " " + (GUIDE.steps[9].why or ""))
    assert "kan logga in på kontot" not in step10
    assert "i stället för sms-koden" in step10 and "lösenord" in step10


def test_fetching_new_codes_says_they_replace_the_stored_ones() -> None:
    step9 = normalise(GUIDE.steps[8].help)
    assert "hämta koder" in step9
    assert re.search(r"nya koder ersätter de gamla", step9) and "slutar" in step9
