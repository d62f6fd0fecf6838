"""The readiness report: every conversation's checklist, totals, and a bar chart per item.

`python bot.py readiness [--format csv] [--chart FILE.png]` prints it (Swedish: it is read by the
communications department); an admin who types "beredskap" gets the same summary as a card
(`cards.checklist.render_readiness`). Every installed conversation is listed, also those the
announcement has not reached yet (they are not ready). Teams are named by their team and channel
names (kept from Teams' channelData), chats by their kind.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict

from announcements.checklist import CheckItem
from announcements.content import AnnouncementContent
from announcements.ledger import Ledger
from announcements.readiness import ItemStatus, Readiness, ReadinessStore
from announcements.registry import ConversationRecord, ConversationRegistry, Scope
from cards.checklist import local_time
from storage import KeyedStorage

__all__ = ["ReportRow", "ReadinessReport", "build_report", "render_text", "render_csv", "render_chart", "main"]

_KINDS: dict[str, tuple[str, str]] = {
    "team": ("team", "team"),
    "groupChat": ("gruppchatt", "gruppchattar"),
    "personal": ("personlig chatt", "personliga chattar"),
}
"""Scope -> (singular, plural) in Swedish."""
_ORDER = {"team": 0, "groupChat": 1, "personal": 2}
_MARKS = {"done": "✓", "not_used": "–", "open": "·"}
_CSV_VALUES = {"done": "klart", "not_used": "används inte", "open": ""}


def _short(conversation_id: str) -> str:
    return conversation_id if len(conversation_id) <= 24 else conversation_id[:22] + "…"


def display_name(record: ConversationRecord) -> str:
    """ "Valkansliet / Allmänt" for a team; "gruppchatt 19:…" / "personlig chatt a:1…" for chats."""
    if record.scope == "team":
        team = record.team_name or f"team {_short(record.id)}"
        channel = record.channel_name or ("Allmänt" if record.channel_id in (None, record.id) else "kanal")
        return f"{team} / {channel}"
    return f"{_KINDS[record.scope][0]} {_short(record.id)}"


class ReportRow(BaseModel):
    """One conversation in the report."""

    conversation_id: str
    scope: Scope
    name: str
    """Team / channel, or the chat's kind and id."""
    delivery: str
    """The announcement's ledger status there: sent, pending (not yet), failed, in_flight."""
    statuses: dict[str, ItemStatus]
    """Item id -> open, done or not_used."""
    settled: int
    """Items done or marked not used."""
    total: int
    ready: bool
    last_confirmed_at: dt.datetime | None = None

    def progress_text(self) -> str:
        if self.delivery != "sent":
            return "har inte fått utskicket än"
        text = f"{self.settled} av {self.total} klara"
        if self.last_confirmed_at is not None:
            text += f", senast {local_time(self.last_confirmed_at)}"
        return text


class ReadinessReport(BaseModel):
    """The whole report."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    announcement_id: str
    election_name: str
    election_date: dt.date
    items: list[CheckItem]
    rows: list[ReportRow]

    def totals(self) -> list[tuple[Scope, int, int]]:
        """(scope, ready, count) for each scope that has conversations, teams first."""
        out = []
        for scope in ("team", "groupChat", "personal"):
            rows = [r for r in self.rows if r.scope == scope]
            if rows:
                out.append((scope, sum(r.ready for r in rows), len(rows)))
        return out  # type: ignore[return-value]

    def totals_lines(self) -> list[str]:
        """ "23 av 31 team klara", one line per kind, and the whole when there are several kinds."""
        lines = [f"{ready} av {count} {_KINDS[scope][1]} klara" for scope, ready, count in self.totals()]
        if len(lines) != 1:
            ready = sum(r.ready for r in self.rows)
            lines.append(f"{ready} av {len(self.rows)} konversationer klara totalt")
        return lines

    def item_counts(self) -> list[tuple[CheckItem, int]]:
        """Per item: how many conversations confirmed it (done, or marked not used)."""
        return [(item, sum(1 for r in self.rows if r.statuses.get(item.id, "open") != "open")) for item in self.items]

    def not_used_count(self, item: CheckItem) -> int:
        return sum(1 for r in self.rows if r.statuses.get(item.id) == "not_used")

    def furthest_behind(self, n: int = 10) -> list[ReportRow]:
        """The `n` conversations that are not ready with the fewest items settled (teams first)."""
        behind = [r for r in self.rows if not r.ready]
        behind.sort(key=lambda r: (r.settled / max(r.total, 1), _ORDER[r.scope], r.name))
        return behind[:n]


def _row(record: ConversationRecord, items: list[CheckItem], delivery: str, readiness: Readiness | None) -> ReportRow:
    statuses: dict[str, ItemStatus] = {i.id: (readiness.status(i.id) if readiness else "open") for i in items}
    settled = sum(1 for s in statuses.values() if s != "open")
    return ReportRow(
        conversation_id=record.id,
        scope=record.scope,
        name=display_name(record),
        delivery=delivery,
        statuses=statuses,
        settled=settled,
        total=len(items),
        ready=bool(items) and settled == len(items),
        last_confirmed_at=readiness.last_confirmed_at() if readiness else None,
    )


async def build_report(storage: KeyedStorage, content: AnnouncementContent) -> ReadinessReport:
    """Every installed conversation with its checklist for `content`'s announcement."""
    records = await ConversationRegistry(storage).installed()
    ledger = await Ledger(storage).entries(content.id)
    readiness = await ReadinessStore(storage).all(content.id)
    rows = [
        _row(r, content.checklist, ledger[r.id].status if r.id in ledger else "pending", readiness.get(r.id))
        for r in records
    ]
    rows.sort(key=lambda r: (_ORDER[r.scope], r.name, r.conversation_id))
    return ReadinessReport(
        announcement_id=content.id,
        election_name=content.election.name,
        election_date=content.election.date,
        items=content.checklist,
        rows=rows,
    )


