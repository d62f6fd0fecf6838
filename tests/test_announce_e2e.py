"""End to end through the CLI's `main`, the real Bot Framework sender and the fake connector."""

from __future__ import annotations

import datetime as dt
import io
import itertools

import pytest
from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from announcements.cli import main
from announcements.ledger import Ledger
from announcements.registry import ConversationRegistry, scope_of
from announcements.schedule import Schedules
from cards.message import CARD_CONTENT_TYPE
from config import load_settings
from storage import MemoryStorage
from teams.compose import announcement_service
from tests import teams_activities as ta
from tests.bot_harness import fallback_text
from tests.cardschema import validate_card
from tests.fake_connector import FakeConnector

NOW = dt.datetime.now(dt.UTC)
ELECTION_DATE = NOW.date() + dt.timedelta(days=61)
"""A coming election, so the announcement may be sent (one whose date has passed is refused)."""
USERS = ["29:user-anna", "29:user-bertil", "29:user-cecilia"]
GONE_USER = "29:user-david"


async def remember(registry: ConversationRegistry, activity: dict) -> None:
    """What the activity handler does for every activity: the reference and Teams' facts."""
    incoming = Activity().deserialize(activity)
    reference = TurnContext.get_conversation_reference(incoming).serialize()
    data = incoming.channel_data or {}
    await registry.remember(
        reference,
        scope_of(incoming.conversation.conversation_type),
        (data.get("team") or {}).get("id"),
        (data.get("channel") or {}).get("id"),
        (data.get("tenant") or {}).get("id"),
        NOW,
    )


@pytest.fixture
async def fake():
    async with FakeConnector() as connector:
        yield connector


@pytest.fixture
def settings():
    return load_settings(
        storage_url="memory://",
        announce_rate=50,
        admin_aad_ids=[],
        election_name="Riksdagsvalet",
        election_date=ELECTION_DATE,
    )


@pytest.fixture
async def installed(fake):
    """Several personal chats, a group chat and a team; one more personal chat later uninstalled."""
    storage = MemoryStorage()
    registry = ConversationRegistry(storage)
    for user in [*USERS, GONE_USER]:
        await remember(registry, ta.installation_update("add", service_url=fake.url, user_id=user))
        await remember(registry, ta.message("hej", service_url=fake.url, user_id=user))
    await remember(registry, ta.message("vad kan du?", service_url=fake.url, conversation_type="groupChat"))
    await remember(registry, ta.installation_update("add", service_url=fake.url, conversation_type="channel"))
    await remember(registry, ta.message("hej", service_url=fake.url, conversation_type="channel", mention_bot=True))
    await registry.forget(ta.personal_conversation_id(GONE_USER), "uninstalled", now=NOW)
    return storage


def personal(user: str) -> str:
    return ta.personal_conversation_id(user)


async def run_cli(argv, settings, storage):
    out, err = io.StringIO(), io.StringIO()
    service = announcement_service(settings, storage)
    try:
        code = await main(argv, service, out=out, err=err)
    finally:
        await service.close()
    return code, out.getvalue(), err.getvalue()


async def test_send_delivers_one_message_to_each_installed_conversation_and_a_thread_to_the_team(
    fake, settings, installed
):
    code, out, err = await run_cli(["send", "--yes"], settings, installed)
    assert code == 0, out + err
    for user in USERS:
        assert len(fake.sent(personal(user))) == 1, fake.describe()
    assert len(fake.sent(ta.GROUP_CHAT_ID)) == 1
    assert fake.attempts(personal(GONE_USER)) == 0
    threads = [r for r in fake.requests if r.kind == "create_conversation"]
    assert len(threads) == 1 and threads[0].status == 201
    assert threads[0].body["isGroup"] is True
    assert threads[0].body["channelData"]["channel"]["id"] == ta.TEAM_ID  # the General channel
    assert len(fake.sent()) == 5 and len(fake.requests) == 5
    for activity in fake.messages():
        assert fallback_text(activity).startswith("**Viktig information")
        (attachment,) = activity["attachments"]
        assert attachment["contentType"] == CARD_CONTENT_TYPE
        validate_card(attachment["content"])
    assert "sent 5, failed 0, gone 0" in out
    assert "5/5 done" in err  # the progress line


async def test_a_second_send_sends_nothing(fake, settings, installed):
    await run_cli(["send", "--yes"], settings, installed)
    before = len(fake.requests)
    code, out, _ = await run_cli(["send", "--yes"], settings, installed)
    assert code == 0 and len(fake.requests) == before
    assert "skipped (already sent) 5" in out


async def test_send_refuses_without_yes(fake, settings, installed):
    code, _, err = await run_cli(["send"], settings, installed)
    assert code == 2 and "--yes" in err and fake.requests == []


async def test_throttled_conversations_wait_retry_after_and_get_exactly_one(fake, settings, installed):
    fake.fail(personal(USERS[0]), 429, times=2, retry_after=1)
    fake.fail(ta.GROUP_CHAT_ID, 429, times=1, retry_after="1")
    code, out, _ = await run_cli(["send", "--yes"], settings, installed)
    assert code == 0, out
    assert len(fake.sent(personal(USERS[0]))) == 1 and fake.attempts(personal(USERS[0])) == 3
    assert len(fake.sent(ta.GROUP_CHAT_ID)) == 1 and fake.attempts(ta.GROUP_CHAT_ID) == 2
    times = [r.received_at for r in fake.requests if r.conversation_id == personal(USERS[0])]
    assert all(b - a >= 0.99 for a, b in itertools.pairwise(times)), times
    assert "retried 3" in out


