"""Map what people type to a topic of the knowledge base: `Matcher(kb).match(question) -> Match`.

The model is built when the knowledge base loads, from the topics' example questions, the questions
people asked (asked.yaml: thousands, each filed under the topic that answers it or as out of scope)
and the shared vocabulary; no topic needs a rule or a weight:
1. Every question and example becomes features (`knowledge.lexicon`): vocabulary concepts
   (synonyms, slang, English, compounds, missing å/ä/ö and typos all land on the same concept) and
   the Swedish stems of the other words.
2. Each feature is weighted by how rare it is among the examples (TF-IDF's inverse document
   frequency): "twofa" is in many examples and says little about which topic, "~publicer" in one
   says much. A word no example has counts too, as weight against every topic.
3. A topic's score is the cosine similarity of the question to the topic's examples and asked
   questions: the mean of its nearest one and of the topic's centroid (all of them together), in
   0..1. A question that says one of them in exactly its words gets at least `SAID_EXACTLY_SCORE`.
4. The best topic is answered when its score reaches `ANSWER_THRESHOLD` and what it shares with
   the question is not only generic words (features that many topics share, like "hur" or a
   platform's name): "hur laddar jag upp en bild på Instagram" shares only those with enable_2fa.
   A plausible topic in the band just below (`NEAR_MISS_THRESHOLD`) is offered back ("Menade du…?").
   Unknown words count against a topic less when its own title or answer uses them, and a long
   message is measured by its strongest words (`_OWN_WORD_SHARE`, `_STRONGEST`) and also read by
   its questions alone (`Matcher._with_questions`).
5. A topic added with a handful of examples that share few words has its scores scaled up (and
   learns from its title too), but never past a topic that scored higher without that boost.
6. The out-of-scope questions of asked.yaml are one more class, scored by its nearest question
   (`_OUTSIDE_WEIGHT`): a question nearest to one of them is not answered (a plausible topic is
   still offered back). A word only they use is, to the topics, a word no example has. A topic with
   no asked questions yet (just added) is never overruled by them, is measured by the words the
   examples know, and the out-of-scope questions it answers leave the class (`taken_from_outside`,
   listed by `python -m knowledge check` for the owner to move).
A question that names a platform and nothing else unknown ("hur gör jag på Facebook?") is about
2FA there, the only thing the bot does per platform. Topics may keep optional `requires` (gating)
and `signals` (extra weight) as overrides.

`python -m knowledge eval` prints accuracy by score so the thresholds can be checked against data.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np
from pydantic import BaseModel, Field

from knowledge.lexicon import PLATFORM, Analysis, Lexicon
from knowledge.models import OUT_OF_SCOPE, KnowledgeBase, Topic
from knowledge.text import MAX_CHARS, normalise, without_signature

__all__ = [
    "matcher_for",
    "ANSWER_THRESHOLD",
    "NEAR_MISS_THRESHOLD",
    "AMBIGUITY_MARGIN",
    "Candidate",
    "Match",
    "Matcher",
]

ANSWER_THRESHOLD = 0.45
"""From this score on, the best topic is answered."""
NEAR_MISS_THRESHOLD = 0.35
"""Between this and ANSWER_THRESHOLD the best topic is plausible but not sure: ask back."""
AMBIGUITY_MARGIN = 0.04
"""Two answerable topics closer than this are too close to choose between: ask back."""
MAX_TOKENS = 120
"""Words of a question that are read; the rest is ignored (bounded cost on huge input)."""
PLATFORM_ONLY_SCORE = 0.55
"""Score of "hur gör jag på Facebook?": a platform and no unknown word is 2FA there."""
PLATFORM_TOPIC = "enable_2fa"
"""The topic a question about a platform alone is about."""

_NEAREST_WEIGHT = 0.4
"""Share of the nearest example in a topic's score."""
_CENTROID_WEIGHT = 0.4
"""Share of the topic's centroid; the rest is the vote of the question's features."""
_UNSEEN_WEIGHT = 0.6
"""Weight of a word no example has, relative to the rarest known feature."""
_UNKNOWN_CAP = 2.0
"""Unknown words weigh against every topic, up to this many: a question is about one thing, and
in a long question the words beyond that are context ("jag skulle vilja få en utförlig beskrivning
av...")."""
_STRONGEST = 4
"""A question is measured (its length, for the cosine and the vote) by this many of its weightiest
known words: "Bakgrund: vi har tre Facebooksidor ... Fråga: vilken metod rekommenderas när vi slår på
tvåfaktorsinloggning?" is as much about 2FA as the question alone. Measured on every set: 4 lifts
long messages (blind27 0.840 -> 0.867) and loses nothing; 3 answers out-of-scope questions."""
_OWN_WORD_SHARE = 0.7
"""A word no example has but the topic's own title or answer uses counts this much less as unknown
against that topic: "Hur meddelar vi vinnaren?" to a topic whose answer says how "vinnaren meddelas".
Measured on every set: new topics from examples alone 0.652 -> 0.665, nothing lost; at 0.9 and
more, "mitt lösenord till datorn har gått ut" was answered (an answer that says "dator")."""
_COVERAGE_POWER = 0.7
"""How hard unknown words pull the score down: score x (known / (known + unknown)) ** this."""
_SPECIFIC_FLOOR = 0.3
"""A feature's weight is its IDF times its specificity (1 - entropy of the topics it is found in):
a feature every topic shares keeps only this share of its weight."""
_SPECIFIC_PRIOR = 0.005
"""How sure one example makes a feature specific: its spread over the topics is measured as if every
topic had this share of an example with it too (about a twentieth of one example of a topic with
ten). A word that one example happens to use ("delar" in "Vår sida delar plötsligt reklam") is
then not weighed like a term a topic's examples share, so it neither pulls a question about
something else to that topic nor, in a question, drowns out the words that say what it is about."""
_GENERIC_SHARE = 0.34
"""A feature found in at least this share of the topics is generic: it cannot carry an answer. The
topics are counted by how evenly the feature is spread over them (the exponential of the entropy of
its topic shares): with hundreds of asked questions per topic every word turns up somewhere, and
"hur" spread over all topics is generic while "kommentar", in one question of another topic, is not."""
_OUTSIDE_WEIGHT = 0.9
"""The out-of-scope questions of asked.yaml are one more class, scored by its nearest question only
(they are about anything, so they have no centre) times this: a question nearer to one of them than
to a topic is not answered. Measured over the read sets, four folds: 0.9 answers more than 1.0
(0.9587 vs 0.9541 top-1) at a cost in rejection (0.956 vs 0.970); 1.1 loses 2 points of top-1."""
_COHESION_REF = 0.7
"""Cohesion of a topic whose examples share enough words (the shipped topics': 0.75 and more)."""
SPARSE_COHESION = 0.4
"""Below this cohesion `python -m knowledge check` warns that a topic's examples share few words."""
_MAX_BOOST = 1.5
"""The most a topic's scores are scaled up for examples that share few words."""
CONTAINED_SCORE = 0.5
"""The least score of a topic one of whose examples the question says in full, with words around it
("How do I enable two-factor authentication on Instagram? Authenticator app or SMS, whatever
works."): words the examples lack do not outweigh a whole example. Only for an example of two
features or more, one of them not generic, that carries at least `_CONTAINED_SHARE` of the weight
of what the question says in words the examples know ("Är det en sms-kod man får när man loggar
in?" inside "Hur slår jag på att det krävs en sms-kod när någon loggar in?" is not enough)."""
_CONTAINED_SHARE = 0.6
_FEW_POSTINGS = 100
"""Up to this many (example, word) pairs a question touches, its nearest examples are found by a loop;
beyond, by arrays (their fixed cost is about 30 µs; a loop's about 0.3-0.5 µs a pair): "tack!" and
"starta guiden" touch 34 and 52, "vad är återställningskoder?" 377, "linkedin 2fa" 1 761."""
SAID_EXACTLY_SCORE = 0.9
"""The least score of a topic one of whose examples or asked questions the question says in exactly its
words (less words the examples lack): the owners have said what answers it, and the other questions
that share its words do not outvote them ("tvåfaktor" alone is turning it on, as the examples say,
though many asked questions ask what it is). Measured: read sets in four folds 0.9592 -> 0.9605,
nothing else lost; only the topics' own examples: 0.9592."""
_QUESTION_WORDS = 2
"""Specific known words a long message's questions need to be read alone (`Matcher._with_questions`)."""
_SURE_ALONE = 0.8
"""...or a score the questions alone reach for a topic of substance (blind13, blind34 +13 questions
across the sets, 2 out-of-scope answered: "...Vem kan jag prata med?" after a story about pay)."""


