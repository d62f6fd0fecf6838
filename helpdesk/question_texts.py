"""What people asked that the bot could not answer, or whose answer got a 👎: for the content owners.

The anonymous question log (`helpdesk.question_log`) counts topics; it cannot tell the
communicators *what* people asked that the knowledge base lacks. So for those turns only (out of
scope, a "Menade du…?" where the bot was not sure, a 👎, and the comment someone writes with a
👎) the question's text is kept:

- scrubbed first (`helpdesk.scrub`): e-mail addresses, phone numbers, personnummer and names
  become placeholders;
- with no user id, conversation id or name: when, the text, what kind, the topic answered (for a
  👎) and the kind of conversation;
- deleted after `RETENTION_DAYS` like everything else (`helpdesk.retention`).

`group_texts` folds similar texts into groups (rapidfuzz's token-set ratio on the words that carry
meaning; cheap, no model) and `TopicIndex.closest` names the topic whose example questions are
nearest, so `python bot.py report` can say "12 people asked about X; closest topic: Y".
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process

from helpdesk.question_log import time_key
from helpdesk.scrub import PLACEHOLDERS, scrub
from knowledge.models import KnowledgeBase
from knowledge.text import simplify
from storage import KeyedStorage
from storage.keys import QUESTION_TEXT_PREFIX
from storage.models import plain

__all__ = [
    "QUESTION_TEXT_PREFIX",
    "TextKind",
    "QuestionText",
    "question_text_key",
    "question_text_item",
    "record_question_text",
    "question_texts",
    "TextGroup",
    "group_texts",
    "TopicIndex",
]

TextKind = Literal["unanswered", "unsure", "disliked", "comment"]
"""Out of scope; asked back "Menade du…?" (the bot was not sure); an answer that got 👎; the comment
written with a 👎."""

GROUP_SIMILARITY = 70
"""token_set_ratio (0..100) at which two texts count as the same question."""
CLOSEST_TOPIC_SIMILARITY = 60
"""Below this no topic is named as the closest."""

_FILLER_WORDS = """
hur vad var när vem vilken vilket vilka varför jag du vi ni man det den de dem och att som med
för från till av om på i ut in upp efter inte bara även också kan ska skall vill måste behöver
har hade får göra gör är blir min mitt mina vår vårt våra er ert era mig dig oss eller men så nu
här där någon något några en ett the a an to of is are do does how what can i we my our you
hej tack snälla e post telefon personnummer namn
"""
_FILLER = frozenset(simplify(w) for w in _FILLER_WORDS.split())
"""Words that say nothing about what was asked (and the placeholders' words)."""


_STEM = 6
"""Words are compared on their first six letters: a crude Swedish stem, so that "omslagsbilden"
and "omslagsbild", "facebooksidan" and "facebooksida" count as the same word."""


class QuestionText(BaseModel):
    """One stored text: no user, no conversation."""

    at: dt.datetime
    """When it was asked (UTC)."""
    text: str = Field(min_length=1)
    """The scrubbed text (`helpdesk.scrub`)."""
    kind: TextKind
    """Why it was kept."""
    topic: str | None = None
    """The topic the bot answered (a 👎 or its comment); None when out of scope."""
    scope: str = "personal"
    """personal, groupChat or channel."""


def question_text_key(at: dt.datetime) -> str:
    """question-texts/<ISO time>/<random>: a prefix scan returns them in time order."""
    return f"{QUESTION_TEXT_PREFIX}{time_key(at)}/{uuid.uuid4().hex[:8]}"


def question_text_item(
    text: str,
    kind: TextKind,
    *,
    at: dt.datetime,
    topic: str | None = None,
    scope: str = "personal",
    names: Iterable[str] = (),
) -> tuple[str, dict[str, Any]] | None:
    """(key, value) to write, the text scrubbed of personal data; None when nothing is left.

    Returned rather than written, so the turn that asked writes it together with its state
    (one storage write per turn)."""
    cleaned = scrub(text, names)
    if not any(ch.isalnum() for ch in PLACEHOLDERS.sub("", cleaned)):
        return None
    record = QuestionText(at=at, text=cleaned, kind=kind, topic=topic, scope=scope)
    return question_text_key(at), record.model_dump(mode="json")


async def record_question_text(
    storage: KeyedStorage,
    text: str,
    kind: TextKind,
    *,
    at: dt.datetime,
    topic: str | None = None,
    scope: str = "personal",
    names: Iterable[str] = (),
) -> bool:
    """Scrub and store one text; False when nothing was worth keeping."""
    item = question_text_item(text, kind, at=at, topic=topic, scope=scope, names=names)
    if item is None:
        return False
    await storage.write({item[0]: item[1]})
    return True


async def question_texts(storage: KeyedStorage, since: dt.date | None = None) -> list[QuestionText]:
    """The stored texts, oldest first (from `since` on)."""
    keys = await storage.keys(QUESTION_TEXT_PREFIX)
    if since is not None:
        floor = f"{QUESTION_TEXT_PREFIX}{since.isoformat()}"
        keys = [k for k in keys if k >= floor]
    stored = await storage.read(keys) if keys else {}
    return [QuestionText.model_validate(plain(stored[k])) for k in keys if k in stored]


# -- grouping ----------------------------------------------------------------------------------


def _content(text: str) -> str:
    """The words that carry the question's meaning, folded: what texts are compared on."""
    words = [w[:_STEM] for w in simplify(text).split() if w not in _FILLER]
    return " ".join(words) or simplify(text)


def _similar(a: str, b: str, **_: Any) -> float:
    """token_set_ratio, except that one shared word does not make two texts the same question
    (the token-set ratio of a one-word text and any text containing that word is 100)."""
    if min(len(a.split()), len(b.split())) < 2:
        return fuzz.ratio(a, b)
    return fuzz.token_set_ratio(a, b)


class TextGroup(BaseModel):
    """Texts that ask the same thing, most recent first."""

    count: int
    """How many texts."""
    newest: QuestionText
    """The most recent one: the example shown."""
    kinds: dict[str, int]
    """How many of each kind (unanswered, disliked, comment)."""
    topic: str | None = None
    """The closest topic: the one answered when people gave it a 👎, else the one whose examples
    are most similar; None when nothing is near."""
    texts: list[str] = Field(default_factory=list)
    """Every text of the group, newest first."""


def group_texts(
    texts: Iterable[QuestionText], index: TopicIndex | None = None, threshold: float = GROUP_SIMILARITY
) -> list[TextGroup]:
    """Greedy single pass, newest first: a text joins the most similar group (compared with the
    group's first, newest text) at `threshold` or above, else starts one. Biggest groups first."""
    ordered = sorted(texts, key=lambda t: t.at, reverse=True)
    keys: list[str] = []
    members: list[list[QuestionText]] = []
    for text in ordered:
        key = _content(text.text)
        best, best_score = None, threshold
        for i, other in enumerate(keys):
            score = _similar(key, other)
            if score >= best_score:
                best, best_score = i, score
        if best is None:
            keys.append(key)
            members.append([text])
        else:
            members[best].append(text)
    groups = []
    for items in members:
        answered = Counter(t.topic for t in items if t.topic)
        topic = answered.most_common(1)[0][0] if answered else (index.closest(items[0].text) if index else None)
        groups.append(
            TextGroup(
                count=len(items),
                newest=items[0],
                kinds=dict(Counter(t.kind for t in items)),
                topic=topic,
                texts=[t.text for t in items],
            )
        )
    groups.sort(key=lambda g: (-g.count, -g.newest.at.timestamp()))
    return groups


class TopicIndex:
    """Every topic's example questions, to name the topic a text is closest to."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._examples: list[str] = []
        self._topics: list[str] = []
        for topic in kb.topics:
            if topic.smalltalk:
                continue
            for example in topic.examples:
                self._examples.append(_content(example))
                self._topics.append(topic.id)

    def closest(self, text: str, cutoff: float = CLOSEST_TOPIC_SIMILARITY) -> str | None:
        """The topic of the most similar example (token-set ratio), or None below `cutoff`."""
        if not self._examples:
            return None
        hit = process.extractOne(_content(text), self._examples, scorer=_similar, score_cutoff=cutoff)
        return self._topics[hit[2]] if hit else None
