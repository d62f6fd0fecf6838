"""Words to features: the shared vocabulary (vocabulary.yaml, platforms.yaml) applied to a question.

`Lexicon(kb).analyse(words)` turns normalised words into the features the matcher compares:
- a word or phrase of the vocabulary becomes its *concept* ("tvåstegsverifiering", "2fa" and
  "two-factor" are all `twofa`); a platform alias becomes `platform` (and names the platform).
  Lookup is exact on accented words and folded on unaccented ones, so "tvafaktor" finds
  "tvåfaktor" but "väl" never becomes "val";
- an unknown word is split as a Swedish compound into known parts ("instagramkonto" = instagram +
  konto, "tvåfaktorsinloggningen" = tvåfaktor + s + inloggning*);
- a word that is neither is forgiven as a typo of a vocabulary term ("instagarm", "facebok"), but
  only when it is not a word the knowledge base itself uses: "spara" is a real word, not "spärra";
- anything else becomes its Swedish stem ("~publicer" for "publiceras", "publicerade"), so the
  topics' own example questions teach the matcher words the vocabulary does not know.
Function words ("jag", "det", "på") carry no feature.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from knowledge.models import KnowledgeBase
from knowledge.text import fold, normalise, stem

__all__ = ["COMMON_WORDS", "PLATFORM", "Analysis", "Lexicon", "stem_feature"]

PLATFORM = "platform"
"""The feature every platform alias gives; `platform_<id>` says which one (in `concepts`)."""

_COMMON_TEXT = """
    hur vad var när vem vems vilken vilket vilka varför jag du vi ni man han hon det den de dem
    och att som med för från till av om på i ur ut in upp ner över under efter innan inte bara
    även också mycket något någon några alla allt ska skall kan kunde vill ville måste behöver
    borde har hade ha får fick göra gör gjorde gjort är var vara varit blir blev bli min mitt mina
    din ditt dina vår vårt våra er ert era sin sitt sina mig dig oss eller men så nu då här där
    sedan redan ännu alltid aldrig ofta ibland kanske verkligen egentligen tycker tror finns fanns
    kommer skulle något sådan sådant andra annan annat samma mellan genom mot utan vid hos
    the and that this with from your our their what when where which who why how does have
    should would could about into just also there here please thanks
    a an to of in on for is are be can do i we you it my me us at by or not if so
    nästa steg stegen klar klart oklart betyder tillbaka avbryt upprepa fortsätt börja
    hjälpa hjälper hjälpen snälla tack gärna lite just bara med vårt våran vår våra vi
    en ett sig sitt ens deras hans hennes dess nån nåt något sen dit hit varit bli
    icke henne honom ej än ju denna själv detta åt ingen inget inga dessa blivit inom varje vart
    vars vilkas sådana sitta vilja vill få går gå gick gått via rent samtliga hela helt mest flera
    många mer mera sätt typ liksom alltså ju nog väl ganska också även just precis exakt dvs osv
    s d m ll re ve e like t ex bl a eg iaf dock fast även än därför eftersom medan tills sedan innan nej ja jo okej ok
    me my myself we our ours ourselves you yours yourself he him his she her it its they them
    theirs whom these those am is are was were been being has had having did doing an but if or
    because as until while by against between through during before after above below up down
    out off again further then once all any both each few more most other some such no nor only
    own same than too very can will don should now get gets getting got one someone something
    anyone people someone let lets bör borde fler ny nya nytt
    fått hitta hittar hittade hittat använda använder använde använt märka märker märkte märkt se ser såg sett
    egen eget egna rätt säga säger sa sade sagt veta vet visste vetat ge ger gav gett ligga ligger låg stå står
    stod bra dåligt dålig liten lite stor stora gammal gamla saker sak grejer grej typ också alls
    starta startar startade startat lägga lägger la lade lagt sköta sköter skötte skött prata pratar pratade
    pratat gäller gälla gällde skicka skickar skickade skickat länk länka länkar länken link links visa visar
    räcker räcka räckte räckt gång gången gånger fram grejen grejerna innehåller innehålla innehöll innehållit
    överhuvudtaget huvud taget totalt kallar kalla kallade varandra känns kännas kändes konkret konkreta
    actually really basically right exactly kind sort anyway
    ngn ngt nåt mkt pga iofs skriva skriver skrev skrivit skrivet
    hen henom hens längre istället samtidigt kring angående gällande beträffande tacksam tacksamma önskar önska
    verkar verka verkade
    läsa läser läste läst folk folket faktiskt förstå förstår förstod fattar fattade
    två tre fyra fem sex sju åtta nio tio vecka veckor veckan veckorna dag dagar timme timmar minut minuter
    månad månader året tiden höst hösten sommar sommaren vinter vintern våren
    ta tar tog tagit emot fortfarande plötsligt någonstans hellre börjat börjar började oftare o extra annorlunda
    ba asså räknas räknar koppla kopplad kopplat kopplade tänka tänker tänkte tänkt känner känna kände osäker osäkra new
    jätte super mega bry bryr jobba jobbar jobbat pratas snart väldigt ena
    massor massa dom lyckas lyckades el int person personen personer personerna vänligen undrar undra undrade undrat nästan misstänker misstänkt misstänkte suspect suspected
    riktigt försöker försökte försökt försöka fall kom kommit sitter satt haft direkt förra först ändå själva
    olika runt idag igår ikväll inatt heter kort påslaget påslagen påslagna hämta hämtar hämtade hämtat
    generera genererar genererade genererat
    need needs needed already pretty rather tell whose say says saying said suddenly anymore anyways
    maybe perhaps probably possibly possible still even ever never often sometimes usually generally
    somewhat somehow anyhow quite though tho although however yet since therefore unless whether
    whatever despite besides instead otherwise else either another apparently literally honestly
    seriously totally completely fully simply mainly mostly especially certainly definitely
    obviously clearly hopefully currently recently lately ago around across towards along among
    within without okay alright fine yes yeah yep nope sure hmm um uh lol haha btw fyi asap pls plz
    etc ie cos coz cuz guys folks everyone everybody anybody somebody nobody anything everything
    nothing thing things stuff bit lot lots much many couple several whole half every single wonder
    wondering wondered know knows knew think thinks thought guess want wants wanted wanna gonna
    gotta might may must shall ought make makes made making go goes going gone come comes came put
    puts take takes taking give gives given find finds found look looks looking see sees seeing seen
    try tries tried trying ask asks asked asking use uses used using able unable allowed supposed
    way ways persons isn aren doesn didn won wasn weren haven hasn hadn couldn wouldn shouldn cannot
    im ive dont doesnt didnt cant wont isnt arent wasnt thats theres theyre youre weve
    """
COMMON_WORDS = frozenset(fold(w) for w in _COMMON_TEXT.split())
"""Function words (Snowball's Swedish and English stop lists, chat filler and abbreviations,
numbers, seasons and common verbs that never tell a topic): no feature, and never "corrected"
into a concept by the typo step. A vocabulary term wins over this list ("börja" is capabilities,
"börjat" is filler)."""


_MIXED_ACCENT_LENGTH = 8
"""A word this long typed with some of its å/ä/ö but not all ("aterställningskoder") is looked up
without accents too."""

_RELATIVE_PREFIX = 5
"""Letters a word must share at the start with a word of the examples to be taken as related."""
_RELATIVE_SHARE = 0.6
"""...and at least this share of the shorter word."""
_SURE_TYPO_LENGTH = 8
"""A word this long one slip away from a vocabulary term is that term mistyped, not a guess."""

_PRONOUNS = frozenset(["jag", "du", "man", "vi", "ni", "han", "hon", "de", "dom", "nån", "någon", "i", "we", "you"])
"""Subjects that stand inside a Swedish particle verb in a question ("hur slår jag på")."""
_POSSESSIVES = frozenset(
    fold(w) for w in "vår vårt våra min mitt mina din ditt dina er ert era sin sitt sina our my your their".split()
)
"""Words that may stand inside a phrase of the vocabulary: "bytt vår profilbild" is "bytt profilbild"."""


def _merged(prefixes: list[tuple[str, frozenset[str]]]) -> list[tuple[str, frozenset[str]]]:
    """The prefixes with the concepts of equal ones united, longest first."""
    united: dict[str, frozenset[str]] = {}
    for prefix, concepts in prefixes:
        united[prefix] = united.get(prefix, frozenset()) | concepts
    return sorted(united.items(), key=lambda p: -len(p[0]))


def stem_feature(word: str) -> str:
    """The feature of a word the vocabulary does not know: its folded Swedish stem."""
    return "~" + stem(word)


class Analysis(NamedTuple):
    """What the lexicon found in one question (a named tuple: built for every question, and a frozen
    dataclass costs several times as much to build)."""

    features: tuple[str, ...]
    """Concept ids and `~stem`s, each once, in order of appearance."""
    concepts: frozenset[str]
    """Every concept found, `platform_<id>` included (for the composer and debugging)."""
    platforms: tuple[str, ...]
    """Platform ids in order of appearance."""
    unknown: tuple[str, ...]
    """Words that are neither a concept nor a function word (a question about something else
    is made of these: "ladda upp", "bild")."""
    guessed: frozenset[str] = frozenset()
    """Features found only by forgiving a typo ("bakar" taken for "bråkar"): a guess, never the
    only evidence for a topic."""


@dataclass
class _Term:
    words: tuple[str, ...]
    prefix: bool
    concepts: frozenset[str]


@dataclass
class _Tables:
    exact: dict[str, set[str]] = field(default_factory=dict)
    folded: dict[str, set[str]] = field(default_factory=dict)
    prefixes_exact: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    prefixes_folded: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    prefix_index: dict[bool, tuple[dict[str, frozenset[str]], list[int]]] = field(default_factory=dict)
    """exact? -> the prefixes by text and their lengths, longest first: a word's longest prefix is
    found by looking up its beginnings, not by testing every prefix."""
    phrase_index: dict[str, tuple[dict[str, list[tuple[int, _Term]]], list[tuple[int, _Term]]]] = field(
        default_factory=dict
    )
    """Multi-word terms by their first (folded) word, then by their second ("hur" has dozens of
    phrases, a question looks at the few whose second word it has), each with its place among the
    first word's phrases, longest first (the order they are tried in); two-word terms whose second
    word is a prefix are in the second list."""
    stems_exact: dict[str, set[str]] = field(default_factory=dict)
    stems_folded: dict[str, set[str]] = field(default_factory=dict)
    """Stems of single-word terms (4 letters or more), for their other forms."""
    platform_words: set[str] = field(default_factory=set)
    fuzzy: dict[str, tuple[list[str], list[frozenset[str]]]] = field(default_factory=dict)
    """First letter -> folded terms and their concepts, for words typed without å/ä/ö."""
    fuzzy_exact: dict[str, tuple[list[str], list[frozenset[str]]]] = field(default_factory=dict)
    """First letter -> terms as written, for words typed with å/ä/ö ("nästa" is not "nasty")."""


def _by_initial(terms: dict[str, set[str]]) -> dict[str, tuple[list[str], list[frozenset[str]]]]:
    table: dict[str, tuple[list[str], list[frozenset[str]]]] = {}
    for term, concepts in terms.items():
        words, tags = table.setdefault(term[0], ([], []))
        words.append(term)
        tags.append(frozenset(concepts))
    return table


_ROWS = ("qwertyuiopå", "asdfghjklöä", "zxcvbnm")
_NEIGHBOURS: dict[str, set[str]] = {}
"""Letter -> the letters on the keys around it (folded; "o" is not next to "a", "ö" is to "ä")."""
for _r, _row in enumerate(_ROWS):
    for _c, _key in enumerate(_row):
        if fold(_key) != _key:
            continue  # å/ä/ö are folded before comparing: keep their plain twins' neighbours
        _near = {(_r, _c - 1), (_r, _c + 1)}
        _near |= {(_r - 1, _c), (_r - 1, _c + 1)} if _r else set()
        _near |= {(_r + 1, _c - 1), (_r + 1, _c)} if _r < len(_ROWS) - 1 else set()
        _NEIGHBOURS[_key] = {fold(_ROWS[r][c]) for r, c in _near if 0 <= r < len(_ROWS) and 0 <= c < len(_ROWS[r])}


def _slip(typed: str, term: str) -> bool:
    """Could `typed` be `term` mistyped? Letters swapped or left out are typos; a letter replaced or
    added is one only when it is a neighbouring key (Swedish keyboard) or a doubled letter. Other
    changes make another real word more often than a typo: "video" is not "vimeo", "sparka" not
    "spara"."""
    if OSA.distance(typed, term) < Levenshtein.distance(typed, term):
        return True  # a transposition

    def near(char: str, index: int) -> bool:
        around = {typed[i] for i in (index - 1, index + 1) if 0 <= i < len(typed)}
        return any(char == c or char in _NEIGHBOURS.get(c, ()) for c in around)

    for op in Levenshtein.editops(typed, term):
        if op.tag == "replace" and term[op.dest_pos] not in _NEIGHBOURS.get(typed[op.src_pos], ()):
            return False
        if op.tag == "delete" and not near(typed[op.src_pos], op.src_pos):
            return False  # a letter typed too many: a slip of the finger hits a key next to it
    return True


def _has_accent(word: str) -> bool:
    return fold(word) != word


def _kb_text(kb: KnowledgeBase) -> list[str]:
    """Everything the knowledge base says: its words are real words, never typos."""
    texts: list[str] = []
    for topic in kb.topics:
        texts += [topic.title, topic.answer, *topic.examples]
    for platform in kb.platforms:
        texts += [platform.name, platform.enable_answer]
    for guide in kb.guides:
        texts += [guide.title, guide.intro, guide.summary]
        for step in guide.steps:
            texts += [step.instruction, step.help, step.click or "", step.why or ""]
    return texts


class Lexicon:
    """Built once per knowledge base; `analyse` is cheap (word lookups are cached)."""

    def __init__(self, kb: KnowledgeBase):
        self._tables = self._build(kb)
        self._context = frozenset(c.id for c in kb.concepts if c.context)
        self.generic = frozenset(c.id for c in kb.concepts if c.generic)
        """Concepts that never carry an answer alone (vocabulary's `generic: true`)."""
        self._known = self._known_words(kb)
        self._example_words: dict[str, list[str]] = {}
        questions = [q for t in kb.topics for q in t.examples] + [q for asked in kb.asked.values() for q in asked]
        for w in sorted({fold(w) for q in questions for w in normalise(q).split()}):
            if len(w) >= _RELATIVE_PREFIX and w not in COMMON_WORDS:
                self._example_words.setdefault(w[:_RELATIVE_PREFIX], []).append(w)
        self._example_stems = frozenset(
            stem(w) for q in questions for w in normalise(q).split() if len(w) >= 4 and fold(w) not in COMMON_WORDS
        )
        self._resolve = lru_cache(maxsize=16384)(self._resolve_uncached)
        self._texts: dict[tuple[str, int], Analysis] = {}

    # ------------------------------------------------------------------ building
    @staticmethod
    def _build(kb: KnowledgeBase) -> _Tables:
        tables = _Tables()
        entries: list[tuple[str, frozenset[str]]] = []
        for concept in kb.concepts:
            for term in concept.terms:
                entries.append((term, frozenset({concept.id})))
        # A platform's own names win over a vocabulary concept with the same word: a platform
        # added in platforms.yaml ("tiktok") is no longer "another platform".
        aliases: dict[str, frozenset[str]] = {}
        for platform in kb.platforms:
            tag = frozenset({f"platform_{platform.id}", PLATFORM})
            for alias in [platform.id, platform.name, *platform.aliases]:
                key = " ".join(fold(w) for w in normalise(alias.rstrip("*")).split())
                if key:
                    aliases[key] = tag
                tables.platform_words.update(fold(w) for w in normalise(alias).split() if len(w) >= 4)
                entries.append((alias, tag))
        entries = [
            (t, c)
            for t, c in entries
            if c & {PLATFORM} or " ".join(fold(w) for w in normalise(t.rstrip("*")).split()) not in aliases
        ]

        fuzzy: dict[str, set[str]] = {}
        fuzzy_exact: dict[str, set[str]] = {}
        phrases: dict[str, list[_Term]] = {}
        for term, concepts in entries:
            prefix = term.endswith("*")
            words = tuple(normalise(term.rstrip("*")).split())
            if not words:
                continue
            if len(words) == 1:
                word = words[0]
                if prefix:
                    tables.prefixes_exact.append((word, concepts))
                    tables.prefixes_folded.append((fold(word), concepts))
                else:
                    tables.exact.setdefault(word, set()).update(concepts)
                    tables.folded.setdefault(fold(word), set()).update(concepts)
                    if len(word) >= 4 and not concepts & {PLATFORM}:
                        tables.stems_exact.setdefault(stem(word, keep_accents=True), set()).update(concepts)
                        tables.stems_folded.setdefault(stem(word), set()).update(concepts)
                if len(word) >= 4:
                    fuzzy.setdefault(fold(word), set()).update(concepts)
                    fuzzy_exact.setdefault(word, set()).update(concepts)
            else:
                folded_words = tuple(fold(w) for w in words)
                phrases.setdefault(folded_words[0], []).append(_Term(folded_words, prefix, concepts))
        # One entry per prefix (a term in two concepts means both), longest prefixes and phrases
        # first so the most specific wins.
        tables.prefixes_exact = _merged(tables.prefixes_exact)
        tables.prefixes_folded = _merged(tables.prefixes_folded)
        for exact, prefixes in ((True, tables.prefixes_exact), (False, tables.prefixes_folded)):
            tables.prefix_index[exact] = (dict(prefixes), sorted({len(p) for p, _ in prefixes}, reverse=True))
        for first, terms in phrases.items():
            terms.sort(key=lambda t: -len(t.words))
            by_second: dict[str, list[tuple[int, _Term]]] = {}
            any_second: list[tuple[int, _Term]] = []
            for order, phrase in enumerate(terms):
                if phrase.prefix and len(phrase.words) == 2:
                    any_second.append((order, phrase))
                else:
                    by_second.setdefault(phrase.words[1], []).append((order, phrase))
            tables.phrase_index[first] = (by_second, any_second)
        tables.fuzzy = _by_initial(fuzzy)
        tables.fuzzy_exact = _by_initial(fuzzy_exact)
        return tables

    @staticmethod
    def _known_words(kb: KnowledgeBase) -> tuple[frozenset[str], frozenset[str]]:
        """The knowledge base's own words as written, and folded with their stems."""
        exact: set[str] = set()
        folded: set[str] = set()
        for text in _kb_text(kb):
            for word in normalise(text).split():
                exact.add(word)
                folded.update((fold(word), stem(word)))
        return frozenset(exact), frozenset(folded)

    # ------------------------------------------------------------------ one word
    def _direct(self, word: str) -> frozenset[str] | None:
        """Exact, then prefix lookup; accented words only match accented terms, unless a long word has
        some of its accents but not all."""
        accented = _has_accent(word)
        found = self._lookup(word, exact=accented)
        if found is None and accented and len(word) >= _MIXED_ACCENT_LENGTH:
            found = self._lookup(word, exact=False)
        return found

    def _lookup(self, word: str, exact: bool) -> frozenset[str] | None:
        tables = self._tables
        key = word if exact else fold(word)
        table = tables.exact if exact else tables.folded
        hit = table.get(key) or (table.get(key[:-1]) if key.endswith("s") and len(key) > 3 else None)
        if hit:  # "twitters", "kontots": a genitive s is the same word
            return frozenset(hit)
        prefixes, lengths = tables.prefix_index[exact]
        for length in lengths:  # longest first, as the prefixes are ordered
            if length <= len(key):
                found = prefixes.get(key[:length])
                if found is not None:
                    return found
        return None

    def _other_form(self, word: str) -> frozenset[str] | None:
        """Another form of a vocabulary word, by its stem: "fixar" is "fixa"."""
        if len(word) < 4:
            return None
        accented = _has_accent(word)
        hit = (self._tables.stems_exact if accented else self._tables.stems_folded).get(
            stem(word, keep_accents=accented)
        )
        return frozenset(hit) if hit else None

    def _split(self, word: str, depth: int = 0) -> frozenset[str] | None:
        """Swedish compound: known head + (linking s) + known tail, tail resolved recursively. A
        head may also be a word the topics' examples use ("fejkkonto" = fejk(ad) + konto)."""
        if depth > 2 or len(word) < 6:
            return None
        for cut in range(len(word) - 3, 2, -1):
            head, tail = word[:cut], word[cut:]
            head_concepts = self._direct(head) if len(head) >= 3 else None
            if head_concepts is None and fold(head) in COMMON_WORDS:
                head_concepts = frozenset()
            learnt = False
            if head_concepts is None and depth == 0 and len(head) >= 4 and stem(head) in self._example_stems:
                head_concepts, learnt = frozenset({stem_feature(head)}), True
            if head_concepts is None:
                continue
            for rest in (tail, tail[1:] if tail[0] == "s" and len(tail) > 3 else None):
                if learnt and rest and len(rest) < 4:
                    continue  # "slarvat" is not "slarv" + "vat"
                if rest:
                    tail_concepts = self._direct(rest) or self._split(rest, depth + 1)
                    if tail_concepts:
                        return head_concepts | tail_concepts
            if fold(head) in self._tables.platform_words:
                # "facebookgruppen": the platform, and a group, which no example may know
                return head_concepts | {stem_feature(tail)}
        return None

    def _fuzzy(self, word: str) -> tuple[frozenset[str], int] | None:
        """Typo tolerance, within words of the same first letter (typos rarely hit it, and it keeps
        "bokar" from becoming "ökar"). A word the knowledge base uses is no typo ("spara" is not
        "spärra"), and a word typed with å/ä/ö is compared with its accents ("nästa" is not
        "nasty")."""
        folded = fold(word)
        accented = _has_accent(word)
        known_exact, known_folded = self._known
        if len(folded) < 5 or (
            word in known_exact if accented else folded in known_folded or stem(word) in known_folded
        ):
            return None
        limit = 1 if len(folded) < 8 else 2
        key = word if accented else folded
        choices, concepts = (self._tables.fuzzy_exact if accented else self._tables.fuzzy).get(key[0], ((), ()))
        for term, _distance, index in process.extract(key, choices, scorer=OSA.distance, score_cutoff=limit, limit=5):
            if _slip(fold(key), fold(term)):
                return concepts[index], OSA.distance(fold(key), fold(term))
        return None

    def _resolve_uncached(self, word: str) -> tuple[frozenset[str], str | None, bool]:
        """(concepts, stem feature, guessed): a word is a concept, a function word, or a stem;
        `guessed` when the concepts come from forgiving a typo."""
        direct = self._direct(word)
        if direct:
            return direct, None, False
        if fold(word) in COMMON_WORDS or word.isdigit():
            return frozenset(), None, False
        found = self._other_form(word) or self._split(word)
        if found:
            return found, None, False
        fuzzy = self._fuzzy(word)
        if fuzzy:
            concepts, distance = fuzzy
            # Sure: only an accent is off ("tväfaktor"), or one slip in a long word ("tvåfatkor");
            # a short word one letter from a term is often another word ("bakar" is not "bråkar").
            return concepts, None, not (distance == 0 or (distance == 1 and len(word) >= _SURE_TYPO_LENGTH))
        if stem(word) not in self._example_stems:
            # Related to a word of the examples: a guess, never the only evidence.
            related = self._relative(word)
            if related:
                return related, None, True
        return frozenset(), stem_feature(word), False

    def _relative(self, word: str) -> frozenset[str] | None:
        """A word sharing a long beginning with a word of the examples, as derived and borrowed
        words do ("nätfiske" and "nätfiskemejlet", "impersonera" and "impersonating")."""
        folded = fold(word)
        if len(folded) < _RELATIVE_PREFIX:
            return None
        for other in self._example_words.get(folded[:_RELATIVE_PREFIX], ()):
            common = len(os.path.commonprefix([folded, other]))  # noqa: RUF071 - a shared beginning of words, by characters, is the point
            if common >= max(_RELATIVE_PREFIX, _RELATIVE_SHARE * min(len(folded), len(other))):
                return frozenset({stem_feature(other)})
        return None

    # ------------------------------------------------------------------ a question
    def analyse(self, words: list[str]) -> Analysis:
        """Features, concepts and platforms of a normalised, split question."""
        features: dict[str, None] = {}
        concepts: set[str] = set()
        platforms: list[str] = []
        unknown: list[str] = []
        guessed: set[str] = set()
        sure: set[str] = set()

        def add(found: frozenset[str], guess: bool = False) -> None:
            (guessed if guess else sure).update(found)
            concepts.update(c for c in found if not c.startswith("~"))
            for concept in sorted(found):
                if concept.startswith("~"):
                    features[concept] = None
                elif concept.startswith("platform_"):
                    if concept[9:] not in platforms:
                        platforms.append(concept[9:])
                elif concept not in self._context:
                    features[concept] = None

        folded = [fold(w) for w in words]
        covered = [False] * len(words)
        count = len(folded)
        for start, first in enumerate(folded):
            indexed = self._tables.phrase_index.get(first)
            if indexed is None:
                continue
            by_second, any_second = indexed
            # The phrases whose second word is the next word, or the one after a subject or a
            # possessive inside the phrase ("slår jag på", "bytt vår profilbild": below).
            candidates = [*any_second, *by_second.get(folded[start + 1], ())] if start + 1 < count else []
            if (
                start + 2 < count
                and folded[start + 2] != folded[start + 1]
                and (folded[start + 1] in _POSSESSIVES or folded[start + 1] in _PRONOUNS)
            ):
                candidates += by_second.get(folded[start + 2], ())
            if not candidates:
                continue
            candidates.sort(key=lambda entry: entry[0])
            longest = 0  # terms are sorted longest first: "vad är du" is capabilities, not "vad är"
            for _, term in candidates:
                size = len(term.words)
                if start + size > len(folded) or size < longest:
                    continue
                spans = [list(range(start, start + size))]
                if size > 1 and start + size < len(folded):
                    for inside in range(start + 1, start + size):
                        if folded[inside] in _POSSESSIVES or (inside == start + 1 and folded[inside] in _PRONOUNS):
                            # "slår jag på", "sätter man upp": the subject stands inside a particle
                            # verb; "bytt vår profilbild" is "bytt profilbild"
                            spans.append([*range(start, inside), *range(inside + 1, start + size + 1)])
                            break
                for span in spans:
                    window = [folded[i] for i in span]
                    if term.prefix:
                        hit = window[:-1] == list(term.words[:-1]) and window[-1].startswith(term.words[-1])
                    else:
                        hit = tuple(window) == term.words
                    if hit and all(covered[i] for i in span):
                        break  # inside a longer phrase: "har du koll på" is not also "koll på"
                    if hit:
                        add(term.concepts)
                        longest = size
                        for i in span:
                            covered[i] = True
                        break
        for index, word in enumerate(words):
            if covered[index]:
                continue  # "stort tack" is thanks, whatever "stort" alone might be
            found, stem_feat, guess = self._resolve(word)
            if found:
                add(found, guess)
            elif stem_feat:
                features[stem_feat] = None
                unknown.append(word)
        return Analysis(
            tuple(features), frozenset(concepts), tuple(platforms), tuple(unknown), frozenset(guessed - sure)
        )

    def analyse_text(self, text: str, max_words: int = 120) -> Analysis:
        """A text's analysis; remembered, since the knowledge base's texts are read again whenever the
        matcher learns (`Matcher.without_example`)."""
        key = (text, max_words)
        found = self._texts.get(key)
        if found is None:
            found = self._texts[key] = self.analyse(normalise(text).split()[:max_words])
        return found
