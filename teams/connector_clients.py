"""Bot Connector clients reused across turns, and the user-token client built only when used.

botbuilder 4.17.1 builds, for every turn, a new `ConnectorClient` (`_ConnectorFactoryImpl.create`)
and a new `UserTokenClient` (`CloudAdapterBase.process_activity`). Each is an msrest client:
configuration, retry policy, pipeline, a serializer over every model class, and its own
`requests.Session`, so every turn also opened a new TCP (and in production TLS) connection to the
Bot Connector and left the old one to the garbage collector. `make bench` measured the two
constructions at about a fifth of a Kanalvakten turn.

- `CachingConnectorFactory` keeps one `ConnectorClient` per (service URL, credentials object) in a
  `ConnectorClients` cache shared by all turns. It still asks the credentials factory for
  credentials on every turn, which is what refreshes the outgoing token
  (teams/outgoing_tokens.py hands out one credentials object per app id and scope, reading the
  token it holds at signing time), so a reused client always signs with the current token;
  credentials that change (another object) get a new client. The cache is bounded (least
  recently used go) and closed with the app.
- `LazyUserTokenClient` builds botbuilder's user-token client on first use. Kanalvakten has no
  sign-in, so ordinary turns never build one; an OAuth prompt would get the SDK's own.

A client shared by concurrent turns is safe: msrest signs each request by setting the session's
Authorization header to the same credentials' token (one key, replaced in place), and requests'
connection pool is thread-safe; the pool is widened to the default executor's size so concurrent
sends reuse connections instead of discarding them.

A client talks to one service URL, so what `requests` reads from the environment for every request
(msrest sets `trust_env`) is read once when the client is built and handed to msrest explicitly:
the proxies for that URL (HTTPS_PROXY, NO_PROXY, ...; `getproxies` scans all of `os.environ`
twice, twice per request: ~0.1 ms on the reply's path) and the CA bundle (REQUESTS_CA_BUNDLE,
CURL_CA_BUNDLE). Should ~/.netrc hold credentials for the URL, the client is left to `requests`.
The environment of a running bot does not change; a new process reads it anew.
"""

from __future__ import annotations

import collections
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import ConnectorFactory, UserTokenClient
from botframework.connector.auth._connector_factory_impl import USER_AGENT, _ConnectorFactoryImpl
from requests.utils import get_environ_proxies, get_netrc_auth

__all__ = ["ConnectorClients", "CachingConnectorFactory", "LazyUserTokenClient", "MAX_CLIENTS", "POOL_SIZE"]

log = logging.getLogger(__name__)

MAX_CLIENTS = 64
"""Clients kept; Teams uses a handful of service URLs (one per region), so this is never reached."""
POOL_SIZE = 32
"""Connections kept per client: the most requests asyncio's default executor runs at once."""


class ConnectorClients:
    """The shared cache: (service URL, credentials) -> ConnectorClient."""

    def __init__(self, limit: int = MAX_CLIENTS) -> None:
        self._limit = limit
        self._clients: collections.OrderedDict[tuple[str, int], tuple[Any, ConnectorClient]] = collections.OrderedDict()
        self.created = 0
        """Clients built so far (tests)."""

    def get(self, service_url: str, credentials: Any, build: Callable[[], ConnectorClient]) -> ConnectorClient:
        key = (service_url, id(credentials))
        entry = self._clients.get(key)
        if entry is not None and entry[0] is credentials:
            self._clients.move_to_end(key)
            return entry[1]
        client = build()
        _widen_pool(client)
        _read_environment_once(client, service_url)
        self.created += 1
        self._clients[key] = (credentials, client)  # holding the credentials keeps id() unique
        if len(self._clients) > self._limit:
            # not closed: a turn may still be using it; its connections close with it
            self._clients.popitem(last=False)
        return client

    def factory(self, inner: ConnectorFactory) -> ConnectorFactory:
        """`inner` (botbuilder's factory for one turn) with clients taken from this cache."""
        if isinstance(inner, _ConnectorFactoryImpl):
            return CachingConnectorFactory(inner, self)
        return inner

    async def close(self) -> None:
        """Close every client's connections (at shutdown)."""
        clients = [client for _, client in self._clients.values()]
        self._clients.clear()
        for client in clients:
            try:
                await client.__aexit__(None, None, None)
            except Exception:  # closing idle connections; nothing to do about it
                log.debug("closing a connector client failed", exc_info=True)


