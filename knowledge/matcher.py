"""Map what people type to a topic of the knowledge base: `Matcher(kb).match(question) -> Match`.

How it generalises instead of memorising sentences:
1. Words become *concepts* (vocabulary.yaml): "tvåstegsverifiering", "2fa" and "two-factor" are all
   `twofa`. Lookup is exact on accented words and folded on unaccented ones, so "tvafaktor" finds
   "tvåfaktor" but "väl" never becomes "val".
2. Unknown words are split as Swedish compounds into known parts ("instagramkonto" = instagram +
   konto, "tvåfaktorsinloggningen" = tvåfaktor + s + inloggning*), and only then forgiven as typos
   (rapidfuzz OSA distance 1, 2 for long words: "instagarm", "facebok", "linkdin").
3. A topic is a candidate only when one of its `requires` alternatives is fully present, which is
   what rejects hard negatives that share a word with the domain ("ladda upp en bild på
   Instagram"). Its evidence is the sum of its concept `signals`, blended with rapidfuzz's
   similarity between the question and the topic's examples, both over concept-tokens.

The score is in 0..1 and `ANSWER_THRESHOLD` (0.5) is the decision boundary; `python -m knowledge
eval` prints how accuracy varies with the score so the threshold can be checked against data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from knowledge.models import KnowledgeBase
from knowledge.text import fold, normalise

__all__ = ["ANSWER_THRESHOLD", "AMBIGUITY_MARGIN", "Candidate", "Match", "Matcher"]

ANSWER_THRESHOLD = 0.5
"""Below this the question is out of scope."""
AMBIGUITY_MARGIN = 0.06
"""Two candidates closer than this are too close to choose between: ask back."""
MAX_TOKENS = 120
"""Words of a question that are read; the rest is ignored (bounded cost on huge input)."""

PLATFORM_ONLY_SCORE = 0.55
"""A question that names a platform and nothing else we do not know ("hur gör jag på Facebook?",
"instagram") is about 2FA there: it is the only thing this bot does per platform."""

_EVIDENCE_WEIGHT = 0.8
_SIMILARITY_WEIGHT = 0.2
_SMALLTALK_CAP = 0.62

# Common words that must never be "corrected" into a concept by the typo step.
_COMMON_WORDS = frozenset(
    fold(w)
    for w in """
    hur vad var när vem vems vilken vilket vilka varför jag du vi ni man han hon det den de dem
    och att som med för från till av om på i ur ut in upp ner över under efter innan inte bara
    även också mycket något någon några alla allt ska skall kan kunde vill ville måste behöver
    borde har hade ha får fick göra gör gjorde gjort är var vara varit blir blev bli min mitt mina
    din ditt dina vår vårt våra er ert era sin sitt sina mig dig oss eller men så nu då här där
    sedan redan ännu alltid aldrig ofta ibland kanske verkligen egentligen tycker tror finns fanns
    kommer skulle något sådan sådant andra annan annat samma mellan genom mot utan vid hos
    the and that this with from your our their what when where which who why how does have
    should would could about into just also there here please thanks
    nästa steg stegen klar klart oklart betyder tillbaka avbryt upprepa fortsätt börja
    hjälpa hjälper hjälpen snälla tack gärna lite just bara med vårt våran vår våra vi
    """.split()
)


class Candidate(BaseModel):
    """A topic that could be meant, with its score."""

    topic: str
    """Topic id."""
    score: float = Field(ge=0, le=1)
    """0..1, comparable across topics."""


class Match(BaseModel):
    """The matcher's verdict on one question."""

    topic: str | None
    """Best topic id, or None when the question is out of scope."""
    platform: str | None
    """First platform named in the question (facebook/instagram/linkedin/twitter), if any."""
    platforms: list[str] = Field(default_factory=list)
    """Every platform named, in order."""
    score: float = Field(ge=0, le=1)
    """Confidence in `topic` (0..1); ANSWER_THRESHOLD is the boundary."""
    runners_up: list[Candidate] = Field(default_factory=list)
    """Next best candidates above the threshold, best first."""
    ambiguous: bool = False
    """The top two are too close to choose: offer a "menade du…" choice."""
    needs_platform: bool = False
    """`enable_2fa` without a platform: ask "Vilken kanal gäller det?"."""
    concepts: list[str] = Field(default_factory=list)
    """Concepts recognised (for debugging and the eval report)."""


@dataclass
class _Term:
    words: tuple[str, ...]
    prefix: bool
    concepts: frozenset[str]


@dataclass
class _Lexicon:
    exact: dict[str, set[str]] = field(default_factory=dict)
    folded: dict[str, set[str]] = field(default_factory=dict)
    prefixes_exact: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    prefixes_folded: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    phrases: dict[str, list[_Term]] = field(default_factory=dict)
    """Multi-word terms indexed by their first (folded) word."""
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


