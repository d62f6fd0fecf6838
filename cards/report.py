"""The curator's report as a card: what an admin gets for "rapport" in a personal chat.

The ten biggest groups of questions the bot could not answer or whose answer got a 👎
(`helpdesk.report`), each with its count, newest example, closest topic and date. The examples are
what people typed (scrubbed of personal data), so they are escaped (`cards.escape`).
"""

from __future__ import annotations

from typing import Any

from cards.escape import escape_markdown
from cards.message import OutgoingMessage, adaptive_card, text_block
from helpdesk.question_texts import TextGroup

__all__ = ["report_card"]

_KINDS = {"unanswered": "utan svar", "unsure": "fick ”Menade du…?”", "disliked": "👎", "comment": "kommentarer"}


def _kinds(group: TextGroup) -> str:
    return ", ".join(f"{n} {_KINDS.get(kind, kind)}" for kind, n in sorted(group.kinds.items()))


def report_card(
    groups: list[TextGroup], *, topic_titles: dict[str, str], questions: int, retention_days: int
) -> OutgoingMessage:
    """The top groups as a card; `questions` is how many questions the log holds in all."""
    heading = "Vanligaste frågorna som saknar svar"
    intro = (
        "Frågor som jag inte kunde svara på, var osäker på eller vars svar fick 👎, "
        f"de senaste {retention_days} dagarna (av {questions} {'fråga' if questions == 1 else 'frågor'} i allt). "
        "Liknande frågor är grupperade; personuppgifter är bortplockade."
    )
    body: list[dict[str, Any]] = [text_block(heading, size="Medium", weight="Bolder"), text_block(intro, subtle=True)]
    lines = [f"**{heading}**", "", intro]
    if not groups:
        body.append(text_block("Inga sådana frågor just nu."))
        lines += ["", "Inga sådana frågor just nu."]
    for number, group in enumerate(groups, start=1):
        example = escape_markdown(" ".join(group.newest.text.split()))
        closest = topic_titles.get(group.topic or "", "inget ämne ligger nära")
        detail = f"{_kinds(group)} · närmast: {closest} · senast {group.newest.at.date().isoformat()}"
        body.append(
            {
                "type": "Container",
                "separator": True,
                "items": [
                    text_block(f"{number}. {group.count} st: ”{example}”", weight="Bolder"),
                    text_block(escape_markdown(detail), subtle=True),
                ],
            }
        )
        lines += ["", f"{number}. {group.count} st: ”{example}”", escape_markdown(detail)]
    text = "\n".join(lines)
    return OutgoingMessage(text=text, card=adaptive_card(body, fallback_text=text))
