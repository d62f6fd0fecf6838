"""Map what people type to a topic of the knowledge base: `Matcher(kb).match(question) -> Match`.

The model is built when the knowledge base loads, from the topics' example questions and the
shared vocabulary; no topic needs a rule or a weight:
1. Every question and example becomes features (`knowledge.lexicon`): vocabulary concepts
   (synonyms, slang, English, compounds, missing å/ä/ö and typos all land on the same concept) and
   the Swedish stems of the other words.
2. Each feature is weighted by how rare it is among the examples (TF-IDF's inverse document
   frequency): "twofa" is in many examples and says little about which topic, "~publicer" in one
   says much. A word no example has counts too, as weight against every topic.
3. A topic's score is the cosine similarity of the question to the topic's examples: the mean of
   its nearest example and of the topic's centroid (all its examples together), in 0..1.
4. The best topic is answered when its score reaches `ANSWER_THRESHOLD` and what it shares with
   the question is not only generic words (features that many topics share, like "hur" or a
   platform's name): "hur laddar jag upp en bild på Instagram" shares only those with enable_2fa.
   A plausible topic in the band just below (`NEAR_MISS_THRESHOLD`) is offered back ("Menade du…?").
   Unknown words count against a topic less when its own title or answer uses them, and a long
   message is measured by its strongest words (`_OWN_WORD_SHARE`, `_STRONGEST`) and also read by
   its questions alone (`Matcher._with_questions`).
5. A topic added with a handful of examples that share few words has its scores scaled up (and
   learns from its title too), but never past a topic that scored higher without that boost.
A question that names a platform and nothing else unknown ("hur gör jag på Facebook?") is about
2FA there, the only thing the bot does per platform. Topics may keep optional `requires` (gating)
and `signals` (extra weight) as overrides.

`python -m knowledge eval` prints accuracy by score so the thresholds can be checked against data.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from pydantic import BaseModel, Field

from knowledge.lexicon import PLATFORM, Analysis, Lexicon
from knowledge.models import KnowledgeBase, Topic
from knowledge.text import MAX_CHARS, normalise, without_signature

__all__ = ["ANSWER_THRESHOLD", "NEAR_MISS_THRESHOLD", "AMBIGUITY_MARGIN", "Candidate", "Match", "Matcher"]

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
"""A feature found in at least this share of the topics is generic: it cannot carry an answer."""
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


@dataclass(frozen=True)
class _Scored:
    topic: Topic
    score: float
    generic_only: bool
    guessed_only: bool = False
    """What it shares beyond generic words comes only from forgiven typos."""
    shared_only: bool = False
    """What it shares beyond generic words is one feature that other topics' examples have too."""
    boost: float = 1.0
    """How much the score was scaled up for a topic whose examples share few words."""


