"""ALLOWED_TENANTS: compared trimmed and case-insensitively; a refusal logs the tenant id (on one
line); a tenant of the wrong type counts as missing, never as an exception."""

from __future__ import annotations

import logging

import pytest

from tests.bot_harness import RunningBot, test_settings
from tests.teams_activities import BOT_ID, TENANT_ID

OTHER_TENANT = "9a8b7c6d-0000-4000-8000-0000000000ff"


async def _bot(fake_connector, **settings) -> RunningBot:
    return await RunningBot(fake_connector, test_settings(**settings)).start()


async def test_allowed_tenants_are_compared_trimmed_and_case_insensitively(fake_connector, teams):
    running = await _bot(fake_connector, ALLOWED_TENANTS=f"  {TENANT_ID.upper()}  , {OTHER_TENANT}")
    try:
        assert await running.send(teams.message("tvåfaktor instagram"))
        assert await running.send(teams.message("hej", tenant_id=f" {TENANT_ID.upper()} "))
    finally:
        await running.stop()


async def test_a_refused_tenant_is_logged_with_its_id_and_gets_no_answer(fake_connector, teams, caplog):
    running = await _bot(fake_connector, ALLOWED_TENANTS=TENANT_ID)
    try:
        with caplog.at_level(logging.WARNING, logger="teams.handler"):
            assert await running.send(teams.message("hej", tenant_id=OTHER_TENANT)) == []
    finally:
        await running.stop()
    refused = [r.getMessage() for r in caplog.records if "ALLOWED_TENANTS" in r.getMessage()]
    assert len(refused) == 1 and OTHER_TENANT in refused[0]


async def test_a_forged_tenant_id_is_logged_on_one_line(fake_connector, teams, caplog):
    running = await _bot(fake_connector, ALLOWED_TENANTS=TENANT_ID)
    try:
        with caplog.at_level(logging.INFO):
            forged = "other\nFAKE WARNING teams.auth: token accepted"
            assert await running.send(teams.message("hej", tenant_id=forged)) == []
    finally:
        await running.stop()
    assert "\nFAKE" not in caplog.text
    assert "tenant other\\nFAKE WARNING" in caplog.text


def _without_conversation_tenant(activity: dict) -> dict:
    activity["conversation"].pop("tenantId", None)
    return activity


@pytest.mark.parametrize(
    "tenant",
    [
        pytest.param("abc", id="a-string"),
        pytest.param({"id": 5}, id="a-number-id"),
        pytest.param(["x"], id="a-list"),
        pytest.param({"id": None}, id="no-id"),
    ],
)
async def test_a_tenant_of_the_wrong_type_is_treated_as_missing(fake_connector, teams, tenant, caplog):
    guarded = await _bot(fake_connector, ALLOWED_TENANTS=TENANT_ID)
    try:
        message = _without_conversation_tenant(teams.message("hej"))
        message["channelData"]["tenant"] = tenant
        with caplog.at_level(logging.WARNING, logger="teams.handler"):
            assert await guarded.send(message) == []  # missing: not an allowed tenant
        assert "(none given)" in caplog.text

        # with conversation.tenantId there, the wrong channelData.tenant is ignored and that one counts
        message = teams.message("tvåfaktor instagram")
        message["channelData"]["tenant"] = tenant
        assert await guarded.send(message)
    finally:
        await guarded.stop()

    open_bot = await _bot(fake_connector)
    try:
        message = teams.message("tvåfaktor instagram")
        message["channelData"]["tenant"] = tenant
        assert await open_bot.send(message)
        added = teams.conversation_update(members_added=[BOT_ID], conversation_type="groupChat")
        added["channelData"]["tenant"] = tenant
        welcome = await open_bot.send(added)  # botbuilder's TeamsChannelData would have raised
        assert len(welcome) == 1
    finally:
        await open_bot.stop()
    assert "turn failed" not in caplog.text
