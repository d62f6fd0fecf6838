"""Validation of the Bot Framework's bearer token, before botbuilder sees the activity.

botbuilder 4.17.1 validates the token itself, but fetches Microsoft's OpenID metadata and signing
keys with blocking `requests` calls, without a timeout, on the event loop, and answers a bad token
with an exception (a 500 and a stack trace). This module does the same checks asynchronously:

- the token is `Authorization: Bearer <JWT>`, signed with RS256 (never `none`), by a key whose
  `kid` is in the issuer's JWKS;
- a Bot Framework channel token (`iss` https://api.botframework.com, keys from
  login.botframework.com) must name this bot in `aud`, be signed by a key that Microsoft endorses
  for the activity's `channelId` (msteams), and vouch for the activity's `serviceUrl` in its
  `serviceurl` claim, so replies can only go where the Bot Connector said;
- an Azure AD token (the issuers botbuilder's EmulatorValidation accepts, plus the app's own tenant
  for SingleTenant, keys from login.microsoftonline.com) must have been issued to this bot
  (`appid`/`azp`) for this bot (`aud`) — botbuilder checks only the first, so it would accept the
  bot's own outgoing Bot Connector token replayed at it;
- `exp`/`nbf` with botbuilder's five minutes of clock skew.

Keys are fetched with aiohttp, metadata and JWKS together bounded by `FETCH_TIMEOUT`, one fetch at
a time however many requests wait for it. As in botbuilder (jwt_token_extractor._OpenIdMetadata)
they are refreshed when a day old (in the background: the old keys serve meanwhile), and on an
unknown `kid` at most once an hour; if a refresh fails, the keys already held stay in use. Without
any keys a request fails with `IdentityServiceUnavailable` (503) after at most `FETCH_TIMEOUT`, and
after a failed fetch the next one waits `RETRY_AFTER_FAILURE`, answering 503 at once meanwhile.

Plain PyJWT and aiohttp, no botbuilder: teams/bot_authentication.py hands the result to botbuilder.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm

__all__ = [
    "BOT_FRAMEWORK_ISSUER",
    "BOT_FRAMEWORK_OPENID_METADATA_URL",
    "AAD_OPENID_METADATA_URL",
    "AAD_ISSUERS",
    "CLOCK_SKEW_SECONDS",
    "FETCH_TIMEOUT",
    "TokenRejected",
    "IdentityServiceUnavailable",
    "SigningKey",
    "OpenIdKeys",
    "BotTokenValidator",
    "tenant_issuers",
]

log = logging.getLogger(__name__)

# From botframework-connector 4.17.1 (botframework/connector/auth/); tests/test_auth.py checks that
# these still equal the SDK's values.
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
"""AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: who signs tokens from channels."""
BOT_FRAMEWORK_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
"""AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL."""
AAD_OPENID_METADATA_URL = "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
"""AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: Azure AD's signing keys."""
AAD_ISSUERS: tuple[str, ...] = (
    "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",
    "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0",
    "https://sts.windows.net/f8cdef31-a31e-4b4a-93e4-5f571e91255a/",
    "https://login.microsoftonline.com/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0",
    "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
    "https://sts.windows.net/cab8a31a-1906-4287-a0d8-4eef66b95f6e/",
    "https://login.microsoftonline.us/cab8a31a-1906-4287-a0d8-4eef66b95f6e/v2.0",
    "https://login.microsoftonline.us/f8cdef31-a31e-4b4a-93e4-5f571e91255a/",
    "https://login.microsoftonline.us/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0",
)
"""EmulatorValidation.TO_BOT_FROM_EMULATOR_TOKEN_VALIDATION_PARAMETERS.issuer."""
CLOCK_SKEW_SECONDS = 5 * 60
"""VerifyOptions.clock_tolerance in ChannelValidation and EmulatorValidation."""
ALGORITHM = "RS256"
"""botbuilder decodes with algorithms=["RS256"] whatever the header allows."""

KEY_MAX_AGE = 24 * 3600.0
"""_OpenIdMetadata.get: keys more than a day old are refreshed."""
UNKNOWN_KID_REFRESH_INTERVAL = 3600.0
"""_OpenIdMetadata.get: an unknown kid refreshes the keys at most once an hour."""
RETRY_AFTER_FAILURE = 10.0
"""After a failed fetch, seconds before the next try (requests meanwhile use what is held)."""
FETCH_TIMEOUT = 5.0
"""Seconds for metadata and JWKS together; a request waits at most this long for keys."""
MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_TOKEN_CHARS = 16 * 1024


