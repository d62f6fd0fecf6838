"""`python -m knowledge review`: one HTML page showing everything the bot says, for its owners.

The communicators who own the content review it here rather than by chatting with the bot: every
topic answer, every platform's answer and every guide step (with its help), rendered from the
very Adaptive Card JSON the bot sends (`cards.*`) into a Teams-like card (`cards.html`). Under
each card: where its text and links are written (file:line, from `knowledge.sources`) and how
well the matcher finds the topic on the evaluation set (`knowledge.evaluation`), when present.
Answers that depend on the election are shown both ways: as they read today with the configured
election, and as they would read in the other case (an election coming, or none).

The page is one self-contained file: styles inline, no scripts, no external assets; it can be
mailed or opened from disk.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cards.answer import render_answer
from cards.guide import PersonHelp, render_guide_replies
from cards.html import CARD_CSS, message_html
from cards.message import OutgoingMessage
from cards.welcome import welcome_message
from dialogs import GuideCommand, GuideReply, GuideState, GuideStatus, step
from knowledge.answers import Composer, election_is_coming, swedish_date
from knowledge.evaluation import Report
from knowledge.models import Election, Guide, KnowledgeBase
from knowledge.sources import URL_IN_TEXT, SourceMap

__all__ = ["ReviewSettings", "build_review", "PLACEHOLDERS"]

PLACEHOLDERS = ("election_name", "election_when", "before_election", "support_contact")
"""What the composer fills in; any other {name} in a text is shown as a problem."""
_PLACEHOLDER = re.compile(r"\{([A-Za-z_åäöÅÄÖ]+)\}")
_T0 = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""A fixed time for the guide engine; the cards do not show it."""


@dataclass(frozen=True)
class ReviewSettings:
    """The configuration the page shows the content with (the bot's own settings)."""

    election: Election
    """The configured election (ELECTION_NAME / ELECTION_DATE, else organisation.yaml)."""
    support_contact: str
    """Whom the hijack answer names."""
    contact_configured: bool
    """False: SUPPORT_CONTACT is not set and organisation.yaml's wording is used."""
    experts: bool
    """Questions can be handed to experts (EXPERTS_CHANNEL_ID)."""
    today: dt.date
    """The day the answers are shown for."""
    eval_name: str | None = None
    """The evaluation file's name, when one was read."""


def _date(day: dt.date) -> str:
    return swedish_date(day)


def _esc(text: object) -> str:
    return html.escape(str(text))


# ---------------------------------------------------------------------------------------------
# Pieces of the page


