"""The conversation registry: what is remembered, for whom, and what is forgotten."""

from __future__ import annotations

import datetime as dt

import pytest

from announcements.registry import ConversationRegistry, registry_id
from storage import MemoryStorage

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
TEAM = "19:team-general@thread.tacv2"
OTHER_CHANNEL = "19:sociala-medier@thread.tacv2"


def reference(conversation_id: str, conversation_type: str) -> dict:
    return {
        "activityId": "1700000000000",
        "user": {"id": "29:user", "name": "Åsa Öberg", "aadObjectId": "aad-user", "role": "user"},
        "bot": {"id": "28:bot", "name": "Kanalvakten"},
        "conversation": {
            "id": conversation_id,
            "conversationType": conversation_type,
            "tenantId": "tenant",
            "name": "Åsas chatt",
            "isGroup": conversation_type != "personal",
        },
        "channelId": "msteams",
        "locale": "sv-SE",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
    }


@pytest.fixture
def registry():
    return ConversationRegistry(MemoryStorage())


async def test_a_personal_chat_is_remembered_without_the_users_name_or_ids(registry):
    record = await registry.remember(reference("a:1abc", "personal"), "personal", None, None, "tenant", NOW)
    assert record.id == "a:1abc" and record.scope == "personal" and record.installed
    assert "user" not in record.reference
    assert "Åsa" not in str(record.model_dump()) and "aad-user" not in str(record.model_dump())
    assert record.reference["conversation"] == {
        "id": "a:1abc",
        "conversationType": "personal",
        "tenantId": "tenant",
        "isGroup": False,
    }
    assert record.reference["serviceUrl"] == record.service_url
    assert [r.id for r in await registry.installed()] == ["a:1abc"]


async def test_a_team_is_one_record_keyed_by_the_team_and_aimed_at_general(registry):
    thread = f"{OTHER_CHANNEL};messageid=1700000000000"
    first = await registry.remember(reference(thread, "channel"), "team", TEAM, OTHER_CHANNEL, "tenant", NOW)
    again = await registry.remember(reference(TEAM, "channel"), "team", TEAM, TEAM, "tenant", NOW)
    assert first.id == again.id == TEAM
    assert again.channel_id == TEAM and again.reference["conversation"]["id"] == TEAM
    assert len(await registry.installed()) == 1


async def test_a_configured_announce_channel_is_used_for_the_team_it_belongs_to():
    registry = ConversationRegistry(MemoryStorage(), announce_channel_id=OTHER_CHANNEL)
    other_team = "19:other-team@thread.tacv2"
    await registry.remember(reference(TEAM, "channel"), "team", TEAM, TEAM, "tenant", NOW)
    assert (await registry.get(TEAM)).channel_id == TEAM  # not seen in this team yet: General
    await registry.remember(reference(OTHER_CHANNEL, "channel"), "team", TEAM, OTHER_CHANNEL, "tenant", NOW)
    assert (await registry.get(TEAM)).channel_id == OTHER_CHANNEL
    # a later activity from General keeps the configured channel
    await registry.remember(reference(TEAM, "channel"), "team", TEAM, TEAM, "tenant", NOW + dt.timedelta(hours=2))
    assert (await registry.get(TEAM)).channel_id == OTHER_CHANNEL
    await registry.remember(reference(other_team, "channel"), "team", other_team, other_team, "tenant", NOW)
    assert (await registry.get(other_team)).channel_id == other_team


async def test_uninstall_forgets_and_a_new_install_brings_it_back(registry):
    await registry.remember(reference("19:gc@thread.v2", "groupChat"), "groupChat", None, None, "tenant", NOW)
    gone = await registry.forget("19:gc@thread.v2", "uninstalled", now=NOW)
    assert gone is not None and not gone.installed and gone.gone_reason == "uninstalled"
    assert await registry.installed() == []
    back = await registry.remember(reference("19:gc@thread.v2", "groupChat"), "groupChat", None, None, "tenant", NOW)
    assert back.installed and back.gone_reason is None


async def test_removing_the_bot_from_a_team_forgets_the_team(registry):
    await registry.remember(reference(TEAM, "channel"), "team", TEAM, TEAM, "tenant", NOW)
    await registry.forget(f"{OTHER_CHANNEL};messageid=1", team_id=TEAM, now=NOW)
    assert await registry.installed() == []


async def test_mark_gone_keeps_the_reason(registry):
    await registry.remember(reference("a:1x", "personal"), "personal", None, None, "tenant", NOW)
    await registry.mark_gone("a:1x", "HTTP 403: Forbidden", now=NOW)
    record = await registry.get("a:1x")
    assert record.gone_reason == "HTTP 403: Forbidden" and record.gone_at == NOW


async def test_last_seen_is_refreshed_at_most_hourly():
    storage = MemoryStorage()
    registry = ConversationRegistry(storage)
    await registry.remember(reference("a:1x", "personal"), "personal", None, None, "tenant", NOW)
    soon = await registry.remember(
        reference("a:1x", "personal"), "personal", None, None, "tenant", NOW + dt.timedelta(minutes=5)
    )
    assert soon.last_seen == NOW
    later = await registry.remember(
        reference("a:1x", "personal"), "personal", None, None, "tenant", NOW + dt.timedelta(hours=2)
    )
    assert later.last_seen == NOW + dt.timedelta(hours=2) and later.first_seen == NOW


@pytest.mark.parametrize(
    "conversation_id, scope, team_id, expected",
    [
        pytest.param("a:1x", "personal", None, "a:1x", id="personal"),
        pytest.param("19:gc@thread.v2", "groupChat", None, "19:gc@thread.v2", id="group-chat"),
        pytest.param("19:c@thread.tacv2;messageid=9", "team", TEAM, TEAM, id="channel-thread"),
    ],
)
def test_registry_ids(conversation_id, scope, team_id, expected):
    assert registry_id(conversation_id, scope, team_id) == expected


async def test_bad_input_is_refused(registry):
    with pytest.raises(ValueError):
        await registry.remember(reference("a:1x", "personal"), "channel", None, None, "t", NOW)
    with pytest.raises(ValueError):
        await registry.remember(reference(TEAM, "channel"), "team", None, None, "t", NOW)