class Candidate(BaseModel):
    """A topic that could be meant, with its score."""

    topic: str
    """Topic id."""
    score: float = Field(ge=0, le=1)
    """0..1, comparable across topics."""


class Match(BaseModel):
    """The matcher's verdict on one question."""

    topic: str | None
    """Best topic id, or None when the question is out of scope (or only a near miss)."""
    platform: str | None
    """First platform named in the question, if any."""
    platforms: list[str] = Field(default_factory=list)
    """Every platform named, in order."""
    score: float = Field(ge=0, le=1)
    """Confidence in the best topic (0..1); ANSWER_THRESHOLD is the boundary."""
    candidates: list[Candidate] = Field(default_factory=list)
    """The best topics, ranked, best first (at most three), whether answered or not."""
    runners_up: list[Candidate] = Field(default_factory=list)
    """Next best candidates above the threshold, best first."""
    ambiguous: bool = False
    """The top two are too close to choose: offer a "menade du…" choice."""
    near_miss: bool = False
    """No topic is sure enough, but `candidates` are plausible: offer them ("menade du…")."""
    needs_platform: bool = False
    """`enable_2fa` without a platform: ask "Vilken kanal gäller det?"."""
    concepts: list[str] = Field(default_factory=list)
    """Concepts recognised (for debugging and the eval report)."""


@dataclass(slots=True)
class _Scored:
    """A topic's score for one question (never changed once made: `replace` makes another)."""

    topic: Topic
    score: float
    generic_only: bool
    guessed_only: bool = False
    """What it shares beyond generic words comes only from forgiven typos."""
    shared_only: bool = False
    """What it shares beyond generic words is one feature that other topics' examples have too."""
    boost: float = 1.0
    """How much the score was scaled up for a topic whose examples share few words."""
    said_exactly: bool = False
    """The score is `SAID_EXACTLY_SCORE`'s floor, not what the words earn ("Hur agerar vi?" says an
    asked question exactly, but says too little to be sure of alone)."""