class _Page:
    """Collects sections and renders the page."""

    def __init__(self, kb: KnowledgeBase, sources: SourceMap, settings: ReviewSettings, report: Report | None):
        self.kb = kb
        self.sources = sources
        self.settings = settings
        self.report = report
        self.sections: list[tuple[str, str, str]] = []  # (anchor, heading, html)

    # -- where things are written
    def place(self, *parts: object) -> str:
        found = self.sources.place(*parts)
        return f'<code class="where">{_esc(found)}</code>' if found else ""

    def links_block(self, messages: Iterable[OutgoingMessage]) -> str:
        """Every address a person can follow from these messages, and where it is written."""
        urls: list[str] = []
        for message in messages:
            for action in (message.card or {}).get("actions", []):
                if action.get("type") == "Action.OpenUrl":
                    urls.append(str(action["url"]))
            urls += [u.rstrip(".,;:!?") for u in URL_IN_TEXT.findall(message.text)]
        rows = []
        for url in dict.fromkeys(urls):
            refs = self.sources.links_to(url)
            where = (
                ", ".join(f'<code class="where">{_esc(r.place)}</code>' for r in refs)
                or '<span class="muted">skrivs av koden</span>'
            )
            rows.append(f'<li><a href="{_esc(url)}">{_esc(url)}</a> &nbsp;{where}</li>')
        return f'<div class="links"><b>Länkar</b><ul>{"".join(rows)}</ul></div>' if rows else ""

    def eval_block(self, topic_id: str) -> str:
        if self.report is None:
            return ""
        right, total = self.report.per_topic.get(topic_id, [0, 0])
        if not total:
            return f'<div class="eval muted">Utvärdering ({_esc(self.settings.eval_name)}): inga frågor om ämnet.</div>'
        misses = [
            (expected, got, q) for expected, got, q in self.report.confusions if expected.split("/")[0] == topic_id
        ]
        cls = "good" if right == total else ("warn" if right / total >= 0.8 else "bad")
        items = "".join(f"<li>”{_esc(q)}” gav <code>{_esc(got)}</code></li>" for _, got, q in misses)
        return (
            f'<div class="eval {cls}">Utvärdering ({_esc(self.settings.eval_name)}): {right} av {total} '
            f"frågor rätt ({right / total:.0%}).{f'<ul>{items}</ul>' if items else ''}</div>"
        )

    def messages(self, messages: list[OutgoingMessage]) -> str:
        return "".join(message_html(m.text, m.card) for m in messages)

    def item(self, heading: str, meta: str, body: str, anchor: str = "") -> str:
        anchor_attr = f' id="{_esc(anchor)}"' if anchor else ""
        return f'<article class="item"{anchor_attr}><h3>{heading}</h3><div class="meta">{meta}</div>{body}</article>'

    def add(self, anchor: str, heading: str, content: str) -> None:
        self.sections.append((anchor, heading, content))

    def render(self, problems: list[str]) -> str:
        s = self.settings
        coming = election_is_coming(s.election, s.today)
        election = f"{_esc(s.election.name)}, {_date(s.election.date)} – " + (
            "kommande: svaren säger ”inför " + _esc(s.election.name) + "”."
            if coming
            else "har redan varit: svaren använder allmänna formuleringar (”inför ett val”, ”i valtider”)."
        )
        contact = (
            _esc(s.support_contact)
            if s.contact_configured
            else f"inte inlagd (SUPPORT_CONTACT), svaren hänvisar till ”{_esc(s.support_contact)}”."
        )
        summary = ""
        if self.report is not None:
            r = self.report
            summary = (
                f"<li>Träffsäkerhet på {_esc(s.eval_name)}: {r.correct} av {r.total} frågor rätt "
                f"({r.accuracy:.0%}); frågor utanför ämnet avvisade: {r.out_of_scope[0]} av "
                f"{r.out_of_scope[1]}.</li>"
            )
        else:
            summary = "<li>Ingen utvärderingsfil hittades; träffsäkerhet visas inte.</li>"
        warn = ""
        if problems:
            warn = (
                '<div class="problems"><b>Att rätta</b><ul>'
                + "".join(f"<li>{p}</li>" for p in problems)
                + "</ul></div>"
            )
        nav = " · ".join(f'<a href="#{a}">{_esc(h)}</a>' for a, h, _ in self.sections)
        body = "".join(f'<section id="{a}"><h2>{_esc(h)}</h2>{c}</section>' for a, h, c in self.sections)
        return f"""<!doctype html>
<html lang="sv"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kanalvakten – granskning av innehållet</title>
<style>{_PAGE_CSS}{CARD_CSS}</style></head>
<body><main>
<h1>Kanalvakten – så svarar boten</h1>
<p class="lead">Varje svar, varje kanals svar och varje steg i guiden, som det ser ut i Teams den
{_date(s.today)}. Under varje kort står var texten och länkarna finns i filerna (fil:rad), så att
du kan ändra dem där. Granska texten, följ länkarna och kör <code>python -m knowledge check</code>
när du har ändrat något.</p>
<ul class="facts">
<li>Valet: {election}</li>
<li>Kontakt vid kapat konto: {contact}</li>
<li>Experter: {"frågor kan lämnas vidare till experternas kanal" if s.experts else "ingen expertkanal inlagd (EXPERTS_CHANNEL_ID)"}.</li>
{summary}
</ul>
{warn}
<nav>{nav}</nav>
{body}
</main></body></html>
"""


_PAGE_CSS = """
body{margin:0;background:#f0f0f0;font-family:"Segoe UI","Segoe UI Web",system-ui,-apple-system,Roboto,
  "Helvetica Neue",Arial,sans-serif;color:#242424;font-size:14px}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 8px}h2{font-size:21px;margin:32px 0 8px;padding-top:8px;border-top:2px solid #d1d1d1}
h3{font-size:16px;margin:0 0 4px}
.lead{max-width:760px;line-height:1.5}
.facts{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:10px 10px 10px 28px;line-height:1.6}
nav{position:sticky;top:0;background:#f0f0f0;padding:8px 0;z-index:1;border-bottom:1px solid #d1d1d1}
nav a{color:#4f52b2}
.item{background:#fafafa;border:1px solid #e6e6e6;border-radius:8px;padding:14px 16px;margin:14px 0}
.meta{font-size:12px;color:#616161;margin-bottom:8px}
.meta code,.where{font-family:Consolas,"Cascadia Mono",Menlo,monospace;font-size:12px;background:#ebebf5;
  color:#33344a;padding:1px 4px;border-radius:3px}
.variant{font-size:12px;font-weight:600;color:#4f52b2;margin:10px 0 0;text-transform:uppercase;letter-spacing:.03em}
.links{font-size:12px;margin:4px 0 0 42px}.links ul{margin:4px 0;padding-left:18px}
.links a{color:#4f52b2;overflow-wrap:anywhere}
.eval{font-size:12px;margin:6px 0 0 42px;padding:4px 8px;border-radius:4px;display:inline-block}
.eval ul{margin:4px 0 0;padding-left:18px}
.eval.good{background:#e7f2da}.eval.warn{background:#fbf6d9}.eval.bad{background:#fdf3f4}
.muted{color:#616161}
.problems{background:#fdf3f4;border:1px solid #f1bbbc;border-radius:6px;padding:8px 12px;margin:12px 0}
table.all{border-collapse:collapse;width:100%;background:#fff;font-size:12px}
table.all td,table.all th{border:1px solid #e0e0e0;padding:4px 6px;text-align:left;vertical-align:top}
table.all a{color:#4f52b2;overflow-wrap:anywhere}
"""


