"""Every call the bot makes to the Bot Connector during a turn: timed out, bounded, paced, retried.

botbuilder 4.17.1 sends through msrest, which runs `requests` in the event loop's *default* thread
pool (a handful of threads on a small machine) with a 100 s read timeout. A Bot Connector that
accepts connections and never answers therefore held one thread per reply: eight hung replies
filled the pool and an innocent user's turn waited 24 s. msrest retries nothing that matters
(POST is never retried) and knows nothing of Teams' rate limits.

`ConnectorTransport` replaces that HTTP layer for every `ConnectorClient` botbuilder makes for a
turn (replies, hand-off threads, member lookups, the admin's "done" message):

- one aiohttp session for the app (no threads; connections kept alive between turns);
- a total timeout per attempt (`OutboundLimits.timeout`, 15 s: connect, send, answer), so a hung
  connector costs a turn at most that long per attempt, and never anyone else's turn;
- at most `per_service_concurrency` calls in flight per `serviceUrl`; a call that cannot get a
  slot within the timeout fails instead of queueing for ever;
- messages into a conversation go through the app's `TeamsRateLimiter` (Teams' per-conversation
  limits: 7 a second, 60 in 30 s; the same class broadcasts use);
- an answer 412, 429, 502, 503 or 504 is retried, after `Retry-After` when the connector sends
  one (else the `RetryPolicy` backoff), at most `retry.max_attempts` times in all; a 429 also
  slows the limiter's global rate. Other failures, and no answer at all, are not retried: the
  message may have arrived, and a user should not get it twice.

What msrest and botbuilder see is unchanged: a response shaped like `requests.Response`, so an
error is still `ErrorResponseException` with `.response.status_code` and `Retry-After` in
`.response.headers`, and a connection failure or timeout is still msrest's `ClientRequestError`.

`OutboundAuthentication` wraps the app's `BotFrameworkAuthentication` so every connector factory it
hands CloudAdapter builds its clients on the transport; nothing else in botbuilder changes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import types
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp
import requests
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from botframework.connector.skills import BotFrameworkClient
from msrest.exceptions import ClientRequestError
from msrest.pipeline import Request, Response, SansIOHTTPPolicy
from msrest.pipeline.async_abc import AsyncHTTPSender, AsyncPipeline
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.async_requests import AsyncRequestsClientResponse
from requests.structures import CaseInsensitiveDict

from announcements.clock import Clock, SystemClock
from announcements.ratelimit import TeamsRateLimiter
from announcements.retry import RetryPolicy
from teams.sender import parse_retry_after

__all__ = [
    "ConnectorTransport",
    "OutboundAuthentication",
    "OutboundLimits",
    "RETRY_STATUSES",
    "REPLY_RETRY",
    "reply_limiter",
]

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({412, 429, 502, 503, 504})
"""Answers after which the same call is tried again: throttled, or the service briefly unavailable."""

REPLY_RETRY = RetryPolicy(max_attempts=4, backoff_base=0.5, backoff_cap=4.0, max_retry_after=30.0)
"""A turn's call: four attempts at most, and a Retry-After above 30 s gives up (the user has gone)."""


@dataclasses.dataclass(frozen=True)
class OutboundLimits:
    """How long and how many: the knobs of `ConnectorTransport`."""

    timeout: float = 15.0
    """Seconds one attempt may take in all: waiting for a slot, connecting, sending, the answer."""
    per_service_concurrency: int = 16
    """Calls in flight at once to one serviceUrl (Teams has one per region)."""
    retry: RetryPolicy = REPLY_RETRY
    """When to try a failed call again (only for `RETRY_STATUSES`)."""
    clock: Clock | None = None
    """What retries wait on (None: the real clock; tests inject one that records the waits)."""


