"""The election-readiness checklist on cards: the announcement's checklist, the reminder, and the
admins' readiness summary with its bar chart.

The checklist is one row per item: a toggle ("done"), for a platform also a choice "Används" /
"Används inte", and a "Visa hur" button (the bot's answer or guide for it, without the card's
inputs). Under a settled item: who settled it and when (the time in the reader's own zone, through
Adaptive Cards' DATE/TIME functions). "Spara" sends the inputs with the card's `rev`, so a press
on a card drawn before the latest save is recognised (`announcements.readiness`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cards.actions import checklist_payload
from cards.message import OutgoingMessage, adaptive_card, fact_set, text_block

if TYPE_CHECKING:
    from announcements.checklist import CheckItem
    from announcements.readiness import Readiness
    from announcements.readiness_report import ReadinessReport

__all__ = [
    "LOCAL_ZONE",
    "local_time",
    "checklist_body",
    "checklist_text",
    "render_reminder",
    "render_readiness",
    "bar_chart",
]

try:
    LOCAL_ZONE: dt.tzinfo = ZoneInfo("Europe/Stockholm")
except ZoneInfoNotFoundError:  # a system without time zone data: UTC, and said so in the text
    LOCAL_ZONE = dt.UTC
"""Times in text (fallbacks, the report) are Swedish local time."""

_DONE, _OPEN, _NOT_USED = "☑", "☐", "–"


def local_time(at: dt.datetime | None) -> str:
    """`2026-09-01 14:05` in Swedish local time; "" for None."""
    if at is None:
        return ""
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return at.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")


def _card_time(at: dt.datetime) -> str:
    """The time as Adaptive Cards' DATE/TIME functions, shown in the reader's own time zone."""
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    stamp = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return "{{DATE(" + stamp + ", SHORT)}} {{TIME(" + stamp + ")}}"


def _who(readiness: Readiness | None, item_id: str) -> str | None:
    """ "Klart – Åsa Öberg, <time>" for a settled item, else None."""
    if readiness is None:
        return None
    state = readiness.state(item_id)
    if state.status == "open":
        return None
    what = "Klart" if state.status == "done" else "Används inte"
    who = f" – {state.by}" if state.by else ""
    when = f", {_card_time(state.at)}" if state.at else ""
    return f"{what}{who}{when}"


def _show_how(item: CheckItem) -> dict[str, Any]:
    """The bot's answer or guide for the item; it carries none of the card's ticks."""
    return {"type": "Action.Submit", "title": "Visa hur", "data": item.show_how, "associatedInputs": "none"}


def _row(item: CheckItem, readiness: Readiness | None) -> dict[str, Any]:
    status = readiness.status(item.id) if readiness else "open"
    toggle = {
        "type": "Input.Toggle",
        "id": f"done:{item.id}",
        "title": item.label,
        "value": "true" if status == "done" else "false",
        "valueOn": "true",
        "valueOff": "false",
        "wrap": True,
    }
    show_how = {"type": "ActionSet", "actions": [_show_how(item)]}
    row = {
        "type": "ColumnSet",
        "columns": [
            {"type": "Column", "width": "stretch", "verticalContentAlignment": "Center", "items": [toggle]},
            {"type": "Column", "width": "auto", "verticalContentAlignment": "Center", "items": [show_how]},
        ],
    }
    items: list[dict[str, Any]] = [row]
    if item.platform:  # under the toggle: does the team use the platform at all?
        used = {
            "type": "Input.ChoiceSet",
            "id": f"used:{item.id}",
            "style": "compact",
            "value": "not_used" if status == "not_used" else "used",
            "choices": [
                {"title": f"Vi använder {item.platform_name}", "value": "used"},
                {"title": f"Vi använder inte {item.platform_name}", "value": "not_used"},
            ],
        }
        items.append(
            {
                "type": "ColumnSet",
                "spacing": "Small",
                "columns": [
                    {"type": "Column", "width": 4, "items": [used]},
                    {"type": "Column", "width": 1, "items": []},
                ],
            }
        )
    who = _who(readiness, item.id)
    if who:
        items.append({**text_block(who, subtle=True, size="Small", color="Good"), "spacing": "None"})
    return {"type": "Container", "items": items, "spacing": "Small"}


def checklist_body(
    items: list[CheckItem],
    readiness: Readiness | None,
    announcement_id: str,
    election_name: str,
    *,
    interactive: bool = True,
    kind: str = "announcement",
) -> list[dict[str, Any]]:
    """The checklist as card elements: inputs and "Spara" (or, for a preview, a plain list).
    `kind` ("announcement" or "reminder") goes with "Spara", so the pressed card can be redrawn."""
    if not items:
        return []
    settled = readiness.settled(items) if readiness else 0
    body: list[dict[str, Any]] = [
        {**text_block(f"Checklista inför {election_name}", size="Medium", weight="Bolder"), "separator": True}
    ]
    if not interactive:
        body.append(text_block("\n".join(f"- {item.label}" for item in items)))
        body.append(text_block("Mottagarna kryssar i punkterna och trycker på Spara.", subtle=True))
        return body
    body.append(
        text_block(
            "Kryssa i det ni har gjort och tryck på Spara; alla här ser samma lista. "
            'Har ni inte en kanal, välj "Vi använder inte" under den.',
            subtle=True,
        )
    )
    body += [_row(item, readiness) for item in items]
    if readiness is not None and readiness.is_ready(items):
        status = text_block(f"Allt är klart ({settled} av {len(items)}). Tack!", weight="Bolder", color="Good")
    else:
        status = text_block(f"{settled} av {len(items)} punkter klara.", weight="Bolder")
    body.append(status)
    rev = readiness.rev if readiness else 0
    save = {
        "type": "Action.Submit",
        "title": "Spara",
        "style": "positive",
        "data": checklist_payload("save", announcement_id, rev, kind),
    }
    body.append({"type": "ActionSet", "actions": [save]})
    return body


def checklist_text(items: list[CheckItem], readiness: Readiness | None) -> str:
    """The checklist for the text fallback (notifications, screen readers)."""
    lines = []
    for item in items:
        state = readiness.state(item.id) if readiness else None
        if state is None or state.status == "open":
            lines.append(f"{_OPEN} {item.label}")
            continue
        mark = _DONE if state.status == "done" else _NOT_USED
        note = "" if state.status == "done" else " (används inte)"
        who = ", ".join(x for x in (state.by, local_time(state.at)) if x)
        lines.append(f"{mark} {item.label}{note}" + (f" – {who}" if who else ""))
    return "\n".join(lines)


def render_reminder(
    items: list[CheckItem], readiness: Readiness | None, announcement_id: str, election_name: str, when: str
) -> OutgoingMessage:
    """The reminder to a conversation whose checklist is not done: its own checklist to tick."""
    settled = readiness.settled(items) if readiness else 0
    heading = f"Påminnelse: checklistan inför {election_name}"
    intro = (
        f"{when} Ni har bekräftat {settled} av {len(items)} punkter. Kryssa i det ni har gjort och tryck "
        "på Spara, så vet kommunikationsavdelningen att ni är redo."
    )
    body = [text_block(heading, size="Medium", weight="Bolder"), text_block(intro)]
    body += checklist_body(items, readiness, announcement_id, election_name, kind="reminder")[1:]  # our heading
    text = "\n\n".join([f"**{heading}**", intro, checklist_text(items, readiness)])
    card = adaptive_card(body, fallback_text=text)
    return OutgoingMessage(text=text, card=card)


def bar_chart(report: ReadinessReport) -> list[dict[str, Any]]:
    """One bar per item: how many conversations confirmed it (ColumnSets with weighted widths)."""
    total = len(report.rows)
    blocks: list[dict[str, Any]] = []
    for item, confirmed in report.item_counts():
        columns = []
        if confirmed:
            columns.append({"type": "Column", "width": confirmed, "style": "good", "minHeight": "12px", "items": []})
        if total - confirmed:
            columns.append(
                {"type": "Column", "width": total - confirmed, "style": "emphasis", "minHeight": "12px", "items": []}
            )
        blocks.append(
            {
                "type": "Container",
                "spacing": "Small",
                "items": [
                    {
                        "type": "ColumnSet",
                        "columns": [
                            {"type": "Column", "width": "stretch", "items": [text_block(item.label, size="Small")]},
                            {
                                "type": "Column",
                                "width": "auto",
                                "items": [text_block(f"{confirmed} av {total}", size="Small", weight="Bolder")],
                            },
                        ],
                    },
                    {"type": "ColumnSet", "spacing": "None", "columns": columns},
                ],
            }
        )
    return blocks


def render_readiness(report: ReadinessReport, *, remind_count: int, behind: int = 10) -> OutgoingMessage:
    """For an admin who typed "beredskap": totals, a bar per item, the conversations furthest
    behind, and the reminder button."""
    heading = f"Beredskap inför {report.election_name}"
    totals = report.totals_lines()
    body: list[dict[str, Any]] = [
        text_block(heading, size="Large", weight="Bolder"),
        text_block(f"Utskick {report.announcement_id}, {len(report.rows)} konversationer.", subtle=True),
        *[{**text_block(line, weight="Bolder"), "spacing": "None"} for line in totals],
    ]
    text_lines = [f"**{heading}**", *totals]
    if report.items:
        body.append({**text_block("Bekräftat per punkt", weight="Bolder"), "separator": True})
        body += bar_chart(report)
        text_lines += ["", "Bekräftat per punkt:"] + [
            f"- {item.label}: {n} av {len(report.rows)}" for item, n in report.item_counts()
        ]
    furthest = report.furthest_behind(behind)
    if furthest:
        body.append({**text_block(f"Längst efter ({len(furthest)})", weight="Bolder"), "separator": True})
        facts = [(row.name, row.progress_text()) for row in furthest]
        body.append(fact_set(facts))
        text_lines += ["", "Längst efter:"] + [f"- {name}: {value}" for name, value in facts]
    actions = []
    if remind_count:
        body.append(
            text_block(
                f"En påminnelse går nu till {remind_count} konversationer som inte är klara "
                "(ingen får mer än en påminnelse på 72 timmar).",
                subtle=True,
            )
        )
        actions.append(
            {
                "type": "Action.Submit",
                "title": f"Skicka påminnelse ({remind_count})",
                "data": checklist_payload("remind", report.announcement_id),
            }
        )
        text_lines.append(f"\nPåminnelse kan skickas till {remind_count} konversationer.")
    else:
        body.append(text_block("Ingen konversation behöver en påminnelse just nu.", subtle=True))
    text = "\n".join(text_lines)
    return OutgoingMessage(text=text, card=adaptive_card(body, actions, fallback_text=text))