def _widen_pool(client: ConnectorClient) -> None:
    """Let the client's session keep as many connections as requests can run at once."""
    try:
        session = client.config.pipeline._sender.driver.session
        for adapter in session.adapters.values():
            adapter.init_poolmanager(POOL_SIZE, POOL_SIZE)
    except AttributeError:  # pragma: no cover - another msrest pipeline: keep its defaults
        log.debug("connector client without a requests session; pool left as it is")


def _read_environment_once(client: ConnectorClient, service_url: str) -> None:
    """What requests' `trust_env` would look up on every request, looked up now (module doc)."""
    config = client.config
    if not config.proxies.use_env_settings or get_netrc_auth(service_url):
        return
    # requests.Session.merge_environment_settings, for this URL
    for scheme, proxy in get_environ_proxies(service_url, no_proxy=config.proxies.proxies.get("no_proxy")).items():
        config.proxies.proxies.setdefault(scheme, proxy)
    if config.connection.verify is True or config.connection.verify is None:
        config.connection.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or config.connection.verify
        )
    config.proxies.use_env_settings = False  # msrest sets the session's trust_env from this


class CachingConnectorFactory(ConnectorFactory):
    """botbuilder's `_ConnectorFactoryImpl.create`, with the client taken from `ConnectorClients`."""

    def __init__(self, inner: _ConnectorFactoryImpl, clients: ConnectorClients) -> None:
        self._inner = inner
        self._clients = clients

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        inner = self._inner
        credentials = await inner._credential_factory.create_credentials(
            inner._app_id,
            audience or inner._to_channel_from_bot_oauth_scope,
            inner._login_endpoint,
            inner._validate_authority,
        )

        def build() -> ConnectorClient:
            if inner._connector_client_configuration:
                client = ConnectorClient(
                    credentials, base_url=service_url, custom_configuration=inner._connector_client_configuration
                )
            else:
                client = ConnectorClient(credentials, base_url=service_url)
            client.config.add_user_agent(USER_AGENT)
            return client

        return self._clients.get(service_url, credentials, build)


class LazyUserTokenClient(UserTokenClient):
    """botbuilder's user-token client for one turn, built when a method is first called."""

    def __init__(self, build: Callable[[], Awaitable[UserTokenClient]]) -> None:
        super().__init__()
        self._build = build
        self._client: UserTokenClient | None = None

    async def _real(self) -> UserTokenClient:
        if self._client is None:
            self._client = await self._build()
        return self._client

    async def get_user_token(self, user_id: str, connection_name: str, channel_id: str, magic_code: str) -> Any:
        return await (await self._real()).get_user_token(user_id, connection_name, channel_id, magic_code)

    async def get_sign_in_resource(self, connection_name: str, activity: Any, final_redirect: str) -> Any:
        return await (await self._real()).get_sign_in_resource(connection_name, activity, final_redirect)

    async def sign_out_user(self, user_id: str, connection_name: str, channel_id: str) -> Any:
        return await (await self._real()).sign_out_user(user_id, connection_name, channel_id)

    async def get_token_status(self, user_id: str, channel_id: str, include_filter: str) -> Any:
        return await (await self._real()).get_token_status(user_id, channel_id, include_filter)

    async def get_aad_tokens(
        self, user_id: str, connection_name: str, resource_urls: list[str], channel_id: str
    ) -> Any:
        return await (await self._real()).get_aad_tokens(user_id, connection_name, resource_urls, channel_id)

    async def exchange_token(self, user_id: str, connection_name: str, channel_id: str, exchange_request: Any) -> Any:
        return await (await self._real()).exchange_token(user_id, connection_name, channel_id, exchange_request)
