"""From a `Match` to the answer a person should get, as plain data (`Answer`).

This is where the matcher's verdict becomes a reply: answer when confident, ask back for the
platform, offer a "menade du…" choice, or say kindly what is out of scope. Rendering (cards,
text) happens in `cards.answer`; nothing here knows about Teams.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from knowledge.matcher import Candidate, Match
from knowledge.models import Election, Guide, KnowledgeBase, Link

__all__ = ["Answer", "FollowUp", "Composer", "NONE_OF_THESE", "election_when", "ask_command"]

_MONTHS = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
           "september", "oktober", "november", "december"]

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


def _swedish_date(day: dt.date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def election_when(election: Election, today: dt.date) -> str:
    """One sentence on when the election is; a past date reads as past, never as coming."""
    days = (election.date - today).days
    when = _swedish_date(election.date)
    if days > 1:
        return f"{election.name} är den {when}, om {days} dagar."
    if days == 1:
        return f"{election.name} är i morgon, den {when}."
    if days == 0:
        return f"{election.name} är i dag, den {when}."
    return (
        f"{election.name} var den {when}. Något nytt valdatum är inte inlagt än, men råden gäller "
        "inför varje val."
    )


class Composer:
    """Turns matches into answers using the knowledge base and the configured organisation."""

    def __init__(self, kb: KnowledgeBase, election: Election | None = None, support_contact: str | None = None):
        self.kb = kb
        self.election = election or kb.election
        self.support_contact = support_contact or kb.organisation.support_contact

    # -------------------------------------------------------------- entry points
    def compose(self, match: Match, today: dt.date | None = None) -> Answer:
        today = today or dt.date.today()
        if match.topic is None:
            return self.did_you_mean(match) if match.near_miss and self._options(match) else self.out_of_scope()
        if match.ambiguous and match.runners_up:
            return self.did_you_mean(match)
        if match.topic == "enable_2fa":
            if match.platforms:
                return self.enable_2fa(match.platforms)
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
            return self.enable_2fa(platforms)
        topic = self.kb.topic(topic_id)
        links = list(topic.links)
        if topic_id == "enable_2fa":
            links = [self._help_link(p.id) for p in self.kb.platforms]
        if topic_id == "account_hijacked":
            chosen = platforms or [p.id for p in self.kb.platforms]
            links = [self._help_link(p, hijack=True) for p in chosen]
        followups = [FollowUp(label=self.kb.topic(r).title, data=ask_command(r)) for r in topic.related]
        if topic_id in {"enable_2fa", "recovery_codes"} and self.kb.guides:
            followups.insert(0, self._guide_followup())
        # Teams shows six actions: the links first, then as many follow-ups as fit.
        followups = followups[: max(1, min(4, 6 - len(links)))]
        return Answer(
            kind="smalltalk" if topic.smalltalk else "answer",
            topic=topic_id,
            platform=(platforms or [None])[0],
            title=topic.title,
            text=self._fill(topic.answer, today),
            links=links,
            followups=followups,
            handoff=topic.handoff,
        )

    def enable_2fa(self, platforms: list[str]) -> Answer:
        chosen = [self.kb.platform(p) for p in dict.fromkeys(platforms)]
        names = " och ".join(p.name for p in chosen) if len(chosen) <= 2 else ", ".join(p.name for p in chosen)
        followups: list[FollowUp] = []
        guide = next((g for g in (self.kb.guide_for(p.id) for p in chosen) if g), None)
        if guide is not None:
            followups.append(self._guide_followup(guide))
        followups.append(FollowUp(label="Vad är tvåfaktorsinloggning?", data=ask_command("what_is_2fa")))
        followups.append(FollowUp(label="Återställningskoder", data=ask_command("recovery_codes")))
        return Answer(
            kind="answer",
            topic="enable_2fa",
            platform=chosen[0].id,
            title=f"Tvåfaktorsinloggning på {names}",
            text="\n\n".join(p.enable_answer for p in chosen),
            links=[self._help_link(p.id) for p in chosen],
            followups=followups,
        )

    def clarify_platform(self) -> Answer:
        followups = [
            FollowUp(label=p.name, data=ask_command("enable_2fa", p.id)) for p in self.kb.platforms
        ]
        followups.append(FollowUp(label="Alla kanaler", data=ask_command("enable_2fa", "all")))
        return Answer(
            kind="clarify_platform",
            topic=None,
            title="Vilken kanal gäller det?",
            text="Vilken kanal gäller det? Välj nedan eller skriv namnet, till exempel \"Instagram\".",
            followups=followups,
        )

    def _options(self, match: Match) -> list[str]:
        """The two or three topics to offer: plausible ones (at least half the best score), no small talk."""
        ranked = match.candidates or [Candidate(topic=match.topic, score=match.score), *match.runners_up]
        best = max((c.score for c in ranked if c.topic), default=0.0)
        return [c.topic for c in ranked if self.kb.has_topic(c.topic) and not self.kb.topic(c.topic).smalltalk
                and c.score >= best / 2][:3]

    def did_you_mean(self, match: Match) -> Answer:
        """Plausible but not sure (a near miss), or two topics too close to call: offer them."""
        followups = [
            FollowUp(label=self.kb.topic(t).title, data=ask_command(t, match.platform)) for t in self._options(match)
        ]
        followups.append(FollowUp(label=NONE_OF_THESE, data={"cmd": "none"}))
        return Answer(
            kind="did_you_mean",
            title="Menade du…",
            text="Jag är inte säker på vad du menar. Menade du något av de här? Välj ett alternativ "
            "eller skriv frågan på ett annat sätt.",
            followups=followups,
        )

    def out_of_scope(self) -> Answer:
        examples = ["enable_2fa", "recovery_codes", "account_hijacked", "moderate_discussion"]
        return Answer(
            kind="out_of_scope",
            title="Det kan jag tyvärr inte svara på",
            text=(
                "Det ligger utanför det jag kan. Jag hjälper dig att skydda verksamhetens sociala "
                "mediekonton inför valet: tvåfaktorsinloggning på Facebook, Instagram, LinkedIn och "
                "Twitter (X), återställningskoder, kapade konton, att hålla koll på kanalen och att "
                "moderera diskussioner."
            ),
            followups=[FollowUp(label=self.kb.topic(t).title, data=ask_command(t)) for t in examples],
        )

    # -------------------------------------------------------------- helpers
    def _guide_followup(self, guide: Guide | None = None) -> FollowUp:
        guide = guide or self.kb.guides[0]
        name = self.kb.platform(guide.platform).name
        return FollowUp(label=f"Starta {name}-guiden", data={"cmd": "guide", "action": "start", "guide": guide.id})

    def _help_link(self, platform_id: str, hijack: bool = False) -> Link:
        """The guide's link for the platform: its 2FA help page (also where to secure the account)."""
        platform = self.kb.platform(platform_id)
        label = f"{platform.name}s hjälp om inloggning" if hijack else f"Tvåfaktor på {platform.name}"
        return Link(label=label[:60], url=platform.help_url)

    def other_platform(self) -> Answer:
        names = ", ".join(p.name for p in self.kb.platforms[:-1]) + " och " + self.kb.platforms[-1].name
        return Answer(
            kind="answer",
            topic="enable_2fa",
            title="Den kanalen tar guiden inte upp",
            text=(f"Stadens guide tar upp {names}. Andra kanaler har oftast också tvåfaktorsinloggning "
                  "eller tvåstegsverifiering: leta i kontots säkerhetsinställningar eller i kanalens "
                  "egen hjälp, och slå på det där också."),
            links=[self._help_link(p.id) for p in self.kb.platforms],
        )

    def _fill(self, text: str, today: dt.date) -> str:
        return text.format(
            election_name=self.election.name,
            election_when=election_when(self.election, today),
            support_contact=self.support_contact,
        )
