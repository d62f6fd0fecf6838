"""The knowledge base as pydantic models: what the YAML files under `knowledge/data/` must hold.

Content is data, not code: communicators edit the YAML, these models refuse anything the bot
could not use (an unknown topic id, a missing answer, an invalid URL), and `python -m knowledge
check` reports the file and line.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

__all__ = [
    "TOPIC_IDS",
    "PLATFORM_IDS",
    "TopicId",
    "PlatformId",
    "Link",
    "Platform",
    "Concept",
    "Topic",
    "GuideStep",
    "Guide",
    "Election",
    "Announcement",
    "Organisation",
    "KnowledgeBase",
]

TopicId = Literal[
    "enable_2fa",
    "what_is_2fa",
    "why_2fa",
    "election_risk",
    "recovery_codes",
    "monitor_channel",
    "moderate_discussion",
    "close_comments",
    "account_hijacked",
    "election_date",
    "capabilities",
    "greeting",
    "thanks",
]
TOPIC_IDS: tuple[str, ...] = TopicId.__args__  # type: ignore[attr-defined]

PlatformId = Literal["facebook", "instagram", "linkedin", "twitter"]
PLATFORM_IDS: tuple[str, ...] = PlatformId.__args__  # type: ignore[attr-defined]


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

    id: PlatformId
    """Stable id used by the matcher's output and the eval set."""
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
    """Referenced by topics' `signals` and `requires`."""
    terms: list[str] = Field(min_length=1)
    """Words or phrases; a trailing `*` matches any ending (Swedish inflection)."""


class Topic(_Strict):
    """One thing the bot can answer, with what it takes to recognise it."""

    id: TopicId
    """A topic id from DESIGN.md."""
    title: str = Field(min_length=1, max_length=80)
    """Card heading."""
    button: str | None = Field(default=None, min_length=1, max_length=28)
    """What a button offering this topic says when the title is too long for one (a button holds
    28 characters on a phone, `cards.message.MAX_BUTTON_TITLE`); without it the button shows the
    title."""
    answer: str = Field(min_length=1)
    """Short, plain Swedish. May use {election_name}, {election_when}, {support_contact}."""
    examples: list[str] = Field(min_length=2)
    """Example questions, Swedish first; used for similarity and in tests."""
    requires: list[list[str]] = Field(min_length=1)
    """Alternatives, each a list of concept ids that must all be present (DNF)."""
    signals: dict[str, float] = Field(min_length=1)
    """Concept id -> weight; negative weights speak against the topic."""
    links: list[Link] = Field(default_factory=list)
    """Official links for the answer."""
    related: list[TopicId] = Field(default_factory=list)
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
    platform: PlatformId
    """The platform it is for."""
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
    def _numbered(self) -> "Guide":
        for index, step in enumerate(self.steps, start=1):
            if step.number != index:
                raise ValueError(f"steps must be numbered 1..{len(self.steps)} in order; step {index} has number {step.number}")
        return self


class Election(_Strict):
    """The election the bot speaks of; overridable by ELECTION_NAME / ELECTION_DATE."""

    name: str = Field(min_length=2)
    """E.g. "EU-valet"."""
    date: dt.date
    """Election day (the guide's own: EU-valet 26 May)."""


class Announcement(_Strict):
    """The pre-election announcement's content; {placeholders} filled from the election."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    """Ledger key: the same id is never delivered twice to one conversation."""
    heading: str
    """Card heading."""
    paragraphs: list[str] = Field(min_length=1)
    """Body, one paragraph each."""


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

    @field_validator("platforms")
    @classmethod
    def _all_platforms(cls, value: list[Platform]) -> list[Platform]:
        ids = [p.id for p in value]
        _no_duplicates(ids, "platform")
        missing = set(PLATFORM_IDS) - set(ids)
        if missing:
            raise ValueError(f"missing platform(s): {', '.join(sorted(missing))}")
        return value

    @field_validator("topics")
    @classmethod
    def _all_topics(cls, value: list[Topic]) -> list[Topic]:
        ids = [t.id for t in value]
        _no_duplicates(ids, "topic")
        missing = set(TOPIC_IDS) - set(ids)
        if missing:
            raise ValueError(f"missing topic(s): {', '.join(sorted(missing))}")
        return value

    @model_validator(mode="after")
    def _references(self) -> "KnowledgeBase":
        _no_duplicates([c.id for c in self.concepts], "concept")
        _no_duplicates([g.id for g in self.guides], "guide")
        known = {c.id for c in self.concepts} | {"platform"} | {f"platform_{p}" for p in PLATFORM_IDS}
        for topic in self.topics:
            used = set(topic.signals) | {c for alt in topic.requires for c in alt}
            unknown = sorted(used - known)
            if unknown:
                raise ValueError(f"topic {topic.id!r} uses unknown concept(s): {', '.join(unknown)}")
        platform_ids = {p.id for p in self.platforms}
        for topic in self.topics:
            for link in topic.links:
                if link.platform is not None and link.platform not in platform_ids:
                    raise ValueError(f"topic {topic.id!r} has a link for unknown platform {link.platform!r}")
        return self

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
