"""Word forms and compounds the vocabulary does not know: lemmas (simplemma) before stems, and the
parts of the examples' compounds. Unit tests, no SDK."""

from __future__ import annotations

import pytest

from knowledge.lexicon import Lexicon
from knowledge.loader import load_knowledge_base
from knowledge.matcher import Matcher
from knowledge.models import Topic
from knowledge.text import base, is_word, lemma


@pytest.mark.parametrize(
    "forms",
    [
        ("mejl", "mejlet", "mejlen"),
        ("rapportera", "rapporterar", "rapporterats", "rapporterade"),
        ("meddelande", "meddelandet", "meddelanden"),
        ("inkorg", "inkorgen"),
    ],
)
def test_forms_of_a_word_share_one_base(forms):
    assert len({base(w) for w in forms}) == 1, {w: base(w) for w in forms}


def test_lemmas_are_lower_case_and_unknown_words_come_back_unchanged():
    assert lemma("twittrar") == lemma("twittrar").lower()
    assert lemma("nätfiskemejlet") == "nätfiskemejlet"


def test_dictionary_words_are_told_from_made_up_ones():
    assert is_word("nätfiske") and is_word("mejl")
    assert not is_word("nätfiskemejl") and not is_word("xyzzq")


@pytest.fixture(scope="module")
def with_phishing():
    kb = load_knowledge_base()
    topic = Topic(
        id="phishing_test",
        title="Nätfiske",
        answer="Klicka inte på länken.",
        examples=[
            "hur känner jag igen ett nätfiskemejl",
            "vi har fått ett konstigt mejl om att sidan stängs",
            "ska jag klicka på länken i meddelandet",
            "någon vill ha vårt lösenord i ett meddelande",
            "är det här mejlet äkta",
        ],
    )
    return kb.model_copy(update={"topics": [*kb.topics, topic]})


def test_a_part_of_an_examples_compound_is_a_word_of_the_examples(with_phishing):
    lexicon = Lexicon(with_phishing)
    example = lexicon.analyse_text("hur känner jag igen ett nätfiskemejl").features
    question = lexicon.analyse_text("misstänkt nätfiske").features
    assert "~" + base("nätfiske") in example
    assert "~" + base("nätfiske") in question


def test_other_forms_of_the_examples_words_find_the_topic(with_phishing):
    matcher = Matcher(with_phishing)
    assert matcher.match("meddelandena om nätfiske, vad gör jag").candidates[0].topic == "phishing_test"