class Matcher:
    """Built once from the knowledge base; `match` is pure and cheap (well under a millisecond)."""

    def __init__(self, kb: KnowledgeBase, lexicon: Lexicon | None = None):
        self._kb = kb
        self.lexicon = lexicon or Lexicon(kb)
        self._topics = list(kb.topics)
        examples = [[self.lexicon.analyse_text(q).features for q in t.examples] for t in self._topics]
        self._own_texts = [[self.lexicon.analyse_text(text).features for text in _own_texts(t)] for t in self._topics]
        """Per topic, the features of its title and of each sentence of its answer."""
        self._build(examples)
        sparse = [t for t, boost in enumerate(self._boost) if boost > 1.0]
        if sparse:
            # A topic whose examples share few words (added with a handful) learns from its title
            # and from its answer, sentence by sentence, too.
            self._build(examples, {t: self._own_texts[t] for t in sparse})

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
        for topic in self._topics:
            for index, example in enumerate(topic.examples):
                got = self.without_example(topic.id, index).match(example).topic
                if got is not None and got != topic.id:
                    confused.append((topic.id, index, got))
        return confused

    def sparse_topics(self) -> list[tuple[str, float]]:
        """Topics whose examples share few words with each other, with their cohesion (0..1): the
        matcher recognises fewer new wordings of them. `python -m knowledge check` warns of them."""
        return [
            (t.id, round(c, 2))
            for t, c in zip(self._topics, self._cohesion, strict=True)
            if c < SPARSE_COHESION and not t.smalltalk
        ]

    # ------------------------------------------------------------------ model
    def _build(
        self, examples: list[list[tuple[str, ...]]], own: dict[int, list[tuple[str, ...]]] | None = None
    ) -> None:
        """Feature weights, unit vectors per example, a unit centroid per topic, and inverted
        indexes feature -> (example or topic, weight) so a match touches only its own features.
        `own`: per topic, the features of its title and answer sentences, read as more examples
        (the boost stays the one its examples alone earn)."""
        real = [(t, frozenset(f)) for t, exs in enumerate(examples) for f in exs]
        own = {t: [f for f in texts if f] for t, texts in (own or {}).items()}
        docs = real + [(t, frozenset(f)) for t, texts in own.items() for f in texts]
        examples = [[*exs, *own[t]] if t in own else exs for t, exs in enumerate(examples)]
        count, topics = len(docs), len(self._topics)
        sizes = [max(1, len(exs)) for exs in examples]
        df: dict[str, int] = {}
        share: dict[str, dict[int, float]] = {}
        for t, feats in docs:
            for f in feats:
                df[f] = df.get(f, 0) + 1
                by_topic = share.setdefault(f, {})
                by_topic[t] = by_topic.get(t, 0.0) + 1 / sizes[t]
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
            {PLATFORM} | self.lexicon.generic | {f for f, by_topic in share.items() if len(by_topic) >= generic_at}
        )

        self._domain = self._generic - self.lexicon.generic
        """Words many topics share, and platforms: they say a question is about the bot's domain."""

        chat = {t for t, topic in enumerate(self._topics) if topic.smalltalk}
        self._smalltalk_features = frozenset(
            f for f, by_topic in self._vote_index.items() if sum(p for t, p in by_topic if t in chat) >= 0.5
        )

        self._example_topic: list[int] = []
        self._whole_weight: list[float] = []
        """Per example: its features' summed weight, when a question that says it in full may be
        answered from it (CONTAINED_SCORE); 0 when it may not (too small, generic, small talk)."""
        self._example_index: dict[str, list[tuple[int, float]]] = {}
        centroids: list[dict[str, float]] = [{} for _ in self._topics]
        for t, feats in docs:
            vector = _unit({f: self._weights[f] for f in feats})
            index = len(self._example_topic)
            self._example_topic.append(t)
            whole = len(feats) >= 2 and bool(feats - self._generic) and not self._topics[t].smalltalk
            self._whole_weight.append(sum(self._weights[f] for f in feats) if whole else 0.0)
            for f, w in vector.items():
                self._example_index.setdefault(f, []).append((index, w))
                centroids[t][f] = centroids[t].get(f, 0.0) + w
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
        with a new question too. The cohesion of a topic is the mean, over its examples, of the
        cosine to the nearest other example; below `_COHESION_REF` scores grow, by at most
        `_MAX_BOOST`."""
        vectors: list[list[dict[str, float]]] = [[] for _ in self._topics]
        for t, feats in docs:
            vectors[t].append(_unit({f: self._weights[f] for f in feats}))
        boost = []
        for own in vectors:
            nearest = [
                max(
                    (sum(w * other.get(f, 0.0) for f, w in v.items()) for j, other in enumerate(own) if j != i),
                    default=0.0,
                )
                for i, v in enumerate(own)
            ]
            cohesion = sum(nearest) / len(nearest) if nearest else 0.0
            self._cohesion.append(cohesion)
            boost.append(min(_MAX_BOOST, max(1.0, _COHESION_REF / max(cohesion, 0.01))))
        return boost

    def _score(self, analysis: Analysis) -> list[_Scored]:
        """Every topic that shares a feature with the question, scored. Small talk's own words
        ("hej", "tack", "hjälp") do not count against a topic of substance: "insta tvåfaktor
        hjälp tack" is about two-factor login on Instagram."""
        scored = self._score_features(analysis, analysis.features, smalltalk=True)
        substance = tuple(f for f in analysis.features if f not in self._smalltalk_features)
        if len(substance) < len(analysis.features):
            scored = [s for s in scored if s.topic.smalltalk]
            scored += self._score_features(analysis, substance, smalltalk=False)
        return scored

    def _score_features(self, analysis: Analysis, feats: tuple[str, ...], smalltalk: bool) -> list[_Scored]:
        if not feats:
            return []
        weights = self._weights
        # A long message is measured by its strongest words: the rest is context, and beyond
        # `_STRONGEST` words it no longer dilutes what the question shares with a topic.
        strongest = sorted((weights[f] for f in feats if f in weights), reverse=True)[:_STRONGEST]
        norm = math.sqrt(sum(w * w for w in strongest)) or 1.0
        total = sum(strongest) or 1.0
        # All the question says in words the examples know: what an example said in full must carry.
        said = sum(weights[f] for f in feats if f in weights)
        # Words no example has weigh against every topic alike (up to _UNKNOWN_CAP of them), by
        # their share of the question beside the known features' plain IDF.
        known = sum(self._idf[f] for f in feats if f in weights)
        unseen = [f for f in feats if f not in weights]
        unknown = min(len(unseen), _UNKNOWN_CAP) * self._unseen
        coverage = (known / (known + unknown)) ** _COVERAGE_POWER if known else 0.0
        nearest: dict[int, float] = {}
        contained: dict[int, float] = {}
        """Per example: the share of its (squared, unit) weight the question has; 1.0 = all of it."""
        centroid: dict[int, float] = {}
        vote: dict[int, float] = {}
        shared: dict[int, set[str]] = {}
        for f in feats:
            w = weights.get(f)
            if w is None:
                continue
            for index, ew in self._example_index[f]:
                nearest[index] = nearest.get(index, 0.0) + w * ew / norm
                contained[index] = contained.get(index, 0.0) + ew * ew
            for t, cw in self._centroid_index[f]:
                centroid[t] = centroid.get(t, 0.0) + w * cw / norm
                shared.setdefault(t, set()).add(f)
            for t, p in self._vote_index[f]:
                vote[t] = vote.get(t, 0.0) + w * p / total
        best_example: dict[int, float] = {}
        whole: set[int] = set()
        for index, sim in nearest.items():
            t = self._example_topic[index]
            if sim > best_example.get(t, 0.0):
                best_example[t] = sim
            if contained[index] > 0.999 and self._whole_weight[index] >= _CONTAINED_SHARE * said:
                whole.add(t)
        in_domain = not self._domain.isdisjoint(feats)
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
            own = sum(1 for f in unseen if f in self._own_words[t])
            if own and known:
                # A word of the topic's own title or answer weighs less against it.
                unknown_here = min(len(unseen) - _OWN_WORD_SHARE * own, _UNKNOWN_CAP) * self._unseen
                topic_coverage = (known / (known + unknown_here)) ** _COVERAGE_POWER
            else:
                topic_coverage = coverage
            score = (
                topic_coverage
                * boost
                * (
                    _NEAREST_WEIGHT * best_example.get(t, 0.0)
                    + _CENTROID_WEIGHT * sim
                    + (1 - _NEAREST_WEIGHT - _CENTROID_WEIGHT) * vote.get(t, 0.0)
                )
            )
            if t in whole:
                score = max(score, CONTAINED_SCORE)
            score += sum(w for c, w in topic.signals.items() if c in analysis.concepts)
            specific = shared[t] - self._generic
            evidence = specific - analysis.guessed
            sole = next(iter(evidence)) if len(evidence) == 1 else ""
            shared_only = sole.startswith("~") and len(self._vote_index[sole]) > 1
            scored.append(_Scored(topic, max(0.0, min(1.0, score)), not specific, not evidence, shared_only, boost))
        return scored

    def _with_questions(self, question: str, scored: list[_Scored]) -> list[_Scored]:
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
        alone = self._score(sub)
        if sum(1 for f in sub.features if f in self._weights and f not in self._generic) < _QUESTION_WORDS and not any(
            s.score >= _SURE_ALONE and not s.topic.smalltalk and not s.generic_only for s in alone
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
        if not isinstance(question, str):
            question = "" if question is None else str(question)
        words = without_signature(normalise(question).split())[:MAX_TOKENS]
        if not words:
            return Match(topic=None, platform=None, score=0.0)
        analysis = self.lexicon.analyse(words)
        platforms = list(analysis.platforms)
        platform = platforms[0] if platforms else None
        concepts = sorted(analysis.concepts)

        scored = self._score(analysis)
        scored = _boost_never_reorders(self._with_questions(question, scored))
        substantive = any(
            s.score >= NEAR_MISS_THRESHOLD and not s.topic.smalltalk and not s.generic_only for s in scored
        )
        # A typo guess is never the only evidence: "hur bakar jag kanelbullar" is not "bråkar". With
        # no word the examples lack it may be asked back ("tvåfacktor?"), otherwise not even that.
        unseen = any(f not in self._weights for f in analysis.features)
        ranked = []
        for s in scored:
            score = s.score
            if s.topic.smalltalk and substantive:
                continue  # "hej, hur slår jag på 2fa?" is a question, not a greeting
            if s.generic_only or (s.guessed_only and unseen):
                score = min(score, NEAR_MISS_THRESHOLD - 0.01)
            elif s.guessed_only or s.shared_only:
                score = min(score, ANSWER_THRESHOLD - 0.01)
            ranked.append(Candidate(topic=s.topic.id, score=round(score, 4)))
        ranked.sort(key=lambda c: -c.score)
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


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values()))
    return {f: w / norm for f, w in vector.items()} if norm else {}