def render_text(report: ReadinessReport) -> str:
    """A table: one line per conversation, a mark per item, then the totals."""
    out = [
        f"Beredskap inför {report.election_name} ({report.election_date.isoformat()}), "
        f"utskick {report.announcement_id}",
        "Punkter:",
    ]
    out += [f"  {n}. {item.label}" for n, item in enumerate(report.items, start=1)]
    out.append(f"  ({_MARKS['done']} klart, {_MARKS['not_used']} används inte, {_MARKS['open']} inte klart)")
    width = min(44, max([len(r.name) for r in report.rows] + [len("Konversation")]))
    numbers = " ".join(str(n % 10) for n in range(1, len(report.items) + 1))
    out.append("")
    out.append(f"{'Konversation':<{width}}  {numbers}  Klara  Senast bekräftat")
    for row in report.rows:
        marks = " ".join(_MARKS[row.statuses[i.id]] for i in report.items)
        name = row.name if len(row.name) <= width else row.name[: width - 1] + "…"
        last = local_time(row.last_confirmed_at) or ("–" if row.delivery == "sent" else "har inte fått utskicket")
        out.append(f"{name:<{width}}  {marks}  {row.settled:>2}/{row.total:<2}  {last}")
    if not report.rows:
        out.append("(inga konversationer: Kanalvakten är inte installerad någonstans än)")
    out.append("")
    out += report.totals_lines()
    return "\n".join(out) + "\n"


def render_csv(report: ReadinessReport) -> str:
    """One row per conversation (item columns by item id), then one row per total."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "konversation_id",
            "typ",
            "namn",
            "utskick",
            *[i.id for i in report.items],
            "klara",
            "punkter",
            "redo",
            "senast_bekraftad",
        ]
    )
    for row in report.rows:
        writer.writerow(
            [
                row.conversation_id,
                _KINDS[row.scope][0],
                row.name,
                row.delivery,
                *[_CSV_VALUES[row.statuses[i.id]] for i in report.items],
                row.settled,
                row.total,
                "ja" if row.ready else "nej",
                row.last_confirmed_at.isoformat() if row.last_confirmed_at else "",
            ]
        )
    blank = [""] * len(report.items)
    for scope, ready, count in report.totals():
        writer.writerow(["", "summa", f"{ready} av {count} {_KINDS[scope][1]} klara", "", *blank, ready, count, "", ""])
    return buffer.getvalue()


_FONTS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
]


def _font(size: int) -> Any:
    """DejaVu Sans (Debian's fonts-dejavu), Liberation Sans, or Pillow's own font."""
    from PIL import ImageFont

    for path in _FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def render_chart(report: ReadinessReport, path: Path) -> None:
    """A PNG with one horizontal bar per item: conversations that confirmed it out of all."""
    from PIL import Image, ImageDraw

    total = len(report.rows)
    label_w, bar_w, row_h, top, margin = 470, 360, 46, 84, 24
    width = margin + label_w + bar_w + 110
    height = top + row_h * max(1, len(report.items)) + margin
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    title, small = _font(20), _font(14)
    draw.text(
        (margin, 18),
        f"Beredskap inför {report.election_name}: bekräftat per punkt ({total} konversationer)",
        fill="#242424",
        font=title,
    )
    x = margin
    for colour, words in (("#107c10", "klart"), ("#9fd89f", "används inte"), ("#ebebeb", "inte bekräftat")):
        draw.rectangle([x, 52, x + 14, 66], fill=colour)
        draw.text((x + 20, 51), words, fill="#616161", font=small)
        x += 40 + int(draw.textlength(words, font=small))
    for n, (item, confirmed) in enumerate(report.item_counts()):
        y = top + n * row_h
        label = item.label if len(item.label) <= 58 else item.label[:57] + "…"
        draw.text((margin, y + 8), label, fill="#242424", font=small)
        x0 = margin + label_w
        draw.rectangle([x0, y + 6, x0 + bar_w, y + 30], fill="#ebebeb")
        not_used = report.not_used_count(item)
        done_w = round(bar_w * (confirmed - not_used) / total) if total else 0
        used_w = round(bar_w * confirmed / total) if total else 0
        if used_w:
            draw.rectangle([x0, y + 6, x0 + used_w, y + 30], fill="#9fd89f")  # not used: lighter
        if done_w:
            draw.rectangle([x0, y + 6, x0 + done_w, y + 30], fill="#107c10")
        draw.text((x0 + bar_w + 12, y + 8), f"{confirmed} av {total}", fill="#242424", font=small)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")


async def main(
    argv: list[str], storage: KeyedStorage, content: AnnouncementContent, *, out: TextIO | None = None
) -> int:
    """`python bot.py readiness [--format text|csv] [--chart FILE.png]`; the caller opens storage."""
    out = out or sys.stdout
    parser = argparse.ArgumentParser(
        prog="python bot.py readiness", description="Election readiness: every conversation's checklist."
    )
    parser.add_argument("--format", choices=["text", "csv"], default="text")
    parser.add_argument("--chart", metavar="FILE.png", type=Path, help="also draw a bar per item into this PNG file")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if not content.checklist:
        print("The announcement has no checklist (knowledge/data/announcement.yaml: checklist).", file=sys.stderr)
        return 2
    report = await build_report(storage, content)
    out.write(render_csv(report) if args.format == "csv" else render_text(report))
    if args.chart is not None:
        render_chart(report, args.chart)
        print(f"chart written to {args.chart}", file=sys.stderr)
    return 0
