"""The election-readiness campaign end to end: installs and checklist presses through the bot's
endpoint, the announcement and reminders from the command line and the admin's card, the report,
all delivered through the fake connector."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from announcements.cli import main as announce_main
from announcements.clock import SystemClock
from announcements.ledger import Ledger
from announcements.readiness import ReadinessStore
from announcements.readiness_report import main as readiness_main
from announcements.registry import ConversationRegistry
from bot import run_announce, run_readiness
from storage import MemoryStorage
from teams.compose import announcement_service
from tests.bot_harness import RunningBot, all_text, card_of, sqlite_url, test_settings
from tests.cardschema import validate_card
from tests.fake_connector import FakeConnector
from tests.teams_activities import BOT_ID, GROUP_CHAT_ID, TEAM_ID, TeamsActivities, personal_conversation_id

ADMIN = "0b5e7f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
OTHER_AAD = "ffffffff-0000-4000-8000-000000000001"
START = dt.datetime.now(dt.UTC).replace(microsecond=0)
ELECTION = START.date() + dt.timedelta(days=20)
ANNOUNCEMENT = "infor-valet-2fa-1"
USERS = ["29:anna", "29:bertil", "29:cecilia"]
PLATFORMS = ["facebook", "instagram", "linkedin", "twitter"]
ITEMS = [f"tvafaktor-{p}" for p in PLATFORMS] + ["aterstallningskoder", "bevakning"]


class MovableClock(SystemClock):
    """Real sleeps, a wall time the test moves."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def utcnow(self) -> dt.datetime:
        return self.now


