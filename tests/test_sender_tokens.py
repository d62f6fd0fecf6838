"""The announcement sender signs with the cached outgoing token, fetched off the event loop with a
timeout, like replies do (teams/outgoing_tokens.py). Real sender, fake Bot Connector on loopback,
a fake token endpoint that counts fetches and can hang."""

from __future__ import annotations

import asyncio
import datetime as dt

import teams.outgoing_tokens as outgoing_tokens_module
from announcements.registry import ConversationRecord
from cards.message import OutgoingMessage
from teams.sender import BotFrameworkSender
from tests.test_auth import APP_ID, FakeCredentialsFactory, FakeTokenEndpoint

MESSAGE = OutgoingMessage(text="Viktig information inför valet")


def record(fake_connector, conversation_id: str) -> ConversationRecord:
    now = dt.datetime.now(dt.UTC)
    return ConversationRecord(
        id=conversation_id,
        scope="personal",
        reference={"bot": {"id": f"28:{APP_ID}"}, "conversation": {"id": conversation_id}, "channelId": "msteams"},
        service_url=fake_connector.url,
        tenant_id="tenant-1",
        first_seen=now,
        last_seen=now,
    )


async def test_a_broadcast_fetches_one_token_and_signs_every_message_with_it(fake_connector):
    endpoint = FakeTokenEndpoint()
    sender = BotFrameworkSender(APP_ID, credentials_factory=FakeCredentialsFactory(endpoint))
    try:
        outcomes = [await sender.send(record(fake_connector, f"a:{i}"), MESSAGE) for i in range(5)]
    finally:
        await sender.close()
    assert [o.status for o in outcomes] == [200] * 5
    assert endpoint.fetches == 1
    assert {r.authorization for r in fake_connector.sent()} == {f"Bearer {endpoint.tokens[0]}"}


async def test_a_hanging_token_request_never_blocks_the_event_loop(fake_connector):
    endpoint = FakeTokenEndpoint()
    endpoint.open.clear()  # the token endpoint does not answer until told to
    sender = BotFrameworkSender(APP_ID, credentials_factory=FakeCredentialsFactory(endpoint))
    try:
        send = asyncio.create_task(sender.send(record(fake_connector, "a:1"), MESSAGE))
        while endpoint.fetches == 0:  # the loop keeps turning while the request hangs in its thread
            await asyncio.sleep(0.01)
        assert not send.done()
        endpoint.open.set()
        outcome = await asyncio.wait_for(send, 30)
    finally:
        endpoint.open.set()
        await sender.close()
    assert outcome.status == 200
    assert fake_connector.sent()[-1].authorization == f"Bearer {endpoint.tokens[-1]}"


async def test_a_token_that_cannot_be_had_in_time_fails_the_attempt_for_the_engine_to_retry(
    fake_connector, monkeypatch
):
    monkeypatch.setattr(outgoing_tokens_module, "TOKEN_TIMEOUT", 0.2)
    endpoint = FakeTokenEndpoint()
    endpoint.open.clear()
    sender = BotFrameworkSender(APP_ID, credentials_factory=FakeCredentialsFactory(endpoint))
    try:
        outcome = await asyncio.wait_for(sender.send(record(fake_connector, "a:1"), MESSAGE), 30)
        assert outcome.status is None and "token" in (outcome.error or "")
        assert fake_connector.sent() == []
        endpoint.open.set()  # the endpoint recovers: a later attempt is delivered
        for _ in range(100):
            again = await sender.send(record(fake_connector, "a:1"), MESSAGE)
            if again.status == 200:
                break
            await asyncio.sleep(0.05)
        assert again.status == 200
    finally:
        endpoint.open.set()
        await sender.close()


async def test_without_an_app_id_messages_go_unsigned(fake_connector):
    sender = BotFrameworkSender("")
    try:
        outcome = await sender.send(record(fake_connector, "a:1"), MESSAGE)
    finally:
        await sender.close()
    assert outcome.status == 200
    assert fake_connector.sent()[-1].authorization is None