# ---------------------------------------------------------------------------------------------
# The sections


def _other_election(settings: ReviewSettings) -> tuple[str, Election]:
    """The election case the bot is *not* in today, to show the other wording."""
    if election_is_coming(settings.election, settings.today):
        passed = Election(name=settings.election.name, date=settings.today - dt.timedelta(days=1))
        return "När valet har varit (eller inget nytt val är inlagt)", passed
    coming = Election(name="riksdagsvalet", date=settings.today + dt.timedelta(days=30))
    return "Före ett kommande val (exempel: riksdagsvalet om 30 dagar)", coming


def _depends_on_election(*texts: str | None) -> bool:
    return any(t and re.search(r"\{(election_name|election_when|before_election)\}", t) for t in texts)


def _topics(page: _Page, composer: Composer, other: Composer, other_label: str) -> str:
    kb, today = page.kb, page.settings.today
    out = []
    for topic in kb.topics:
        answer = composer.topic(topic.id, today=today)
        messages = [render_answer(answer)]
        meta = (
            f"<code>{_esc(topic.id)}</code> · {page.place('topics', topic.id)} · svaret "
            f"{page.place('topics', topic.id, 'answer')}"
        )
        if topic.answer_before_election:
            meta += f" · före valet {page.place('topics', topic.id, 'answer_before_election')}"
        meta += f" · {len(topic.examples)} exempelfrågor"
        body = '<div class="variant">I dag</div>' + page.messages(messages)
        if topic.answer_before_election or _depends_on_election(topic.answer):
            alt = render_answer(other.topic(topic.id, today=today))
            body += f'<div class="variant">{_esc(other_label)}</div>' + page.messages([alt])
            messages.append(alt)
        body += page.links_block(messages) + page.eval_block(topic.id)
        out.append(page.item(_esc(topic.title), meta, body, anchor=f"topic-{topic.id}"))
    return "".join(out)


def _platforms(page: _Page, composer: Composer) -> str:
    out = []
    for platform in page.kb.platforms:
        answer = composer.enable_2fa([platform.id], page.settings.today)
        messages = [render_answer(answer)]
        note = ""
        if page.kb.guide_for(platform.id) is not None:
            note = (
                ' · <span class="muted">en fråga om bara den här kanalen startar guiden; svaret visas när '
                "flera kanaler nämns</span>"
            )
        meta = (
            f"<code>{_esc(platform.id)}</code> · {page.place('platforms', platform.id)} · svaret "
            f"{page.place('platforms', platform.id, 'enable_answer')}{note}"
        )
        body = page.messages(messages) + page.links_block(messages)
        out.append(page.item(_esc(platform.name), meta, body, anchor=f"platform-{platform.id}"))
    return "".join(out)


def _guide_messages(page: _Page, replies: list[GuideReply], person: PersonHelp) -> list[OutgoingMessage]:
    return render_guide_replies(replies, page.kb, person)


def _guide(page: _Page, guide: Guide, person: PersonHelp) -> str:
    gid = guide.id

    def at(number: int, **extra: Any) -> GuideState:
        return GuideState(guide_id=gid, step=number, status=GuideStatus.ACTIVE, started_at=_T0, updated_at=_T0, **extra)

    out = []
    _, started = step(None, GuideCommand(action="start", guide=gid), guide, _T0)
    intro = _guide_messages(page, started[:1], person)
    out.append(
        page.item(
            "Inledning",
            f"{page.place('guides', gid, 'intro')}",
            page.messages(intro) + page.links_block(intro),
            anchor=f"guide-{gid}-intro",
        )
    )
    for data in guide.steps:
        n = data.number
        if n == 1:
            shown = _guide_messages(page, started[1:], person)
        else:
            shown = _guide_messages(page, step(at(n - 1), GuideCommand(action="next"), guide, _T0)[1], person)
        helped = _guide_messages(page, step(at(n), GuideCommand(action="stuck"), guide, _T0)[1], person)
        meta = f"{page.place('guides', gid, 'steps', n)} · hjälpen {page.place('guides', gid, 'steps', n, 'help')}" + (
            f" · varför {page.place('guides', gid, 'steps', n, 'why')}" if data.why else ""
        )
        body = (
            page.messages(shown) + '<div class="variant">Om du skriver ”jag har fastnat”</div>' + page.messages(helped)
        )
        if n == 1:  # the same card on every step; shown once
            again = _guide_messages(page, step(at(n, stuck_at=n), GuideCommand(action="stuck"), guide, _T0)[1], person)
            body += (
                '<div class="variant">Om du fastnar en gång till på samma steg (likadant på alla steg)</div>'
                + page.messages(again)
            )
            helped = helped + again
        body += page.links_block(shown + helped)
        out.append(page.item(f"Steg {n} av {len(guide.steps)}", meta, body, anchor=f"guide-{gid}-step-{n}"))
    finished = _guide_messages(page, step(at(len(guide.steps)), GuideCommand(action="next"), guide, _T0)[1], person)
    out.append(
        page.item(
            "Avslutning",
            page.place("guides", gid, "summary"),
            page.messages(finished) + page.links_block(finished),
            anchor=f"guide-{gid}-summary",
        )
    )
    return "".join(out)


