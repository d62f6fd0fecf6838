"""From a `Match` to the answer a person should get, as plain data (`Answer`).

This is where the matcher's verdict becomes a reply: answer when confident, ask back for the
platform, offer a "menade du…" choice, or say kindly what is out of scope. Rendering (cards,
text) happens in `cards.answer`; nothing here knows about Teams.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Literal

from pydantic import BaseModel, Field

from knowledge.matcher import Candidate, Match
from knowledge.models import Election, Guide, KnowledgeBase, Link, Topic

__all__ = [
    "Answer",
    "FollowUp",
    "Composer",
    "NONE_OF_THESE",
    "election_when",
    "election_is_coming",
    "before_election",
    "ask_command",
    "swedish_date",
]

log = logging.getLogger(__name__)

_MONTHS = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
]

NONE_OF_THESE = "Ingen av dem"
"""The last button of a "menade du…" choice: none of the topics offered; the out-of-scope answer."""

AnswerKind = Literal["answer", "clarify_platform", "did_you_mean", "out_of_scope", "smalltalk"]


class FollowUp(BaseModel):
    """A button offered under an answer; `data` is sent back as the card submit's value."""

    label: str
    """Button text."""
    data: dict[str, Any]
    """Command payload, e.g. {"cmd": "ask", "topic": "recovery_codes"}."""


class Answer(BaseModel):
    """What to tell the user, before any formatting."""

    kind: AnswerKind
    """Which kind of reply this is."""
    topic: str | None = None
    """Topic answered (None when out of scope or asking back)."""
    platform: str | None = None
    """Platform the answer is about, if any."""
    title: str
    """Heading."""
    text: str
    """Body in plain Swedish."""
    links: list[Link] = Field(default_factory=list)
    """Official links, shown as buttons."""
    followups: list[FollowUp] = Field(default_factory=list)
    """Next steps offered as buttons."""
    handoff: bool = False
    """A person should take this over (help channel)."""


def ask_command(topic: str, platform: str | None = None) -> dict[str, Any]:
    """Card payload that asks the bot for a topic, as if typed."""
    data: dict[str, Any] = {"cmd": "ask", "topic": topic}
    if platform:
        data["platform"] = platform
    return data


