"""Text normalisation for Swedish text typed in a chat: the one place it is done.

Used by the matcher (questions), the guide's typed commands (`dialogs.commands`), the admin's
announcement commands (`announcements.admin`), the guide's cards (`cards.guide`) and the turn logic
(`assistant.conversation`); nothing else folds case or accents on its own.

Why each step: Teams text arrives with any Unicode (NFC or not, zero-width joiners, emoji), people
skip å/ä/ö on English keyboards ("tvafaktor"), and punctuation carries no meaning for matching.
Tokens keep both forms: the accented one (so "väl" is not "val") and the folded one (so
"tvafaktor" still finds "tvåfaktor").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

__all__ = ["MAX_CHARS", "normalise", "fold", "simplify", "tokens", "without_mentions", "without_signature", "stem"]

MAX_CHARS = 2000
"""Longer input is cut: a question is never longer, and matching cost stays bounded."""

_FOLD = str.maketrans(
    {"å": "a", "ä": "a", "ö": "o", "é": "e", "è": "e", "ü": "u", "æ": "a", "ø": "o", "á": "a", "à": "a"}
)
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_UNDERSCORE = re.compile(r"_+")
_APOSTROPHES = re.compile(r"['’]")
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_FILE_NAME = re.compile(
    r"\b(\w+)\.(png|jpe?g|gif|webp|heic|svg|pdf|docx?|xlsx?|pptx?|txt|csv|zip|mp4|mov|mp3|wav)\b", re.IGNORECASE
)
"""A file name is one word: the "x" of "x.png" is not the platform X."""
_ADDRESSED = re.compile(r"^\s*(?:@[\w.-]+[\s,:]*)+")
"""A typed @mention at the start of a message says whom it is for ("@Kanalvakten och på LinkedIn då?"),
not what it is about; Teams' own mention (`<at>...</at>`) is removed before the text gets here."""
_COLON_ENDING = re.compile(r"(?<=\w):(?:a|an|ar|arna|en|et|er|erna|n|na|s|t)\b", re.IGNORECASE)
"""Swedish inflects an abbreviation after a colon ("sms:et", "2FA:n", "X:s"): the ending goes, the
word stays whole."""


def normalise(text: str) -> str:
    """NFKC, case-folded, control characters removed, file names as one word, an abbreviation's
    colon ending dropped, punctuation to spaces, cut to MAX_CHARS."""
    if not text:
        return ""
    text = _COLON_ENDING.sub("", _FILE_NAME.sub(r"\1\2", _ADDRESSED.sub("", text[: MAX_CHARS * 2])))
    text = unicodedata.normalize("NFKC", text).casefold()
    # casefold turns ß into ss etc.; re-compose å/ä/ö that NFKC left composed anyway
    if not text.isprintable():  # (printable text has no control or format characters: most has none)
        text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = _UNDERSCORE.sub(" ", _NON_WORD.sub(" ", text))
    return " ".join(text.split())[:MAX_CHARS]


_SIGN_OFFS = (
    ("med", "vänliga", "hälsningar"),
    ("med", "vänlig", "hälsning"),
    ("vänliga", "hälsningar"),
    ("vänlig", "hälsning"),
    ("mvh",),
    ("best", "regards"),
    ("kind", "regards"),
)
"""How a letter ends: what follows (a name, a unit) is a signature, not part of the question. ("Hälsningar"
alone is not here: "kan vi skicka hälsningar på facebook" is a question.)"""
_SIGN_OFF_STARTS = frozenset(sign_off[0] for sign_off in _SIGN_OFFS)
_SIGNATURE_WORDS = 6
"""At most this many words after a sign-off, to the end of the message."""


def without_signature(words: list[str]) -> list[str]:
    """Normalised words with a closing sign-off and the signature after it dropped ("... hur gör jag
    detta? Med vänliga hälsningar, Birgitta" -> "... hur gör jag detta")."""
    tail = max(0, len(words) - _SIGNATURE_WORDS - 3)
    if _SIGN_OFF_STARTS.isdisjoint(words[tail:]):
        return words
    for start in range(tail, len(words)):
        for sign_off in _SIGN_OFFS:
            end = start + len(sign_off)
            if tuple(words[start:end]) == sign_off and len(words) - end <= _SIGNATURE_WORDS and start > 0:
                return words[:start]
    return words


def fold(text: str) -> str:
    """Fold Swedish and common Latin diacritics: "tvåfaktor" -> "tvafaktor"."""
    return text.translate(_FOLD)


def tokens(text: str) -> list[str]:
    """Normalised words (accents kept)."""
    return normalise(text).split()


def simplify(text: str) -> str:
    """The form typed commands are compared in: `fold(normalise(text))`, apostrophes dropped.

    "Nästa!", "nasta" and "NÄSTA." are all "nasta"; "I'm stuck" is "im stuck"; "Facebook-guiden"
    is "facebook guiden".
    """
    return fold(normalise(_APOSTROPHES.sub("", text or "")))


def without_mentions(text: str) -> str:
    """The text with every Teams `<at>…</at>` mention replaced by a space."""
    return _MENTION.sub(" ", text or "")


_STEMMER = snowballstemmer.stemmer("swedish")


@lru_cache(maxsize=16384)
def stem(word: str, keep_accents: bool = False) -> str:
    """A Swedish word reduced to its stem, folded: "koderna", "koden" -> "kod"; "sparar", "spara"
    -> "spar" (Snowball's Swedish stemmer: deterministic, works on words it has never seen, such as
    compounds and typos, where a dictionary lemmatiser returns them unchanged)."""
    stemmed = _STEMMER.stemWord(word)
    return stemmed if keep_accents else fold(stemmed)