class Matcher:
    """Built once from the knowledge base; `match` is pure and cheap (well under a millisecond)."""

    _single: dict[str, tuple[frozenset[str], list[_Scored]]]
    """`_one_word_table`, built once the model is final (empty while it is being learnt)."""

    def __init__(self, kb: KnowledgeBase, lexicon: Lexicon | None = None):
        self._kb = kb
        self.lexicon = lexicon or Lexicon(kb)
        self._topics = list(kb.topics)
        analyse = self.lexicon.analyse_text
        examples = [[analyse(q).features for q in t.examples] for t in self._topics]
        asked = [[analyse(q).features for q in kb.asked.get(t.id, [])] for t in self._topics]
        self._own_texts = [[analyse(text).features for text in _own_texts(t)] for t in self._topics]
        """Per topic, the features of its title and of each sentence of its answer."""
        outside = kb.asked.get(OUT_OF_SCOPE, [])
        self._outside: int | None = None
        """Index of the class of out-of-scope questions (asked.yaml's out_of_scope), if any."""
        self._fresh = frozenset(t for t, questions in enumerate(asked) if not questions) if outside else frozenset()
        """Topics with no asked questions yet (added since asked.yaml was written): the out-of-scope
        questions never overrule them, and those they answer are left out of the out-of-scope class
        (they were out of scope before the topic was added)."""
        self._fresh_ids = frozenset(self._topics[t].id for t in self._fresh)
        self._rule_concepts = frozenset(
            c for topic in self._topics for c in [*topic.signals, *(c for alt in topic.requires for c in alt)]
        )
        """Concepts the topics' optional rules name."""
        self.taken_from_outside: list[tuple[str, str]] = []
        """Out-of-scope questions a topic with no asked questions answers (question, topic id): they
        are left out of the out-of-scope class; `python -m knowledge check` lists them."""
        if outside:
            self._outside = len(self._topics)
            self._topics.append(Topic.model_construct(id=OUT_OF_SCOPE, title="", answer="", examples=[]))
            examples.append([])
            asked.append([analyse(q).features for q in outside])
            self._own_texts.append([])
        self._build(examples, asked)
        if self._outside is not None and self._fresh:
            kept = []
            for question, features in zip(outside, asked[self._outside], strict=True):
                got = self._match(question, outside=False).topic
                if got in self._fresh_ids:
                    self.taken_from_outside.append((question, got))
                else:
                    kept.append(features)
            if len(kept) < len(outside):
                asked[self._outside] = kept
                self._build(examples, asked)
        sparse = [t for t, boost in enumerate(self._boost) if boost > 1.0]
        if sparse:
            # A topic whose examples share few words (added with a handful) learns from its title
            # and from its answer, sentence by sentence, too.
            self._build(examples, asked, {t: self._own_texts[t] for t in sparse})
        self._single = self._one_word_table()

    def without_example(self, topic_id: str, index: int) -> Matcher:
        """The same model learnt without one example: how that example fares as a new question."""
        topics = [
            t.model_copy(update={"examples": [q for i, q in enumerate(t.examples) if i != index]})
            if t.id == topic_id
            else t
            for t in self._kb.topics
        ]
        return Matcher(self._kb.model_copy(update={"topics": topics}), self.lexicon)

    def confused_examples(self) -> list[tuple[str, int, str | None]]:
        """Examples taken for another topic when the matcher learns from the others: (topic id,
        example index, the topic it was taken for). `python -m knowledge check` warns of them."""
        confused: list[tuple[str, int, str | None]] = []
        for t, topic in enumerate(self._kb.topics):
            for index, example in enumerate(topic.examples):
                if not self._kb.asked.get(topic.id):  # (a topic just added has none)
                    got = self.without_example(topic.id, index).match(example).topic
                else:
                    # Among a topic's hundreds of asked questions one example hardly moves the model:
                    # it is left out of the nearest examples only (the same verdict, without a rebuild).
                    got = self._match(example, outside=True, skip=int(self._starts[t]) + index).topic
                if got is not None and got != topic.id:
                    confused.append((topic.id, index, got))
        return confused

    def sparse_topics(self) -> list[tuple[str, float]]:
        """Topics whose examples share few words with each other, with their cohesion (0..1): the
        matcher recognises fewer new wordings of them. `python -m knowledge check` warns of them."""
        return [
            (t.id, round(c, 2))
            for t, c in zip(self._topics, self._cohesion, strict=False)
            if c < SPARSE_COHESION and not t.smalltalk and t.id != OUT_OF_SCOPE
        ]

    # ------------------------------------------------------------------ model
    def _build(
        self,
        examples: list[list[tuple[str, ...]]],
        asked: list[list[tuple[str, ...]]],
        own: dict[int, list[tuple[str, ...]]] | None = None,
    ) -> None:
        """Feature weights, unit vectors per example, a unit centroid per topic, and inverted
        indexes feature -> (example or topic, weight) so a match touches only its own features.
        `examples`: per topic, its examples' features (they alone set how cohesive it is);
        `asked`: per topic (and the out-of-scope class), asked.yaml's questions;
        `own`: per topic, the features of its title and answer sentences, read as more examples
        (the boost stays the one its examples alone earn)."""
        real = [(t, frozenset(f)) for t, exs in enumerate(examples) for f in exs]
        own = {t: [f for f in texts if f] for t, texts in (own or {}).items()}
        # Asked questions (and answer sentences) that read alike are one example counted as many: the
        # same model, with fewer examples to compare a question with.
        alike: dict[tuple[int, frozenset[str]], int] = {}
        for t, said in [(t, f) for t, exs in enumerate(asked) for f in exs] + [
            (t, f) for t, texts in own.items() for f in texts
        ]:
            alike[(t, frozenset(said))] = alike.get((t, frozenset(said)), 0) + 1
        docs = [(t, feats, 1) for t, feats in real] + [(t, feats, n) for (t, feats), n in alike.items()]
        docs.sort(key=lambda doc: doc[0])  # each topic's examples side by side (stable), its own first
        count, topics = sum(n for _, _, n in docs), len(self._topics)
        sizes = [0] * topics
        for t, _, n in docs:
            sizes[t] += n
        df: dict[str, int] = {}
        share: dict[str, dict[int, float]] = {}
        for t, feats, n in docs:
            for f in feats:
                df[f] = df.get(f, 0) + n
                by_topic = share.setdefault(f, {})
                by_topic[t] = by_topic.get(t, 0.0) + n / sizes[t]
        # P(topic | feature), topics weighed alike however many examples they have.
        self._vote_index: dict[str, list[tuple[int, float]]] = {
            f: [(t, v / sum(by_topic.values())) for t, v in by_topic.items()] for f, by_topic in share.items()
        }
        self._idf = {f: math.log((1 + count) / (1 + n)) + 1 for f, n in df.items()}
        self._weights: dict[str, float] = {}
        for f, idf in self._idf.items():
            found = share[f]
            mass = sum(found.values()) + _SPECIFIC_PRIOR * topics
            shares = ((found.get(t, 0.0) + _SPECIFIC_PRIOR) / mass for t in range(topics))
            spread = -sum(p * math.log(p) for p in shares if p > 0)
            spread /= math.log(max(2, topics))
            self._weights[f] = idf * (_SPECIFIC_FLOOR + (1 - _SPECIFIC_FLOOR) * (1 - spread))
        self._unseen = _UNSEEN_WEIGHT * (math.log(1 + count) + 1)
        generic_at = max(2, math.ceil(_GENERIC_SHARE * topics))
        self._generic = frozenset(
            {PLATFORM} | self.lexicon.generic | {f for f, by_topic in share.items() if _spread(by_topic) >= generic_at}
        )

        self._foreign = frozenset(f for f, by_topic in share.items() if set(by_topic) == {self._outside})
        """Words only out-of-scope questions use: to the topics, words no example has."""
        self._no_evidence = self._generic | self._foreign
        """Known words that say nothing about which topic is meant (`_with_questions`)."""
        self._curated_words = frozenset(f for _, feats in real for f in feats) | frozenset(
            f for texts in own.values() for feats in texts for f in feats
        )
        """Words the topics' own examples (and a sparse topic's title and answer) use."""

        self._domain = self._generic - self.lexicon.generic
        """Words many topics share, and platforms: they say a question is about the bot's domain."""

        chat = {t for t, topic in enumerate(self._topics) if topic.smalltalk}
        self._smalltalk_features = frozenset(
            f for f, by_topic in self._vote_index.items() if sum(p for t, p in by_topic if t in chat) >= 0.5
        )

        self._single = {}
        self._example_topic = np.array([t for t, _, _ in docs], dtype=np.intp)
        self._starts = np.searchsorted(self._example_topic, np.arange(topics))
        """Where each topic's examples begin (a topic with none has the next one's start)."""
        self._has_examples = np.array(sizes) > 0
        whole_weight = []
        """Per example: its features' summed weight, when a question that says it in full may be
        answered from it (CONTAINED_SCORE); 0 when it may not (too small, generic, small talk)."""
        postings: dict[str, tuple[list[int], list[float]]] = {}
        centroids: list[dict[str, float]] = [{} for _ in self._topics]
        for index, (t, feats, n) in enumerate(docs):
            # (in a fixed order: sums of floats in a set's order differ between processes in the last
            # digit, and an exact tie such as `SAID_EXACTLY_SCORE`'s floor then differs too)
            ordered = sorted(feats)
            vector = _unit({f: self._weights[f] for f in ordered})
            whole = len(feats) >= 2 and bool(feats - self._generic) and not self._topics[t].smalltalk
            whole_weight.append(sum(self._weights[f] for f in ordered) if whole else 0.0)
            for f, w in vector.items():
                posting = postings.setdefault(f, ([], []))
                posting[0].append(index)
                posting[1].append(w)
                centroids[t][f] = centroids[t].get(f, 0.0) + w * n
        self._whole_weight = np.array(whole_weight)
        self._outside_slice = slice(int(self._starts[self._outside]) if self._outside is not None else len(docs), None)
        """The out-of-scope questions' examples (the last class's, side by side at the end)."""
        self._example_index: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {
            f: (np.array(ids, dtype=np.intp), np.array(ws), np.square(ws)) for f, (ids, ws) in postings.items()
        }
        """Feature -> the examples that have it, its weight in each (unit vector) and that squared."""
        self._example_list = {f: list(zip(ids, ws, strict=True)) for f, (ids, ws) in postings.items()}
        """The same as lists, for a question whose words few examples have (`_nearest_few`)."""
        self._example_topics: list[int] = self._example_topic.tolist()
        self._peak: dict[str, list[tuple[int, float]]] = {}
        """Feature -> per topic that has it, its most weight in one example: a question of one known
        word ("tack!", "starta guiden") finds its nearest examples here (`_nearest_one`)."""
        self._solo: dict[str, list[tuple[int, float]]] = {}
        """Feature -> the examples that are that feature alone, with its weight in them."""
        for f, (ids, ws) in postings.items():
            peak: dict[int, float] = {}
            for index, ew in zip(ids, ws, strict=True):
                t = self._example_topics[index]
                if ew > peak.get(t, 0.0):
                    peak[t] = ew
                if ew * ew > 0.999:
                    self._solo.setdefault(f, []).append((index, ew))
            self._peak[f] = list(peak.items())
        self._whole_weights: list[float] = whole_weight
        self._cohesion: list[float] = []
        self._boost = self._calibrate(real)
        self._own_words = [frozenset(f for text in texts for f in text) - self._generic for texts in self._own_texts]
        """Per topic, the features of its title and answer (see `_OWN_WORD_SHARE`)."""
        self._centroid_index: dict[str, list[tuple[int, float]]] = {}
        for t, centroid in enumerate(centroids):
            for f, w in _unit(centroid).items():
                self._centroid_index.setdefault(f, []).append((t, w))

    def _calibrate(self, docs: list[tuple[int, frozenset[str]]]) -> list[float]:
        """Per topic, how much its scores are scaled up: examples that share few words with each
        other (a topic added with a handful of examples and no vocabulary of its own) share few
        with a new question too. The cohesion of a topic is the mean, over its examples (not the
        asked questions), of the cosine to the nearest other example; below `_COHESION_REF` scores
        grow, by at most `_MAX_BOOST`. The out-of-scope class is never scaled."""
        vectors: list[list[dict[str, float]]] = [[] for _ in self._topics]
        for t, feats in docs:
            vectors[t].append(_unit({f: self._weights[f] for f in sorted(feats)}))
        boost = []
        for t, own in enumerate(vectors):
            nearest = [
                max(
                    (sum(w * other.get(f, 0.0) for f, w in v.items()) for j, other in enumerate(own) if j != i),
                    default=0.0,
                )
                for i, v in enumerate(own)
            ]
            cohesion = sum(nearest) / len(nearest) if nearest else 0.0
            self._cohesion.append(cohesion)
            boost.append(1.0 if t == self._outside else min(_MAX_BOOST, max(1.0, _COHESION_REF / max(cohesion, 0.01))))
        return boost

    def _one_word_table(self) -> dict[str, tuple[frozenset[str], list[_Scored]]]:
        """Per known feature, the topics' scores for a question of that feature alone ("tack!",
        "starta guiden", "återställningskoder"), with the rule concepts (`requires`, `signals`) it
        implies: built with the model (a few ms), so such a question costs a lookup."""
        rules = self._rule_concepts
        table = {}
        for f in self._weights:
            concepts = frozenset() if f.startswith("~") else frozenset({f})
            table[f] = (concepts & rules, self._score_features_split(Analysis((f,), concepts, (), ())))
        return table

    def _score(self, analysis: Analysis, skip: int = -1) -> list[_Scored]:
        """Every topic that shares a feature with the question, scored (from `_one_word_table` for a
        question of one known feature and no typo guessed)."""
        feats = analysis.features
        if len(feats) == 1 and skip < 0 and not analysis.guessed:
            known = self._single.get(feats[0])
            if known is not None and known[0] == analysis.concepts & self._rule_concepts:
                return list(known[1])
        return self._score_features_split(analysis, skip)

    def _score_features_split(self, analysis: Analysis, skip: int = -1) -> list[_Scored]:
        """Small talk's own words ("hej", "tack", "hjälp") do not count against a topic of substance:
        "insta tvåfaktor hjälp tack" is about two-factor login on Instagram."""
        scored = self._score_features(analysis, analysis.features, True, skip)
        substance = tuple(f for f in analysis.features if f not in self._smalltalk_features)
        if len(substance) < len(analysis.features):
            scored = [s for s in scored if s.topic.smalltalk]
            scored += self._score_features(analysis, substance, False, skip)
        return scored

    def _score_features(
        self, analysis: Analysis, feats: tuple[str, ...], smalltalk: bool, skip: int = -1
    ) -> list[_Scored]:
        """`skip`: an example left out of the nearest examples (`confused_examples`)."""
        if not feats:
            return []
        weights = self._weights
        # The topics measure the question by the words their examples know; the out-of-scope class
        # by all it knows: a word only out-of-scope questions use is, to the topics, a word no
        # example has ("datorn är jätteseg, kan du fixa den" is no more about turning 2FA on because
        # someone once asked about a slow computer).
        known_here = [f for f in feats if f in weights]
        inside_known = [f for f in known_here if f not in self._foreign]
        inside = _Measure(self, feats, inside_known)
        outside = _Measure(self, feats, known_here) if len(inside_known) < len(known_here) else inside
        # A topic with no asked questions yet is measured as before there were any: a word only
        # asked questions use is to it a word no example has.
        fresh = (
            _Measure(self, feats, [f for f in feats if f in weights and f in self._curated_words])
            if self._fresh
            else inside
        )
        centroid: dict[int, float] = {}
        vote: dict[int, float] = {}
        specific: dict[int, list[str]] = {}
        """Per topic, the features it shares with the question that are not generic."""
        known: list[tuple[str, float]] = []
        postings = 0
        generic = self._generic
        for f in feats:
            w = weights.get(f)
            if w is None:
                continue
            known.append((f, w))
            postings += len(self._example_list[f])
            telling = f not in generic
            for t, cw in self._centroid_index[f]:
                centroid[t] = centroid.get(t, 0.0) + w * cw
                if telling:
                    specific.setdefault(t, []).append(f)
            for t, p in self._vote_index[f]:
                vote[t] = vote.get(t, 0.0) + w * p
        if not known:
            return []
        # Per example, its cosine to the question and the share of its (squared, unit) weight the
        # question has (1.0 = all of it); per topic, its nearest example.
        best_example, whole, exactly = self._nearest(known, postings, inside, outside, skip)
        in_domain = not self._domain.isdisjoint(feats)
        guessed = analysis.guessed
        scored = []
        for t, sim in centroid.items():
            topic = self._topics[t]
            if topic.smalltalk and not smalltalk:
                continue
            if topic.requires and not any(all(c in analysis.concepts for c in alt) for alt in topic.requires):
                continue
            # A sparse topic's boost needs a word of the domain in the question ("konto", "sidan",
            # a platform): "larmet var falskt" is not about a fake account.
            boost = self._boost[t] if in_domain else 1.0
            if t == self._outside:
                topic_coverage = outside.coverage
                score = topic_coverage * _OUTSIDE_WEIGHT * best_example[t]
            else:
                measure = fresh if t in self._fresh else inside
                own = sum(1 for f in measure.unseen if f in self._own_words[t]) if measure.unseen else 0
                # A word of the topic's own title or answer weighs less against it.
                topic_coverage = measure.coverage_with(own * _OWN_WORD_SHARE) if own else measure.coverage
                score = (
                    topic_coverage
                    * boost
                    * (
                        _NEAREST_WEIGHT * best_example[t] * inside.norm / measure.norm
                        + _CENTROID_WEIGHT * sim / measure.norm
                        + (1 - _NEAREST_WEIGHT - _CENTROID_WEIGHT) * vote.get(t, 0.0) / measure.total
                    )
                )
            if t in whole:
                score = max(score, CONTAINED_SCORE)
            # (a tie, as when the out-of-scope class's nearest question is the question, is the floor)
            exact = t in exactly and topic_coverage * SAID_EXACTLY_SCORE > score - 1e-9
            if exact:
                score = topic_coverage * SAID_EXACTLY_SCORE
            if topic.signals:
                score += sum(w for c, w in topic.signals.items() if c in analysis.concepts)
            told = specific.get(t, ())
            evidence = [f for f in told if f not in guessed] if guessed else told
            sole = evidence[0] if len(evidence) == 1 else ""
            shared_only = sole.startswith("~") and len(self._vote_index[sole]) > 1
            scored.append(_Scored(topic, max(0.0, min(1.0, score)), not told, not evidence, shared_only, boost, exact))
        return scored

    def _nearest(
        self, known: list[tuple[str, float]], postings: int, inside: _Measure, outside: _Measure, skip: int
    ) -> tuple[list[float], set[int], set[int]]:
        """The nearest-example search, by the cheapest of three ways that find the same (a test holds
        them to it): a lookup for one known word, a loop for rare words, arrays for common ones."""
        if len(known) == 1 and skip < 0:
            return self._nearest_one(*known[0], inside, outside)
        if postings <= _FEW_POSTINGS:
            return self._nearest_few(known, inside, outside, skip)
        return self._nearest_many(known, inside, outside, skip)

    def _nearest_many(
        self, known: list[tuple[str, float]], inside: _Measure, outside: _Measure, skip: int
    ) -> tuple[list[float], set[int], set[int]]:
        """Per topic its nearest example's cosine; the topics an example of which the question says in
        full (`CONTAINED_SCORE`) and exactly (`SAID_EXACTLY_SCORE`): vectorised, for common words."""
        postings = [self._example_index[f] for f, _ in known]
        at = np.concatenate([ids for ids, _, _ in postings])
        sims = np.concatenate([ew * w for (_, ew, _), (_, w) in zip(postings, known, strict=True)])
        size = len(self._example_topic)
        nearest = np.bincount(at, weights=sims, minlength=size) / inside.norm
        if self._outside is not None and outside is not inside:
            nearest[self._outside_slice] = nearest[self._outside_slice] * (inside.norm / outside.norm)
        contained = np.bincount(at, weights=np.concatenate([squares for _, _, squares in postings]), minlength=size)
        if skip >= 0:
            nearest[skip] = contained[skip] = 0.0
        best = np.maximum.reduceat(nearest, self._starts)
        best[~self._has_examples] = 0.0
        best_example: list[float] = best.tolist()
        # Examples the question says in full (few: only those are looked at further).
        full = np.flatnonzero(contained > 0.999)
        of = self._example_topic[full]
        weight = self._whole_weight[full]
        said = np.where(of == self._outside, outside.said, inside.said) if self._outside is not None else inside.said
        whole = set(of[(weight > 0) & (weight >= _CONTAINED_SHARE * said)].tolist())
        exactly = set(of[nearest[full] > 0.999].tolist())
        return best_example, whole, exactly

    def _nearest_one(
        self, f: str, w: float, inside: _Measure, outside: _Measure
    ) -> tuple[list[float], set[int], set[int]]:
        """`_nearest_many` for a question of one known feature: its nearest example in a topic is the
        one that weighs that feature most, and only an example of that feature alone is said in full."""
        best_example = [0.0] * len(self._topics)
        for t, ew in self._peak[f]:
            best_example[t] = w * ew / (outside if t == self._outside else inside).norm
        whole: set[int] = set()
        exactly: set[int] = set()
        for index, ew in self._solo.get(f, ()):
            t = self._example_topics[index]
            measure = outside if t == self._outside else inside
            weight = self._whole_weights[index]
            if weight > 0 and weight >= _CONTAINED_SHARE * measure.said:
                whole.add(t)
            if w * ew / measure.norm > 0.999:
                exactly.add(t)
        return best_example, whole, exactly

    def _nearest_few(
        self, known: list[tuple[str, float]], inside: _Measure, outside: _Measure, skip: int
    ) -> tuple[list[float], set[int], set[int]]:
        """`_nearest_many` for a question whose words few examples have: a loop costs less than the
        arrays' fixed cost."""
        nearest: dict[int, float] = {}
        contained: dict[int, float] = {}
        for f, w in known:
            for index, ew in self._example_list[f]:
                nearest[index] = nearest.get(index, 0.0) + w * ew
                contained[index] = contained.get(index, 0.0) + ew * ew
        best_example = [0.0] * len(self._topics)
        whole: set[int] = set()
        exactly: set[int] = set()
        for index, raw in nearest.items():
            if index == skip:
                continue
            t = self._example_topics[index]
            measure = outside if t == self._outside else inside
            sim = raw / measure.norm
            if sim > best_example[t]:
                best_example[t] = sim
            if contained[index] > 0.999:
                weight = self._whole_weights[index]
                if weight > 0 and weight >= _CONTAINED_SHARE * measure.said:
                    whole.add(t)
                if sim > 0.999:
                    exactly.add(t)
        return best_example, whole, exactly

    def _with_questions(self, question: str, scored: list[_Scored], skip: int = -1) -> list[_Scored]:
        """A message of several sentences is also read by its questions alone: a topic's score is
        the mean of the two when its questions say more ("Vi har precis flyttat in i nya lokaler och
        allt är kaos ... När jag kommer till steget där man ska välja säkerhetsmetod, ska jag välja
        sms?"). Only when the questions carry two specific known words of their own, or alone are
        sure of a topic (`_SURE_ALONE`: "Kan jag få prata med en person? Jag jobbar på Konstmuseet
        och vi har en situation..."): "Hur agerar vi?" after the story says nothing alone."""
        asked = _questions(question[: MAX_CHARS * 2])
        if not asked:
            return scored
        sub = self.lexicon.analyse(without_signature(normalise(asked).split())[:MAX_TOKENS])
        alone = self._score(sub, skip)
        if sum(
            1 for f in sub.features if f in self._weights and f not in self._no_evidence
        ) < _QUESTION_WORDS and not any(
            s.score >= _SURE_ALONE and not s.topic.smalltalk and not s.generic_only and not s.said_exactly
            for s in alone
        ):
            return scored
        merged = {s.topic.id: s for s in scored}
        for s in alone:
            whole = merged.get(s.topic.id)
            if whole is None:
                merged[s.topic.id] = replace(s, score=s.score / 2)
            elif s.score > whole.score:
                merged[s.topic.id] = replace(
                    s,
                    score=(s.score + whole.score) / 2,
                    generic_only=s.generic_only and whole.generic_only,
                    guessed_only=s.guessed_only and whole.guessed_only,
                    shared_only=s.shared_only and whole.shared_only,
                )
        return list(merged.values())

    # ------------------------------------------------------------------ matching
    def match(self, question: str) -> Match:
        """Best topic, platform and score for one question; never raises on odd input."""
        return self._match(question, outside=True)

    def _match(self, question: str, outside: bool, skip: int = -1) -> Match:
        """`outside`: weigh the out-of-scope questions too (not when asking what the topics alone
        take); `skip`: an example left out of the nearest examples (`confused_examples`)."""
        if not isinstance(question, str):
            question = "" if question is None else str(question)
        words = without_signature(normalise(question).split())[:MAX_TOKENS]
        if not words:
            return Match(topic=None, platform=None, score=0.0)
        analysis = self.lexicon.analyse(words)
        platforms = list(analysis.platforms)
        platform = platforms[0] if platforms else None
        concepts = sorted(analysis.concepts)

        scored = self._score(analysis, skip)
        scored = _boost_never_reorders(self._with_questions(question, scored, skip))
        if not outside or (
            self._fresh_ids and any(s.topic.id in self._fresh_ids and s.score >= ANSWER_THRESHOLD for s in scored)
        ):
            # An out-of-scope question never overrules a topic with no asked questions yet: it was
            # out of scope before the topic was added.
            scored = [s for s in scored if s.topic.id != OUT_OF_SCOPE]
        substantive = any(
            s.score >= NEAR_MISS_THRESHOLD and not s.topic.smalltalk and not s.generic_only for s in scored
        )
        # A typo guess is never the only evidence: "hur bakar jag kanelbullar" is not "bråkar". With
        # no word the examples lack it may be asked back ("tvåfacktor?"), otherwise not even that.
        unseen = any(f not in self._weights or f in self._foreign for f in analysis.features)
        order: list[tuple[float, str]] = []
        for s in scored:
            score = s.score
            if s.topic.smalltalk and substantive:
                continue  # "hej, hur slår jag på 2fa?" is a question, not a greeting
            if s.generic_only or (s.guessed_only and unseen):
                score = min(score, NEAR_MISS_THRESHOLD - 0.01)
            elif s.guessed_only or s.shared_only:
                score = min(score, ANSWER_THRESHOLD - 0.01)
            order.append((round(score, 4), s.topic.id))
        order.sort(key=lambda c: -c[0])
        nearest_outside = bool(order) and order[0][1] == OUT_OF_SCOPE
        """The question is most like a question the bot should not answer."""
        # Only the best few become candidates (a model each costs more than all the ranking): the
        # three shown, and the runners-up after the best (the fourth is one only when answerable).
        best_few = [(t, score) for score, t in order[:5] if t != OUT_OF_SCOPE][:4]
        ranked = [
            Candidate(topic=t, score=score)
            for i, (t, score) in enumerate(best_few)
            if i < 3 or score >= ANSWER_THRESHOLD
        ]
        top = ranked[:3]

        def out_of_scope(score: float, near: bool) -> Match:
            return Match(
                topic=None,
                platform=platform,
                platforms=platforms,
                score=score,
                candidates=top if near else [],
                near_miss=near,
                concepts=concepts,
            )

        if nearest_outside:
            # Never answered; a plausible topic is still offered back ("hur gör jag med
            # kommentarerna?" is most like questions about comments the guide does not cover, but
            # the person may mean moderating them).
            best_score = ranked[0].score if ranked else 0.0
            near = best_score >= NEAR_MISS_THRESHOLD
            return out_of_scope(min(best_score, ANSWER_THRESHOLD - 0.01) if near else best_score, near)
        if (not ranked or ranked[0].score < ANSWER_THRESHOLD) and platforms and not analysis.unknown and not unseen:
            # (a concept no example has, "admin" before a topic uses it, is as unknown as a word)
            return Match(
                topic=PLATFORM_TOPIC,
                platform=platform,
                platforms=platforms,
                score=PLATFORM_ONLY_SCORE,
                candidates=[Candidate(topic=PLATFORM_TOPIC, score=PLATFORM_ONLY_SCORE)],
                concepts=concepts,
            )
        if not ranked:
            return out_of_scope(0.0, False)
        best = ranked[0]
        if best.score < ANSWER_THRESHOLD:
            return out_of_scope(best.score, best.score >= NEAR_MISS_THRESHOLD)
        rest = [c for c in ranked[1:] if c.score >= ANSWER_THRESHOLD]
        return Match(
            topic=best.topic,
            platform=platform,
            platforms=platforms,
            score=best.score,
            candidates=top,
            runners_up=rest[:3],
            ambiguous=bool(rest) and best.score - rest[0].score < AMBIGUITY_MARGIN,
            needs_platform=best.topic == PLATFORM_TOPIC and platform is None,
            concepts=concepts,
        )


