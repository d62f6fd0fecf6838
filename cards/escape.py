"""User text shown literally on a card: Teams renders a Markdown subset in TextBlocks and FactSets.

A question forwarded to the experts, or a display name, is whatever someone typed. Unescaped,
`[klicka här](https://…)` becomes a link, `**viktigt**` bold text and a typed `<at>Namn</at>`
something that looks like a mention beside the real ones. `escape_markdown` puts a backslash before
every character Markdown (and Teams' mention and HTML handling) gives a meaning to, so the
text is shown as it was typed; `unescape_markdown` is its inverse (for tests and fallbacks).
"""

from __future__ import annotations

import re

__all__ = ["escape_markdown", "unescape_markdown", "MARKDOWN_SPECIALS"]

MARKDOWN_SPECIALS = "\\`*_~[]()#|<>!{}"
"""Escaped wherever they stand: emphasis, code, links and images, headings, tables, tags."""
_SPECIAL = re.compile("([" + re.escape(MARKDOWN_SPECIALS) + "])")
_LIST_MARK = re.compile(r"^([ \t]*)([-+])(?=\s)", re.MULTILINE)
"""`- x` and `+ x` at the start of a line make a list."""
_NUMBERED = re.compile(r"^([ \t]*\d+)([.)])(?=\s)", re.MULTILINE)
"""`1. x` at the start of a line makes a numbered list."""
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def escape_markdown(text: str) -> str:
    """`text` with every Markdown-special character backslash-escaped (ASCII punctuation escapes,
    as CommonMark defines them), including `<` and `>`."""
    text = _SPECIAL.sub(r"\\\1", text or "")
    text = _LIST_MARK.sub(r"\1\\\2", text)
    return _NUMBERED.sub(r"\1\\\2", text)


def unescape_markdown(text: str) -> str:
    """The text `escape_markdown` was given."""
    return _ESCAPED.sub(r"\1", text)
