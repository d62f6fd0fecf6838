"""Outgoing Bot Connector tokens: fetched once per app id and scope, off the event loop, reused.

botbuilder 4.17.1 builds new credentials for every connector client (`_ConnectorFactoryImpl.create`
-> `ServiceClientCredentialsFactory.create_credentials` -> a new `MicrosoftAppCredentials` with a
new, empty MSAL application), that is for every turn and every proactive message, and msrest asks
them for the token inside its synchronous `signed_session`, on the event loop: every turn fetched
a token from Azure AD, blocking everyone, without a timeout.

`CachingCredentialsFactory` wraps botbuilder's factory. It keeps the SDK's credentials object per
(app id, scope, login endpoint), so MSAL's own cache and authority discovery are reused, and asks
it for a token in a worker thread (one at a time per key, MSAL's HTTP calls with a timeout) only
when the token held expires within `REFRESH_MARGIN`. A turn waits for that (at most
`TOKEN_TIMEOUT`) only when there is no token or it is about to expire; otherwise the held token
serves and the new one is fetched in the background. What it hands botbuilder are
`CachedTokenCredentials`, whose `get_access_token` just reads the held token: msrest's synchronous
call never waits on the network. A token that cannot be had in time raises
`IdentityServiceUnavailable` (503).

Each key gets one credentials object for the life of the process (with authentication off too), so
teams/connector_clients.py can keep one connector client per service URL and credentials: the
object stays, the token it reads is replaced.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable

import jwt
from botframework.connector.auth import (
    AppCredentials,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
)
from msal import ConfidentialClientApplication
from msrest.authentication import Authentication

from teams.auth import IdentityServiceUnavailable

__all__ = ["CachingCredentialsFactory", "CachedTokenCredentials", "TOKEN_TIMEOUT", "REFRESH_MARGIN"]

log = logging.getLogger(__name__)

TOKEN_TIMEOUT = 10.0
"""Seconds a turn waits for a new outgoing token (MSAL's HTTP calls get the same timeout)."""
REFRESH_MARGIN = 5 * 60.0
"""A token expiring sooner than this is replaced (MSAL itself treats it as expired then)."""
USABLE_MARGIN = 60.0
"""A held token with more life than this serves while its replacement is fetched."""
UNKNOWN_LIFETIME = 10 * 60.0
"""How long to reuse a token whose expiry cannot be read (it is not a JWT)."""


@dataclasses.dataclass
class _TokenSlot:
    """The SDK credentials for one (app id, scope, endpoint) and the token they last gave."""

    source: Authentication
    token: str | None = None
    expires_at: float = 0.0
    fetch: asyncio.Future[None] | None = None
    """The token request running in a thread; later turns join it rather than start another."""
    credentials: CachedTokenCredentials | None = None
    """What every turn gets for this key: reads `token` when a request is signed."""


def _expiry(token: str, fetched_at: float) -> float:
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        exp = None
    return float(exp) if isinstance(exp, (int, float)) else fetched_at + UNKNOWN_LIFETIME


def _fetch_token(source: Authentication) -> str:
    """Runs in a worker thread: the SDK's blocking token acquisition, with a socket timeout."""
    if isinstance(source, MicrosoftAppCredentials) and source.app is None and source.microsoft_app_id:
        # what MicrosoftAppCredentials.__get_msal_app builds, plus a timeout for MSAL's requests
        source.app = ConfidentialClientApplication(
            client_id=source.microsoft_app_id,
            client_credential=source.microsoft_app_password,
            authority=source.oauth_endpoint,
            timeout=TOKEN_TIMEOUT,
        )
    return source.get_access_token()  # type: ignore[attr-defined]


class CachedTokenCredentials(AppCredentials):
    """What a connector client signs its requests with: the token held for its key, no I/O."""

    def __init__(self, app_id: str, oauth_scope: str, slot: _TokenSlot) -> None:
        super().__init__(app_id=app_id, oauth_scope=oauth_scope)
        self._slot = slot

    def get_access_token(self, force_refresh: bool = False) -> str:
        if self._slot.token is None:
            raise PermissionError("no outgoing token held")
        return self._slot.token


class CachingCredentialsFactory(ServiceClientCredentialsFactory):
    """botbuilder's credentials factory with tokens cached per app id and scope (see module doc)."""

    def __init__(
        self,
        inner: ServiceClientCredentialsFactory,
        *,
        timeout: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._inner = inner
        self._timeout = timeout if timeout is not None else TOKEN_TIMEOUT
        self._clock = clock
        self._slots: dict[tuple[str, str, str], _TokenSlot] = {}
        self._anonymous: dict[tuple[str, str, str], Authentication] = {}
        self._lock = asyncio.Lock()

    async def is_valid_app_id(self, app_id: str) -> bool:
        return await self._inner.is_valid_app_id(app_id)

    async def is_authentication_disabled(self) -> bool:
        return await self._inner.is_authentication_disabled()

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        key = (app_id, oauth_scope or "", login_endpoint or "")
        if await self._inner.is_authentication_disabled():
            # local development: the SDK's empty credentials send no Authorization header
            anonymous = self._anonymous.get(key)
            if anonymous is None:
                anonymous = await self._inner.create_credentials(
                    app_id, oauth_scope, login_endpoint, validate_authority
                )
                self._anonymous[key] = anonymous
            return anonymous
        slot = self._slots.get(key)
        if slot is None:
            async with self._lock:
                slot = self._slots.get(key)
                if slot is None:
                    source = await self._inner.create_credentials(
                        app_id, oauth_scope, login_endpoint, validate_authority
                    )
                    slot = self._slots[key] = _TokenSlot(source)
        await self._fresh_token(slot)
        if slot.credentials is None:
            slot.credentials = CachedTokenCredentials(app_id, oauth_scope, slot)
        return slot.credentials

    async def _fresh_token(self, slot: _TokenSlot) -> None:
        now = self._clock()
        if slot.token is not None and slot.expires_at - REFRESH_MARGIN > now:
            return
        if slot.fetch is None:
            slot.fetch = asyncio.ensure_future(self._fetch(slot))
            slot.fetch.add_done_callback(self._report_background_failure)
        if slot.token is not None and slot.expires_at - USABLE_MARGIN > now:
            return  # the held token still works: the new one is fetched in the background
        try:
            # shield: a turn that gives up does not cancel the fetch other turns wait for
            await asyncio.wait_for(asyncio.shield(slot.fetch), self._timeout)
        except TimeoutError:
            log.warning("no outgoing Bot Connector token within %g s", self._timeout)
            raise IdentityServiceUnavailable("outgoing token: no answer in time") from None
        except Exception:  # noqa: BLE001 - MSAL and requests raise many kinds; logged once, above
            raise IdentityServiceUnavailable("outgoing token: request failed") from None

    @staticmethod
    def _report_background_failure(fetch: asyncio.Future[None]) -> None:
        """One log line per failed fetch, however many turns waited for it (or none did)."""
        exc = None if fetch.cancelled() else fetch.exception()
        if exc is not None:
            detail = " ".join(str(exc).split())[:200]
            log.warning("could not get an outgoing Bot Connector token: %s: %s", type(exc).__name__, detail)

    async def _fetch(self, slot: _TokenSlot) -> None:
        """Kept even when every turn waiting for it gave up: the next turn then has it."""
        try:
            token = await asyncio.to_thread(_fetch_token, slot.source)
            # one fetch at a time per slot: this one is the newest
            slot.token, slot.expires_at = token, _expiry(token, self._clock())
        finally:
            slot.fetch = None
