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
from announcements.broadcast import BroadcastBusy, SendOutcome
from announcements.clock import VirtualClock
from announcements.ledger import Ledger
from announcements.registry import ConversationRegistry
from announcements.schedule import ScheduledSend, ScheduleError, Schedules, parse_send_time, run_due, run_scheduler
from announcements.service import AnnouncementChanged, ElectionPassed
from config import load_settings
from storage import MemoryStorage
from teams.compose import announcement_service
from tests.cardschema import validate_card

ADMIN = "0b5e7f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
NOW = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)
ANN = "infor-valet-2fa-1"
ELECTION = {"election_name": "Riksdagsvalet", "election_date": NOW.date() + dt.timedelta(days=61)}
"""A coming election, two months after the test clock's today (a past one is refused)."""


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
    settings = load_settings(storage_url="memory://", admin_aad_ids=ADMIN.upper(), announce_rate=50, **ELECTION)
    registry = ConversationRegistry(storage)
    for i in range(3):
        await registry.remember(
            {"bot": {"id": "28:b"}, "conversation": {"id": f"a:1u{i}"}, "serviceUrl": "http://x/"},
            "personal",
            None,
            None,
            "t",
            NOW,
        )
    svc = announcement_service(settings, storage, sender_factory=lambda: sender, clock=clock)
    yield svc
    await svc.close()


# -- scheduling ---------------------------------------------------------------------------------


def test_a_time_in_the_past_is_refused_with_a_clear_message():
    with pytest.raises(ScheduleError, match="in the past"):
        parse_send_time("2026-08-31T10:00+02:00", NOW)
    with pytest.raises(ScheduleError, match="ISO format"):
        parse_send_time("nästa fredag", NOW)
    assert parse_send_time("2026-09-08T09:00+02:00", NOW) == dt.datetime(2026, 9, 8, 7, 0, tzinfo=dt.UTC)


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
    service, storage, sender, clock, caplog
):
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
    now = dt.datetime.now(dt.UTC)
    settings = load_settings(
        storage_url="memory://", announce_rate=50, election_date=now.date() + dt.timedelta(days=61)
    )
    await ConversationRegistry(storage).remember(
        {"conversation": {"id": "a:1z"}, "serviceUrl": "http://x/"}, "personal", None, None, "t", now
    )
    service = announcement_service(settings, storage, sender_factory=lambda: sender)
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


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("utskick förhandsvisa", "preview", id="preview"),
        pytest.param("Utskick Förhandsvisa!", "preview", id="preview-case"),
        pytest.param("utskick forhandsvisa", "preview", id="preview-no-accents"),
        pytest.param("<at>Kanalvakten</at> utskick skicka", "send", id="send-mention"),
        pytest.param("utskick skicka nu till alla tack", None, id="not-a-command"),
        pytest.param("hur slår jag på tvåfaktor", None, id="question"),
    ],
)
def test_admin_commands_are_recognised(text, expected):
    assert parse_admin_command(text) == expected


def test_is_admin_compares_object_ids_case_insensitively():
    settings = load_settings(admin_aad_ids=f"{ADMIN.upper()}, other")
    admins = settings.admin_aad_ids
    assert is_admin(ADMIN, admins) and not is_admin("someone", admins) and not is_admin(None, admins)


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


# -- an election whose date has passed ----------------------------------------------------------

PAST_ELECTION = {"election_name": "Riksdagsvalet", "election_date": NOW.date() - dt.timedelta(days=1)}


@pytest.fixture
async def past_service(storage, sender, clock):
    """The same bot, but the configured election was yesterday."""
    settings = load_settings(storage_url="memory://", admin_aad_ids=ADMIN, announce_rate=50, **PAST_ELECTION)
    await ConversationRegistry(storage).remember(
        {"bot": {"id": "28:b"}, "conversation": {"id": "a:1u0"}, "serviceUrl": "http://x/"},
        "personal",
        None,
        None,
        "t",
        NOW,
    )
    svc = announcement_service(settings, storage, sender_factory=lambda: sender, clock=clock)
    yield svc
    await svc.close()


async def test_a_scheduled_send_whose_election_has_passed_by_then_is_failed_not_sent(
    service, storage, sender, clock, caplog
):
    schedules = Schedules(storage)
    await schedules.schedule(ANN, NOW + dt.timedelta(hours=1), NOW)
    clock.advance(62 * 24 * 3600)  # the bot was down until after the election
    with caplog.at_level(logging.ERROR):
        (ended,) = await clock.run(run_due(service, schedules, clock))
    assert ended.state == "failed" and sender.calls == []
    assert "the configured election has passed: Riksdagsvalet" in ended.result and "ELECTION_DATE" in ended.result
    assert (await Schedules(storage).get(ANN)).state == "failed"
    assert f"scheduled announcement {ANN} not sent" in caplog.text and "has passed" in caplog.text
    assert await clock.run(run_due(service, schedules, clock)) == []  # and it is not tried again


async def test_the_election_day_itself_may_still_be_sent(storage, sender, clock):
    settings = load_settings(storage_url="memory://", announce_rate=50, election_date=NOW.date())
    await ConversationRegistry(storage).remember(
        {"conversation": {"id": "a:1z"}, "serviceUrl": "http://x/"}, "personal", None, None, "t", NOW
    )
    service = announcement_service(settings, storage, sender_factory=lambda: sender, clock=clock)
    summary = await clock.run(service.send())
    assert summary.sent == 1 and sender.calls == ["a:1z"]


