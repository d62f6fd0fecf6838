"""Card command payloads: what a button sends back as the activity's `value`, defined once.

Every `Action.Submit` carries `{"cmd": <command>, ...}`. The card layer builds its buttons with
these functions, and the parsers read the same names (`dialogs.commands.parse_value` for guide
buttons, `assistant.conversation` for ask and hand-off, `announcements.admin` for the admin's
confirm card), so a payload cannot drift between the button and the code that answers it.
This module imports nothing of ours, so any layer may use it.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CMD",
    "GUIDE_CMD",
    "ASK_CMD",
    "HANDOFF_CMD",
    "PERSON_CMD",
    "ANSWERED_CMD",
    "ANNOUNCE_CMD",
    "FEEDBACK_CMD",
    "FEEDBACK_VALUES",
    "COMMENT_INPUT",
    "guide_payload",
    "start_guide_payload",
    "ask_payload",
    "handoff_payload",
    "person_payload",
    "answered_payload",
    "announce_payload",
    "feedback_payload",
    "command_of",
    "NONE_CMD",
    "CHECKLIST_CMD",
    "checklist_payload",
]

CMD = "cmd"
"""The key every payload has."""
GUIDE_CMD = "guide"
"""A guide button: `{"cmd": "guide", "action": <action>, "guide": <id>, "step": <n>}`."""
ASK_CMD = "ask"
"""A question button: `{"cmd": "ask", "topic": <topic id>, "platform": <platform id or "all">}`."""
HANDOFF_CMD = "handoff"
"""Send my question to the experts: `{"cmd": "handoff"}` (the question itself stays in state)."""
NONE_CMD = "none"
""""Ingen av dem" under a "menade du…" choice: `{"cmd": "none"}`."""
PERSON_CMD = "person"
"""I want a person: `{"cmd": "person"}` (the 👎 card's "fråga en person"); the experts when they
can be reached from here, else the support contact."""
ANSWERED_CMD = "answered"
"""An expert's "Besvarad" on the experts' card: `{"cmd": "answered", "id": <hand-off id>}`."""
ANNOUNCE_CMD = "announce"
"""The admin's confirm card: `{"cmd": "announce", "action": "confirm"|"cancel", "id": <announcement id>}`."""
FEEDBACK_CMD = "feedback"
"""👍/👎 under an answer, and the comment sent after 👎: `{"cmd": "feedback", "value": "up"|"down"|"comment",
"q": <question event id>, "at": <when asked, ISO>, "topic": <topic id>, "platforms": [<platform id>, ...]}`. Topic and
platforms let the bot draw the same answer again when it updates the card in place; the comment
itself arrives as the input `COMMENT_INPUT` beside the payload."""
FEEDBACK_VALUES = ("up", "down", "comment")
"""What a feedback button may say."""
COMMENT_INPUT = "comment"
"""The id of the optional comment field after 👎; Teams adds its text to the submit's value."""


def guide_payload(action: str, guide_id: str, step: int | None = None) -> dict[str, Any]:
    """A guide button; `step` marks which card it sits on, so a stale press is recognised."""
    data: dict[str, Any] = {CMD: GUIDE_CMD, "action": action, "guide": guide_id}
    if step is not None:
        data["step"] = step
    return data


def start_guide_payload(guide_id: str) -> dict[str, Any]:
    """ "Starta guiden"."""
    return guide_payload("start", guide_id)


def ask_payload(topic: str, platform: str | None = None) -> dict[str, Any]:
    """Ask about `topic` (for one platform, or "all")."""
    data: dict[str, Any] = {CMD: ASK_CMD, "topic": topic}
    if platform is not None:
        data["platform"] = platform
    return data


def handoff_payload() -> dict[str, Any]:
    return {CMD: HANDOFF_CMD}


def person_payload() -> dict[str, Any]:
    return {CMD: PERSON_CMD}


def answered_payload(handoff_id: str) -> dict[str, Any]:
    """The button carries the hand-off's id only; everything else stays with the bot."""
    return {CMD: ANSWERED_CMD, "id": handoff_id}


def announce_payload(action: str, announcement_id: str) -> dict[str, Any]:
    return {CMD: ANNOUNCE_CMD, "action": action, "id": announcement_id}


CHECKLIST_CMD = "checklist"
"""The announcement's checklist and the readiness card: `{"cmd": "checklist", "action": "save",
"announcement": <id>, "rev": <n>, "card": "announcement"|"reminder"}` ("Spara"; Teams adds the
card's input values) and `{"cmd": "checklist", "action": "remind", "announcement": <id>}` (an
admin's reminder button)."""


def checklist_payload(
    action: str, announcement_id: str, rev: int | None = None, card: str | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {CMD: CHECKLIST_CMD, "action": action, "announcement": announcement_id}
    if rev is not None:
        data["rev"] = rev
    if card is not None:
        data["card"] = card
    return data


def feedback_payload(
    value: str, question_id: str, topic: str, platforms: list[str] | None = None, asked_at: str | None = None
) -> dict[str, Any]:
    """👍 (`up`), 👎 (`down`) or the comment's "Skicka" (`comment`) for the answer to one question;
    `asked_at` (ISO time) lets the bot find the question event without a search."""
    data: dict[str, Any] = {CMD: FEEDBACK_CMD, "value": value, "q": question_id, "topic": topic}
    if platforms:
        data["platforms"] = list(platforms)
    if asked_at:
        data["at"] = asked_at
    return data


def command_of(value: Any) -> str | None:
    """The `cmd` of a submit value, or None when it is not a payload of ours."""
    if isinstance(value, dict):
        cmd = value.get(CMD)
        return cmd if isinstance(cmd, str) else None
    return None
