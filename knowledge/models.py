"""The knowledge base as pydantic models: what the YAML files under `knowledge/data/` must hold.

Content is data, not code: communicators edit the YAML, these models refuse anything the bot
could not use (a missing answer, too few examples, a reference to a topic or platform that does
not exist, an invalid URL), and `python -m knowledge check` reports the file and line. Ids are
open: a new topic or platform is a new YAML entry, never a code change.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

__all__ = [
    "CORE_TOPICS",
    "ID_PATTERN",
    "Link",
    "Platform",
    "Concept",
    "Topic",
    "GuideStep",
    "Guide",
    "Election",
    "Announcement",
    "ChecklistItem",
    "Organisation",
    "KnowledgeBase",
]

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
"""Topic, platform, concept and guide ids: lower case letters, digits and underscores."""

CORE_TOPICS: tuple[str, ...] = (
    "enable_2fa",
    "what_is_2fa",
    "recovery_codes",
    "account_hijacked",
    "moderate_discussion",
    "capabilities",
    "human_contact",
)
"""Topics the bot's own replies point to (buttons, the platform question); every other topic id is
open: a topic is added in topics.yaml alone."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Link(_Strict):
    """An official link shown as a button."""

    label: str = Field(min_length=1, max_length=26)
    """Button text, short Swedish: with the link mark " ↗" it fits a button on a phone (28)."""
    url: HttpUrl
    """Where the button leads; must be an absolute http(s) URL."""
    platform: str | None = None
    """The platform the link is about (a platform id); when a question names platforms, their
    links come first and other platforms' links are left out."""


class Platform(_Strict):
    """A social media platform the guide covers."""

    id: str = Field(pattern=ID_PATTERN)
    """Stable id used by the matcher's output and the eval set ("tiktok")."""
    name: str
    """Display name ("Twitter (X)")."""
    aliases: list[str] = Field(min_length=1)
    """What people type for it: names, slang, compounds' first parts ("fb", "insta", "x")."""
    help_url: HttpUrl
    """The platform's own 2FA help page, as given by the guide."""
    enable_answer: str = Field(min_length=20)
    """Plain-Swedish answer to "how do I turn on 2FA here"."""


class Concept(_Strict):
    """A meaning with the words that express it; the matcher works on concepts, not sentences."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Referenced by topics' optional `signals` and `requires`."""
    terms: list[str] = Field(min_length=1)
    """Words or phrases; a trailing `*` matches any ending (Swedish inflection)."""
    context: bool = False
    """Words that only set the scene ("förvaltningen", "bolaget"): known, so they never make a
    question look like one about something else, but they never decide the topic either."""
    generic: bool = False
    """Words that shape a question ("hur", "vad är", "när", "varför") but are never its subject:
    they help choose a topic, but a question with nothing else in common with a topic is not
    answered with it ("vad betyder Redigera?" is not "vad är 2fa?")."""


OUT_OF_SCOPE = "out_of_scope"
"""The key in asked.yaml for questions the bot should not answer (never a topic id)."""


class Topic(_Strict):
    """One thing the bot can answer, with what it takes to recognise it."""

    id: str = Field(pattern=ID_PATTERN)
    """Stable id ("fake_accounts"); the eval sets and buttons use it."""
    title: str = Field(min_length=1, max_length=80)
    """Card heading."""
    button: str | None = Field(default=None, min_length=1, max_length=28)
    """What a button offering this topic says when the title is too long for one (a button holds
    28 characters on a phone, `cards.message.MAX_BUTTON_TITLE`); without it the button shows the
    title."""
    answer: str = Field(min_length=1)
    """Short, plain Swedish. May use {election_name}, {election_when}, {support_contact}."""
    examples: list[str] = Field(min_length=5)
    """At least five example questions worded differently, Swedish first: the matcher learns the
    topic from them (with the shared vocabulary), so they are what recognises it."""
    requires: list[list[str]] = Field(default_factory=list)
    """Optional override: alternatives, each a list of concept ids that must all be present (DNF).
    Leave out: only for a topic that a test shows the examples alone cannot separate."""
    signals: dict[str, float] = Field(default_factory=dict)
    """Optional override: concept id -> extra weight for (or, negative, against) the topic."""
    links: list[Link] = Field(default_factory=list)
    """Official links for the answer."""
    related: list[str] = Field(default_factory=list)
    """Follow-up topics offered as buttons."""
    smalltalk: bool = False
    """Greeting/thanks: only wins when nothing of substance is asked."""
    handoff: bool = False
    """Hand to people as well (the experts channel) when this is asked in a help channel."""
    answer_before_election: str | None = None
    """Said instead of `answer` while the configured election is still to come ("inför
    {election_name}"); `answer` must then be true at any time (after an election, or none set)."""

    @property
    def label(self) -> str:
        """The topic on a button: `button`, or the title when that fits."""
        return self.button or self.title


class GuideStep(_Strict):
    """One step of a guided walkthrough."""

    number: int = Field(ge=1)
    """1-based position; must follow the previous step's number."""
    instruction: str = Field(min_length=10)
    """The guide's instruction, in plain Swedish."""
    click: str | None = None
    """What to click in the platform's UI, if anything."""
    help: str = Field(min_length=10)
    """What to check when stuck on this step."""
    why: str | None = None
    """Why the step matters (recovery codes)."""


