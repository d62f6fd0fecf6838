"""Outbound safety: where replies and announcements may go, and log lines nobody can forge.

- With authentication off, a `serviceUrl` is accepted only on loopback or at a Bot Framework/Teams
  service address, never with credentials in it (400 at the endpoint, nothing sent).
- A stored conversation's `serviceUrl` is never re-pointed by an unauthenticated activity; with
  authentication on, the token-vouched one is stored.
- User-controlled strings in log arguments never start a new log line.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pytest

import logsafe
from announcements.registry import ConversationRegistry
from bot import run_announce as announce
from storage import create_storage
from teams.service_url import service_url_problem
from tests.bot_harness import RunningBot, sqlite_url, test_settings
from tests.fake_connector import FakeConnector
from tests.fake_identity import APP_ID, FakeIdentityService, mint
from tests.teams_activities import TeamsActivities, personal_conversation_id
from tests.test_auth import FakeCredentialsFactory, FakeTokenEndpoint, bearer

COMING_ELECTION = (dt.date.today() + dt.timedelta(days=61)).isoformat()


# --- which serviceUrl is accepted ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:3978/",
        "https://127.0.0.1/",
        "http://127.8.9.10:1/",
        "http://localhost:56000/_connector",
        "http://[::1]:8080/",
        "https://smba.trafficmanager.net/emea/",
        "https://smba.trafficmanager.net/amer-client-ss.msg/",
        "https://smba.infra.gcc.teams.microsoft.com/gcc",
        "https://smba.infra.gov.teams.microsoft.us/gcch",
        "https://smba.infra.dod.teams.microsoft.us/teams",
        "https://skype.botframework.com",
        "https://webchat.botframework.com/",
        "https://canary.botapi.skype.com/amer/",
    ],
)
def test_without_authentication_loopback_and_microsofts_service_addresses_are_accepted(url):
    assert service_url_problem(url, authenticated=False) is None


@pytest.mark.parametrize(
    "url, reason",
    [
        ("https://attacker.example/", "not a Bot Framework or Teams service address"),
        ("https://smba.trafficmanager.net.attacker.example/", "not a Bot Framework"),
        ("https://evil.trafficmanager.net/", "not a Bot Framework"),
        ("https://notbotframework.com/", "not a Bot Framework"),
        ("http://smba.trafficmanager.net/emea/", "must be https"),
        ("http://10.0.0.5/", "must be https"),
        ("https://user:secret@smba.trafficmanager.net/emea/", "credentials"),
        ("http://user:secret@127.0.0.1:9/", "credentials"),
        ("https://smba.trafficmanager.net@attacker.example/", "credentials"),
        ("https://attacker.example\\@smba.trafficmanager.net/", "not a plain URL"),
        ("https://smba.trafficmanager.net/emea/\nHost: attacker.example", "not a plain URL"),
        ("http://127.0.0.1:port/", "not a plain URL"),
        ("file:///etc/passwd", "valid serviceUrl"),
        ("", "valid serviceUrl"),
        (42, "valid serviceUrl"),
    ],
)
def test_without_authentication_other_service_urls_are_refused(url, reason):
    problem = service_url_problem(url, authenticated=False)
    assert problem is not None and reason in problem


def test_with_authentication_the_token_vouches_for_the_address_but_never_for_credentials():
    assert service_url_problem("https://teams.example.net/emea/", authenticated=True) is None
    assert "credentials" in service_url_problem("https://u:p@teams.example.net/", authenticated=True)
    assert "https" in service_url_problem("http://teams.example.net/", authenticated=True)


@pytest.mark.parametrize(
    "url",
    ["https://attacker.example/", "https://user:pass@smba.trafficmanager.net/emea/", "http://user:pass@127.0.0.1:9/"],
)
async def test_the_endpoint_answers_400_and_sends_nothing_to_a_refused_service_url(bot, teams, fake_connector, url):
    status, text = await bot.post(teams.message("hej", service_url=url))
    assert status == 400
    assert "serviceUrl" in json.loads(text)["error"]
    assert fake_connector.requests == []


# --- a known conversation is never re-pointed -----------------------------------------------------


async def test_an_unauthenticated_activity_never_re_points_a_registered_conversation(
    fake_connector, teams, tmp_path, caplog
):
    settings = test_settings(
        STORAGE_URL=sqlite_url(tmp_path / "bot.db"), ANNOUNCE_RATE="50", ELECTION_DATE=COMING_ELECTION
    )
    conversation = personal_conversation_id()
    async with FakeConnector() as attacker:
        bot = await RunningBot(fake_connector, settings).start()
        try:
            await bot.send(teams.installation_update("add"))
            forged = TeamsActivities(attacker.url).message("hej")  # same user and conversation, other address
            with caplog.at_level(logging.WARNING, logger="announcements.registry"):
                status, _ = await bot.post(forged)
            assert status in (200, 201)
        finally:
            await bot.stop()
        ignored = [r for r in caplog.records if "serviceUrl" in r.getMessage() and "ignored" in r.getMessage()]
        assert len(ignored) == 1 and conversation in ignored[0].getMessage()

        storage = create_storage(settings.storage_url)
        try:
            record = await ConversationRegistry(storage).get(conversation)
        finally:
            await storage.close()
        assert record is not None
        assert record.service_url == fake_connector.url
        assert record.reference["serviceUrl"] == fake_connector.url

        # the admin's next broadcast goes where the conversation really is, not to the forger
        fake_connector.clear()
        attacker.clear()
        out, err = io.StringIO(), io.StringIO()
        assert await announce(["send", "--yes"], settings, out=out, err=err) == 0, err.getvalue()
        assert [r.conversation_id for r in fake_connector.sent()] == [conversation]
        assert attacker.requests == []


async def test_with_authentication_the_token_vouched_service_url_is_stored(fake_connector, teams):
    storage = create_storage("memory://")
    endpoint = FakeTokenEndpoint()
    async with FakeIdentityService() as idp, FakeConnector() as moved:
        settings = test_settings(
            MicrosoftAppId=APP_ID,
            MicrosoftAppPassword="not-used",
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=idp.channel_metadata_url,
            TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=idp.aad_metadata_url,
        )
        bot = await RunningBot(
            fake_connector, settings, storage=storage, credentials=FakeCredentialsFactory(endpoint)
        ).start()
        try:
            first = teams.message("hej")
            status, text = await bot.post(first, headers=bearer(mint(first["serviceUrl"])))
            assert status in (200, 201), text
            registry = ConversationRegistry(storage)
            assert (await registry.get(personal_conversation_id())).service_url == fake_connector.url

            # the Bot Connector moved the conversation (another region): its token vouches for it
            second = TeamsActivities(moved.url).message("hej igen")
            status, text = await bot.post(second, headers=bearer(mint(moved.url)))
            assert status in (200, 201), text
            record = await registry.get(personal_conversation_id())
            assert record.service_url == moved.url and record.reference["serviceUrl"] == moved.url

            # a token vouching for one address cannot bring another
            third = TeamsActivities(fake_connector.url).message("hej")
            status, _ = await bot.post(third, headers=bearer(mint(moved.url)))
            assert status == 401
            assert (await registry.get(personal_conversation_id())).service_url == moved.url
        finally:
            await bot.stop()
            await storage.close()


# --- log lines --------------------------------------------------------------------------------


def test_line_breaks_in_log_arguments_are_escaped(caplog):
    logsafe.install()
    log = logging.getLogger("tests.logsafe")
    with caplog.at_level(logging.INFO, logger="tests.logsafe"):
        log.info("question from %s: %s (%d)", "tenant\r\nFAKE", "text\nFAKE WARNING admin logged in", 3)
        log.info("%(who)s said %(what)r", {"who": "a\u2028FAKE", "what": "b\nFAKE"})
        log.info("object %s", ValueError("x\nFAKE"))
    lines = caplog.text.splitlines()
    assert len(lines) == 3, caplog.text
    assert not any(line.startswith("FAKE") for line in lines)
    assert "tenant\\r\\nFAKE" in lines[0] and "text\\nFAKE" in lines[0] and "(3)" in lines[0]
    assert "a\\u2028FAKE" in lines[1] and "'b\\nFAKE'" in lines[1]
    assert "x\\nFAKE" in lines[2]


async def test_a_forged_object_id_logs_as_one_line(bot, teams, caplog):
    """A refused admin command logs the sender's AAD object id, which the sender controls."""
    with caplog.at_level(logging.INFO):
        await bot.send(teams.message("utskick skicka", aad_object_id="x\nFAKE WARNING announcement sent by admin"))
    refused = [r for r in caplog.records if "ADMIN_AAD_IDS" in r.getMessage()]
    assert len(refused) == 1
    assert "x\\nFAKE WARNING" in refused[0].getMessage()
    assert "\nFAKE" not in caplog.text


async def test_ids_with_control_characters_are_refused(bot, teams, fake_connector):
    status, text = await bot.post(teams.message("hej", conversation_id="a:1x\nFAKE INFO registered"))
    assert status == 400 and "control characters" in json.loads(text)["error"]
    assert fake_connector.requests == []