@dataclasses.dataclass
class Campaign:
    bot: RunningBot
    fake: FakeConnector
    teams: TeamsActivities
    storage: MemoryStorage
    clock: MovableClock
    settings: Any

    async def cli(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        service = announcement_service(self.settings, self.storage, clock=self.clock)
        try:
            code = await announce_main(list(argv), service, out=out, err=err)
        finally:
            await service.close()
        return code, out.getvalue(), err.getvalue()

    def card_in(self, conversation_id: str, which: int = 0) -> tuple[str, dict[str, Any]]:
        """(activity id, card) of the `which`th checklist card the bot posted into a conversation."""
        posted = [r for r in self.fake.sent(conversation_id) if _is_checklist(r.activity)]
        request = posted[which]
        activity_id = request.response_id
        if request.kind == "create_conversation":
            activity_id = request.conversation_id.split(";messageid=", 1)[1]
        return activity_id, card_of(request.activity)

    async def readiness(self, conversation_id: str):
        return await ReadinessStore(self.storage).get(ANNOUNCEMENT, conversation_id)


def _is_checklist(activity: dict[str, Any] | None) -> bool:
    text = all_text(activity) if activity else ""
    return "Checklista inför" in text or "Påminnelse: checklistan" in text


def inputs_of(card: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("Input.Toggle", "Input.ChoiceSet"):
                found[node["id"]] = node.get("value", "")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def submits_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def spara(card: dict[str, Any], done: tuple[str, ...] = (), unused: tuple[str, ...] = (), **extra: Any):
    """What Teams posts for "Spara": the button's data plus every input's value, after ticking."""
    (save,) = [a for a in submits_of(card) if a["title"] == "Spara"]
    value = {**save["data"], **inputs_of(card)}
    for item in done:
        value[f"done:{item}"] = "true"
    for item in unused:
        value[f"used:{item}"] = "not_used"
    value.update(extra)
    return value


def personal(user: str) -> str:
    return personal_conversation_id(user)


@pytest.fixture
async def campaign(fake_connector, teams):
    """Three personal chats, a group chat and a team have the bot; the announcement has gone out."""
    storage = MemoryStorage()
    clock = MovableClock(START)
    settings = test_settings(
        ADMIN_AAD_IDS=ADMIN, ANNOUNCE_RATE="50", ELECTION_NAME="Riksdagsvalet", ELECTION_DATE=ELECTION.isoformat()
    )
    bot = await RunningBot(fake_connector, settings, storage=storage, clock=lambda: clock.now).start()
    try:
        for user in USERS:
            await bot.send(teams.installation_update("add", user_id=user))
        await bot.send(teams.conversation_update(members_added=[BOT_ID], conversation_type="groupChat"))
        await bot.send(teams.conversation_update(members_added=[BOT_ID], conversation_type="channel"))
        c = Campaign(bot, fake_connector, teams, storage, clock, settings)
        code, out, err = await c.cli("send", "--yes")
        assert code == 0, out + err
        yield c
    finally:
        await bot.stop()


def updates(fake: FakeConnector) -> list:
    return [r for r in fake.requests if r.kind == "update"]


# -- the card ------------------------------------------------------------------------------------


async def test_the_announcement_card_has_the_checklist_with_show_how_and_spara(campaign):
    _, card = campaign.card_in(personal(USERS[0]))
    validate_card(card)
    inputs = inputs_of(card)
    assert [k for k in inputs if k.startswith("done:")] == [f"done:{i}" for i in ITEMS]
    assert all(inputs[f"done:{i}"] == "false" for i in ITEMS)
    assert [k for k in inputs if k.startswith("used:")] == [f"used:tvafaktor-{p}" for p in PLATFORMS]
    assert all(inputs[f"used:tvafaktor-{p}"] == "used" for p in PLATFORMS)
    text = all_text(campaign.fake.messages(personal(USERS[0]))[-1])
    assert "Checklista inför Riksdagsvalet" in text
    assert "Tvåfaktorsinloggning är påslagen på Instagram" in text and "Vi använder inte Instagram" in str(card)
    show_how = [a for a in submits_of(card) if a["title"] == "Visa hur"]
    assert len(show_how) == len(ITEMS) and all(a["associatedInputs"] == "none" for a in show_how)
    assert show_how[0]["data"] == {"cmd": "guide", "action": "start", "guide": "facebook_2fa"}
    assert show_how[1]["data"] == {"cmd": "ask", "topic": "enable_2fa", "platform": "instagram"}
    assert show_how[4]["data"] == {"cmd": "ask", "topic": "recovery_codes"}
    assert show_how[5]["data"] == {"cmd": "ask", "topic": "monitor_channel"}
    (save,) = [a for a in submits_of(card) if a["title"] == "Spara"]
    assert save["data"] == {
        "cmd": "checklist",
        "action": "save",
        "announcement": ANNOUNCEMENT,
        "rev": 0,
        "card": "announcement",
    }


async def test_visa_hur_gets_the_bots_answer(campaign):
    _, card = campaign.card_in(personal(USERS[0]))
    show_how = [a for a in submits_of(card) if a["title"] == "Visa hur"]
    replies = await campaign.bot.send(campaign.teams.card_submit(show_how[4]["data"], user_id=USERS[0]))
    assert "återställningskod" in all_text(replies[0]).lower()


# -- saving --------------------------------------------------------------------------------------


async def test_ticking_and_saving_updates_the_card_in_place_and_the_stored_readiness(campaign):
    conversation = personal(USERS[0])
    activity_id, card = campaign.card_in(conversation)
    campaign.clock.now = START + dt.timedelta(hours=2)
    value = spara(card, done=("tvafaktor-facebook", "bevakning"), unused=("tvafaktor-linkedin",))
    replies = await campaign.bot.send(
        campaign.teams.card_submit(value, user_id=USERS[0], user_name="Anna Andersson", reply_to_id=activity_id)
    )
    assert replies == []  # the card itself shows it
    (put,) = updates(campaign.fake)
    assert put.method == "PUT" and put.conversation_id == conversation and put.activity_id == activity_id
    new_card = card_of(put.body)
    validate_card(new_card)
    inputs = inputs_of(new_card)
    assert inputs["done:tvafaktor-facebook"] == "true" and inputs["done:bevakning"] == "true"
    assert inputs["used:tvafaktor-linkedin"] == "not_used" and inputs["done:tvafaktor-instagram"] == "false"
    text = all_text(put.body)
    assert "Klart – Anna Andersson" in text and "Används inte – Anna Andersson" in text
    assert "3 av 6 punkter klara" in text
    (save,) = [a for a in submits_of(new_card) if a["title"] == "Spara"]
    assert save["data"]["rev"] == 1

    stored = await campaign.readiness(conversation)
    assert stored.rev == 1
    assert stored.status("tvafaktor-facebook") == "done" and stored.status("tvafaktor-linkedin") == "not_used"
    assert stored.status("tvafaktor-instagram") == "open"
    assert stored.state("bevakning").by == "Anna Andersson"
    assert stored.state("bevakning").at == START + dt.timedelta(hours=2)

    # everything ticked: ready
    replies = await campaign.bot.send(
        campaign.teams.card_submit(
            spara(new_card, done=("tvafaktor-instagram", "tvafaktor-twitter", "aterstallningskoder")),
            user_id=USERS[0],
            reply_to_id=activity_id,
        )
    )
    assert "Allt är klart (6 av 6)" in all_text(updates(campaign.fake)[-1].body)
    assert (await campaign.readiness(conversation)).is_ready(
        announcement_service(campaign.settings, campaign.storage).content().checklist
    )


async def test_the_pressed_card_is_redrawn_even_when_the_connector_gave_no_message_id(campaign):
    """The Agents Playground answers a send with 202 and no id: the ledger has none to update, so
    the card the submit came from (its replyToId) is redrawn, as a card without text."""
    conversation = personal(USERS[1])
    activity_id, card = campaign.card_in(conversation)
    entry = await Ledger(campaign.storage).get(ANNOUNCEMENT, conversation)
    await Ledger(campaign.storage).save(entry.model_copy(update={"activity_id": None}))
    await campaign.bot.send(
        campaign.teams.card_submit(spara(card, done=("bevakning",)), user_id=USERS[1], reply_to_id=activity_id)
    )
    (put,) = updates(campaign.fake)
    assert put.conversation_id == conversation and put.activity_id == activity_id
    assert "text" not in put.body and put.body["summary"]
    assert inputs_of(card_of(put.body))["done:bevakning"] == "true"


async def test_a_team_saves_in_the_announcement_thread_and_the_thread_root_is_updated(campaign):
    activity_id, card = campaign.card_in(TEAM_ID)
    submit = campaign.teams.card_submit(
        spara(card, done=("aterstallningskoder",)),
        conversation_type="channel",
        channel_id=TEAM_ID,
        reply_to_id=activity_id,
        user_name="Bo Berg",
    )
    assert await campaign.bot.send(submit) == []
    (put,) = updates(campaign.fake)
    assert put.conversation_id == f"{TEAM_ID};messageid={activity_id}" and put.activity_id == activity_id
    assert "Klart – Bo Berg" in all_text(put.body)
    assert (await campaign.readiness(TEAM_ID)).status("aterstallningskoder") == "done"


async def test_saving_the_same_state_again_changes_nothing(campaign):
    activity_id, card = campaign.card_in(personal(USERS[1]))
    await campaign.bot.send(
        campaign.teams.card_submit(spara(card, done=("bevakning",)), user_id=USERS[1], reply_to_id=activity_id)
    )
    card = card_of(updates(campaign.fake)[-1].body)
    replies = await campaign.bot.send(
        campaign.teams.card_submit(spara(card), user_id=USERS[1], reply_to_id=activity_id)
    )
    assert "Inget har ändrats" in replies[0]["text"]
    assert len(updates(campaign.fake)) == 1 and (await campaign.readiness(personal(USERS[1]))).rev == 1


# -- refusals ------------------------------------------------------------------------------------


async def _refused(campaign, conversation: str, submit: dict[str, Any], expected: str) -> None:
    """One reply saying why; the stored readiness is as it was."""
    before = await campaign.readiness(conversation)
    replies = await campaign.bot.send(submit)
    assert len(replies) == 1 and expected in replies[0]["text"], replies
    assert await campaign.readiness(conversation) == before


async def test_a_press_on_an_old_card_is_refused_and_changes_nothing(campaign):
    conversation = personal(USERS[0])
    activity_id, card = campaign.card_in(conversation)
    await campaign.bot.send(
        campaign.teams.card_submit(
            spara(card, done=("bevakning",)), user_id=USERS[0], user_name="Anna", reply_to_id=activity_id
        )
    )
    saved = await campaign.readiness(conversation)
    # Bertil's client still shows the card as it was sent (rev 0), without Anna's tick
    stale = spara(card, done=("aterstallningskoder",))
    replies = await campaign.bot.send(
        campaign.teams.card_submit(stale, user_id=USERS[0], user_name="Bertil", reply_to_id=activity_id)
    )
    assert "Någon annan sparade checklistan innan du" in replies[-1]["text"]
    assert await campaign.readiness(conversation) == saved  # Anna's tick kept, Bertil's not applied
    redrawn = card_of(updates(campaign.fake)[-1].body)  # the card shows what is saved
    assert inputs_of(redrawn)["done:bevakning"] == "true" and inputs_of(redrawn)["done:aterstallningskoder"] == "false"


async def test_a_card_of_another_announcement_is_refused(campaign):
    _, card = campaign.card_in(personal(USERS[0]))
    value = spara(card, done=("bevakning",), announcement="infor-valet-2fa-0")
    await _refused(
        campaign,
        personal(USERS[0]),
        campaign.teams.card_submit(value, user_id=USERS[0]),
        "hör till ett tidigare utskick",
    )
    assert updates(campaign.fake) == [] and await campaign.readiness(personal(USERS[0])) is None


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"done:tvafaktor-myspace": "true"}, id="unknown-item"),
        pytest.param({"used:bevakning": "not_used"}, id="not-used-on-a-non-platform-item"),
    ],
)
async def test_a_card_with_unknown_items_is_refused(campaign, extra):
    _, card = campaign.card_in(personal(USERS[0]))
    value = spara(card, done=("bevakning",), **extra)
    await _refused(
        campaign, personal(USERS[0]), campaign.teams.card_submit(value, user_id=USERS[0]), "Checklistan har ändrats"
    )
    assert updates(campaign.fake) == [] and await campaign.readiness(personal(USERS[0])) is None