async def test_an_admin_is_told_in_swedish_that_the_election_must_be_configured_first(past_service, sender, caplog):
    with caplog.at_level(logging.WARNING):
        reply = await handle_admin_command("send", ADMIN, past_service)
    assert reply.message.card is None and not reply.started  # no confirm button
    for words in (
        "Valdatumet har passerat",
        f"Riksdagsvalet var {PAST_ELECTION['election_date']}",
        "ELECTION_NAME",
        "ELECTION_DATE",
        "Inget har skickats",
    ):
        assert words in reply.message.text
    assert "refused" in caplog.text and sender.calls == []


async def test_the_confirm_button_sends_nothing_when_the_election_has_passed(past_service, sender, clock):
    results = []

    async def on_done(result):
        results.append(result)

    reply = await handle_admin_submit({"cmd": "announce", "action": "confirm", "id": ANN}, ADMIN, past_service, on_done)
    assert not reply.started and "Valdatumet har passerat" in reply.message.text
    assert "ELECTION_DATE" in reply.message.text and "Inget har skickats" in reply.message.text
    await clock.run(asyncio.sleep(0.05))
    assert sender.calls == [] and results == [] and not past_service.is_sending(ANN)


async def test_the_admin_preview_of_a_past_election_carries_a_warning(past_service, service):
    preview = await handle_admin_command("preview", ADMIN, past_service)
    validate_card(preview.message.card)
    warning = preview.message.card["body"][1]
    assert warning["color"] == "Attention" and warning["text"].startswith("Varning: Valdatumet har passerat")
    assert "ELECTION_DATE" in warning["text"]
    assert "Varning: Valdatumet har passerat" in preview.message.text
    assert "utskick skicka" not in preview.message.text  # it does not invite a send

    fine = await handle_admin_command("preview", ADMIN, service)
    assert "Varning" not in fine.message.text and 'Skriv "utskick skicka"' in fine.message.text


# -- a second press of "Skicka nu" ----------------------------------------------------------------


class HeldSender(CountingSender):
    """Sends only when released, so a send stays running while the test presses again."""

    def __init__(self):
        super().__init__()
        self.release = asyncio.Event()

    async def send(self, record, message):
        await self.release.wait()
        return await super().send(record, message)


async def test_a_second_press_while_the_send_runs_is_answered_in_swedish_and_sends_nothing_twice(storage, clock):
    sender = HeldSender()
    settings = load_settings(storage_url="memory://", admin_aad_ids=ADMIN, announce_rate=50, **ELECTION)
    for i in range(3):
        await ConversationRegistry(storage).remember(
            {"conversation": {"id": f"a:1u{i}"}, "serviceUrl": "http://x/"}, "personal", None, None, "t", NOW
        )
    service = announcement_service(settings, storage, sender_factory=lambda: sender, clock=clock)
    results = []

    async def on_done(result):
        results.append(result)

    value = {"cmd": "announce", "action": "confirm", "id": ANN}
    try:
        first = await handle_admin_submit(value, ADMIN, service, on_done)
        second = await handle_admin_submit(value, ADMIN, service, on_done)  # at once, before the task ran
        await asyncio.sleep(0.05)
        third = await handle_admin_submit(value, ADMIN, service, on_done)  # while it is sending
        typed = await handle_admin_command("send", ADMIN, service)
        assert first.started and not second.started and not third.started
        for reply in (second, third, typed):
            assert reply.message.text.startswith(f"Utskicket {ANN} pågår redan.")
            assert reply.message.card is None
        sender.release.set()
        for _ in range(100):
            if results:
                break
            await clock.run(asyncio.sleep(0.01))
        assert len(results) == 1 and results[0].sent == 3  # one send, one summary
        assert sorted(sender.calls) == ["a:1u0", "a:1u1", "a:1u2"]
        assert not service.is_sending(ANN)
    finally:
        sender.release.set()
        await service.close()


async def test_a_press_while_another_process_sends_reports_in_swedish(service, storage, sender, clock):
    import os
    import socket

    await storage.write(
        {
            f"broadcast-lock/{ANN}": {
                "owner": "cli",
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "heartbeat": NOW.isoformat(),
            }
        }
    )
    results = []

    async def on_done(result):
        results.append(result)

    reply = await handle_admin_submit({"cmd": "announce", "action": "confirm", "id": ANN}, ADMIN, service, on_done)
    assert reply.started
    for _ in range(50):
        if results:
            break
        await clock.run(asyncio.sleep(0.01))
    text = summary_message(results[0]).text
    assert text.startswith("Utskicket pågår redan") and "pid" not in text and "process" not in text
    assert sender.calls == []


@pytest.mark.parametrize(
    "error, expected",
    [
        pytest.param(
            BroadcastBusy("announcement x is being sent by another process (pid 7 on host, heartbeat 3 s ago)"),
            "Utskicket pågår redan",
            id="busy",
        ),
        pytest.param(
            AnnouncementChanged("the announcement is now 'y', not 'x'; preview it again"),
            "Utskicket har ändrats",
            id="changed",
        ),
        pytest.param(RuntimeError("Connection reset by peer"), "tekniskt fel", id="unexpected"),
        pytest.param(KeyError("conversation"), "tekniskt fel", id="key-error"),
    ],
)
def test_the_summary_never_shows_an_exception_text_to_the_admin(error, expected, caplog):
    with caplog.at_level(logging.WARNING):
        text = summary_message(error).text
    assert expected in text and str(error) not in text and type(error).__name__ not in text
    assert str(error) in caplog.text  # the details are in the log


def test_the_summary_of_a_refused_past_election_is_swedish():
    from announcements.content import announcement_content
    from knowledge.loader import load_knowledge_base
    from teams.compose import election_of

    settings = load_settings(**PAST_ELECTION)
    kb = load_knowledge_base()
    error = ElectionPassed(announcement_content(kb, election_of(kb, settings), NOW.date()))
    text = summary_message(error).text
    assert text.startswith("Valdatumet har passerat") and "ELECTION_DATE" in text and str(error) not in text