def _has_accent(word: str) -> bool:
    return fold(word) != word


class Matcher:
    """Built once from the knowledge base; `match` is pure and cheap (well under a millisecond)."""

    def __init__(self, kb: KnowledgeBase):
        self._kb = kb
        self._lex = self._build_lexicon(kb)
        self._topics = list(kb.topics)
        self._resolve = lru_cache(maxsize=8192)(self._resolve_uncached)
        self._examples: dict[str, list[str]] = {
            t.id: [self._canonical(ex) for ex in t.examples] for t in self._topics
        }

    # ------------------------------------------------------------------ lexicon
    @staticmethod
    def _build_lexicon(kb: KnowledgeBase) -> _Lexicon:
        lex = _Lexicon()
        entries: list[tuple[str, frozenset[str]]] = []
        for concept in kb.concepts:
            for term in concept.terms:
                entries.append((term, frozenset({concept.id})))
        for platform in kb.platforms:
            tag = frozenset({f"platform_{platform.id}", "platform"})
            for alias in [platform.id, platform.name, *platform.aliases]:
                entries.append((alias, tag))
                lex.platform_words.update(fold(w) for w in normalise(alias).split() if len(w) >= 4)

        fuzzy: dict[str, set[str]] = {}
        fuzzy_exact: dict[str, set[str]] = {}
        for term, concepts in entries:
            prefix = term.endswith("*")
            words = tuple(normalise(term.rstrip("*")).split())
            if not words:
                continue
            if len(words) == 1:
                word = words[0]
                if prefix:
                    lex.prefixes_exact.append((word, concepts))
                    lex.prefixes_folded.append((fold(word), concepts))
                else:
                    lex.exact.setdefault(word, set()).update(concepts)
                    lex.folded.setdefault(fold(word), set()).update(concepts)
                if len(word) >= 4:
                    fuzzy.setdefault(fold(word), set()).update(concepts)
                    fuzzy_exact.setdefault(word, set()).update(concepts)
            else:
                folded_words = tuple(fold(w) for w in words)
                lex.phrases.setdefault(folded_words[0], []).append(_Term(folded_words, prefix, concepts))
        # Longest prefixes first so the most specific stem wins.
        lex.prefixes_exact.sort(key=lambda p: -len(p[0]))
        lex.prefixes_folded.sort(key=lambda p: -len(p[0]))
        lex.fuzzy = _by_initial(fuzzy)
        lex.fuzzy_exact = _by_initial(fuzzy_exact)
        return lex

    # ------------------------------------------------------------------ words -> concepts
    def _direct(self, word: str) -> frozenset[str] | None:
        """Exact, then prefix lookup; accented words only match accented terms."""
        lex = self._lex
        accented = _has_accent(word)
        key = word if accented else fold(word)
        table = lex.exact if accented else lex.folded
        hit = table.get(key)
        if hit:
            return frozenset(hit)
        prefixes = lex.prefixes_exact if accented else lex.prefixes_folded
        for stem, concepts in prefixes:
            if key.startswith(stem):
                return concepts
        return None

    def _split(self, word: str, depth: int = 0) -> frozenset[str] | None:
        """Swedish compound: known head + (linking s) + known tail, tail resolved recursively."""
        if depth > 2 or len(word) < 6:
            return None
        for cut in range(len(word) - 3, 2, -1):
            head, tail = word[:cut], word[cut:]
            head_concepts = self._direct(head) if len(head) >= 3 else None
            if head_concepts is None and fold(head) in _COMMON_WORDS:
                head_concepts = frozenset()
            if head_concepts is None:
                continue
            for rest in (tail, tail[1:] if tail[0] == "s" and len(tail) > 3 else None):
                if not rest:
                    continue
                tail_concepts = self._direct(rest) or self._split(rest, depth + 1)
                if tail_concepts is not None:
                    found = head_concepts | tail_concepts
                    if found:
                        return found
            if fold(head) in self._lex.platform_words:
                return head_concepts  # "facebookgruppen": the platform is what matters
        return None

    def _fuzzy(self, word: str) -> frozenset[str] | None:
        """Typo tolerance, within words of the same first letter (typos rarely hit it, and it keeps
        "bokar" from becoming "ökar"). A word typed with å/ä/ö is compared with its accents: an
        English term one letter away from a folded Swedish word ("nasty" / "nästa") is no typo."""
        folded = fold(word)
        if len(folded) < 5 or folded in _COMMON_WORDS:
            return None
        limit = 1 if len(folded) < 8 else 2
        accented = _has_accent(word)
        table = self._lex.fuzzy_exact if accented else self._lex.fuzzy
        choices, concepts = table.get((word if accented else folded)[0], ((), ()))
        hit = process.extractOne(word if accented else folded, choices, scorer=OSA.distance, score_cutoff=limit)
        return concepts[hit[2]] if hit else None

    def _resolve_uncached(self, word: str) -> frozenset[str]:
        return self._direct(word) or self._split(word) or self._fuzzy(word) or frozenset()

    def _concepts(self, words: list[str]) -> tuple[set[str], list[str]]:
        """All concepts in the question, and the platforms in order of appearance."""
        found: set[str] = set()
        platforms: list[str] = []

        def add(concepts: frozenset[str]) -> None:
            found.update(concepts)
            for c in concepts:
                if c.startswith("platform_") and c[9:] not in platforms:
                    platforms.append(c[9:])

        folded = [fold(w) for w in words]
        for start, first in enumerate(folded):
            for term in self._lex.phrases.get(first, ()):
                size = len(term.words)
                window = folded[start : start + size]
                if len(window) < size:
                    continue
                if term.prefix:
                    if window[1:-1] == list(term.words[1:-1]) and window[-1].startswith(term.words[-1]):
                        add(term.concepts)
                elif tuple(window) == term.words:
                    add(term.concepts)
        for word in words:
            add(self._resolve(word))
        return found, platforms

    def _unknown_words(self, words: list[str]) -> list[str]:
        """Words that are neither a concept nor a common word: what a hard negative is made of
        ("ladda upp", "bild", "omslagsbild")."""
        return [w for w in words if not self._resolve(w) and fold(w) not in _COMMON_WORDS and not w.isdigit()]

    def _canonical(self, text: str) -> str:
        """The question as concept tokens (unknown words kept), for example similarity."""
        return self._canonical_words(normalise(text).split()[:MAX_TOKENS])

    def _canonical_words(self, words: list[str]) -> str:
        out = []
        for word in words:
            concepts = self._resolve(word)
            out.append(" ".join(sorted(concepts)) if concepts else fold(word))
        return " ".join(out)

    # ------------------------------------------------------------------ scoring
    def match(self, question: str) -> Match:
        """Best topic, platform and score for one question; never raises on odd input."""
        if not isinstance(question, str):
            question = "" if question is None else str(question)
        words = normalise(question).split()[:MAX_TOKENS]
        if not words:
            return Match(topic=None, platform=None, score=0.0)
        concepts, platforms = self._concepts(words)
        canonical = self._canonical_words(words)

        scored: list[Candidate] = []
        substantive = False
        for topic in self._topics:
            if not any(all(c in concepts for c in alt) for alt in topic.requires):
                continue
            evidence = sum(w for c, w in topic.signals.items() if c in concepts)
            evidence = max(0.0, min(1.0, evidence))
            similarity = 0.0
            if self._examples[topic.id]:
                best = process.extractOne(canonical, self._examples[topic.id], scorer=fuzz.token_sort_ratio)
                similarity = best[1] / 100 if best else 0.0
            score = _EVIDENCE_WEIGHT * evidence + _SIMILARITY_WEIGHT * similarity
            if topic.smalltalk:
                score = min(score, _SMALLTALK_CAP)
            elif score >= ANSWER_THRESHOLD:
                substantive = True
            scored.append(Candidate(topic=topic.id, score=round(min(1.0, score), 4)))

        if substantive:  # "hej, hur slår jag på 2fa?" is a question, not a greeting
            smalltalk = {t.id for t in self._topics if t.smalltalk}
            scored = [c for c in scored if c.topic not in smalltalk]
        scored.sort(key=lambda c: -c.score)
        platform = platforms[0] if platforms else None
        concept_list = sorted(concepts)

        if (not scored or scored[0].score < ANSWER_THRESHOLD) and platforms and not self._unknown_words(words):
            return Match(
                topic="enable_2fa", platform=platform, platforms=platforms, score=PLATFORM_ONLY_SCORE,
                concepts=concept_list,
            )
        if not scored or scored[0].score < ANSWER_THRESHOLD:
            return Match(
                topic=None, platform=platform, platforms=platforms,
                score=scored[0].score if scored else 0.0, concepts=concept_list,
            )
        best, rest = scored[0], [c for c in scored[1:] if c.score >= ANSWER_THRESHOLD]
        ambiguous = bool(rest) and best.score - rest[0].score < AMBIGUITY_MARGIN
        return Match(
            topic=best.topic,
            platform=platform,
            platforms=platforms,
            score=best.score,
            runners_up=rest[:3],
            ambiguous=ambiguous,
            needs_platform=best.topic == "enable_2fa" and platform is None,
            concepts=concept_list,
        )