async def test_a_card_with_odd_values_is_refused(campaign):
    _, card = campaign.card_in(personal(USERS[0]))
    value = spara(card, **{"done:bevakning": "kanske"})
    await _refused(
        campaign, personal(USERS[0]), campaign.teams.card_submit(value, user_id=USERS[0]), "kunde jag inte spara"
    )
    assert updates(campaign.fake) == []


async def test_a_press_from_a_conversation_that_removed_the_bot_is_refused(campaign):
    conversation = personal(USERS[2])
    _, card = campaign.card_in(conversation)
    await campaign.bot.send(campaign.teams.installation_update("remove", user_id=USERS[2]))
    await _refused(
        campaign,
        conversation,
        campaign.teams.card_submit(spara(card, done=("bevakning",)), user_id=USERS[2]),
        "Kanalvakten är borttagen från den här konversationen",
    )
    assert updates(campaign.fake) == [] and await campaign.readiness(conversation) is None
    record = await ConversationRegistry(campaign.storage).get(conversation)
    assert not record.installed  # the press did not put it back


async def test_a_checklist_press_where_no_announcement_was_delivered_is_refused(campaign):
    await campaign.bot.send(campaign.teams.installation_update("add", user_id="29:david"))
    _, card = campaign.card_in(personal(USERS[0]))
    await _refused(
        campaign,
        personal("29:david"),
        campaign.teams.card_submit(spara(card, done=("bevakning",)), user_id="29:david"),
        "hör inte till något utskick i den här konversationen",
    )


