"""User-controlled strings never start a new log line: line breaks in log arguments are escaped.

A tenant id, a conversation id, a serviceUrl or a question's text can hold "\\n"; logged as is, a
forged "\\n2026-… WARNING …: admin logged in" would look like a line of its own. `install()`
replaces the logging record factory once, for every logger and handler (text, JSON, pytest's
caplog): each record's arguments are escaped when the record is made, so `record.getMessage()`
and everything built from it stay on one line. "\\r" becomes the two characters `\\r`, "\\n"
becomes `\\n`, and the other characters `str.splitlines` breaks on become `\\xNN`/`\\uNNNN`.

Only the arguments: the format string is ours (no f-strings with user text in log calls), and a
traceback spans lines by nature. Numbers pass unchanged, so `%d` keeps working; other objects are
escaped when formatted (`%s` and `%r`).
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["escape", "install", "installed"]

_BREAKS = {
    "\r": "\\r",
    "\n": "\\n",
    "\x0b": "\\x0b",
    "\x0c": "\\x0c",
    "\x1c": "\\x1c",
    "\x1d": "\\x1d",
    "\x1e": "\\x1e",
    "\x85": "\\x85",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_TABLE = str.maketrans(_BREAKS)


def escape(text: str) -> str:
    """`text` with every line break written out (`\\n`), so it cannot end a log line."""
    return text.translate(_TABLE)


class _Escaped:
    """An argument that is escaped when the message is formatted (lazily, as logging intends)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __str__(self) -> str:
        return escape(str(self.value))

    def __repr__(self) -> str:
        return escape(repr(self.value))

    def __format__(self, spec: str) -> str:
        return escape(format(self.value, spec))


def _safe(value: Any) -> Any:
    if value is None or isinstance(value, numbers.Number):
        return value
    if isinstance(value, str) and value.translate(_TABLE) == value:
        return value  # the common case: nothing to escape, the string itself
    return _Escaped(value)


def _escape_args(record: logging.LogRecord) -> logging.LogRecord:
    args = record.args
    if isinstance(args, tuple) and args:
        record.args = tuple(_safe(arg) for arg in args)
    elif isinstance(args, Mapping) and args:
        record.args = {key: _safe(value) for key, value in args.items()}
    return record


_installed: Callable[..., logging.LogRecord] | None = None


def installed() -> bool:
    """Whether the escaping record factory is the one logging uses."""
    return _installed is not None and logging.getLogRecordFactory() is _installed


def install() -> None:
    """Escape the arguments of every log record from now on (idempotent)."""
    global _installed
    if installed():
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _escape_args(previous(*args, **kwargs))

    _installed = factory
    logging.setLogRecordFactory(factory)
