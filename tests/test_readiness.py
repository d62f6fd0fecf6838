"""Election readiness without the SDK: the checklist from the knowledge base, parsing a "Spara",
saving with compare-and-set on every storage (two instances on one Azure Blob container too),
retention of names, reminder planning, and the cards."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path

import pytest

from announcements.checklist import ChecklistError, checklist_items
from announcements.content import announcement_content
from announcements.ledger import Ledger, LedgerEntry
from announcements.readiness import ChecklistSubmit, ReadinessStore, SubmitProblem, parse_submit
from announcements.readiness_report import ReadinessReport, ReportRow, render_chart
from announcements.registry import ConversationRegistry
from announcements.reminders import REMINDER_GAP, Reminders, reminder_ledger_id
from cards.announcement import render_announcement, render_preview
from cards.checklist import render_readiness, render_reminder
from helpdesk.retention import purge
from knowledge.loader import load_knowledge_base
from knowledge.models import ChecklistItem, Election, Platform
from storage import AzureBlobStorage, KeyedStorage, MemoryStorage, SqliteStorage
from tests.cardschema import validate_card

KB = load_knowledge_base()
ITEMS = checklist_items(KB)
ELECTION = dt.date(2026, 9, 13)
NOW = dt.datetime(2026, 9, 1, 10, 0, tzinfo=dt.UTC)
ANN = KB.announcement.id


def _submit(rev: int = 0, **choices: str) -> ChecklistSubmit:
    return ChecklistSubmit(announcement_id=ANN, rev=rev, choices=choices)


# -- the checklist from the knowledge base --------------------------------------------------------


def test_the_shipped_checklist_has_one_2fa_item_per_platform_then_codes_and_watch():
    assert [i.id for i in ITEMS] == [
        "tvafaktor-facebook",
        "tvafaktor-instagram",
        "tvafaktor-linkedin",
        "tvafaktor-twitter",
        "aterstallningskoder",
        "bevakning",
    ]
    assert ITEMS[3].label == "Tvåfaktorsinloggning är påslagen på X (tidigare Twitter)"
    assert [i.platform for i in ITEMS] == ["facebook", "instagram", "linkedin", "twitter", None, None]


def test_a_platform_added_to_the_knowledge_base_gets_its_own_item():
    tiktok = Platform.model_construct(
        id="tiktok", name="TikTok", aliases=["tiktok"], help_url="https://support.tiktok.com/", enable_answer="x" * 20
    )
    items = checklist_items(KB.model_copy(update={"platforms": [*KB.platforms, tiktok]}))
    added = next(i for i in items if i.platform == "tiktok")
    assert added.id == "tvafaktor-tiktok" and added.label.endswith("på TikTok")
    assert added.show_how == {"cmd": "ask", "topic": "enable_2fa", "platform": "tiktok"}
    fewer = checklist_items(KB.model_copy(update={"platforms": KB.platforms[:2]}))
    assert [i.id for i in fewer if i.platform] == ["tvafaktor-facebook", "tvafaktor-instagram"]


def test_visa_hur_starts_the_guide_where_there_is_one_else_answers_the_topic():
    by_id = {i.id: i.show_how for i in ITEMS}
    assert by_id["tvafaktor-facebook"] == {"cmd": "guide", "action": "start", "guide": "facebook_2fa"}
    assert by_id["tvafaktor-linkedin"] == {"cmd": "ask", "topic": "enable_2fa", "platform": "linkedin"}
    assert by_id["aterstallningskoder"] == {"cmd": "ask", "topic": "recovery_codes"}
    assert by_id["bevakning"] == {"cmd": "ask", "topic": "monitor_channel"}


def test_a_checklist_item_with_an_unknown_topic_is_an_error():
    bad = KB.announcement.model_copy(
        update={"checklist": [ChecklistItem(id="x", label="Något annat", topic="no_such_topic")]}
    )
    with pytest.raises(ChecklistError, match="no_such_topic"):
        checklist_items(KB.model_copy(update={"announcement": bad}))


def test_an_announcement_without_a_checklist_renders_as_before():
    bare = KB.model_copy(update={"announcement": KB.announcement.model_copy(update={"checklist": []})})
    message = render_announcement(announcement_content(bare, today=NOW.date()))
    assert "Checklista" not in message.text and "Input.Toggle" not in str(message.card)


# -- parsing a "Spara" ----------------------------------------------------------------------------


def _value(**inputs: str) -> dict:
    return {"cmd": "checklist", "action": "save", "announcement": ANN, "rev": 2, **inputs}


def test_a_submit_gives_each_item_on_the_card_its_status():
    parsed = parse_submit(
        _value(
            **{
                "done:tvafaktor-facebook": "true",
                "used:tvafaktor-facebook": "used",
                "done:tvafaktor-twitter": "true",  # ticked, but not used: not used wins
                "used:tvafaktor-twitter": "not_used",
                "done:bevakning": "false",
            }
        ),
        ITEMS,
    )
    assert parsed == ChecklistSubmit(
        announcement_id=ANN,
        rev=2,
        choices={"tvafaktor-facebook": "done", "tvafaktor-twitter": "not_used", "bevakning": "open"},
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param(_value(**{"done:tvafaktor-myspace": "true"}), "unknown_items", id="unknown-item"),
        pytest.param(_value(**{"used:bevakning": "not_used"}), "unknown_items", id="used-on-non-platform"),
        pytest.param(_value(**{"done:bevakning": "yes"}), "malformed", id="odd-toggle-value"),
        pytest.param(_value(**{"used:tvafaktor-facebook": "maybe"}), "malformed", id="odd-choice"),
        pytest.param(_value(), "malformed", id="no-inputs"),
        pytest.param({**_value(**{"done:bevakning": "true"}), "rev": "x"}, "malformed", id="bad-rev"),
        pytest.param({**_value(**{"done:bevakning": "true"}), "rev": True}, "malformed", id="bool-rev"),
        pytest.param({"cmd": "checklist", "action": "save", "done:bevakning": "true"}, "malformed", id="no-id"),
        pytest.param(["not", "a", "dict"], "malformed", id="not-a-dict"),
    ],
)
def test_odd_submits_are_refused(value, reason):
    problem = parse_submit(value, ITEMS)
    assert isinstance(problem, SubmitProblem) and problem.reason == reason


# -- saving ----------------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
async def storage(request, tmp_path: Path):
    store: KeyedStorage = MemoryStorage() if request.param == "memory" else SqliteStorage(tmp_path / "r.db")
    yield store
    await store.close()


async def test_save_records_who_and_when_and_raises_the_rev(storage):
    store = ReadinessStore(storage)
    result = await store.save(
        _submit(bevakning="done", **{"tvafaktor-linkedin": "not_used"}),
        "a:1x",
        by="Anna",
        now=NOW,
        election_date=ELECTION,
    )
    assert result.outcome == "saved" and sorted(result.changed) == ["bevakning", "tvafaktor-linkedin"]
    stored = await store.get(ANN, "a:1x")
    assert stored.rev == 1 and stored.election_date == ELECTION
    assert stored.state("bevakning").by == "Anna" and stored.state("bevakning").at == NOW
    assert stored.status("tvafaktor-linkedin") == "not_used" and stored.status("aterstallningskoder") == "open"
    assert stored.last_confirmed_at() == NOW and not stored.is_ready(ITEMS)

    later = NOW + dt.timedelta(hours=1)
    result = await store.save(_submit(1, bevakning="open"), "a:1x", by="Bo", now=later, election_date=ELECTION)
    assert result.changed == ["bevakning"] and result.readiness.state("bevakning").by is None  # unticked


async def test_a_submit_from_an_older_card_is_stale_and_changes_nothing(storage):
    store = ReadinessStore(storage)
    await store.save(_submit(bevakning="done"), "a:1x", by="Anna", now=NOW, election_date=ELECTION)
    result = await store.save(_submit(0, aterstallningskoder="done"), "a:1x", by="Bo", now=NOW, election_date=ELECTION)
    assert result.outcome == "stale" and result.readiness.rev == 1
    stored = await store.get(ANN, "a:1x")
    assert stored.status("aterstallningskoder") == "open" and stored.rev == 1


async def test_saving_what_is_stored_is_unchanged(storage):
    store = ReadinessStore(storage)
    result = await store.save(_submit(bevakning="open"), "a:1x", by="Anna", now=NOW, election_date=ELECTION)
    assert result.outcome == "unchanged" and await store.get(ANN, "a:1x") is None


async def test_readiness_survives_reopening_the_sqlite_file(tmp_path: Path):
    path = tmp_path / "state.db"
    first = SqliteStorage(path)
    await ReadinessStore(first).save(_submit(bevakning="done"), "a:1x", by="Anna", now=NOW, election_date=ELECTION)
    await first.close()
    second = SqliteStorage(path)
    try:
        stored = await ReadinessStore(second).get(ANN, "a:1x")
        assert stored.status("bevakning") == "done" and stored.state("bevakning").by == "Anna" and stored.rev == 1
        result = await ReadinessStore(second).save(
            _submit(1, aterstallningskoder="done"), "a:1x", by="Bo", now=NOW, election_date=ELECTION
        )
        assert result.outcome == "saved" and result.readiness.rev == 2
    finally:
        await second.close()


async def _two_instances_race(first: KeyedStorage, second: KeyedStorage) -> None:
    """Saves from the same card on two instances: exactly one is applied, the other is stale."""
    for n in range(4):
        conversation = f"19:race-{n}@thread.tacv2"
        results = await asyncio.gather(
            *(
                ReadinessStore(store).save(
                    _submit(0, **{item: "done"}), conversation, by=who, now=NOW, election_date=ELECTION
                )
                for store, item, who in [
                    (first, "bevakning", "Anna"),
                    (second, "aterstallningskoder", "Bo"),
                    (first, "tvafaktor-facebook", "Cia"),
                    (second, "tvafaktor-twitter", "Dan"),
                ]
            )
        )
        assert sorted(r.outcome for r in results) == ["saved", "stale", "stale", "stale"], n
        (winner,) = [r for r in results if r.outcome == "saved"]
        stored = await ReadinessStore(second).get(ANN, conversation)
        assert stored.rev == 1 and stored.items == winner.readiness.items


async def _retried_after_another_write(first: KeyedStorage, second: KeyedStorage) -> None:
    """A write that is not a save (retention, here) between the read and the write is retried."""
    store = ReadinessStore(first)
    await store.save(_submit(bevakning="done"), "a:1y", by="Anna", now=NOW, election_date=ELECTION)
    key = store.key(ANN, "a:1y")
    real_read = first.read
    interfered = False

    async def read_then_interfere(keys):
        nonlocal interfered
        found = await real_read(keys)
        if not interfered and key in keys:
            interfered = True
            touched = {k: v for k, v in (await second.read([key]))[key].items() if k != "e_tag"}
            await second.write({key: {**touched, "names_removed_at": NOW.isoformat()}})
        return found

    first.read = read_then_interfere  # type: ignore[method-assign]
    try:
        result = await store.save(
            _submit(1, aterstallningskoder="done"), "a:1y", by="Bo", now=NOW, election_date=ELECTION
        )
    finally:
        del first.read
    assert interfered and result.outcome == "saved"
    stored = await ReadinessStore(second).get(ANN, "a:1y")
    assert stored.rev == 2 and stored.status("bevakning") == "done" and stored.status("aterstallningskoder") == "done"


async def test_two_instances_on_one_sqlite_file_never_lose_a_save(tmp_path: Path):
    first, second = SqliteStorage(tmp_path / "shared.db"), SqliteStorage(tmp_path / "shared.db")
    try:
        await _two_instances_race(first, second)
        await _retried_after_another_write(first, second)
    finally:
        await first.close()
        await second.close()


async def test_two_instances_on_one_azure_blob_container_never_lose_a_save(azurite: str):
    container = f"test-{uuid.uuid4().hex[:20]}"
    first, second = AzureBlobStorage(azurite, container), AzureBlobStorage(azurite, container)
    try:
        await _two_instances_race(first, second)
        await _retried_after_another_write(first, second)
        # and a restart: a third instance reads what the others saved
        third = AzureBlobStorage(azurite, container)
        try:
            assert (await ReadinessStore(third).get(ANN, "a:1y")).rev == 2
        finally:
            await third.close()
    finally:
        await first.close()
        await second.close()


# -- retention ---------------------------------------------------------------------------------------


async def test_names_are_removed_retention_days_after_the_election_and_the_rest_kept():
    storage = MemoryStorage()
    store = ReadinessStore(storage)
    await store.save(_submit(bevakning="done"), "a:1x", by="Anna", now=NOW, election_date=ELECTION)
    on_the_last_day = dt.datetime.combine(ELECTION + dt.timedelta(days=90), dt.time(23), tzinfo=dt.UTC)
    assert (await purge(storage, on_the_last_day, 90)).readiness_names == 0
    assert (await store.get(ANN, "a:1x")).state("bevakning").by == "Anna"

    result = await purge(storage, on_the_last_day + dt.timedelta(hours=2), 90)
    assert result.readiness_names == 1
    stored = await store.get(ANN, "a:1x")
    assert stored.state("bevakning").by is None and stored.status("bevakning") == "done"
    assert stored.state("bevakning").at == NOW and stored.names_removed_at is not None
    assert (await purge(storage, on_the_last_day + dt.timedelta(days=1), 90)).readiness_names == 0


# -- reminder planning -----------------------------------------------------------------------------


async def _registered(storage: KeyedStorage, *conversation_ids: str) -> None:
    registry = ConversationRegistry(storage)
    for cid in conversation_ids:
        reference = {"conversation": {"id": cid, "conversationType": "personal"}, "serviceUrl": "https://smba.example/"}
        await registry.remember(reference, "personal", None, None, "tenant", NOW)


async def test_reminders_plan_skips_ready_recent_and_undelivered_conversations():
    storage = MemoryStorage()
    content = announcement_content(KB, Election(name="Riksdagsvalet", date=ELECTION), NOW.date())
    await _registered(storage, "a:1ready", "a:1recent", "a:1due", "a:1notsent")
    ledger = Ledger(storage)
    for cid in ("a:1ready", "a:1recent", "a:1due"):
        entry = LedgerEntry(announcement_id=ANN, conversation_id=cid)
        entry.finish("sent", NOW, activity_id="1")
        await ledger.save(entry)
    everything = {i.id: "done" for i in ITEMS}
    await ReadinessStore(storage).save(_submit(**everything), "a:1ready", by="A", now=NOW, election_date=ELECTION)
    reminders = Reminders(storage)
    round_, resumed, plan = await reminders.open_round(content, NOW)
    assert round_.number == 1 and not resumed and round_.ledger_id == reminder_ledger_id(ANN, 1)
    assert sorted(r.id for r in plan.recipients) == ["a:1due", "a:1recent"]
    assert plan.ready == ["a:1ready"] and plan.not_delivered == ["a:1notsent"]

    # the round was interrupted: the next run resumes it instead of starting another
    again, resumed, plan = await reminders.open_round(content, NOW + dt.timedelta(minutes=5))
    assert again.number == 1 and resumed and sorted(r.id for r in plan.recipients) == ["a:1due", "a:1recent"]

    # one was delivered, the round finished; within 72 hours nobody is due, after them it is
    entry = LedgerEntry(announcement_id=round_.ledger_id, conversation_id="a:1recent")
    entry.finish("sent", NOW, activity_id="2")
    await ledger.save(entry)
    await reminders.finish_round(ANN, 1, NOW, "sent 1, failed 1")
    plan = await reminders.plan(content, NOW + REMINDER_GAP - dt.timedelta(minutes=1))
    assert [r.id for r in plan.recipients] == ["a:1due"] and plan.reminded_recently == ["a:1recent"]
    second, _, plan = await reminders.open_round(content, NOW + REMINDER_GAP)
    assert second.number == 2 and sorted(r.id for r in plan.recipients) == ["a:1due", "a:1recent"]


async def test_two_processes_opening_a_round_at_once_share_it():
    storage = MemoryStorage()
    content = announcement_content(KB, Election(name="Riksdagsvalet", date=ELECTION), NOW.date())
    await _registered(storage, "a:1due")
    entry = LedgerEntry(announcement_id=ANN, conversation_id="a:1due")
    entry.finish("sent", NOW, activity_id="1")
    await Ledger(storage).save(entry)
    opened = await asyncio.gather(*(Reminders(storage).open_round(content, NOW) for _ in range(4)))
    assert {r.number for r, _, _ in opened} == {1}
    assert len((await Reminders(storage).rounds(ANN)).rounds) == 1


# -- cards -------------------------------------------------------------------------------------------


async def test_the_cards_validate_and_show_who_confirmed():
    storage = MemoryStorage()
    result = await ReadinessStore(storage).save(
        _submit(bevakning="done", **{"tvafaktor-twitter": "not_used"}),
        "a:1x",
        by="Anna",
        now=NOW,
        election_date=ELECTION,
    )
    content = announcement_content(KB, Election(name="Riksdagsvalet", date=ELECTION), NOW.date())
    announcement = render_announcement(content, result.readiness)
    validate_card(announcement.card)
    assert "☑ Någon är utsedd att hålla koll på kanalen fram till valet – Anna" in announcement.text
    assert "– Tvåfaktorsinloggning är påslagen på X (tidigare Twitter) (används inte)" in announcement.text
    assert "{{DATE(2026-09-01T10:00:00Z, SHORT)}}" in str(announcement.card)
    reminder = render_reminder(ITEMS, result.readiness, ANN, "Riksdagsvalet", "Riksdagsvalet är om 12 dagar.")
    validate_card(reminder.card)
    assert "Ni har bekräftat 2 av 6 punkter" in reminder.text

    preview = render_preview(content, {"personal": 1, "groupChat": 0, "team": 2})
    validate_card(preview.card)
    assert "Input.Toggle" not in str(preview.card) and "'title': 'Spara'" not in str(preview.card)  # no ticking
    assert "Tvåfaktorsinloggning är påslagen på Instagram" in str(preview.card)


def test_the_readiness_card_has_a_bar_per_item_and_the_ten_furthest_behind():
    rows = [
        ReportRow(
            conversation_id=f"19:team-{n}",
            scope="team",
            name=f"Team {n:02d} / Allmänt",
            delivery="sent",
            statuses={i.id: ("done" if k < n % 7 else "open") for k, i in enumerate(ITEMS)},
            settled=min(n % 7, 6),
            total=6,
            ready=n % 7 >= 6,
        )
        for n in range(14)
    ]
    report = ReadinessReport(
        announcement_id=ANN, election_name="Riksdagsvalet", election_date=ELECTION, items=ITEMS, rows=rows
    )
    message = render_readiness(report, remind_count=3)
    validate_card(message.card)
    assert report.totals_lines() == ["2 av 14 team klara"]
    card = str(message.card)
    assert card.count("'style': 'good'") == 6  # a filled bar for each item
    assert "Längst efter (10)" in card and "Team 00 / Allmänt" in card and "Team 06 / Allmänt" not in card
    assert "Skicka påminnelse (3)" in card


def test_the_chart_is_a_png_with_a_bar_per_item(tmp_path: Path):
    from PIL import Image

    rows = [
        ReportRow(
            conversation_id="a",
            scope="team",
            name="T",
            delivery="sent",
            statuses={i.id: "done" for i in ITEMS},
            settled=6,
            total=6,
            ready=True,
        ),
        ReportRow(
            conversation_id="b",
            scope="personal",
            name="P",
            delivery="sent",
            statuses={i.id: "open" for i in ITEMS},
            settled=0,
            total=6,
            ready=False,
        ),
    ]
    report = ReadinessReport(
        announcement_id=ANN, election_name="Riksdagsvalet", election_date=ELECTION, items=ITEMS, rows=rows
    )
    path = tmp_path / "chart.png"
    render_chart(report, path)
    with Image.open(path) as image:
        pixels = image.convert("RGB")
        green = sum(
            1 for x in range(pixels.width) for y in range(pixels.height) if pixels.getpixel((x, y)) == (16, 124, 16)
        )
    assert green > 6 * 100  # six half-filled bars


def test_a_checklist_topic_the_knowledge_base_lacks_stops_the_bot_at_start(tmp_path: Path):
    import shutil

    from knowledge.loader import DATA_DIR, KnowledgeBaseError
    from teams.compose import load_kb
    from tests.bot_harness import test_settings

    shutil.copytree(DATA_DIR, tmp_path / "data")
    announcement = tmp_path / "data" / "announcement.yaml"
    announcement.write_text(
        announcement.read_text(encoding="utf-8").replace("topic: monitor_channel", "topic: watch_tiktok"),
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeBaseError) as caught:
        load_kb(test_settings(KNOWLEDGE_DIR=str(tmp_path / "data")))
    (problem,) = caught.value.problems
    assert problem.file == announcement and "watch_tiktok" in problem.reason