# -- reminders -----------------------------------------------------------------------------------


async def _make_ready(campaign, conversation: str, **submit_args: Any) -> None:
    activity_id, card = campaign.card_in(conversation)
    value = spara(card, done=tuple(ITEMS))
    await campaign.bot.send(campaign.teams.card_submit(value, reply_to_id=activity_id, **submit_args))


def _reminded(fake: FakeConnector, since: int) -> set[str]:
    return {
        r.conversation_id.split(";")[0]
        for r in fake.requests[since:]
        if r.is_message and "Påminnelse: checklistan" in all_text(r.activity)
    }


async def test_a_reminder_goes_only_to_conversations_not_ready_and_only_once_in_72_hours(campaign):
    await _make_ready(campaign, personal(USERS[0]), user_id=USERS[0])
    await _make_ready(campaign, TEAM_ID, conversation_type="channel", channel_id=TEAM_ID)
    not_ready = {personal(USERS[1]), personal(USERS[2]), GROUP_CHAT_ID}

    campaign.clock.now = START + dt.timedelta(days=1)
    mark = len(campaign.fake.requests)
    code, out, err = await campaign.cli("remind", "--yes")
    assert code == 0, out + err
    assert _reminded(campaign.fake, mark) == not_ready
    assert len([r for r in campaign.fake.requests[mark:] if r.is_message]) == 3
    assert "reminder round 1" in out and "sent 3, failed 0" in out and "ready 2" in out
    entries = await Ledger(campaign.storage).entries(f"{ANNOUNCEMENT}-reminder-1")
    assert set(entries) == not_ready and all(e.status == "sent" and e.activity_id for e in entries.values())
    code, out, _ = await campaign.cli("status")
    assert code == 0 and f"Reminder round 1 ({ANNOUNCEMENT}-reminder-1)" in out and "3 recipients, finished" in out

    # the same day, and 71 hours later: nobody gets a second one
    for hours in (1, 71):
        campaign.clock.now = START + dt.timedelta(days=1, hours=hours)
        mark = len(campaign.fake.requests)
        code, out, _ = await campaign.cli("remind", "--yes")
        assert code == 0 and "nobody to remind" in out and "reminded within 72 h 3" in out
        assert campaign.fake.requests[mark:] == []

    # one of them gets ready in between; after 72 hours the other two get a second reminder
    await _make_ready(campaign, GROUP_CHAT_ID, conversation_type="groupChat")
    campaign.clock.now = START + dt.timedelta(days=1, hours=73)
    mark = len(campaign.fake.requests)
    code, out, _ = await campaign.cli("remind", "--yes")
    assert code == 0 and "reminder round 2" in out
    assert _reminded(campaign.fake, mark) == {personal(USERS[1]), personal(USERS[2])}


