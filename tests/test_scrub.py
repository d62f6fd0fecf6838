"""Personal data is replaced by placeholders before a question's text is stored (helpdesk.scrub)."""

from __future__ import annotations

import pytest

from helpdesk.scrub import MAX_STORED_TEXT, scrub


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("Mejla anna.svensson@goteborg.se om kontot", "Mejla [e-post] om kontot", id="e-mail"),
        pytest.param("skriv till x+y@sub.example.org.", "skriv till [e-post].", id="e-mail-plus-subdomain"),
        pytest.param("Ring mig på 070-123 45 67 tack", "Ring mig på [telefon] tack", id="mobile-dash-spaces"),
        pytest.param("nummer +46 70 123 45 67", "nummer [telefon]", id="mobile-international"),
        pytest.param("växeln 031-123 45 67!", "växeln [telefon]!", id="landline-gothenburg"),
        pytest.param("0701234567 eller 08-123 456 78", "[telefon] eller [telefon]", id="mobile-bare-and-stockholm"),
        pytest.param("ring 0046 31 123 45 67", "ring [telefon]", id="0046"),
        pytest.param("ring (031) 123 45 67", "ring [telefon]", id="area-code-in-parentheses"),
        pytest.param("mitt personnummer är 850312-1234", "mitt personnummer är [personnummer]", id="pnr-short"),
        pytest.param("pnr 198503121234.", "pnr [personnummer].", id="pnr-long"),
        pytest.param("pnr 19850312-1234", "pnr [personnummer]", id="pnr-long-dash"),
        pytest.param("samordningsnummer 850372-1234", "samordningsnummer [personnummer]", id="samordningsnummer"),
        pytest.param("8503121234 är mitt", "[personnummer] är mitt", id="pnr-ten-digits"),
        pytest.param("Fråga <at>Åsa Öberg</at> om det", "Fråga [namn] om det", id="mention-tag"),
        pytest.param("Valet är 2026-09-13 kl 09:00", "Valet är 2026-09-13 kl 09:00", id="dates-stay"),
        pytest.param("Vi har 12345 följare och 2 konton", "Vi har 12345 följare och 2 konton", id="numbers-stay"),
        pytest.param("Hur slår jag på 2FA på Instagram?", "Hur slår jag på 2FA på Instagram?", id="a-question-stays"),
    ],
)
def test_scrub_replaces_personal_data_with_placeholders(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text, names, expected",
    [
        pytest.param("Kan Åsa Öberg hjälpa mig?", ["Åsa Öberg"], "Kan [namn] hjälpa mig?", id="full-name"),
        pytest.param("fråga åsa om det", ["Åsa Öberg"], "fråga [namn] om det", id="a-part-any-case"),
        pytest.param("öbergs konto", ["Åsa Öberg"], "öbergs konto", id="only-whole-words"),
        pytest.param("mejla asa@x.se", ["asa"], "mejla [e-post]", id="not-inside-a-placeholder"),
        pytest.param("Per vet", ["Li Per (SLK)"], "[namn] vet", id="parts-of-three-letters-or-more"),
        pytest.param("en bra fråga", ["", " ", "X"], "en bra fråga", id="empty-names-ignored"),
    ],
)
def test_scrub_replaces_the_names_it_is_given(text: str, names: list[str], expected: str) -> None:
    assert scrub(text, names) == expected


def test_scrub_tidies_whitespace_and_cuts_long_texts() -> None:
    assert scrub("  hej   där \n\n  du ") == "hej där\n\ndu"
    assert len(scrub("a" * 5000)) == MAX_STORED_TEXT
