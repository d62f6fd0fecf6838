"""The ledger's plan for a run and the transitions of one entry (no storage, no clock)."""

from __future__ import annotations

import datetime as dt

from announcements.ledger import LedgerEntry, plan_delivery

ANN = "ann"
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def entry(conversation_id: str, status: str, **kwargs) -> LedgerEntry:
    return LedgerEntry(announcement_id=ANN, conversation_id=conversation_id, status=status, **kwargs)


def test_the_plan_skips_sent_and_gone_resends_in_flight_and_retries_the_rest_in_recipient_order():
    entries = {
        c: entry(c, s, attempts=1)
        for c, s in [
            ("sent", "sent"),
            ("gone", "gone"),
            ("flight", "in_flight"),
            ("failed", "failed"),
            ("pending", "pending"),
        ]
    }
    plan = plan_delivery(ANN, ["new", "sent", "flight", "gone", "failed", "pending", "new"], entries)
    assert [e.conversation_id for e in plan.to_send] == ["new", "flight", "failed", "pending"]
    assert plan.already_sent == ["sent"] and plan.gone == ["gone"]
    assert plan.resent_after_interruption == ["flight"]
    assert entries["flight"].interrupted == 1
    new = plan.to_send[0]
    assert (new.status, new.attempts, new.announcement_id) == ("pending", 0, ANN)


def test_an_entry_goes_in_flight_then_pending_then_sent():
    e = entry("c", "pending")
    e.start_attempt(T0)
    assert (e.status, e.attempts, e.first_attempt_at, e.last_attempt_at) == ("in_flight", 1, T0, T0)
    e.retry_later("HTTP 503")
    assert (e.status, e.reason) == ("pending", "HTTP 503")
    later = T0 + dt.timedelta(seconds=2)
    e.start_attempt(later)
    assert (e.attempts, e.first_attempt_at, e.last_attempt_at) == (2, T0, later)
    e.finish("sent", later, activity_id="act-1")
    assert (e.status, e.reason, e.finished_at, e.activity_id) == ("sent", None, later, "act-1")


def test_failed_and_gone_keep_their_reason():
    e = entry("c", "in_flight")
    e.finish("gone", T0, reason="HTTP 403")
    assert (e.status, e.reason, e.finished_at) == ("gone", "HTTP 403", T0)