class TokenRejected(PermissionError):
    """The request's token is missing or not acceptable: answer 401. `reason` is safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IdentityServiceUnavailable(Exception):
    """Signing keys (or an outgoing token) could not be had in time: answer 503."""


@dataclasses.dataclass(frozen=True)
class SigningKey:
    """One public key of an issuer's JWKS."""

    key: Any
    """The RSA public key (cryptography), for PyJWT."""
    endorsements: frozenset[str]
    """Channels Microsoft vouches this key signs for (Bot Framework keys only)."""


def tenant_issuers(tenant_id: str) -> tuple[str, ...]:
    """AuthenticationConfiguration.add_tenant_issuers: a SingleTenant app's own Azure AD issuers."""
    return (f"https://sts.windows.net/{tenant_id}/", f"https://login.microsoftonline.com/{tenant_id}/v2.0")


class _FetchFailed(Exception):
    pass


def _parse_jwks(document: Any) -> dict[str, SigningKey]:
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise _FetchFailed("JWKS has no keys list")
    keys: dict[str, SigningKey] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not isinstance(entry.get("kid"), str):
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(entry)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
        endorsements = entry.get("endorsements")
        keys[entry["kid"]] = SigningKey(
            public_key,
            frozenset(e for e in endorsements if isinstance(e, str)) if isinstance(endorsements, list) else frozenset(),
        )
    if not keys:
        raise _FetchFailed("JWKS has no usable RSA key")
    return keys


