"""Logging, configured once at start-up (`bot.py`): plain text or JSON lines, with a correlation id.

- `LOG_FORMAT=text` (default): `time LEVEL logger [correlation id]: message`.
- `LOG_FORMAT=json`: one JSON object a line with `time` (UTC, ISO 8601), `level`, `logger`,
  `message`, `correlation_id` and, for an exception, `exception` (the traceback as one string), so
  a log service can index the fields and a message with a newline stays one line.

The correlation id ties together every line one turn writes: `teams.app` sets it for each request
(`correlation_scope()`), in a `contextvars.ContextVar`, so concurrent turns on the event loop keep
their own and tasks started during a turn inherit it. Lines outside a turn (start-up, the
scheduler) carry "-".

What is logged is decided where it is logged; the rule (tested in tests/test_logs.py) is that no
secret, token or question text reaches the log at INFO: turns log topics and outcomes, never what
the user wrote. msrest, which logs whole request bodies, is held at WARNING.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import uuid
from collections.abc import Iterator
from typing import TextIO

__all__ = [
    "configure_logging",
    "correlation_id",
    "correlation_scope",
    "new_correlation_id",
    "CorrelationFilter",
    "JsonFormatter",
    "TEXT_FORMAT",
]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s]: %(message)s"

_CORRELATION: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="-")

_QUIET = {"msrest": logging.WARNING, "azure": logging.WARNING, "urllib3": logging.WARNING}
"""Libraries that log request bodies or headers below WARNING (personal data, credentials)."""


def new_correlation_id() -> str:
    """A short random id (12 hex digits: unique enough to find one turn among millions)."""
    return uuid.uuid4().hex[:12]


def correlation_id() -> str:
    """The current turn's id ("-" outside a turn)."""
    return _CORRELATION.get()


@contextlib.contextmanager
def correlation_scope(value: str | None = None) -> Iterator[str]:
    """Everything logged inside carries `value` (default: a new id) as its correlation id."""
    token = _CORRELATION.set(value or new_correlation_id())
    try:
        yield _CORRELATION.get()
    finally:
        _CORRELATION.reset(token)


class CorrelationFilter(logging.Filter):
    """Adds `record.correlation_id` (on the handler, so every logger's records get it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "correlation_id"):
            record.correlation_id = _CORRELATION.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None) or _CORRELATION.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(
    level: str = "INFO", log_format: str = "text", *, stream: TextIO | None = None
) -> logging.Handler:
    """Give the root logger one handler of ours (text or JSON) on stderr (or `stream`), replacing
    the one an earlier call installed."""
    import logsafe

    logsafe.install()  # line breaks in log arguments are escaped: user text never starts a log line
    handler: logging.Handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler._kanalvakten = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in list(root.handlers):  # ours from an earlier call; a host's (pytest's caplog) stay
        if getattr(old, "_kanalvakten", False):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for name, floor in _QUIET.items():
        logging.getLogger(name).setLevel(max(floor, root.level))
    return handler