def swedish_date(day: dt.date) -> str:
    """ "26 maj 2019": how a date reads in the answers."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def election_when(election: Election, today: dt.date) -> str:
    """One sentence on when the election is; a past date reads as past, never as coming."""
    days = (election.date - today).days
    when = swedish_date(election.date)
    name = election.name[:1].upper() + election.name[1:]  # it starts the sentence
    if days > 1:
        return f"{name} är den {when}, om {days} dagar."
    if days == 1:
        return f"{name} är i morgon, den {when}."
    if days == 0:
        return f"{name} är i dag, den {when}."
    return f"{name} var den {when}. Något nytt valdatum är inte inlagt än, men råden gäller inför varje val."


def election_is_coming(election: Election | None, today: dt.date) -> bool:
    """True from now until election day; a passed (or no) election gets the general wording."""
    return election is not None and election.date >= today


def before_election(election: Election | None, today: dt.date) -> str:
    """What `{before_election}` says: "inför EU-valet" while it is coming, else "inför ett val"."""
    return f"inför {election.name}" if election is not None and election_is_coming(election, today) else "inför ett val"


class Composer:
    """Turns matches into answers using the knowledge base and the configured organisation.

    Placeholders in answers: {election_name}, {election_when} (one sentence on the date),
    {before_election} ("inför EU-valet" while the election is coming, "inför ett val" after it)
    and {support_contact}. A topic with `answer_before_election` says that text instead of
    `answer` until election day.
    """

    def __init__(self, kb: KnowledgeBase, election: Election | None = None, support_contact: str | None = None):
        self.kb = kb
        self.election = election or kb.election
        self.support_contact = support_contact or kb.organisation.support_contact
        self.contact_configured = bool(support_contact)
        """False: SUPPORT_CONTACT is not set, the knowledge base's general wording is used."""
        self._warned_contact = False

    # -------------------------------------------------------------- entry points
    def compose(self, match: Match, today: dt.date | None = None) -> Answer:
        today = today or dt.date.today()
        if match.topic is None:
            return self.did_you_mean(match) if match.near_miss and self._options(match) else self.out_of_scope(today)
        if match.ambiguous and match.runners_up:
            return self.did_you_mean(match)
        if match.topic == "enable_2fa":
            if match.platforms:
                return self.enable_2fa(match.platforms, today)
            if "all_platforms" in match.concepts:
                return self.topic("enable_2fa", today=today)
            if "other_platform" in match.concepts:
                return self.other_platform()
            return self.clarify_platform()
        return self.topic(match.topic, today=today, platforms=match.platforms)

    def topic(self, topic_id: str, *, today: dt.date | None = None, platforms: list[str] | None = None) -> Answer:
        """The answer for a topic chosen by id (a button, or a resolved clarification)."""
        today = today or dt.date.today()
        if topic_id == "enable_2fa" and platforms:
            return self.enable_2fa(platforms, today)
        topic = self.kb.topic(topic_id)
        links = self._links_for(topic, platforms)
        if topic_id == "enable_2fa":
            links = [self._help_link(p.id) for p in self.kb.platforms]
        if topic_id == "account_hijacked" and not self.contact_configured and not self._warned_contact:
            self._warned_contact = True
            log.warning(
                "SUPPORT_CONTACT is not set: the hijacked-account answer names the user's own "
                "IT support and communications department (organisation.yaml's support_contact)"
            )
        followups = [FollowUp(label=self.kb.topic(r).label, data=ask_command(r)) for r in topic.related]
        if topic_id in {"enable_2fa", "recovery_codes"} and self.kb.guides:
            followups.insert(0, self._guide_followup())
        # Teams shows six actions: the links first, then as many follow-ups as fit.
        followups = followups[: max(1, min(4, 6 - len(links)))]
        return Answer(
            kind="smalltalk" if topic.smalltalk else "answer",
            topic=topic_id,
            platform=platforms[0] if platforms else None,
            title=topic.title,
            text=self._fill(self._answer_text(topic, today), today),
            links=links,
            followups=followups,
            handoff=topic.handoff,
        )

    def enable_2fa(self, platforms: list[str], today: dt.date | None = None) -> Answer:
        today = today or dt.date.today()
        chosen = [self.kb.platform(p) for p in dict.fromkeys(platforms)]
        names = " och ".join(p.name for p in chosen) if len(chosen) <= 2 else ", ".join(p.name for p in chosen)
        followups: list[FollowUp] = []
        guide = next((g for g in (self.kb.guide_for(p.id) for p in chosen) if g), None)
        if guide is not None:
            followups.append(self._guide_followup(guide))
        followups.append(FollowUp(label=self.kb.topic("what_is_2fa").label, data=ask_command("what_is_2fa")))
        followups.append(FollowUp(label=self.kb.topic("recovery_codes").label, data=ask_command("recovery_codes")))
        return Answer(
            kind="answer",
            topic="enable_2fa",
            platform=chosen[0].id,
            title=f"Tvåfaktorsinloggning på {names}",
            text="\n\n".join(self._fill(p.enable_answer, today) for p in chosen),
            links=[self._help_link(p.id) for p in chosen],
            followups=followups,
        )

    def clarify_platform(self) -> Answer:
        followups = [FollowUp(label=p.name, data=ask_command("enable_2fa", p.id)) for p in self.kb.platforms]
        followups.append(FollowUp(label="Alla kanaler", data=ask_command("enable_2fa", "all")))
        return Answer(
            kind="clarify_platform",
            topic=None,
            title="Vilken kanal gäller det?",
            text='Vilken kanal gäller det? Välj nedan eller skriv namnet, till exempel "Instagram".',
            followups=followups,
        )

    def _options(self, match: Match) -> list[str]:
        """The two or three topics to offer: plausible ones (at least half the best score), no small talk."""
        ranked = match.candidates
        if not ranked and match.topic is not None:  # the matcher lists candidates; an older Match may not
            ranked = [Candidate(topic=match.topic, score=match.score), *match.runners_up]
        best = max((c.score for c in ranked if c.topic), default=0.0)
        return [
            c.topic
            for c in ranked
            if self.kb.has_topic(c.topic) and not self.kb.topic(c.topic).smalltalk and c.score >= best / 2
        ][:3]

    def did_you_mean(self, match: Match) -> Answer:
        """Plausible but not sure (a near miss), or two topics too close to call: offer them."""
        followups = [
            FollowUp(label=self.kb.topic(t).label, data=ask_command(t, match.platform)) for t in self._options(match)
        ]
        followups.append(FollowUp(label=NONE_OF_THESE, data={"cmd": "none"}))
        return Answer(
            kind="did_you_mean",
            title="Menade du…",
            text="Jag är inte säker på vad du menar. Menade du något av de här? Välj ett alternativ "
            "eller skriv frågan på ett annat sätt.",
            followups=followups,
        )

    def out_of_scope(self, today: dt.date | None = None) -> Answer:
        examples = ["enable_2fa", "recovery_codes", "account_hijacked", "moderate_discussion"]
        names = ", ".join(p.name for p in self.kb.platforms[:-1]) + " och " + self.kb.platforms[-1].name
        return Answer(
            kind="out_of_scope",
            title="Det kan jag tyvärr inte svara på",
            text=(
                "Det ligger utanför det jag kan. Jag hjälper dig att skydda verksamhetens sociala "
                f"mediekonton {before_election(self.election, today or dt.date.today())}: "
                f"tvåfaktorsinloggning på {names}, återställningskoder, kapade konton, att hålla koll "
                "på kanalen och att moderera diskussioner."
            ),
            followups=[FollowUp(label=self.kb.topic(t).label, data=ask_command(t)) for t in examples],
        )

    # -------------------------------------------------------------- helpers
    def _guide_followup(self, guide: Guide | None = None) -> FollowUp:
        guide = guide or self.kb.guides[0]
        name = self.kb.platform(guide.platform).name
        return FollowUp(label=f"Starta {name}-guiden", data={"cmd": "guide", "action": "start", "guide": guide.id})

    def _help_link(self, platform_id: str) -> Link:
        """The guide's link for the platform: its help page on tvåfaktorsinloggning, named by
        the platform (the answer around it says what the page is about; a link button holds 26)."""
        platform = self.kb.platform(platform_id)
        return Link(label=platform.name[:26], url=platform.help_url, platform=platform.id)

    @staticmethod
    def _links_for(topic: Topic, platforms: list[str] | None) -> list[Link]:
        """The topic's links; when the question named platforms, only theirs (and general ones)."""
        if not platforms:
            return list(topic.links)
        named = [link for p in platforms for link in topic.links if link.platform == p]
        general = [link for link in topic.links if link.platform is None]
        return named + general if named else list(topic.links)

    def _answer_text(self, topic: Topic, today: dt.date) -> str:
        """`answer_before_election` until election day when the topic has one, else `answer`."""
        if topic.answer_before_election and election_is_coming(self.election, today):
            return topic.answer_before_election
        return topic.answer

    def other_platform(self) -> Answer:
        names = ", ".join(p.name for p in self.kb.platforms[:-1]) + " och " + self.kb.platforms[-1].name
        return Answer(
            kind="answer",
            topic="enable_2fa",
            title="Den kanalen tar guiden inte upp",
            text=(
                f"Stadens guide tar upp {names}. Andra kanaler har oftast också tvåfaktorsinloggning: "
                "leta efter den i kontots säkerhetsinställningar och slå på den där också. Länkarna "
                "nedan gäller kanalerna i stadens guide."
            ),
            links=[self._help_link(p.id) for p in self.kb.platforms],
        )

    def _fill(self, text: str, today: dt.date) -> str:
        """Known placeholders filled in; any other brace a communicator typed stays as it is."""
        values = {
            "election_name": self.election.name,
            "election_when": election_when(self.election, today),
            "before_election": before_election(self.election, today),
            "support_contact": self.support_contact,
        }
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        return text