class Guide(_Strict):
    """A guided walkthrough; another platform's guide is a new YAML file, not new code."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Stable id stored in conversation state."""
    platform: str
    """The platform it is for (a platform id from platforms.yaml)."""
    title: str
    """Shown on each step's card."""
    intro: str
    """First message: what the guide is, how to leave it."""
    steps: list[GuideStep] = Field(min_length=1)
    """The steps in order."""
    summary: str
    """Shown after the last step."""
    help_url: HttpUrl
    """The platform's own help page, offered when stuck."""

    @model_validator(mode="after")
    def _numbered(self) -> Guide:
        for index, step in enumerate(self.steps, start=1):
            if step.number != index:
                raise ValueError(
                    f"steps must be numbered 1..{len(self.steps)} in order; step {index} has number {step.number}"
                )
        return self


class Election(_Strict):
    """The election the bot speaks of; overridable by ELECTION_NAME / ELECTION_DATE."""

    name: str = Field(min_length=2)
    """E.g. "EU-valet"."""
    date: dt.date
    """Election day (the guide's own: EU-valet 26 May)."""


class ChecklistItem(_Strict):
    """One thing each team confirms on the announcement's checklist ("Spara" on the card)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    """Stable id stored with each conversation's readiness; a per-platform item gets
    `<id>-<platform id>` for each configured platform."""
    label: str = Field(min_length=3, max_length=120)
    """What the team confirms, short Swedish; `{platform}` is the platform's name."""
    per_platform: bool = False
    """One item for each platform in platforms.yaml (a platform added there appears by itself);
    a team marks the platforms it does not use "används inte"."""
    topic: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """The topic "Visa hur" answers (for a per-platform item: with that platform; a platform that
    has a guide starts the guide)."""


class Announcement(_Strict):
    """The pre-election announcement's content; {placeholders} filled from the election."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    """Ledger key: the same id is never delivered twice to one conversation."""
    heading: str
    """Card heading."""
    paragraphs: list[str] = Field(min_length=1)
    """Body, one paragraph each."""
    checklist: list[ChecklistItem] = Field(default_factory=list)
    """What each conversation confirms on the card (election readiness); empty: no checklist."""


class Organisation(_Strict):
    """Who people should contact; configurable, never invented."""

    support_contact: str = Field(min_length=5)
    """Contact for a hijacked account (placeholder until configured)."""


class KnowledgeBase(_Strict):
    """Everything the bot knows, validated as a whole (cross references included)."""

    platforms: list[Platform]
    concepts: list[Concept]
    topics: list[Topic]
    guides: list[Guide]
    election: Election
    announcement: Announcement
    organisation: Organisation
    asked: dict[str, list[Annotated[str, Field(min_length=1)]]] = Field(default_factory=dict)
    """Questions people asked (asked.yaml), under the id of the topic that answers each, or under
    `OUT_OF_SCOPE` when the bot should not answer it: the matcher learns from them as from the
    topics' examples."""

    @field_validator("platforms")
    @classmethod
    def _platforms(cls, value: list[Platform]) -> list[Platform]:
        if not value:
            raise ValueError("at least one platform is needed")
        _no_duplicates([p.id for p in value], "platform")
        return value

    @field_validator("topics")
    @classmethod
    def _core_topics(cls, value: list[Topic]) -> list[Topic]:
        ids = [t.id for t in value]
        _no_duplicates(ids, "topic")
        missing = [t for t in CORE_TOPICS if t not in ids]
        if missing:
            raise ValueError(f"missing topic(s) the bot's replies point to: {', '.join(missing)}")
        return value

    @model_validator(mode="after")
    def _references(self) -> KnowledgeBase:
        _no_duplicates([c.id for c in self.concepts], "concept")
        _no_duplicates([g.id for g in self.guides], "guide")
        platforms = {p.id for p in self.platforms}
        topics = {t.id for t in self.topics}
        known = {c.id for c in self.concepts} | {"platform"} | {f"platform_{p}" for p in platforms}
        for topic in self.topics:
            used = set(topic.signals) | {c for alt in topic.requires for c in alt}
            unknown = sorted(used - known)
            if unknown:
                raise ValueError(f"topic {topic.id!r} uses unknown concept(s): {', '.join(unknown)}")
            unknown = sorted(set(topic.related) - topics)
            if unknown:
                raise ValueError(f"topic {topic.id!r} has unknown related topic(s): {', '.join(unknown)}")
        if OUT_OF_SCOPE in topics:
            raise ValueError(f"topic id {OUT_OF_SCOPE!r} is kept for the questions the bot should not answer")
        for key in self.asked:
            if key != OUT_OF_SCOPE and key not in topics:
                raise ValueError(
                    f"asked questions are filed under unknown topic {key!r}: use a topic id from topics.yaml"
                    f" or {OUT_OF_SCOPE}"
                )
        for guide in self.guides:
            if guide.platform not in platforms:
                raise ValueError(f"guide {guide.id!r} is for unknown platform {guide.platform!r}")
        platform_ids = {p.id for p in self.platforms}
        for topic in self.topics:
            for link in topic.links:
                if link.platform is not None and link.platform not in platform_ids:
                    raise ValueError(f"topic {topic.id!r} has a link for unknown platform {link.platform!r}")
        return self

    def has_topic(self, topic_id: object) -> bool:
        return any(t.id == topic_id for t in self.topics)

    def has_platform(self, platform_id: object) -> bool:
        return any(p.id == platform_id for p in self.platforms)

    def topic(self, topic_id: str) -> Topic:
        return next(t for t in self.topics if t.id == topic_id)

    def platform(self, platform_id: str) -> Platform:
        return next(p for p in self.platforms if p.id == platform_id)

    def guide_for(self, platform_id: str) -> Guide | None:
        return next((g for g in self.guides if g.platform == platform_id), None)

    def guide(self, guide_id: str) -> Guide | None:
        return next((g for g in self.guides if g.id == guide_id), None)


def _no_duplicates(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"duplicate {what} id {item!r}")
        seen.add(item)
