"""A fake Microsoft identity service on 127.0.0.1 for the authentication tests, and token minting.

It serves what the bot fetches to check an incoming token:

- `GET /botframework/openidconfiguration` -> `{"issuer": "https://api.botframework.com",
  "jwks_uri": ".../botframework/keys"}` (as login.botframework.com/v1/.well-known/openidconfiguration);
- `GET /botframework/keys` -> a JWKS with the Bot Framework keys, each with its `endorsements`
  (the channels Microsoft vouches it signs for);
- `GET /aad/openid-configuration`, `GET /aad/keys` -> the same for Azure AD (no endorsements).

`hits[path]` counts requests. `hang = True` makes every answer wait until the fake closes
(`hanging` is set once a request is waiting), like an identity service that accepts connections and
never answers. Keys are RSA 2048 keys generated once per test session (`TEST_KEYS`).

`mint(...)` makes a Bot Framework channel token for the bot as Teams would send it; keyword
arguments override claims (None removes one), `key`/`kid`/`algorithm` the signature.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import time
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

__all__ = ["FakeIdentityService", "TestKeys", "test_keys", "mint", "APP_ID", "BF_KID", "WEBCHAT_KID", "AAD_KID"]

APP_ID = "00000000-1111-2222-3333-444444444444"
BF_KID = "bf-key-1"
"""A Bot Framework key endorsed for msteams (and webchat)."""
WEBCHAT_KID = "bf-key-webchat"
"""A Bot Framework key endorsed for webchat only."""
AAD_KID = "aad-key-1"
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"


class TestKeys:
    """The private keys behind the fake's JWKS, and one the fake does not publish."""

    __test__ = False

    def __init__(self) -> None:
        self.private = {
            kid: rsa.generate_private_key(public_exponent=65537, key_size=2048)
            for kid in (BF_KID, WEBCHAT_KID, AAD_KID)
        }
        self.stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        """Not in any JWKS: a forger's key."""

    def jwk(self, kid: str, endorsements: list[str] | None = None) -> dict[str, Any]:
        entry = RSAAlgorithm.to_jwk(self.private[kid].public_key(), as_dict=True)
        entry.update({"kid": kid, "use": "sig"})
        if endorsements is not None:
            entry["endorsements"] = endorsements
        return entry


@functools.cache
def test_keys() -> TestKeys:
    """Generated once per session (RSA key generation takes a while)."""
    return TestKeys()


test_keys.__test__ = False  # type: ignore[attr-defined]


def mint(
    service_url: str,
    *,
    key: Any = None,
    kid: str | None = BF_KID,
    algorithm: str = "RS256",
    lifetime: float = 3600,
    **claims: Any,
) -> str:
    """A token as the Bot Connector sends it to the bot; claims given as None are left out."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": BOT_FRAMEWORK_ISSUER,
        "aud": APP_ID,
        "serviceurl": service_url,
        "nbf": now - 60,
        "iat": now - 60,
        "exp": int(now + lifetime),
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    headers = {"kid": kid} if kid is not None else {}
    if algorithm == "none":
        return jwt.encode(payload, None, algorithm="none", headers=headers)
    signer = key if key is not None else test_keys().private.get(kid or BF_KID, test_keys().private[BF_KID])
    return jwt.encode(payload, signer, algorithm=algorithm, headers=headers)


class FakeIdentityService:
    """`async with FakeIdentityService() as idp:`; URLs in `channel_metadata_url`, `aad_metadata_url`."""

    def __init__(self) -> None:
        self.hits: collections.Counter[str] = collections.Counter()
        self.hang = False
        self.hanging = asyncio.Event()
        self.channel_keys = [test_keys().jwk(BF_KID, ["msteams", "webchat"]), test_keys().jwk(WEBCHAT_KID, ["webchat"])]
        self.aad_keys = [test_keys().jwk(AAD_KID)]
        self.url = ""
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None

    @property
    def channel_metadata_url(self) -> str:
        return f"{self.url}/botframework/openidconfiguration"

    @property
    def aad_metadata_url(self) -> str:
        return f"{self.url}/aad/openid-configuration"

    async def __aenter__(self) -> FakeIdentityService:
        app = web.Application()
        app.router.add_get("/botframework/openidconfiguration", self._metadata("botframework", BOT_FRAMEWORK_ISSUER))
        app.router.add_get("/botframework/keys", self._keys(lambda: self.channel_keys))
        app.router.add_get(
            "/aad/openid-configuration", self._metadata("aad", "https://login.microsoftonline.com/{tenantid}/v2.0")
        )
        app.router.add_get("/aad/keys", self._keys(lambda: self.aad_keys))
        self._runner = web.AppRunner(app, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _answer(self, request: web.Request, payload: dict[str, Any]) -> web.Response:
        self.hits[request.path] += 1
        if self.hang:
            self.hanging.set()
            await self._release.wait()
        return web.json_response(payload)

    def _metadata(self, prefix: str, issuer: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            return await self._answer(request, {"issuer": issuer, "jwks_uri": f"{self.url}/{prefix}/keys"})

        return handler

    def _keys(self, keys: Any) -> Any:
        async def handler(request: web.Request) -> web.Response:
            return await self._answer(request, {"keys": keys()})

        return handler