async def test_the_reminder_carries_the_conversations_own_checklist_and_saving_there_updates_both_cards(campaign):
    conversation = personal(USERS[1])
    activity_id, card = campaign.card_in(conversation)
    await campaign.bot.send(
        campaign.teams.card_submit(spara(card, done=("bevakning",)), user_id=USERS[1], reply_to_id=activity_id)
    )
    campaign.clock.now = START + dt.timedelta(days=2)
    assert (await campaign.cli("remind", "--yes"))[0] == 0
    reminder_id, reminder = campaign.card_in(conversation, which=1)
    validate_card(reminder)
    reminder_text = all_text(campaign.fake.messages(conversation)[-1])
    assert "Påminnelse: checklistan inför Riksdagsvalet" in reminder_text and "1 av 6" in reminder_text
    assert inputs_of(reminder)["done:bevakning"] == "true"

    mark = len(campaign.fake.requests)
    value = spara(reminder, done=("aterstallningskoder",))
    await campaign.bot.send(campaign.teams.card_submit(value, user_id=USERS[1], reply_to_id=reminder_id))
    puts = [r for r in campaign.fake.requests[mark:] if r.kind == "update"]
    assert {p.activity_id for p in puts} == {activity_id, reminder_id}
    for put in puts:
        assert inputs_of(card_of(put.body))["done:aterstallningskoder"] == "true"
        assert "2 av 6" in all_text(put.body)


