"""The curator's report: what people asked that the bot could not answer, scrubbed, grouped, deleted in time."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from helpdesk.question_log import QuestionEvent, record_question
from helpdesk.question_texts import QuestionText, question_texts, record_question_text
from helpdesk.report import main as report
from helpdesk.retention import purge
from knowledge.loader import load_knowledge_base
from storage import MemoryStorage, SqliteStorage
from storage.keys import QUESTION_TEXT_PREFIX
from tests.bot_harness import RunningBot, all_text, card_of, test_settings
from tests.teams_activities import BOT_ID, BOT_NAME, USER_AAD_ID, USER_ID, USER_NAME

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


async def _stored(storage) -> str:
    return str(await storage.read(await storage.keys("")))


# -- what is stored ------------------------------------------------------------------------------


async def test_an_unanswered_question_is_stored_scrubbed_without_who_asked(fake_connector, teams):
    storage = MemoryStorage()
    bot = await RunningBot(fake_connector, test_settings(), storage=storage, clock=lambda: NOW).start()
    try:
        await bot.send(
            teams.message("Kan ni mejla anna.svensson@goteborg.se om lunchmenyn, mitt nummer är 070-123 45 67?")
        )
        await bot.send(teams.message("hur slår jag på tvåfaktor på instagram?"))  # answered: no text kept
    finally:
        await bot.stop()
    texts = await question_texts(storage)
    assert [t.text for t in texts] == ["Kan ni mejla [e-post] om lunchmenyn, mitt nummer är [telefon]?"]
    assert texts[0].kind == "unanswered" and texts[0].at == NOW
    stored = str(await storage.read(await storage.keys(QUESTION_TEXT_PREFIX)))
    for personal in ("anna.svensson", "070-123", USER_ID, USER_AAD_ID, USER_NAME, "a:1"):
        assert personal not in stored
    assert "tvåfaktor" not in await _stored(storage)  # the answered question's text is nowhere

    out = io.StringIO()
    assert await report([], storage, retention_days=90, out=out) == 0
    assert '"Kan ni mejla [e-post] om lunchmenyn, mitt nummer är [telefon]?"' in out.getvalue()


async def test_a_question_asked_back_with_menade_du_is_stored_for_the_curator(fake_connector, teams):
    storage = MemoryStorage()
    bot = await RunningBot(fake_connector, test_settings(), storage=storage, clock=lambda: NOW).start()
    try:
        replies = await bot.send(teams.message("hur länge ska vi spara raderade kommentarer"))
        assert "Menade du" in all_text(replies[0])
    finally:
        await bot.stop()
    texts = await question_texts(storage)
    assert [(t.kind, t.topic) for t in texts] == [("unsure", None)]
    assert texts[0].text == "hur länge ska vi spara raderade kommentarer"
    out = io.StringIO()
    assert await report([], storage, retention_days=90, out=out) == 0
    assert "1 asked back" in out.getvalue()


async def test_mentioned_names_and_the_askers_own_name_are_scrubbed_in_a_channel(fake_connector, teams):
    storage = MemoryStorage()
    bot = await RunningBot(fake_connector, test_settings(), storage=storage, clock=lambda: NOW).start()
    try:
        activity = teams.message(
            "Kan <at>Pelle Karlsson</at> eller Åsa boka en tvättid åt mig?",
            conversation_type="channel",
            mention_bot=True,
        )
        activity["entities"].append(
            {
                "type": "mention",
                "mentioned": {"id": "29:pelle", "name": "Pelle Karlsson"},
                "text": "<at>Pelle Karlsson</at>",
            }
        )
        await bot.send(activity)
    finally:
        await bot.stop()
    assert [t.text for t in await question_texts(storage)] == ["Kan [namn] eller [namn] boka en tvättid åt mig?"]
    stored = await _stored(storage)
    assert "Pelle" not in stored and BOT_NAME not in str(await storage.read(await storage.keys(QUESTION_TEXT_PREFIX)))
    assert BOT_ID not in str(await storage.read(await storage.keys(QUESTION_TEXT_PREFIX)))


async def test_a_text_of_nothing_but_personal_data_is_not_stored():
    storage = MemoryStorage()
    assert not await record_question_text(storage, "anna@x.se 070-123 45 67", "unanswered", at=NOW, names=["Anna"])
    assert await storage.keys(QUESTION_TEXT_PREFIX) == []


# -- the report ----------------------------------------------------------------------------------


async def _texts(storage, items: list[tuple[int, str, str, str | None]]) -> None:
    for minutes, text, kind, topic in items:
        await record_question_text(storage, text, kind, at=NOW + dt.timedelta(minutes=minutes), topic=topic)


async def test_the_report_groups_similar_texts_with_count_newest_example_and_closest_topic():
    storage = MemoryStorage()
    await _texts(
        storage,
        [
            (1, "Hur bokar jag en tvättid?", "unanswered", None),
            (2, "boka tvättid", "unanswered", None),
            (3, "Hur bokar man tvättid i huset?", "unanswered", None),
            (4, "Hur ändrar jag omslagsbild på vår Facebooksida?", "unanswered", None),
            (5, "hur byter jag omslagsbild på facebooksidan", "unanswered", None),
            (6, "Vad gör jag om vårt konto är kapat?", "disliked", "account_hijacked"),
            (7, "Länken till Instagram fungerar inte", "comment", "account_hijacked"),
        ],
    )
    await record_question(storage, QuestionEvent(at=NOW, topic=None, scope="personal", outcome="unanswered"))
    out = io.StringIO()
    assert await report([], storage, retention_days=90, kb=load_knowledge_base(), out=out) == 0
    text = out.getvalue()
    lines = text.splitlines()
    assert "(utanför)" in text  # still counts per topic
    groups = lines[lines.index(next(line for line in lines if line.startswith("Unanswered"))) + 2 :]
    assert groups[0].split()[0] == "3" and '"Hur bokar man tvättid i huset?"' in groups[0]  # newest example
    assert groups[1].split()[0] == "2" and "omslagsbild på facebooksidan" in groups[1]
    assert "account_hijacked" in groups[2] and "1 👎" in groups[2]
    assert "Comments with a 👎" in text and "Länken till Instagram fungerar inte" in text


async def test_the_report_as_csv_holds_topics_questions_and_comments():
    storage = MemoryStorage()
    await _texts(
        storage,
        [
            (1, "Hur bokar jag en tvättid?", "unanswered", None),
            (2, "boka tvättid, mejla svar till per@x.se", "unanswered", None),
            (3, "Vad gör jag om vårt konto är kapat?", "disliked", "account_hijacked"),
            (4, "Svaret hjälpte inte", "comment", "account_hijacked"),
        ],
    )
    for topic, outcome in [("enable_2fa", "answered"), ("enable_2fa", "answered"), (None, "unanswered")]:
        await record_question(storage, QuestionEvent(at=NOW, topic=topic, scope="personal", outcome=outcome))
    out = io.StringIO()
    assert await report(["--format", "csv"], storage, retention_days=90, kb=load_knowledge_base(), out=out) == 0
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["section", "topic", "outcome", "count", "example", "newest"]
    assert rows[1:3] == [
        ["topics", "enable_2fa", "answered", "2", "", ""],
        ["topics", "(utanför)", "unanswered", "1", "", ""],
    ]
    questions = [r for r in rows if r[0] == "questions"]
    assert questions[0][2:5] == ["unanswered:2", "2", "boka tvättid, mejla svar till [e-post]"]
    assert questions[0][5] == (NOW + dt.timedelta(minutes=2)).isoformat()
    assert questions[1][:4] == ["questions", "account_hijacked", "disliked:1", "1"]
    assert [r[:5] for r in rows if r[0] == "comments"] == [
        ["comments", "account_hijacked", "comment:1", "1", "Svaret hjälpte inte"]
    ]

    out = io.StringIO()  # --since leaves older texts out
    assert await report(["--since", "2026-11-25", "--format", "csv"], storage, retention_days=90, out=out) == 0
    assert out.getvalue().splitlines() == ["section,topic,outcome,count,example,newest"]


# -- retention -----------------------------------------------------------------------------------


async def test_retention_deletes_old_texts_and_sqlite_keeps_no_copy_in_its_log(tmp_path: Path):
    path = tmp_path / "kanalvakten.db"
    storage = SqliteStorage(path)
    old, recent = NOW - dt.timedelta(days=91), NOW - dt.timedelta(days=2)
    try:
        await record_question_text(storage, "Hur bokar jag Xyzzy-tvättstugan?", "unanswered", at=old)
        await record_question_text(storage, "Var hittar jag Plugh-rummet?", "unanswered", at=recent)
        wal = Path(f"{path}-wal")
        before = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        assert b"Xyzzy" in before  # what the test looks for is really on disk before the purge

        result = await purge(storage, NOW, 90)

        assert result.question_texts == 1
        assert [t.text for t in await question_texts(storage)] == ["Var hittar jag Plugh-rummet?"]
        assert not wal.exists() or b"Xyzzy" not in wal.read_bytes()
        assert b"Xyzzy" not in path.read_bytes()  # secure_delete: not left in the file's free space
        assert b"Plugh" in path.read_bytes()  # the rest was checkpointed into the database
    finally:
        await storage.close()


async def test_compact_is_harmless_on_memory_storage():
    storage = MemoryStorage()
    await storage.write({"a": {"x": 1}})
    await storage.compact()
    assert (await storage.read(["a"]))["a"]["x"] == 1


def test_a_stored_text_has_no_field_for_a_person():
    assert set(QuestionText.model_fields) == {"at", "text", "kind", "topic", "scope"}


# -- "rapport" in an admin's chat ----------------------------------------------------------------


async def test_an_admin_typing_rapport_gets_the_top_ten_as_a_card(fake_connector, teams):
    storage = MemoryStorage()
    distinct = [
        "Hur bokar jag en tvättid?",
        "Var ligger närmaste vårdcentral?",
        "Hur ansöker jag om semester?",
        "Vilken meny har skolmatsalen idag?",
        "Hur beställer jag nya visitkort?",
        "Får man ta med hund till kontoret?",
        "Hur fungerar friskvårdsbidraget?",
        "När betalas lönen ut?",
        "Hur skriver jag ett pressmeddelande?",
        "Var parkerar besökare?",
        "Hur bokar jag konferensrum?",
        "Vem ansvarar för julfesten?",
    ]
    for n, question in enumerate(distinct):  # twelve different questions, the first asked three times
        for _ in range(3 if n == 0 else 1):
            await record_question_text(storage, question, "unanswered", at=NOW)
    for _ in range(2):
        await record_question_text(
            storage, "**Länken** [här](https://x.example) funkar inte", "disliked", at=NOW, topic="account_hijacked"
        )
    for _ in range(2):
        await record_question_text(storage, "hur länge ska vi spara raderade kommentarer", "unsure", at=NOW)
    bot = await RunningBot(fake_connector, test_settings(ADMIN_AAD_IDS=USER_AAD_ID), storage=storage).start()
    try:
        (reply,) = await bot.send(teams.message("Rapport"))
    finally:
        await bot.stop()
    card = card_of(reply)
    groups = [c for c in card["body"] if c["type"] == "Container"]
    assert len(groups) == 10
    assert groups[0]["items"][0]["text"] == "1. 3 st: ”Hur bokar jag en tvättid?”"
    said = all_text(reply)
    assert "\\*\\*Länken\\*\\* \\[här\\]\\(https://x.example\\)" in said  # typed Markdown shown as typed
    assert "2 👎 · närmast: Kontot verkar kapat" in said  # the closest topic by its title
    assert "2 fick ”Menade du…?” · närmast:" in said  # asked back: the kind said in Swedish


def test_the_report_card_counts_one_question_in_the_singular():
    from cards.report import report_card

    said = all_text(report_card([], topic_titles={}, questions=1, retention_days=90).model_dump())
    assert "(av 1 fråga i allt)" in said


@pytest.mark.parametrize(
    "settings, scope",
    [
        pytest.param({}, "personal", id="not-an-admin"),
        pytest.param({"ADMIN_AAD_IDS": USER_AAD_ID}, "channel", id="admin-in-a-channel"),
    ],
)
async def test_rapport_is_an_ordinary_word_for_others_and_outside_a_personal_chat(
    fake_connector, teams, settings, scope
):
    storage = MemoryStorage()
    await record_question_text(storage, "Hur bokar jag en tvättid?", "unanswered", at=NOW)
    bot = await RunningBot(fake_connector, test_settings(**settings), storage=storage).start()
    try:
        replies = await bot.send(teams.message("rapport", conversation_type=scope, mention_bot=scope != "personal"))
    finally:
        await bot.stop()
    assert "tvättid" not in "\n".join(all_text(r) for r in replies)