async def test_a_5xx_is_retried_by_the_engine_only(fake, settings, installed):
    fake.fail(personal(USERS[1]), 500, times=1)
    code, _out, _ = await run_cli(["send", "--yes"], settings, installed)
    assert code == 0
    # msrest's own retry is off: exactly one failed request, then the engine's retry
    assert fake.attempts(personal(USERS[1])) == 2 and len(fake.sent(personal(USERS[1]))) == 1


@pytest.mark.parametrize("status", [pytest.param(403, id="403"), pytest.param(404, id="404")])
async def test_403_or_404_marks_the_conversation_gone_and_it_is_not_tried_again(fake, settings, installed, status):
    fake.fail(personal(USERS[2]), status, times=None)
    code, out, _ = await run_cli(["send", "--yes"], settings, installed)
    assert code == 0 and "gone 1" in out
    assert fake.attempts(personal(USERS[2])) == 1
    record = await ConversationRegistry(installed).get(personal(USERS[2]))
    assert not record.installed and str(status) in record.gone_reason
    await run_cli(["send", "--yes"], settings, installed)
    assert fake.attempts(personal(USERS[2])) == 1


async def test_persistent_failures_exit_1_and_status_shows_them(fake, settings, installed):
    fake.fail(personal(USERS[0]), 400, times=None)
    code, out, _ = await run_cli(["send", "--yes"], settings, installed)
    assert code == 1 and "failed 1" in out
    code, out, _ = await run_cli(["status"], settings, installed)
    assert code == 0
    assert "failed 1" in out and "gone 1" not in out and "sent 4" in out
    assert f"failed    personal  {personal(USERS[0])} attempts 1" in out


async def test_preview_lists_text_counts_and_recipients(fake, settings, installed):
    code, out, _ = await run_cli(["preview"], settings, installed)
    assert code == 0 and fake.requests == []
    assert "Viktig information till dig som arbetar med sociala medier" in out
    assert "Recipients: 5 (personal 3, groupChat 1, team 1)" in out
    assert f"new thread in {ta.TEAM_ID}" in out
    assert "Not installed, skipped: 1" in out and personal(GONE_USER) in out
    assert ta.USER_NAME not in out


async def test_schedule_refuses_the_past_and_accepts_the_future(settings, installed):
    code, _, err = await run_cli(["schedule", "--at", "2020-05-01T09:00"], settings, installed)
    assert code == 2 and "in the past" in err
    week_before = f"{ELECTION_DATE - dt.timedelta(days=7)}T09:00+02:00"
    code, out, _ = await run_cli(["schedule", "--at", week_before], settings, installed)
    assert code == 0 and week_before in out
    code, out, _ = await run_cli(["status"], settings, installed)
    assert f"Scheduled: infor-valet-2fa-1 at {week_before}: scheduled" in out


async def test_the_ledger_records_teams_message_ids(fake, settings, installed):
    await run_cli(["send", "--yes"], settings, installed)
    entries = await Ledger(installed).entries("infor-valet-2fa-1")
    assert len(entries) == 5 and all(e.activity_id for e in entries.values())


# -- an election whose date has passed ----------------------------------------------------------


@pytest.fixture
def past_settings():
    """The knowledge base's own election before anyone configured the coming one: long past."""
    return load_settings(
        storage_url="memory://",
        announce_rate=50,
        admin_aad_ids=[],
        election_name="EU-valet",
        election_date=dt.date(2019, 5, 26),
    )


async def test_send_refuses_an_election_whose_date_has_passed_and_sends_nothing(fake, past_settings, installed):
    code, out, err = await run_cli(["send", "--yes"], past_settings, installed)
    assert code == 2 and fake.requests == [] and out == ""
    assert "Not sent: the configured election has passed: EU-valet was on 2019-05-26" in err
    assert "ELECTION_NAME" in err and "ELECTION_DATE" in err
    assert await Ledger(installed).entries("infor-valet-2fa-1") == {}


async def test_schedule_refuses_an_election_whose_date_has_passed(past_settings, installed):
    code, out, err = await run_cli(["schedule", "--at", "2999-05-01T09:00+02:00"], past_settings, installed)
    assert code == 2 and out == ""
    assert "Not scheduled: the configured election has passed" in err
    assert "ELECTION_NAME" in err and "ELECTION_DATE" in err
    assert await Schedules(installed).all() == []


async def test_schedule_refuses_a_send_time_after_the_election(settings, installed):
    code, _, err = await run_cli(["schedule", "--at", "2999-05-01T09:00+02:00"], settings, installed)
    assert code == 2 and "after the election (Riksdagsvalet" in err and "ELECTION_DATE" in err
    assert await Schedules(installed).all() == []


async def test_preview_of_a_past_election_warns_on_its_first_line(fake, past_settings, settings, installed):
    code, out, _ = await run_cli(["preview"], past_settings, installed)
    first = out.splitlines()[0]
    assert code == 0 and fake.requests == []
    assert first.startswith("WARNING: this announcement cannot be sent: the configured election has passed")
    assert "EU-valet was on 2019-05-26" in first and "ELECTION_NAME" in first and "ELECTION_DATE" in first
    assert "Recipients: 5 (personal 3, groupChat 1, team 1)" in out  # the preview itself is all there

    code, out, _ = await run_cli(["preview"], settings, installed)
    assert code == 0 and "WARNING" not in out and out.startswith("Announcement infor-valet-2fa-1")
