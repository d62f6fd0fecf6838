"""The real `Sender`: posts an announcement through the Bot Connector REST API (botbuilder).

- Personal and group chats: a message in the existing conversation
  (`POST /v3/conversations/{id}/activities`, `conversations.send_to_conversation`).
- Teams: a *new thread* in the channel (`teams.activity.start_channel_thread`, the same call the
  hand-off to the experts' channel uses).

The message becomes an activity through `teams.activity.to_activity`, as replies do.

Errors become a `SendOutcome`, never an exception: botbuilder raises
`msrest.exceptions.HttpOperationError` (`ErrorResponseException`) with `.response.status_code`
and the `Retry-After` header; connection problems and timeouts raise `ClientRequestError`
(status None). The HTTP goes through `teams.outbound.ConnectorTransport` (aiohttp, a timeout per
call, a bound per serviceUrl, no threads) with one attempt per call, so the engine is the only
one retrying and its counts and waits are exact.

Tokens come from `teams.outgoing_tokens.CachingCredentialsFactory`, as the replies' do: fetched in
a worker thread with a timeout, once per app id, reused until shortly before they expire. msrest
signs each request synchronously on the event loop; with the SDK's own `MicrosoftAppCredentials`
that meant a blocking token request without a timeout in the middle of a broadcast. A token that
cannot be had in time is a failed attempt (status None) the engine retries.

An empty app id means no authentication (local use, tests against the fake connector).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from typing import Any

from botbuilder.schema import Activity, ChannelAccount, ConversationAccount
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticationConstants,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
)
from msrest.authentication import Authentication
from msrest.exceptions import ClientException, HttpOperationError

from announcements.broadcast import SendOutcome
from announcements.registry import ConversationRecord
from announcements.retry import RetryPolicy
from cards.message import OutgoingMessage
from config import Settings
from teams.activity import start_channel_thread, to_activity
from teams.auth import IdentityServiceUnavailable
from teams.outgoing_tokens import CachingCredentialsFactory

__all__ = ["BotFrameworkSender", "parse_retry_after", "sender_from_settings"]

log = logging.getLogger(__name__)

_TIMEOUT_SECONDS = 30


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds ("3", "1.5") or an HTTP date; None if absent/bad."""
    if value is None:
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


class BotFrameworkSender:
    """Sends through `ConnectorClient`s, one per service URL; `await close()` when done."""

    def __init__(
        self,
        app_id: str = "",
        app_password: str = "",
        *,
        tenant_id: str = "",
        single_tenant: bool = False,
        credentials_factory: ServiceClientCredentialsFactory | None = None,
    ) -> None:
        self._app_id = app_id
        # `credentials_factory` stands in for the SDK's password factory (tests); either way
        # tokens are cached and fetched off the event loop. No app id: no Authorization header.
        self._credentials_factory = CachingCredentialsFactory(
            credentials_factory
            or PasswordServiceClientCredentialFactory(
                app_id, app_password, tenant_id if single_tenant and tenant_id else None
            )
        )
        self._clients: dict[str, ConnectorClient] = {}
        from teams.outbound import ConnectorTransport, OutboundLimits  # (teams.outbound imports this module)

        # aiohttp, no threads: a hanging connector holds no worker thread the bot needs; one
        # attempt per call (the engine retries and paces); `_TIMEOUT_SECONDS` in all per call.
        self._transport = ConnectorTransport(
            limits=OutboundLimits(timeout=_TIMEOUT_SECONDS, retry=RetryPolicy(max_attempts=1))
        )

    async def _client(self, service_url: str) -> ConnectorClient:
        # The same credentials object for the process's life (its token is replaced): one client
        # per service URL serves the whole broadcast.
        credentials: Authentication = await self._credentials_factory.create_credentials(
            self._app_id,
            AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
            AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL,
            True,
        )
        client = self._clients.get(service_url)
        if client is None:
            from teams.outbound import use_transport

            client = use_transport(ConnectorClient(credentials, base_url=service_url), self._transport, service_url)
            self._clients[service_url] = client
        return client

    async def send(self, record: ConversationRecord, message: OutgoingMessage) -> SendOutcome:
        try:
            client = await self._client(record.service_url)
        except IdentityServiceUnavailable as exc:
            return SendOutcome(status=None, error=f"no Bot Connector token: {exc}"[:300])
        activity = self._activity(record, message)
        try:
            if record.scope == "team":
                response = await start_channel_thread(
                    client,
                    record.channel_id or record.id,
                    activity,
                    bot=activity.from_property,
                    tenant_id=record.tenant_id,
                )
                return SendOutcome(
                    status=201, activity_id=getattr(response, "activity_id", None) or getattr(response, "id", None)
                )
            response = await client.conversations.send_to_conversation(record.id, activity)
            return SendOutcome(status=200, activity_id=getattr(response, "id", None))
        except HttpOperationError as exc:
            return _outcome_from_http_error(exc)
        except (TimeoutError, ClientException, OSError) as exc:
            return SendOutcome(status=None, error=f"{type(exc).__name__}: {exc}"[:300])

    @staticmethod
    def _activity(record: ConversationRecord, message: OutgoingMessage) -> Activity:
        reference = record.reference
        bot_id = (reference.get("bot") or {}).get("id")
        conversation = dict(reference.get("conversation") or {})
        activity = to_activity(message)
        activity.channel_id = reference.get("channelId", "msteams")
        activity.service_url = record.service_url
        activity.from_property = ChannelAccount(id=bot_id) if bot_id else None
        activity.conversation = ConversationAccount(
            id=record.id,
            is_group=conversation.get("isGroup"),
            conversation_type=conversation.get("conversationType"),
            tenant_id=record.tenant_id,
        )
        if record.tenant_id:
            activity.channel_data = {"tenant": {"id": record.tenant_id}}
        return activity

    async def close(self) -> None:
        for client in self._clients.values():
            try:
                await client.__aexit__(None, None, None)  # closes the HTTP sessions
            except Exception:  # closing must never hide the broadcast's result
                log.debug("closing a connector client failed", exc_info=True)
        self._clients.clear()
        await self._transport.close()


def _outcome_from_http_error(exc: HttpOperationError) -> SendOutcome:
    response: Any = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    headers = getattr(response, "headers", None) or {}
    retry_after = parse_retry_after(headers.get("Retry-After")) if hasattr(headers, "get") else None
    text = str(exc) or getattr(response, "reason", "") or "error"
    return SendOutcome(status=status, retry_after=retry_after, error=text[:300])


def sender_from_settings(settings: Settings) -> BotFrameworkSender:
    """The sender for the configured bot registration (`config.Settings`)."""
    return BotFrameworkSender(
        settings.app_id,
        settings.app_password.get_secret_value(),
        tenant_id=settings.app_tenant_id,
        single_tenant=settings.app_type == "SingleTenant",
    )