async def test_no_reminder_after_the_election_day(campaign):
    campaign.clock.now = dt.datetime.combine(ELECTION, dt.time(12), tzinfo=dt.UTC) + dt.timedelta(days=1)
    mark = len(campaign.fake.requests)
    code, _, err = await campaign.cli("remind", "--yes")
    assert code == 2 and "election has passed" in err
    assert campaign.fake.requests[mark:] == []


async def test_remind_without_yes_only_says_who_would_get_one(campaign):
    await _make_ready(campaign, personal(USERS[0]), user_id=USERS[0])
    mark = len(campaign.fake.requests)
    code, out, err = await campaign.cli("remind")
    assert code == 2 and "--yes" in err and "would go to 4 conversations" in out
    assert campaign.fake.requests[mark:] == []


async def test_an_admin_sees_readiness_and_sends_the_reminder_from_the_card(campaign):
    await _make_ready(campaign, personal(USERS[0]), user_id=USERS[0])
    refused = await campaign.bot.send(campaign.teams.message("beredskap", aad_object_id=OTHER_AAD, user_id="29:eve"))
    assert "administrerar Kanalvakten" in refused[0]["text"]

    (reply,) = await campaign.bot.send(campaign.teams.message("beredskap", aad_object_id=ADMIN))
    card = card_of(reply)
    validate_card(card)
    text = all_text(reply)
    assert "Beredskap inför Riksdagsvalet" in text
    # eve's and the admin's own chats are installed too; the announcement has not reached them
    assert "0 av 1 team klara" in text and "1 av 5 personliga chattar klara" in text
    assert "1 av 7 konversationer klara totalt" in text
    assert "Valkansliet / Allmänt" in text  # furthest behind, named by the team
    assert "har inte fått utskicket än" in text
    assert "1 av 7" in text  # a bar: one conversation confirmed each item
    (remind,) = [a for a in submits_of(card) if a["title"].startswith("Skicka påminnelse")]
    assert remind["title"] == "Skicka påminnelse (4)"

    mallory = await campaign.bot.send(campaign.teams.card_submit(remind["data"], aad_object_id=OTHER_AAD))
    assert "inte behörighet" in mallory[0]["text"]
    mark = len(campaign.fake.requests)
    started = await campaign.bot.send(campaign.teams.card_submit(remind["data"], aad_object_id=ADMIN))
    assert any("Påminnelsen skickas nu till 4" in (r.get("text") or "") for r in started)
    done = await campaign.fake.wait_for_message(lambda a: "Påminnelsen är skickad" in (a.get("text") or ""), timeout=10)
    assert "skickad till 4" in done["text"]
    assert _reminded(campaign.fake, mark) == {personal(USERS[1]), personal(USERS[2]), GROUP_CHAT_ID, TEAM_ID}

    # pressed again: nobody needs one now
    again = await campaign.bot.send(campaign.teams.card_submit(remind["data"], aad_object_id=ADMIN))
    assert "Ingen konversation behöver en påminnelse" in again[0]["text"]


# -- the report ----------------------------------------------------------------------------------


