"""Personal data out of a question's text before it is stored for the curator's report.

What people type to the bot is kept only when the bot could not answer it or the answer got a 👎
(`helpdesk.question_texts`), and before that it passes through `scrub`: e-mail addresses, Swedish
phone numbers, personnummer (and samordningsnummer) and names become placeholders, so the
content owners learn what was asked, not who asked or whom it was about.

Names are those Teams marks as names: `<at>…</at>` mentions, the names of the mention entities,
and the asker's own display name, passed in by the caller. A name typed without a mention cannot
be told from an ordinary word and stays; the README says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["EMAIL", "PHONE", "PERSONNUMMER", "NAME", "PLACEHOLDERS", "MAX_STORED_TEXT", "scrub"]

EMAIL = "[e-post]"
PHONE = "[telefon]"
PERSONNUMMER = "[personnummer]"
NAME = "[namn]"

MAX_STORED_TEXT = 500
"""A stored text is cut to this many characters: a question, not a document."""

_EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")

_MMDD = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
"""Month and day; a samordningsnummer adds 60 to the day."""
_DATE = rf"\d{{2}}{_MMDD}"
"""YYMMDD."""
_PERSONNUMMER = re.compile(
    rf"(?<![\d+])(?:"
    rf"(?:19|20){_DATE}[-+]?\d{{4}}"  # YYYYMMDD-XXXX, YYYYMMDDXXXX
    rf"|{_DATE}[-+]\d{{4}}"  # YYMMDD-XXXX (+ after 100 years)
    rf"|[1-9]\d{_MMDD}\d{{4}}"  # YYMMDDXXXX; ten digits starting with 0 are a phone number
    rf")(?!\d)"
)

_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"(?:\+|00)46[\s-]?(?:\(0\)[\s-]?)?\d{1,3}"  # +46 70, 0046 31, +46 (0)8
    r"|\(0\d{1,3}\)"  # (031)
    r"|0\d{1,3}"  # 070, 031, 08
    r")(?:[\s-]?\d){5,8}(?!\d)"
)

PLACEHOLDERS = re.compile(r"\[(?:e-post|telefon|personnummer|namn)\]")
"""Any placeholder `scrub` puts in."""
_PLACEHOLDER_SPLIT = re.compile(rf"({PLACEHOLDERS.pattern})")
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t]+")


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """Whole names, and each part of a name of three letters or more, as whole words."""
    words: set[str] = set()
    for name in names:
        name = (name or "").strip()
        if len(name) < 2:
            continue
        words.add(name)
        words.update(part for part in re.findall(r"\w+", name) if len(part) >= 3 and not part.isdigit())
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def scrub(text: str, names: Iterable[str] = ()) -> str:
    """`text` with e-mail addresses, phone numbers, personnummer and `names` (plus every
    `<at>…</at>` mention) replaced by placeholders, whitespace tidied, cut to MAX_STORED_TEXT."""
    text = _MENTION.sub(NAME, text or "")
    text = _EMAIL.sub(EMAIL, text)
    text = _PERSONNUMMER.sub(PERSONNUMMER, text)
    text = _PHONE.sub(PHONE, text)
    pattern = _name_pattern(names)
    if pattern is not None:  # never inside a placeholder already put in ("[e-post]")
        text = "".join(
            part if PLACEHOLDERS.fullmatch(part) else pattern.sub(NAME, part) for part in _PLACEHOLDER_SPLIT.split(text)
        )
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return text.strip()[:MAX_STORED_TEXT]
