"""What people ask about, without who asked or what they wrote: topic statistics for the city.

One event per answered turn: when, the topic (or none), the platform, the kind of conversation and
the outcome. No user id, no conversation id, no question text, so the log holds no personal data;
it is still pruned after `RETENTION_DAYS` like everything else (`helpdesk.retention`).
An answer's 👍/👎 (and the comment after 👎) is recorded on its question's event
(`record_feedback`), found by the event's id.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import uuid
from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, Field

from storage import KeyedStorage
from storage.keys import QUESTION_PREFIX

__all__ = [
    "QUESTION_PREFIX",
    "QuestionEvent",
    "question_key",
    "record_question",
    "record_feedback",
    "question_events",
    "report_rows",
    "render_report",
]

log = logging.getLogger(__name__)

Outcome = Literal["answered", "asked_back", "unanswered", "guide"]
Feedback = Literal["up", "down"]


class QuestionEvent(BaseModel):
    """One turn, anonymous."""

    at: dt.datetime
    """When (UTC)."""
    topic: str | None
    """Topic answered, or None when out of scope or asking back."""
    platform: str | None = None
    """Platform the answer was about."""
    scope: str
    """personal, groupChat or channel."""
    outcome: Outcome
    """What the bot did."""
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    """Random (uuid4 hex): the answer's 👍/👎 buttons carry it, to record feedback on this event."""
    feedback: Feedback | None = None
    """👍 (up) or 👎 (down) on the answer, once given; the last press counts."""
    comment: str | None = None
    """What the user wrote after 👎, if anything."""


def question_key(event: QuestionEvent) -> str:
    """questions/<ISO time>/<id>: a prefix scan returns the events in time order."""
    return _key(event.at, event.id)


def _key(at: dt.datetime, question_id: str) -> str:
    return f"{QUESTION_PREFIX}{time_key(at)}/{question_id}"


def time_key(at: dt.datetime) -> str:
    """A time as it sorts in a question key (UTC, microseconds)."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def record_question(storage: KeyedStorage, event: QuestionEvent) -> None:
    await storage.write({question_key(event): event.model_dump(mode="json")})


async def record_feedback(
    storage: KeyedStorage,
    question_id: str,
    value: Feedback,
    comment: str | None = None,
    *,
    asked_at: dt.datetime | None = None,
) -> bool:
    """Record 👍/👎 (and a comment) on the question event `question_id`. `asked_at`, the event's
    time, finds it directly; without it the event's key is searched for. A comment is kept once
    given (a later press without one does not erase it). False when the event is gone (retention
    deleted it, or it was never written)."""
    key = _key(asked_at, question_id) if asked_at is not None else None
    stored = (await storage.read([key])).get(key) if key is not None else None
    if stored is None:  # no time, or not the event's exact time: look for the id
        suffix = f"/{question_id}"
        key = next((k for k in await storage.keys(QUESTION_PREFIX) if k.endswith(suffix)), None)
        stored = (await storage.read([key])).get(key) if key is not None else None
    if key is None or stored is None:
        log.info("feedback for a question that is no longer logged")
        return False
    event: dict[str, Any] = {k: v for k, v in dict(stored).items() if k != "e_tag"}
    event["feedback"] = value
    if comment:
        event["comment"] = comment
    await storage.write({key: QuestionEvent.model_validate(event).model_dump(mode="json")})
    return True


async def question_events(storage: KeyedStorage, since: dt.date | None = None) -> dict[str, QuestionEvent]:
    keys = await storage.keys(QUESTION_PREFIX)
    if since is not None:
        floor = f"{QUESTION_PREFIX}{since.isoformat()}"
        keys = [k for k in keys if k >= floor]
    stored = await storage.read(keys) if keys else {}
    events = {}
    for key, value in stored.items():
        value = {k: v for k, v in dict(value).items() if k != "e_tag"}
        events[key] = QuestionEvent.model_validate(value)
    return events


def report_rows(events: list[QuestionEvent]) -> list[tuple[str, str, int]]:
    """(topic, outcome, count), most asked first; out of scope counted as topic "(utanför)"."""
    counts = Counter((e.topic or "(utanför)", e.outcome) for e in events)
    return [(topic, outcome, n) for (topic, outcome), n in counts.most_common()]


def render_report(events: list[QuestionEvent], fmt: str = "text") -> str:
    rows = report_rows(events)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["topic", "outcome", "count"])
        writer.writerows(rows)
        return out.getvalue()
    lines = [f"{'topic':<22} {'outcome':<11} {'count':>6}"]
    lines += [f"{topic:<22} {outcome:<11} {n:>6}" for topic, outcome, n in rows]
    lines.append(f"{'total':<34} {len(events):>6}")
    return "\n".join(lines)
