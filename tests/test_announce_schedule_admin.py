"""Scheduled sends (once, across restarts) and the admin's chat commands."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import pytest

from announcements.admin import (
    handle_admin_command,
    handle_admin_submit,
    is_admin,
    is_admin_submit,
    parse_admin_command,
    summary_message,
)
from announcements.broadcast import SendOutcome
from announcements.clock import VirtualClock
from announcements.ledger import Ledger
from announcements.registry import ConversationRegistry
from announcements.schedule import ScheduledSend, ScheduleError, Schedules, parse_send_time, run_due, run_scheduler
from announcements.service import AnnouncementService
from config import load_settings
from storage import MemoryStorage
from tests.cardschema import validate_card

ADMIN = "0b5e7f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
NOW = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.timezone.utc)
ANN = "infor-valet-2fa-1"


class CountingSender:
    def __init__(self):
        self.calls: list[str] = []

    async def send(self, record, message):
        self.calls.append(record.id)
        return SendOutcome(status=200, activity_id="x")


@pytest.fixture
def storage():
    return MemoryStorage()


@pytest.fixture
def sender():
    return CountingSender()


@pytest.fixture
def clock():
    return VirtualClock(start=NOW)


@pytest.fixture
async def service(storage, sender, clock):
    settings = load_settings(storage_url="memory://", admin_aad_ids=ADMIN.upper(), announce_rate=50)
    registry = ConversationRegistry(storage)
    for i in range(3):
        await registry.remember({"bot": {"id": "28:b"}, "conversation": {"id": f"a:1u{i}"}, "serviceUrl": "http://x/"},
                                "personal", None, None, "t", NOW)
    svc = AnnouncementService(storage, settings, sender_factory=lambda: sender, clock=clock)
    yield svc
    await svc.close()


# -- scheduling ---------------------------------------------------------------------------------

def test_a_time_in_the_past_is_refused_with_a_clear_message():
    with pytest.raises(ScheduleError, match="in the past"):
        parse_send_time("2026-08-31T10:00+02:00", NOW)
    with pytest.raises(ScheduleError, match="ISO format"):
        parse_send_time("nästa fredag", NOW)
    assert parse_send_time("2026-09-08T09:00+02:00", NOW) == dt.datetime(2026, 9, 8, 7, 0, tzinfo=dt.timezone.utc)


async def test_a_scheduled_announcement_is_sent_once_when_due(service, storage, sender, clock):
    schedules = Schedules(storage)
    await schedules.schedule(ANN, NOW + dt.timedelta(hours=1), NOW)
    assert await run_due(service, schedules, clock) == [] and sender.calls == []
    clock.advance(2 * 3600)
    (ended,) = await clock.run(run_due(service, schedules, clock))
    assert ended.state == "done" and "sent 3" in ended.result
    assert len(sender.calls) == 3
    assert await clock.run(run_due(service, schedules, clock)) == []
    assert len(sender.calls) == 3
    with pytest.raises(ScheduleError, match="already been sent"):
        await schedules.schedule(ANN, NOW + dt.timedelta(days=3), NOW)


async def test_a_send_interrupted_by_a_restart_is_resumed_not_repeated(service, storage, sender, clock):
    schedules = Schedules(storage)
    await schedules.save(ScheduledSend(announcement_id=ANN, send_at=NOW, created_at=NOW, state="sending"))
    ledger = Ledger(storage)
    from announcements.ledger import LedgerEntry
    await ledger.save(LedgerEntry(announcement_id=ANN, conversation_id="a:1u0", status="sent"))
    (ended,) = await clock.run(run_due(service, schedules, clock))
    assert ended.state == "done" and sorted(sender.calls) == ["a:1u1", "a:1u2"]


async def test_a_schedule_for_an_announcement_no_longer_in_the_knowledge_base_fails_visibly(
        service, storage, sender, clock, caplog):
    schedules = Schedules(storage)
    await schedules.save(ScheduledSend(announcement_id="old-id", send_at=NOW, created_at=NOW))
    with caplog.at_level(logging.ERROR):
        (ended,) = await clock.run(run_due(service, schedules, clock))
    assert ended.state == "failed" and sender.calls == [] and "old-id" in caplog.text


async def test_cancelled_schedules_are_not_sent(service, storage, sender, clock):
    schedules = Schedules(storage)
    await schedules.schedule(ANN, NOW + dt.timedelta(minutes=5), NOW)
    await schedules.cancel(ANN, NOW)
    clock.advance(3600)
    assert await run_due(service, schedules, clock) == [] and sender.calls == []


async def test_the_scheduler_task_sends_when_due_and_stops_on_request(storage, sender):
    settings = load_settings(storage_url="memory://", announce_rate=50)
    now = dt.datetime.now(dt.timezone.utc)
    await ConversationRegistry(storage).remember(
        {"conversation": {"id": "a:1z"}, "serviceUrl": "http://x/"}, "personal", None, None, "t", now)
    service = AnnouncementService(storage, settings, sender_factory=lambda: sender)
    await Schedules(storage).schedule(ANN, now + dt.timedelta(seconds=0.2), now)
    stop = asyncio.Event()
    task = asyncio.create_task(run_scheduler(service, stop, poll_seconds=0.05))
    for _ in range(100):
        if sender.calls:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert sender.calls == ["a:1z"]
    assert (await Schedules(storage).get(ANN)).state == "done"


# -- admin chat commands --------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    pytest.param("utskick förhandsvisa", "preview", id="preview"),
    pytest.param("Utskick Förhandsvisa!", "preview", id="preview-case"),
    pytest.param("utskick forhandsvisa", "preview", id="preview-no-accents"),
    pytest.param("<at>Kanalvakten</at> utskick skicka", "send", id="send-mention"),
    pytest.param("utskick skicka nu till alla tack", None, id="not-a-command"),
    pytest.param("hur slår jag på tvåfaktor", None, id="question"),
])
def test_admin_commands_are_recognised(text, expected):
    assert parse_admin_command(text) == expected


def test_is_admin_compares_object_ids_case_insensitively():
    settings = load_settings(admin_aad_ids=f"{ADMIN.upper()}, other")
    assert is_admin(ADMIN, settings) and not is_admin("someone", settings) and not is_admin(None, settings)


async def test_others_are_told_they_may_not_and_it_is_logged(service, sender, caplog):
    with caplog.at_level(logging.WARNING):
        reply = await handle_admin_command("send", "intruder-id", service)
        submit = await handle_admin_submit({"cmd": "announce", "action": "confirm", "id": ANN}, "intruder-id", service)
    assert "inte behörighet" in reply.message.text and "inte behörighet" in submit.message.text
    assert not submit.started and sender.calls == []
    assert caplog.text.count("intruder-id") == 2


async def test_an_admin_previews_then_confirms_and_hears_when_it_is_done(service, sender, clock):
    preview = await handle_admin_command("preview", ADMIN, service)
    validate_card(preview.message.card)
    assert "3 konversationer" in preview.message.text
    confirm = await handle_admin_command("send", ADMIN, service)
    validate_card(confirm.message.card)
    value = confirm.message.card["actions"][0]["data"]
    assert is_admin_submit(value) and sender.calls == []
    results = []

    async def on_done(result):
        results.append(result)

    reply = await handle_admin_submit(value, ADMIN, service, on_done)
    assert reply.started and "skickas nu" in reply.message.text
    for _ in range(50):
        if results:
            break
        await clock.run(asyncio.sleep(0.01))
    assert len(sender.calls) == 3 and results[0].sent == 3
    assert "skickat till 3" in summary_message(results[0]).text
    again = await handle_admin_command("send", ADMIN, service)
    assert "redan gått ut till alla 3" in again.message.text


async def test_a_stale_confirm_button_does_not_send(service, sender):
    reply = await handle_admin_submit({"cmd": "announce", "action": "confirm", "id": "old-id"}, ADMIN, service)
    assert not reply.started and "har ändrats" in reply.message.text and sender.calls == []


async def test_announcements_are_handled_only_in_a_personal_chat(service):
    reply = await handle_admin_command("preview", ADMIN, service, conversation_type="channel")
    assert "personlig chatt" in reply.message.text