class OpenIdKeys:
    """The signing keys behind one OpenID configuration URL, fetched without blocking and cached."""

    def __init__(
        self, metadata_url: str, *, timeout: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.metadata_url = metadata_url
        self._timeout = timeout if timeout is not None else FETCH_TIMEOUT
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._inflight: asyncio.Task[None] | None = None

    async def key(self, kid: str) -> SigningKey | None:
        """The key with this id; None if the issuer has no such key.

        Raises IdentityServiceUnavailable when no keys could be fetched at all."""
        now = self._clock()
        if self._fetched_at is None or now - self._fetched_at >= KEY_MAX_AGE:
            if self._attempted_at is None or now - self._attempted_at >= RETRY_AFTER_FAILURE:
                if self._keys:
                    self._start_refresh()  # in the background: the day-old keys serve meanwhile
                else:
                    await self._refresh()
        if not self._keys:
            raise IdentityServiceUnavailable(f"no signing keys from {self.metadata_url}")
        found = self._keys.get(kid)
        if (
            found is None
            and self._attempted_at is not None
            and self._clock() - self._attempted_at >= UNKNOWN_KID_REFRESH_INTERVAL
        ):
            await self._refresh()
            found = self._keys.get(kid)
        return found

    async def close(self) -> None:
        """Cancels a fetch still running (at shutdown)."""
        task, self._inflight = self._inflight, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _start_refresh(self) -> asyncio.Task[None]:
        if self._inflight is None:
            self._inflight = asyncio.create_task(self._fetch_and_keep())
        return self._inflight

    async def _refresh(self) -> None:
        # shield: a waiter that goes away (client hung up) does not cancel the others' fetch
        await asyncio.shield(self._start_refresh())

    async def _fetch_and_keep(self) -> None:
        """One fetch for all waiters; never raises. One log line per failed fetch."""
        try:
            keys = await self._fetch()
        except _FetchFailed as exc:
            self._attempted_at = self._clock()
            if self._keys:
                log.warning(
                    "could not refresh signing keys from %s (%s); keeping the keys held", self.metadata_url, exc
                )
            else:
                log.warning("could not fetch signing keys from %s: %s", self.metadata_url, exc)
        else:
            self._keys = keys
            self._fetched_at = self._attempted_at = self._clock()
        finally:
            self._inflight = None

    async def _fetch(self) -> dict[str, SigningKey]:
        try:
            async with asyncio.timeout(self._timeout):
                async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout)) as session:
                    metadata = await self._get_json(session, self.metadata_url)
                    jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
                    if not isinstance(jwks_uri, str) or urlsplit(jwks_uri).scheme not in ("https", "http"):
                        raise _FetchFailed("OpenID configuration has no jwks_uri")
                    return _parse_jwks(await self._get_json(session, jwks_uri))
        except _FetchFailed:
            raise
        except TimeoutError:
            raise _FetchFailed(f"no answer within {self._timeout:g} s") from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise _FetchFailed(f"{type(exc).__name__}: {exc}"[:200]) from None

    @staticmethod
    async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
        async with session.get(url) as response:
            if response.status != 200:
                raise _FetchFailed(f"{url} answered {response.status}")
            body = await response.content.read(MAX_DOCUMENT_BYTES + 1)
            if len(body) > MAX_DOCUMENT_BYTES:
                raise _FetchFailed(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
            try:
                return json.loads(body)
            except (ValueError, UnicodeDecodeError):
                raise _FetchFailed(f"{url} did not answer JSON") from None


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise TokenRejected("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise TokenRejected("Authorization is not a bearer token")
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenRejected("token too long")
    return token


class BotTokenValidator:
    """Checks one request's token against the bot's app id; returns the verified claims."""

    def __init__(
        self, app_id: str, *, channel_keys: OpenIdKeys, aad_keys: OpenIdKeys, aad_issuers: Collection[str] = AAD_ISSUERS
    ) -> None:
        if not app_id:
            raise ValueError("a token validator needs the bot's app id")
        self.app_id = app_id
        self.channel_keys = channel_keys
        self.aad_keys = aad_keys
        self._aad_issuers = frozenset(aad_issuers)

    async def validate(
        self, authorization: str | None, *, channel_id: str | None, service_url: str | None
    ) -> dict[str, Any]:
        """The token's claims, verified; raises TokenRejected or IdentityServiceUnavailable."""
        token = _bearer_token(authorization)
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise TokenRejected("malformed token") from None
        if header.get("alg") != ALGORITHM:
            raise TokenRejected(f"signing algorithm not allowed (only {ALGORITHM})")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRejected("token names no signing key (kid)")
        issuer = unverified.get("iss")
        if issuer == BOT_FRAMEWORK_ISSUER:
            keys, from_channel = self.channel_keys, True
        elif isinstance(issuer, str) and issuer in self._aad_issuers:
            keys, from_channel = self.aad_keys, False
        else:
            raise TokenRejected("issuer not trusted" if issuer else "token has no issuer")

        signing_key = await keys.key(kid)
        if signing_key is None:
            raise TokenRejected("signing key id not in the issuer's keys")
        try:
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=[ALGORITHM],
                leeway=CLOCK_SKEW_SECONDS,
                options={"verify_aud": False, "require": ["exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("token expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenRejected("token not yet valid") from None
        except jwt.InvalidSignatureError:
            raise TokenRejected("signature does not verify") from None
        except jwt.MissingRequiredClaimError:
            raise TokenRejected("token has no expiry") from None
        except jwt.PyJWTError:
            raise TokenRejected("invalid token") from None
        return self._check_claims(claims, signing_key, from_channel, channel_id, service_url)

    def _check_claims(
        self,
        claims: Mapping[str, Any],
        signing_key: SigningKey,
        from_channel: bool,
        channel_id: str | None,
        service_url: str | None,
    ) -> dict[str, Any]:
        if claims.get("aud") != self.app_id:
            raise TokenRejected("token is for another audience")
        if from_channel:
            # EndorsementsValidator: the key must be one Microsoft uses for this channel
            if not channel_id or channel_id not in signing_key.endorsements:
                raise TokenRejected("signing key not endorsed for the activity's channel")
            # ChannelValidation.authenticate_channel_token_with_service_url
            if claims.get("serviceurl") != service_url:
                raise TokenRejected("serviceUrl not vouched for by the token")
        else:
            version = claims.get("ver")
            issued_to = (
                claims.get("appid") if version in (None, "1.0") else claims.get("azp") if version == "2.0" else None
            )
            if issued_to != self.app_id:
                raise TokenRejected("token not issued to this bot")
            if signing_key.endorsements and channel_id not in signing_key.endorsements:
                raise TokenRejected("signing key not endorsed for the activity's channel")
            if "serviceurl" in claims and claims["serviceurl"] != service_url:
                raise TokenRejected("serviceUrl not vouched for by the token")
        return dict(claims)