def _other_answers(page: _Page, composer: Composer) -> str:
    today = page.settings.today
    cases: list[tuple[str, str, list[OutgoingMessage]]] = [
        ("Välkomstkort (personlig chatt)", "cards/welcome.py", [welcome_message("personal")]),
        ("Välkomst i ett team eller en gruppchatt", "cards/welcome.py", [welcome_message("channel")]),
        ("När kanalen inte framgår", "knowledge/answers.py", [render_answer(composer.clarify_platform())]),
        ("En kanal som guiden inte tar upp", "knowledge/answers.py", [render_answer(composer.other_platform())]),
        ("En fråga utanför det boten kan", "knowledge/answers.py", [render_answer(composer.out_of_scope(today))]),
    ]
    return "".join(
        page.item(_esc(title), f"<code>{_esc(where)}</code>", page.messages(messages) + page.links_block(messages))
        for title, where, messages in cases
    )


def _all_links(page: _Page) -> str:
    rows = []
    for ref in sorted(page.sources.links, key=lambda r: (str(r.place.file), r.place.line)):
        rows.append(
            f'<tr><td><a href="{_esc(ref.url)}">{_esc(ref.url)}</a></td><td>{_esc(ref.label or "")}</td>'
            f'<td><code>{_esc(ref.where)}</code></td><td><code class="where">{_esc(ref.place)}</code></td></tr>'
        )
    return (
        "<p>Kontrollera att alla svarar med <code>python -m knowledge links --check</code> "
        "(kräver internet).</p>"
        '<table class="all"><tr><th>Adress</th><th>Knapptext</th><th>Var</th><th>Fil:rad</th></tr>'
        + "".join(rows)
        + "</table>"
    )


def _problems(kb: KnowledgeBase, sources: SourceMap) -> list[str]:
    """Placeholders the bot would print as they are (a typo such as {electon_name})."""
    texts: list[tuple[str, str | None]] = []
    for topic in kb.topics:
        texts += [
            (f"topics/{topic.id}/answer", topic.answer),
            (f"topics/{topic.id}/answer_before_election", topic.answer_before_election),
        ]
    texts += [(f"platforms/{p.id}/enable_answer", p.enable_answer) for p in kb.platforms]
    problems = []
    for where, text in texts:
        for name in _PLACEHOLDER.findall(text or ""):
            if name not in PLACEHOLDERS:
                place = sources.places.get(where)
                problems.append(
                    f'Okänd platshållare <code>{{{_esc(name)}}}</code> i <code class="where">'
                    f"{_esc(place or where)}</code>; kända: " + ", ".join(f"<code>{{{p}}}</code>" for p in PLACEHOLDERS)
                )
    return problems


def build_review(kb: KnowledgeBase, sources: SourceMap, settings: ReviewSettings, report: Report | None = None) -> str:
    """The whole page as one HTML string."""
    page = _Page(kb, sources, settings, report)
    contact = settings.support_contact if settings.contact_configured else None
    composer = Composer(kb, election=settings.election, support_contact=contact)
    other_label, other_election = _other_election(settings)
    other = Composer(kb, election=other_election, support_contact=contact)
    person = PersonHelp(handoff=settings.experts, contact=composer.support_contact)

    page.add("topics", "Ämnen", _topics(page, composer, other, other_label))
    page.add("platforms", "Kanaler", _platforms(page, composer))
    for guide in kb.guides:
        page.add(f"guide-{guide.id}", f"Guide: {guide.title}", _guide(page, guide, person))
    page.add("other", "Övriga svar", _other_answers(page, composer))
    page.add("links", "Alla länkar", _all_links(page))
    return page.render(_problems(kb, sources))