async def test_the_report_and_its_csv_list_every_conversation_with_correct_totals(campaign, tmp_path: Path):
    await _make_ready(campaign, personal(USERS[0]), user_id=USERS[0], user_name="Anna")
    await _make_ready(campaign, TEAM_ID, conversation_type="channel", channel_id=TEAM_ID)
    activity_id, card = campaign.card_in(GROUP_CHAT_ID)
    await campaign.bot.send(
        campaign.teams.card_submit(
            spara(card, done=("bevakning",), unused=("tvafaktor-twitter",)),
            conversation_type="groupChat",
            reply_to_id=activity_id,
        )
    )
    service = announcement_service(campaign.settings, campaign.storage, clock=campaign.clock)
    content = service.content()

    out = io.StringIO()
    assert await readiness_main([], campaign.storage, content, out=out) == 0
    text = out.getvalue()
    lines = text.splitlines()
    assert "Valkansliet / Allmänt" in text and text.count("personlig chatt") == 3 and "gruppchatt" in text
    assert lines[-4:] == [
        "1 av 1 team klara",
        "0 av 1 gruppchattar klara",
        "1 av 3 personliga chattar klara",
        "2 av 5 konversationer klara totalt",
    ]
    assert len([line for line in lines if line.startswith(("Valkansliet", "personlig", "gruppchatt"))]) == 5

    out = io.StringIO()
    assert await readiness_main(["--format", "csv"], campaign.storage, content, out=out) == 0
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    conversations = [r for r in rows if r["typ"] != "summa"]
    assert {r["konversation_id"] for r in conversations} == {
        *(personal(u) for u in USERS),
        GROUP_CHAT_ID,
        TEAM_ID,
    }
    by_id = {r["konversation_id"]: r for r in conversations}
    assert by_id[TEAM_ID]["namn"] == "Valkansliet / Allmänt" and by_id[TEAM_ID]["redo"] == "ja"
    group = by_id[GROUP_CHAT_ID]
    assert group["bevakning"] == "klart" and group["tvafaktor-twitter"] == "används inte"
    assert group["tvafaktor-facebook"] == "" and group["klara"] == "2" and group["redo"] == "nej"
    assert group["senast_bekraftad"]
    assert by_id[personal(USERS[1])]["senast_bekraftad"] == "" and by_id[personal(USERS[1])]["klara"] == "0"
    totals = [(r["namn"], r["klara"], r["punkter"]) for r in rows if r["typ"] == "summa"]
    assert totals == [
        ("1 av 1 team klara", "1", "1"),
        ("0 av 1 gruppchattar klara", "0", "1"),
        ("1 av 3 personliga chattar klara", "1", "3"),
    ]

    chart = tmp_path / "beredskap.png"
    assert await readiness_main(["--chart", str(chart)], campaign.storage, content, out=io.StringIO()) == 0
    with Image.open(chart) as image:
        assert image.format == "PNG" and image.width > 600 and image.height > 6 * 40


async def test_readiness_survives_a_restart_on_sqlite_and_bot_py_readiness_reports_it(fake_connector, teams, tmp_path):
    settings = test_settings(
        STORAGE_URL=sqlite_url(tmp_path / "bot.db"),
        ANNOUNCE_RATE="50",
        ELECTION_NAME="Riksdagsvalet",
        ELECTION_DATE=ELECTION.isoformat(),
    )
    bot = await RunningBot(fake_connector, settings).start()
    try:
        await bot.send(teams.installation_update("add", user_id=USERS[0]))
        await bot.send(teams.conversation_update(members_added=[BOT_ID], conversation_type="channel"))
    finally:
        await bot.stop()
    assert await run_announce(["send", "--yes"], settings, out=io.StringIO(), err=io.StringIO()) == 0
    request = next(r for r in fake_connector.sent(personal(USERS[0])) if "Checklista" in all_text(r.activity))

    bot = await RunningBot(fake_connector, settings).start()  # a new process would see the same file
    try:
        await bot.send(
            teams.card_submit(
                spara(card_of(request.activity), done=("bevakning", "aterstallningskoder")),
                user_id=USERS[0],
                reply_to_id=request.response_id,
            )
        )
    finally:
        await bot.stop()

    out = io.StringIO()
    assert await run_readiness(["--format", "csv"], settings, out=out) == 0
    rows = {r["konversation_id"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert rows[personal(USERS[0])]["bevakning"] == "klart" and rows[personal(USERS[0])]["klara"] == "2"
    assert rows[TEAM_ID]["klara"] == "0"