def reply_limiter(clock: Clock | None = None) -> TeamsRateLimiter:
    """The app's limiter for replies: Teams' per-conversation limits, and 50 a second in all (Teams'
    limit per bot and tenant; the admin's broadcasts have their own, slower one)."""
    return TeamsRateLimiter(rate=50.0, min_rate=5.0, clock=clock)


def _conversation_of(url: str) -> str | None:
    """The conversation a message goes to: `/v3/conversations/{id}/activities[/{reply to}]`."""
    parts = urlsplit(url).path.split("/")
    try:
        at = parts.index("conversations")
    except ValueError:
        return None
    tail = parts[at + 1 :]
    if len(tail) in (2, 3) and tail[1] == "activities" and tail[0]:
        return unquote(tail[0])
    return None


def _as_requests_response(status: int, reason: str, headers: Any, body: bytes, url: str) -> requests.Response:
    """What msrest's requests driver would have produced: a loaded `requests.Response`."""
    response = requests.Response()
    response.status_code = status
    response.reason = reason
    response.headers = CaseInsensitiveDict(headers)
    response._content = body
    response.url = url
    content_type = response.headers.get("Content-Type", "")
    charset = content_type.partition("charset=")[2].split(";")[0].strip()
    response.encoding = charset or "utf-8"  # never let requests guess (slow, and wrong for JSON)
    return response


