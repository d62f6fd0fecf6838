"""Turning what the user typed or pressed into a guide command.

Typed text is matched as a whole phrase after `knowledge.text.simplify` (case, punctuation, a
trailing "!", å/ä/ö typed as a/a/o) with @mentions removed, so "Nästa!", "nasta" and "NÄSTA." all mean next,
while "nästa steg är oklart, vad betyder Redigera?" is a question for the knowledge base, not a
command. Phrases are deliberately whole: a guessed command that moves the guide is worse than a
question answered while the guide waits.

Card buttons send `cards.actions.guide_payload`: `{"cmd": "guide", "action": ..., "guide": <id>,
"step": <n>}`. `step` and
`guide` say which card the button was on, so the engine can ignore a stale press (a "Nästa" on
an old card) instead of skipping a step.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from cards.actions import CMD, GUIDE_CMD
from knowledge.text import simplify, without_mentions

__all__ = [
    "GUIDE_CMD",
    "GuideAction",
    "GUIDE_ACTIONS",
    "GuideCommand",
    "InvalidCommand",
    "parse_text",
    "parse_value",
]

GuideAction = Literal["next", "back", "repeat", "cancel", "stuck", "start", "resume", "restart", "pause"]
GUIDE_ACTIONS: tuple[str, ...] = GuideAction.__args__  # type: ignore[attr-defined]

MAX_COMMAND_CHARS = 80
"""Longer text is never a command; it goes to the knowledge base untouched (and fast)."""


class GuideCommand(BaseModel):
    """One thing the user asked the guide to do."""

    model_config = ConfigDict(frozen=True)

    action: GuideAction
    """What to do."""
    guide: str | None = None
    """The guide the button belonged to (submits), or the guide the handler chose to start."""
    step: int | None = None
    """The step of the card the button was on; None for typed commands (they mean "now")."""
    target: str | None = None
    """A platform or guide word typed with "starta X-guiden" (folded), for `choose_guide`."""
    typed: bool = False
    """True for typed text, False for a card button or a command made by the handler."""


class InvalidCommand(BaseModel):
    """A guide button press we cannot use (unknown action, malformed fields, not a dict)."""

    model_config = ConfigDict(frozen=True)

    reason: str
    """Why, for the log; the user gets a friendly generic answer."""


# Simplified phrases (`knowledge.text.simplify`: lowercase, å/ä→a, ö→o, no punctuation) -> action.
_PHRASES: dict[GuideAction, tuple[str, ...]] = {
    "next": (
        "nasta",
        "nasta steg",
        "klar",
        "klart",
        "jag ar klar",
        "ok",
        "okej",
        "okay",
        "oki",
        "japp",
        "gjort",
        "fardig",
        "vidare",
        "ga vidare",
        "done",
        "next",
        "next step",
        "ok next",
    ),
    "back": (
        "tillbaka",
        "ga tillbaka",
        "backa",
        "bakat",
        "foregaende",
        "foregaende steg",
        "forra steget",
        "back",
        "go back",
        "previous",
        "previous step",
    ),
    "repeat": (
        "upprepa",
        "igen",
        "en gang till",
        "visa igen",
        "visa steget",
        "visa steget igen",
        "repeat",
        "again",
        "show step",
        "show again",
    ),
    "cancel": (
        "avbryt",
        "avbryt guiden",
        "sluta",
        "avsluta",
        "avsluta guiden",
        "stopp",
        "stop",
        "cancel",
        "quit",
        "exit",
        "stop guide",
        "cancel guide",
    ),
    "stuck": (
        "jag har fastnat",
        "fastnat",
        "har fastnat",
        "jag sitter fast",
        "jag ar fast",
        "jag kommer inte vidare",
        "hjalp med steget",
        "hjalp med det har steget",
        "det ser annorlunda ut",
        "ser annorlunda ut",
        "det ser inte ut sa",
        "det ser inte ut sa har",
        "hittar inte",
        "jag hittar inte",
        "hittar det inte",
        "jag hittar det inte",
        "hittar den inte",
        "jag hittar den inte",
        "jag hittar inte knappen",
        "det finns inte",
        "finns inte",
        "it looks different",
        "looks different",
        "cant find it",
        "i cant find it",
        "stuck",
        "im stuck",
        "i am stuck",
        "help with this step",
        "help with step",
    ),
    "resume": (
        "fortsatt",
        "fortsatt guiden",
        "fortsatt dar jag var",
        "ateruppta",
        "ateruppta guiden",
        "continue",
        "resume",
        "continue guide",
        "resume guide",
    ),
    "restart": (
        "borja om",
        "borja om guiden",
        "borja om fran borjan",
        "starta om",
        "starta om guiden",
        "restart",
        "restart guide",
        "start over",
    ),
    "pause": ("pausa", "pausa guiden", "paus", "senare", "vanta", "pause", "later"),
}
_ACTION_BY_PHRASE: dict[str, GuideAction] = {p: a for a, phrases in _PHRASES.items() for p in phrases}

# "starta guiden", "guiden", "start guide", "starta facebook-guiden", "starta guiden för facebook".
_START = re.compile(
    r"^(?:(?:starta|start|visa|kor|oppna|open|show|begin)\s+)?(?:the\s+)?"
    r"(?:(?P<before>[a-z0-9]+?)\s?)?guid(?:en|e)"
    r"(?:\s+(?:for|pa|on|till)\s+(?P<after>[a-z0-9]+))?(?:\s+(?:igen|nu|tack|again|now|please))?$"
)


def parse_text(text: str | None) -> GuideCommand | None:
    """The guide command typed, or None when the text is not one (a question, empty, too long)."""
    if not text or len(text) > MAX_COMMAND_CHARS * 4:
        return None
    folded = simplify(without_mentions(text))
    if not folded or len(folded) > MAX_COMMAND_CHARS:
        return None
    action = _ACTION_BY_PHRASE.get(folded)
    if action is not None:
        return GuideCommand(action=action, typed=True)
    start = _START.match(folded)
    if start:
        target = start.group("before") or start.group("after")
        if target in {"the", "min", "my", "din", "en", "a"}:
            target = None
        return GuideCommand(action="start", target=target, typed=True)
    return None


class _SubmitValue(BaseModel):
    """What a guide button may send; extra keys (Teams adds some) are ignored."""

    model_config = ConfigDict(extra="ignore")

    cmd: Literal["guide"]
    action: GuideAction
    guide: StrictStr | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    step: StrictInt | None = Field(default=None, ge=1, le=1000)


def parse_value(value: Any) -> GuideCommand | InvalidCommand | None:
    """A card submit's `value` as a command.

    None: the value belongs to another module (its `cmd` is some other string). InvalidCommand:
    nobody can use it (not a dict, no `cmd`, or a guide submit with unknown or malformed fields);
    give it to `guide.step()` for a helpful answer that leaves the state as it was.
    """
    if not isinstance(value, dict):
        return InvalidCommand(reason=f"submit value is {type(value).__name__}, not an object")
    cmd = value.get(CMD)
    if cmd is None:
        return InvalidCommand(reason="submit value has no 'cmd'")
    if cmd != GUIDE_CMD:
        return None if isinstance(cmd, str) else InvalidCommand(reason="submit 'cmd' is not text")
    try:
        parsed = _SubmitValue.model_validate(value)
    except ValidationError as exc:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})) or "value"
        return InvalidCommand(reason=f"malformed guide submit ({fields})")
    return GuideCommand(action=parsed.action, guide=parsed.guide, step=parsed.step)