_BUILT: OrderedDict[str, Matcher] = OrderedDict()
_BUILT_MOST = 4
_BUILT_LOCK = threading.Lock()


def matcher_for(kb: KnowledgeBase) -> Matcher:
    """The matcher of a knowledge base, built once per process for the same content: it learns from
    thousands of asked questions (about a second), and a matcher never changes once built, so every
    bot started on the same knowledge base (a test suite starts hundreds) shares one."""
    key = hashlib.sha256(kb.model_dump_json().encode()).hexdigest()
    with _BUILT_LOCK:
        if key in _BUILT:
            _BUILT.move_to_end(key)
            return _BUILT[key]
    matcher = Matcher(kb)
    with _BUILT_LOCK:
        _BUILT[key] = matcher
        while len(_BUILT) > _BUILT_MOST:
            _BUILT.popitem(last=False)
    return matcher


class _Measure:
    """A question as a class of examples sees it: its known features (`feats`), measured by the
    strongest (`_STRONGEST`: a long message's other words are context and no longer dilute what it
    shares with a topic), and the words it does not know, which weigh against it alike (up to
    `_UNKNOWN_CAP` of them) by their share of the question beside the known features' plain IDF."""

    def __init__(self, matcher: Matcher, feats: tuple[str, ...], known: list[str]):
        weights = matcher._weights
        strongest = sorted((weights[f] for f in known), reverse=True)[:_STRONGEST]
        self.norm = math.sqrt(sum(w * w for w in strongest)) or 1.0
        self.total = sum(strongest) or 1.0
        self.said = sum(weights[f] for f in known)
        """All the question says in words known here: what an example said in full must carry."""
        self.known = sum(matcher._idf[f] for f in known)
        here = set(known)
        self.unseen = [f for f in feats if f not in here]
        self._unseen_weight = matcher._unseen
        self.coverage = self.coverage_with(0.0)

    def coverage_with(self, forgiven: float) -> float:
        """How much of the question is known, with `forgiven` unknown words not counted."""
        if not self.known:
            return 0.0
        unknown = min(len(self.unseen) - forgiven, _UNKNOWN_CAP) * self._unseen_weight
        return float((self.known / (self.known + unknown)) ** _COVERAGE_POWER)


