"""The fake Bot Connector answers botbuilder's real ConnectorClient the way the real one does,
and pins how botbuilder surfaces HTTP errors (see the docstring of tests/fake_connector.py)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.models import ErrorResponseException
from msrest.exceptions import ClientRequestError

from tests.fake_connector import FakeConnector
from tests.teams_activities import (
    BOT_ID,
    CHANNEL_ID,
    TEAM_ID,
    TENANT_ID,
    USER_AAD_ID,
    USER_ID,
    TeamsActivities,
    personal_conversation_id,
)

pytestmark = pytest.mark.any_activity  # the tests send the fake activities of their own

ROOT = Path(__file__).resolve().parent.parent
PERSONAL = personal_conversation_id()
THREAD = f"{CHANNEL_ID};messageid=1700000000000"


@pytest.fixture
async def client(fake_connector: FakeConnector) -> AsyncIterator[ConnectorClient]:
    """botbuilder's own async ConnectorClient, anonymous (as with an empty MicrosoftAppId)."""
    async with ConnectorClient(MicrosoftAppCredentials("", ""), base_url=fake_connector.url) as connector:
        yield connector


class _NoAuth:
    """Configuration as the bot has it in local development: no app id, no authentication."""

    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


def _message(text: str) -> Activity:
    return Activity(type="message", text=text, from_property=ChannelAccount(id=BOT_ID))


# -- the happy paths ------------------------------------------------------------------------------


async def test_send_to_conversation_is_recorded_and_answered_with_an_id(
    fake_connector: FakeConnector, client: ConnectorClient
) -> None:
    response = await client.conversations.send_to_conversation(THREAD, _message("Hej åäö"))
    assert response.id
    [record] = fake_connector.requests
    assert (record.method, record.kind, record.status) == ("POST", "send", 200)
    assert record.conversation_id == THREAD  # percent-encoded on the wire, decoded here
    assert record.response_id == response.id
    assert fake_connector.messages(THREAD)[0]["text"] == "Hej åäö"
    assert fake_connector.messages(CHANNEL_ID) == fake_connector.messages(THREAD)


async def test_reply_to_activity_is_recorded_with_the_activity_it_answers(
    fake_connector: FakeConnector, client: ConnectorClient
) -> None:
    response = await client.conversations.reply_to_activity(PERSONAL, "1234", _message("svar"))
    assert response.id
    [record] = fake_connector.sent()
    assert record.kind == "reply" and record.activity_id == "1234"
    assert record.path == f"/v3/conversations/{PERSONAL}/activities/1234"


async def test_create_conversation_starts_a_channel_thread_and_records_its_message(
    fake_connector: FakeConnector, client: ConnectorClient
) -> None:
    parameters = ConversationParameters(
        is_group=True,
        bot=ChannelAccount(id=BOT_ID),
        channel_data={"channel": {"id": CHANNEL_ID}},
        activity=_message("Viktigt inför valet"),
        tenant_id=TENANT_ID,
    )
    created = await client.conversations.create_conversation(parameters)
    assert created.id == f"{CHANNEL_ID};messageid={created.activity_id}"
    [record] = fake_connector.sent(CHANNEL_ID)
    assert record.kind == "create_conversation" and record.status == 201
    assert record.conversation_id == created.id
    assert fake_connector.messages(created.id)[0]["text"] == "Viktigt inför valet"


async def test_create_conversation_with_a_user_starts_a_personal_chat(
    fake_connector: FakeConnector, client: ConnectorClient
) -> None:
    parameters = ConversationParameters(
        bot=ChannelAccount(id=BOT_ID), members=[ChannelAccount(id=USER_ID)], tenant_id=TENANT_ID
    )
    created = await client.conversations.create_conversation(parameters)
    assert created.id.startswith("a:1")
    assert fake_connector.messages() == []  # nothing was posted yet


async def test_update_and_delete_succeed_and_are_not_messages(
    fake_connector: FakeConnector, client: ConnectorClient
) -> None:
    await client.conversations.update_activity(PERSONAL, "42", _message("ändrad"))
    await client.conversations.delete_activity(PERSONAL, "42")
    assert [r.kind for r in fake_connector.requests] == ["update", "delete"]
    assert fake_connector.messages() == []