class ConnectorTransport:
    """The app's HTTP client for the Bot Connector (see the module doc). `await close()` at shutdown."""

    def __init__(
        self,
        *,
        limits: OutboundLimits | None = None,
        limiter: TeamsRateLimiter | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.limits = limits or OutboundLimits()
        self.limiter = limiter
        """Paces messages into a conversation; None: unpaced."""
        self._clock = clock or self.limits.clock or SystemClock()
        self._session: aiohttp.ClientSession | None = None
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._closed = False
        self.peak_in_flight = 0
        """The most calls to one serviceUrl that held a slot at the same time (tests, metrics)."""

    def _http(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ClientRequestError("the bot is shutting down")
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=True, trust_env=False)
        return self._session

    def _slot(self, service_url: str) -> asyncio.Semaphore:
        key = service_url.rstrip("/").lower()
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = asyncio.Semaphore(self.limits.per_service_concurrency)
        return slot

    def in_flight(self, service_url: str) -> int:
        """Calls to `service_url` holding a slot now (for tests and metrics)."""
        slot = self._slots.get(service_url.rstrip("/").lower())
        return 0 if slot is None else self.limits.per_service_concurrency - slot._value

    async def send(self, service_url: str, request: ClientRequest) -> requests.Response:
        """One connector call with pacing, retries and a timeout per attempt; see the module doc."""
        conversation = _conversation_of(request.url) if request.method.upper() == "POST" else None
        attempt = 0
        while True:
            attempt += 1
            if conversation is not None and self.limiter is not None:
                await self.limiter.acquire(conversation)
            response = await self._attempt(service_url, request)
            if response.status_code not in RETRY_STATUSES:
                if response.status_code < 300 and self.limiter is not None and attempt == 1:
                    self.limiter.recover()
                return response
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            decision = self.limits.retry.decide(response.status_code, retry_after, attempt)
            if decision.action != "retry":
                log.warning("connector answered %s %s: %s", request.method, response.status_code, decision.reason)
                return response
            delay = max(decision.delay or 0.0, retry_after or 0.0)
            if delay > self.limits.retry.max_retry_after:
                log.warning("connector asks to wait %.0f s: not retried", delay)
                return response
            if response.status_code == 429 and self.limiter is not None:
                self.limiter.slow_down()
            log.info("connector answered %s, attempt %d: retrying in %.1f s", response.status_code, attempt, delay)
            await self._clock.sleep(delay)

    async def _attempt(self, service_url: str, request: ClientRequest) -> requests.Response:
        data = request.data
        if request.files:
            raise ClientRequestError("form uploads are not sent through the connector transport")
        headers = {key: str(value) for key, value in request.headers.items()}
        try:
            async with asyncio.timeout(self.limits.timeout):
                async with self._slot(service_url):
                    self.peak_in_flight = max(self.peak_in_flight, self.in_flight(service_url))
                    async with self._http().request(
                        request.method, request.url, data=data, headers=headers, allow_redirects=False
                    ) as answer:
                        body = await answer.read()
                        return _as_requests_response(
                            answer.status, answer.reason or "", answer.headers, body, str(answer.url)
                        )
        except TimeoutError as exc:
            raise ClientRequestError(f"no answer from the connector within {self.limits.timeout:g} s", exc) from exc
        except (aiohttp.ClientError, ValueError) as exc:  # ValueError: aiohttp refuses a URL or header
            raise ClientRequestError(f"connector request failed: {type(exc).__name__}", exc) from exc

    async def close(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None


# -- msrest: a pipeline that sends through the transport ------------------------------------------


class _Sign(SansIOHTTPPolicy):
    """The credentials' Authorization header (none for anonymous local use), as msrest would set it.

    botbuilder's credentials only know how to sign a `requests.Session`; they touch nothing but its
    `headers`, so a bare namespace with headers serves."""

    def __init__(self, credentials: Any) -> None:
        self._credentials = credentials

    def on_request(self, request: Request, **kwargs: Any) -> None:
        if self._credentials is None:
            return
        holder = types.SimpleNamespace(headers={})
        self._credentials.signed_session(holder)
        request.http_request.headers.update(holder.headers)


class _TransportSender(AsyncHTTPSender):
    def __init__(self, transport: ConnectorTransport, service_url: str) -> None:
        self._transport = transport
        self._service_url = service_url

    async def __aenter__(self) -> _TransportSender:
        return self

    async def __aexit__(self, *exc_details: Any) -> None:
        return None  # the session is the app's, closed at shutdown

    async def send(self, request: Request, **config: Any) -> Response:
        answer = await self._transport.send(self._service_url, request.http_request)
        return Response(request, AsyncRequestsClientResponse(request.http_request, answer))


def use_transport(client: ConnectorClient, transport: ConnectorTransport, service_url: str) -> ConnectorClient:
    """Make `client` send through `transport` (its policies: user agent, signing, JSON, logging).

    Idempotent: a client reused across turns (teams/connector_clients.py) is set up once."""
    if getattr(client, "_kanalvakten_transport", None) is transport:
        return client
    config = client.config
    config.pipeline = AsyncPipeline(
        [config.user_agent_policy, _Sign(config.credentials), RawDeserializer(), config.http_logger_policy],
        _TransportSender(transport, service_url),
    )
    client._kanalvakten_transport = transport  # type: ignore[attr-defined]
    return client


class _TransportConnectorFactory(ConnectorFactory):
    def __init__(self, inner: ConnectorFactory, transport: ConnectorTransport) -> None:
        self._inner = inner
        self._transport = transport

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        client = await self._inner.create(service_url, audience)
        return use_transport(client, self._transport, service_url)


class OutboundAuthentication(BotFrameworkAuthentication):
    """The app's authentication, with every connector client built on `transport`."""

    def __init__(self, inner: BotFrameworkAuthentication, transport: ConnectorTransport) -> None:
        self._inner = inner
        self.transport = transport

    @property
    def connector_clients(self) -> Any:
        """The inner authentication's cache of connector clients (teams/connector_clients.py)."""
        return getattr(self._inner, "connector_clients", None)

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _TransportConnectorFactory(result.connector_factory, self.transport)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _TransportConnectorFactory(self._inner.create_connector_factory(claims_identity), self.transport)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        return await self._inner.create_user_token_client(claims_identity)

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def close(self) -> None:
        """Closes the inner authentication (its key refreshes) and the transport."""
        close = getattr(self._inner, "close", None)
        if close is not None:
            await close()
        await self.transport.close()