def _boost_never_reorders(scored: list[_Scored]) -> list[_Scored]:
    """A sparse topic's boost may lift it to an answer, never past a topic that scored higher
    without it (a topic added with six examples of "konto" and "sidan" took 2FA questions)."""
    if all(s.boost == 1.0 for s in scored):
        return scored
    ceiling = 1.0
    ordered = []
    for s in sorted(scored, key=lambda s: -s.score / s.boost):
        if s.score > ceiling:
            s = replace(s, score=ceiling)
        ceiling = s.score
        ordered.append(s)
    return ordered


_SENTENCE = re.compile(r"[^.!?]*[.!?]+|[^.!?]+$")


_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _own_texts(topic: Topic) -> list[str]:
    """A topic's title and its answer's sentences (read as examples while the topic has few), without
    the answer's placeholders ("{support_contact}")."""
    answer = _PLACEHOLDER.sub(" ", topic.answer)
    return [topic.title, *(s for s in _SENTENCE.findall(answer) if s.strip())]


def _questions(text: str) -> str:
    """The questions of a message of several sentences, joined ("" when it has one sentence or no
    question, or only questions)."""
    if "?" not in text:
        return ""
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    asked = [s for s in sentences if s.endswith("?")]
    if len(sentences) < 2 or not asked or len(asked) == len(sentences):
        return ""
    return " ".join(asked)


def _spread(by_topic: dict[int, float]) -> float:
    """How many topics a feature is found in, counted by how evenly: the exponential of the entropy
    of its topic shares (3 for a feature shared alike by three topics, near 1 when one has most)."""
    total = sum(by_topic.values())
    return math.exp(-sum(v / total * math.log(v / total) for v in by_topic.values() if v > 0))


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {f: w / norm for f, w in vector.items()} if norm else {}