async def test_members_are_plausible_and_configurable(fake_connector: FakeConnector, client: ConnectorClient) -> None:
    [member] = await client.conversations.get_conversation_members(PERSONAL)
    assert member.id == USER_ID
    assert member.aad_object_id == USER_AAD_ID

    fake_connector.members[TEAM_ID] = [{"id": "29:other", "name": "Olle", "aadObjectId": "x"}]
    found = await client.conversations.get_conversation_member(TEAM_ID, "29:other")
    assert found.name == "Olle"
    with pytest.raises(ErrorResponseException) as raised:
        await client.conversations.get_conversation_member(TEAM_ID, "29:nobody")
    assert raised.value.response.status_code == 404


async def test_an_unknown_route_is_answered_404_and_recorded(
    fake_connector: FakeConnector,
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(fake_connector.url + "v3/botsignin/nope") as response:
            assert response.status == 404
    [record] = fake_connector.requests
    assert (record.kind, record.status, record.path) == ("unknown", 404, "/v3/botsignin/nope")


# -- errors as botbuilder sees them ---------------------------------------------------------------


async def test_a_429_with_retry_after_reaches_the_caller_as_error_response_exception(
    fake_connector: FakeConnector, client: ConnectorClient
) -> None:
    fake_connector.fail(PERSONAL, 429, times=2, retry_after=1)
    for attempt in (1, 2):
        with pytest.raises(ErrorResponseException) as raised:
            await client.conversations.send_to_conversation(PERSONAL, _message("hej"))
        error = raised.value
        assert error.response.status_code == 429
        assert error.response.headers["retry-after"] == "1"
        assert error.error.error.code == "Throttled"
        assert fake_connector.attempts(PERSONAL) == attempt  # POST: no retry inside the client
    await client.conversations.send_to_conversation(PERSONAL, _message("hej"))
    assert fake_connector.attempts(PERSONAL) == 3
    assert len(fake_connector.messages(PERSONAL)) == 1


@pytest.mark.parametrize("status", [pytest.param(s, id=str(s)) for s in (403, 404, 500, 503)])
async def test_a_failed_send_is_tried_once_and_surfaces_its_status(
    fake_connector: FakeConnector, client: ConnectorClient, status: int
) -> None:
    fake_connector.fail(PERSONAL, status, times=None)
    with pytest.raises(ErrorResponseException) as raised:
        await client.conversations.send_to_conversation(PERSONAL, _message("hej"))
    assert raised.value.response.status_code == status
    assert fake_connector.attempts(PERSONAL) == 1
    assert fake_connector.messages() == []


async def test_updates_are_retried_inside_the_client_on_5xx_then_fail_without_a_status(
    fake_connector: FakeConnector, client: ConnectorClient
) -> None:
    client.config.retry_policy.backoff_factor = 0  # the default backoff would take ~5 s
    fake_connector.fail(PERSONAL, 500, times=None)
    with pytest.raises(ClientRequestError, match="too many 500 error responses"):
        await client.conversations.update_activity(PERSONAL, "42", _message("x"))
    assert fake_connector.attempts(PERSONAL) == 4  # 1 + 3 retries, invisible to the caller

    fake_connector.fail(PERSONAL, 500, times=2)  # clears within the retries: the caller sees 200
    await client.conversations.update_activity(PERSONAL, "42", _message("x"))
    assert fake_connector.attempts(PERSONAL) == 4 + 3


async def test_a_connector_that_is_down_is_a_client_request_error(
    fake_connector: FakeConnector,
) -> None:
    url = fake_connector.url
    await fake_connector.close()
    async with ConnectorClient(MicrosoftAppCredentials("", ""), base_url=url) as client:
        client.config.retry_policy.backoff_factor = 0
        with pytest.raises(ClientRequestError):
            await client.conversations.send_to_conversation(PERSONAL, _message("x"))


async def test_the_global_switch_fails_every_conversation_until_healed(
    fake_connector: FakeConnector, client: ConnectorClient
) -> None:
    fake_connector.fail_all(500)
    for conversation in (PERSONAL, THREAD):
        with pytest.raises(ErrorResponseException):
            await client.conversations.send_to_conversation(conversation, _message("x"))
    fake_connector.heal()
    await client.conversations.send_to_conversation(PERSONAL, _message("x"))
    assert [r.status for r in fake_connector.requests] == [500, 500, 200]


async def test_a_channel_failure_also_fails_new_threads_in_it(
    fake_connector: FakeConnector, client: ConnectorClient
) -> None:
    fake_connector.fail(CHANNEL_ID, 403, times=1)
    parameters = ConversationParameters(
        is_group=True,
        bot=ChannelAccount(id=BOT_ID),
        channel_data={"channel": {"id": CHANNEL_ID}},
        activity=_message("x"),
    )
    with pytest.raises(ErrorResponseException):
        await client.conversations.create_conversation(parameters)
    await client.conversations.create_conversation(parameters)
    assert fake_connector.attempts(CHANNEL_ID, kind="create_conversation") == 2


async def test_cloud_adapter_lets_the_error_through_a_proactive_send(
    fake_connector: FakeConnector,
) -> None:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_NoAuth()))
    reference = ConversationReference(
        channel_id="msteams",
        service_url=fake_connector.url,
        conversation=ConversationAccount(id=PERSONAL, tenant_id=TENANT_ID),
        bot=ChannelAccount(id=BOT_ID),
        user=ChannelAccount(id=USER_ID),
    )

    async def send(turn_context: TurnContext) -> None:
        await turn_context.send_activity("Påminnelse")

    fake_connector.fail(PERSONAL, 429, times=1, retry_after=7)
    with pytest.raises(ErrorResponseException) as raised:
        await adapter.continue_conversation(reference, send, "")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers.get("Retry-After") == "7"

    await adapter.continue_conversation(reference, send, "")
    assert [m["text"] for m in fake_connector.messages(PERSONAL)] == ["Påminnelse"]


async def test_teams_info_in_a_channel_turn_reads_the_member_from_the_team(
    fake_connector: FakeConnector, teams: TeamsActivities
) -> None:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_NoAuth()))
    seen: list[str] = []

    async def look(turn_context: TurnContext) -> None:
        member = await TeamsInfo.get_member(turn_context, USER_ID)
        seen.append(member.aad_object_id)

    inbound = Activity().deserialize(teams.message("hej", conversation_type="channel"))
    await adapter.process_activity("", inbound, look)
    assert seen == [USER_AAD_ID]
    # botbuilder 4.17.1 asks about the turn's conversation (the thread), not the team id.
    [request] = [r for r in fake_connector.requests if r.kind == "member"]
    assert request.conversation_id == inbound.conversation.id
    assert request.conversation_id.startswith(CHANNEL_ID + ";messageid=")


# -- waiting -------------------------------------------------------------------------------------


async def test_wait_for_returns_once_enough_messages_arrived(
    fake_connector: FakeConnector, client: ConnectorClient
) -> None:
    async def send_later() -> None:
        await asyncio.sleep(0.05)
        for text in ("ett", "två"):
            await client.conversations.send_to_conversation(PERSONAL, _message(text))

    sender = asyncio.create_task(send_later())
    messages = await fake_connector.wait_for(2, timeout=5)
    assert [m["text"] for m in messages] == ["ett", "två"]
    found = await fake_connector.wait_for_message(lambda m: m["text"] == "två")
    assert found["text"] == "två"
    await sender


async def test_wait_for_times_out_with_what_was_received(
    fake_connector: FakeConnector, client: ConnectorClient
) -> None:
    await client.conversations.send_to_conversation(PERSONAL, _message("bara en"))
    with pytest.raises(TimeoutError, match="bara en"):
        await fake_connector.wait_for(2, timeout=0.1)


async def test_clear_forgets_requests_and_failures(fake_connector: FakeConnector, client: ConnectorClient) -> None:
    fake_connector.fail(PERSONAL, 500, times=None)
    with pytest.raises(ErrorResponseException):
        await client.conversations.send_to_conversation(PERSONAL, _message("x"))
    fake_connector.clear()
    await client.conversations.send_to_conversation(PERSONAL, _message("x"))
    assert [r.status for r in fake_connector.requests] == [200]


# -- standalone process --------------------------------------------------------------------------


async def test_the_standalone_recording_survives_sigkill(tmp_path: Path) -> None:
    record = tmp_path / "sub" / "requests.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_connector", "--port", "0", "--record", str(record)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 20)
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.split()[-1] + "/"
        async with aiohttp.ClientSession() as session:
            await session.post(url + "_fake/fail", json={"conversation_id": "a:1x", "status": 429})
            for text in ("först", "sedan"):
                async with session.post(
                    url + "v3/conversations/a:1x/activities", json={"type": "message", "text": text}
                ):
                    pass
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
    lines = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    assert [(r["status"], r["body"]["text"]) for r in lines] == [(429, "först"), (200, "sedan")]
    assert all(r["conversation_id"] == "a:1x" and r["received_at"] > 0 for r in lines)
