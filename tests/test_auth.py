"""Authentication with MicrosoftAppId set: the incoming token check and the outgoing token cache.

Everything goes through the real `/api/messages` endpoint, with a fake identity service on loopback
(tests/fake_identity.py: OpenID configuration and JWKS with keys the test holds) and a fake
outgoing credential that counts token fetches instead of calling Azure AD.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jwt
import pytest
from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory

import teams.auth as auth_module
import teams.outgoing_tokens as outgoing_tokens_module
from teams.app import ADAPTER
from teams.auth import OpenIdKeys
from teams.outgoing_tokens import CachingCredentialsFactory
from tests.bot_harness import RunningBot, test_settings
from tests.fake_connector import FakeConnector
from tests.fake_identity import AAD_KID, APP_ID, WEBCHAT_KID, FakeIdentityService, mint, test_keys

AAD_ISSUER_V2 = "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0"


# --- fakes for the outgoing side ----------------------------------------------------------------


class FakeTokenEndpoint:
    """Counts token fetches; `blocked` makes them wait (a token endpoint that does not answer)."""

    def __init__(self, lifetime: float = 3600) -> None:
        self.fetches = 0
        self.lifetime = lifetime
        self.open = threading.Event()
        self.open.set()
        self.tokens: list[str] = []

    def fetch(self) -> str:
        self.fetches += 1
        self.open.wait(30)
        token = jwt.encode(
            {
                "aud": "https://api.botframework.com",
                "appid": APP_ID,
                "exp": int(time.time() + self.lifetime),
                "n": self.fetches,
            },
            "k" * 32,
            algorithm="HS256",
        )
        self.tokens.append(token)
        return token


class _FakeCredentials(AppCredentials):
    def __init__(self, endpoint: FakeTokenEndpoint, app_id: str, scope: str) -> None:
        super().__init__(app_id=app_id, oauth_scope=scope)
        self._endpoint = endpoint

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self._endpoint.fetch()


class FakeCredentialsFactory(ServiceClientCredentialsFactory):
    """Stands in for botbuilder's password credentials factory; its credentials use the endpoint."""

    def __init__(self, endpoint: FakeTokenEndpoint) -> None:
        self.endpoint = endpoint
        self.created = 0

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == APP_ID

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        self.created += 1
        return _FakeCredentials(self.endpoint, app_id, oauth_scope)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
async def idp() -> AsyncIterator[FakeIdentityService]:
    async with FakeIdentityService() as service:
        yield service


@pytest.fixture
def token_endpoint() -> FakeTokenEndpoint:
    endpoint = FakeTokenEndpoint()
    yield endpoint
    endpoint.open.set()


async def _start(
    fake_connector: FakeConnector, idp: FakeIdentityService, endpoint: FakeTokenEndpoint, **settings: Any
) -> RunningBot:
    configured = test_settings(
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="not-used",
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=idp.channel_metadata_url,
        TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=idp.aad_metadata_url,
        **settings,
    )
    return await RunningBot(fake_connector, configured, credentials=FakeCredentialsFactory(endpoint)).start()


@pytest.fixture
async def authed_bot(fake_connector, idp, token_endpoint) -> AsyncIterator[RunningBot]:
    """The bot with MicrosoftAppId set, keys from the fake identity service."""
    running = await _start(fake_connector, idp, token_endpoint)
    yield running
    await running.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _healthz(url: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/healthz") as response:
        return response.status


# --- the SDK's constants ------------------------------------------------------------------------


def test_issuers_endpoints_and_skew_are_the_sdks():
    from botframework.connector.auth import AuthenticationConstants, ChannelValidation, EmulatorValidation

    assert auth_module.BOT_FRAMEWORK_ISSUER == AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
    assert (
        auth_module.BOT_FRAMEWORK_OPENID_METADATA_URL == AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    )
    assert auth_module.AAD_OPENID_METADATA_URL == AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
    assert list(auth_module.AAD_ISSUERS) == EmulatorValidation.TO_BOT_FROM_EMULATOR_TOKEN_VALIDATION_PARAMETERS.issuer
    assert (
        ChannelValidation.TO_BOT_FROM_CHANNEL_TOKEN_VALIDATION_PARAMETERS.clock_tolerance
        == auth_module.CLOCK_SKEW_SECONDS
    )
    defaults = test_settings()
    assert defaults.channel_openid_metadata_url == AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    assert defaults.aad_openid_metadata_url == AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL


@pytest.mark.parametrize("url", ["http://login.example.org/x", "ftp://127.0.0.1/x", "not a url"])
def test_an_openid_metadata_url_must_be_https_or_loopback(url):
    from config import ConfigurationError

    with pytest.raises(ConfigurationError, match="TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL"):
        test_settings(TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=url)


# --- accepted tokens ----------------------------------------------------------------------------


async def test_a_valid_teams_token_is_accepted_and_the_reply_goes_to_the_vouched_service_url(
    authed_bot, teams, fake_connector, token_endpoint, caplog
):
    activity = teams.message("hej")
    status, text = await authed_bot.post(activity, headers=bearer(mint(activity["serviceUrl"])))
    assert status in (200, 201), text
    sent = [r for r in fake_connector.sent() if r.is_message]
    assert sent, "the bot did not reply"
    assert all(r.authorization == f"Bearer {token_endpoint.tokens[0]}" for r in fake_connector.sent())
    assert not [r for r in caplog.records if r.name.startswith("teams") and r.levelno >= logging.WARNING]


async def test_an_azure_ad_token_issued_to_and_for_the_bot_is_accepted(authed_bot, teams, fake_connector):
    activity = teams.message("hej")
    token = mint(activity["serviceUrl"], kid=AAD_KID, iss=AAD_ISSUER_V2, ver="2.0", azp=APP_ID, serviceurl=None)
    status, text = await authed_bot.post(activity, headers=bearer(token))
    assert status in (200, 201), text
    assert any(r.is_message for r in fake_connector.sent())


# --- refused tokens -----------------------------------------------------------------------------


def _unsigned(header: str, payload: str) -> str:
    import base64

    def b64(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    return f"{b64(header)}.{b64(payload)}."


BAD_TOKENS = [
    pytest.param(lambda url: None, "no Authorization header", id="no-header"),
    pytest.param(lambda url: "Basic dXNlcjpwYXNz", "not a bearer token", id="basic-scheme"),
    pytest.param(lambda url: "Bearer garbage", "malformed token", id="garbage"),
    pytest.param(lambda url: "Bearer a.b.c", "malformed token", id="a.b.c"),
    pytest.param(lambda url: "Bearer " + mint(url, iss=None), "no issuer", id="no-iss"),
    pytest.param(
        lambda url: "Bearer " + mint(url, iss="https://evil.example.org"), "issuer not trusted", id="foreign-iss"
    ),
    pytest.param(lambda url: "Bearer " + mint(url, algorithm="none"), "algorithm not allowed", id="alg-none"),
    pytest.param(
        lambda url: "Bearer " + _unsigned('{"alg":"none","kid":"bf-key-1"}', '{"iss":"https://api.botframework.com"}'),
        "algorithm not allowed",
        id="alg-none-handmade",
    ),
    pytest.param(
        lambda url: "Bearer " + mint(url, algorithm="HS256", key="k" * 32), "algorithm not allowed", id="alg-hs256"
    ),
    pytest.param(
        lambda url: "Bearer " + mint(url, key=test_keys().stranger),
        "signature does not verify",
        id="unknown-signing-key",
    ),
    pytest.param(lambda url: "Bearer " + mint(url, lifetime=-3600), "token expired", id="expired"),
    pytest.param(lambda url: "Bearer " + mint(url, nbf=int(time.time()) + 3600), "not yet valid", id="not-yet-valid"),
    pytest.param(lambda url: "Bearer " + mint(url, exp=None), "no expiry", id="no-exp"),
    pytest.param(
        lambda url: "Bearer " + mint(url, aud="99999999-1111-2222-3333-444444444444"),
        "another audience",
        id="wrong-audience",
    ),
    pytest.param(lambda url: "Bearer " + mint(url, aud=None), "another audience", id="no-audience"),
    pytest.param(
        lambda url: "Bearer " + mint(url, kid="kid-nobody-published", key=test_keys().stranger),
        "signing key id not in the issuer's keys",
        id="unknown-kid",
    ),
    pytest.param(lambda url: "Bearer " + mint(url, kid=None), "names no signing key", id="no-kid"),
    pytest.param(lambda url: "Bearer " + mint(url, kid=WEBCHAT_KID), "not endorsed", id="endorsement-mismatch"),
    pytest.param(
        lambda url: "Bearer " + mint("https://attacker.example.org/"),
        "serviceUrl not vouched",
        id="service-url-mismatch",
    ),
    pytest.param(lambda url: "Bearer " + mint(url, serviceurl=None), "serviceUrl not vouched", id="no-service-url"),
    pytest.param(
        lambda url: (
            "Bearer " + mint(url, kid=AAD_KID, iss=AAD_ISSUER_V2, ver="2.0", azp="99999999-1111-2222-3333-444444444444")
        ),
        "not issued to this bot",
        id="aad-token-of-another-app",
    ),
    pytest.param(
        lambda url: (
            "Bearer "
            + mint(url, kid=AAD_KID, iss=AAD_ISSUER_V2, ver="2.0", azp=APP_ID, aud="https://api.botframework.com")
        ),
        "another audience",
        id="aad-replay-of-the-bots-outgoing-token",
    ),
    pytest.param(
        lambda url: "Bearer " + mint(url, kid=AAD_KID),
        "signing key id not in the issuer's keys",
        id="aad-key-for-bot-framework-issuer",
    ),
]


@pytest.mark.parametrize("authorization, reason", BAD_TOKENS)
async def test_a_bad_token_gets_401_and_one_log_line_without_traceback_or_token(
    authed_bot, teams, fake_connector, caplog, authorization, reason
):
    caplog.set_level(logging.INFO)
    activity = teams.message("hej")
    header = authorization(activity["serviceUrl"])
    status, text = await authed_bot.post(activity, headers={"Authorization": header} if header else None)
    assert status == 401, text
    assert "Traceback" not in text and len(text) < 200
    assert fake_connector.sent() == []
    ours = [r for r in caplog.records if r.name.startswith("teams")]
    assert [(r.levelno, reason in r.getMessage()) for r in ours] == [(logging.WARNING, True)], [
        r.getMessage() for r in ours
    ]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    if header and " " in header:
        token = header.split(" ", 1)[1]
        assert not [r for r in caplog.records if token in r.getMessage()]


async def test_a_token_vouching_for_another_channel_is_refused(authed_bot, teams, fake_connector):
    activity = teams.message("hej")
    activity["channelId"] = "webchat"
    status, _ = await authed_bot.post(activity, headers=bearer(mint(activity["serviceUrl"], kid=WEBCHAT_KID)))
    # a webchat-endorsed key is fine for webchat: the check follows the activity's channel
    assert status in (200, 201)
    activity = teams.message("hej")
    status, _ = await authed_bot.post(activity, headers=bearer(mint(activity["serviceUrl"], kid=WEBCHAT_KID)))
    assert status == 401


async def test_with_authentication_off_an_authorization_header_is_ignored_not_validated(bot, teams, idp):
    activity = teams.message("hej")
    status, _ = await bot.post(activity, headers={"Authorization": "Bearer " + mint(activity["serviceUrl"])})
    assert status in (200, 201)
    assert sum(idp.hits.values()) == 0


# --- key fetching -------------------------------------------------------------------------------


async def test_keys_are_fetched_once_for_many_requests(authed_bot, teams, idp):
    for n in range(6):
        activity = teams.message(f"hej {n}")
        status, _ = await authed_bot.post(activity, headers=bearer(mint(activity["serviceUrl"])))
        assert status in (200, 201)
        status, _ = await authed_bot.post(activity, headers=bearer(mint(activity["serviceUrl"], kid="unknown")))
        assert status == 401
    assert idp.hits == {"/botframework/openidconfiguration": 1, "/botframework/keys": 1}


async def test_concurrent_first_requests_share_one_key_fetch(authed_bot, teams, idp):
    activities = [teams.message(f"hej {n}") for n in range(5)]
    results = await asyncio.gather(*(authed_bot.post(a, headers=bearer(mint(a["serviceUrl"]))) for a in activities))
    assert all(status in (200, 201) for status, _ in results)
    assert idp.hits["/botframework/keys"] == 1


async def test_a_hanging_identity_service_gets_503_within_the_bound_while_healthz_answers_at_once(
    fake_connector, idp, token_endpoint, teams, monkeypatch, caplog
):
    monkeypatch.setattr(auth_module, "FETCH_TIMEOUT", 2.0)
    idp.hang = True
    running = await _start(fake_connector, idp, token_endpoint)
    try:
        activity = teams.message("hej")
        forged = asyncio.create_task(running.post(activity, headers=bearer(mint(activity["serviceUrl"]))))
        await asyncio.wait_for(idp.hanging.wait(), 10)
        assert await _healthz(running.url) == 200
        assert not forged.done(), "healthz waited for the identity service"
        status, text = await asyncio.wait_for(forged, 10)
        assert status == 503 and "Traceback" not in text
        # after the failed fetch, requests are answered at once rather than each waiting again
        status, _ = await running.post(activity, headers=bearer(mint(activity["serviceUrl"])))
        assert status == 503
        assert idp.hits["/botframework/openidconfiguration"] == 1
        assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    finally:
        await running.stop()


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_keys_are_refreshed_when_a_day_old_and_on_an_unknown_kid_at_most_hourly(idp):
    from tests.fake_identity import BF_KID

    clock = _Clock()
    keys = OpenIdKeys(idp.channel_metadata_url, clock=clock)
    assert await keys.key(BF_KID) is not None
    assert await keys.key("rotated-in") is None
    clock.now += 30 * 60
    assert await keys.key("rotated-in") is None
    assert idp.hits["/botframework/keys"] == 1  # an unknown kid refreshes at most once an hour

    idp.channel_keys = [*idp.channel_keys, dict(test_keys().jwk(AAD_KID, ["msteams"]), kid="rotated-in")]
    clock.now += 31 * 60
    assert await keys.key("rotated-in") is not None
    assert idp.hits["/botframework/keys"] == 2

    clock.now += 24 * 3600
    assert await keys.key(BF_KID) is not None  # served from the held keys while a refresh runs
    await asyncio.sleep(0)
    for _ in range(100):
        if idp.hits["/botframework/keys"] == 3:
            break
        await asyncio.sleep(0.02)
    assert idp.hits["/botframework/keys"] == 3
    await keys.close()


async def test_a_failed_refresh_keeps_the_keys_held(idp, caplog, monkeypatch):
    from tests.fake_identity import BF_KID

    monkeypatch.setattr(auth_module, "FETCH_TIMEOUT", 0.3)
    clock = _Clock()
    keys = OpenIdKeys(idp.channel_metadata_url, clock=clock)
    assert await keys.key(BF_KID) is not None
    idp.hang = True
    clock.now += 2 * 3600
    assert await keys.key("unknown-kid") is None  # waited for the refresh, which timed out
    assert await keys.key(BF_KID) is not None
    assert [r.levelno for r in caplog.records if r.name == "teams.auth"] == [logging.WARNING]
    await keys.close()


# --- outgoing tokens ----------------------------------------------------------------------------


async def test_the_outgoing_token_is_fetched_once_for_several_turns(authed_bot, teams, fake_connector, token_endpoint):
    for text in ("hej", "tvåfaktor instagram", "tack"):
        activity = teams.message(text)
        status, _ = await authed_bot.post(activity, headers=bearer(mint(activity["serviceUrl"])))
        assert status in (200, 201)
    assert token_endpoint.fetches == 1
    assert len([r for r in fake_connector.sent() if r.is_message]) >= 3
    assert {r.authorization for r in fake_connector.sent()} == {f"Bearer {token_endpoint.tokens[0]}"}


async def test_turns_share_one_connector_client_that_signs_with_the_refreshed_token(fake_connector, idp, teams):
    endpoint = FakeTokenEndpoint(lifetime=200)  # inside the refresh margin at once, usable for 140 s
    running = await _start(fake_connector, idp, endpoint)
    try:
        authorizations = []
        for text in ("hej", "tvåfaktor instagram", "tack"):
            activity = teams.message(text)
            status, _ = await running.post(activity, headers=bearer(mint(activity["serviceUrl"])))
            assert status in (200, 201)
            authorizations.append(fake_connector.sent()[-1].authorization)
            for _ in range(200):  # let the background refresh the turn started finish
                if len(endpoint.tokens) == endpoint.fetches:
                    break
                await asyncio.sleep(0.01)
        # The first turn signs with the first token, or with its replacement when the background
        # refresh it started finished before its reply went out; the last turn, after that
        # refresh, signs with a replacement on the same (reused) client.
        assert authorizations[0] in {f"Bearer {token}" for token in endpoint.tokens[:2]}
        assert authorizations[2] in {f"Bearer {token}" for token in endpoint.tokens[1:]}
        assert running.app is not None
        assert running.app[ADAPTER].bot_framework_authentication.connector_clients.created == 1
    finally:
        await running.stop()


async def test_the_outgoing_token_is_replaced_shortly_before_it_expires():
    endpoint = FakeTokenEndpoint(lifetime=600)
    clock = _Clock()
    clock.now = time.time()
    factory = CachingCredentialsFactory(FakeCredentialsFactory(endpoint), clock=clock)
    scope = "https://api.botframework.com"
    first = await factory.create_credentials(APP_ID, scope, "https://login.microsoftonline.com/", True)
    clock.now += 200
    again = await factory.create_credentials(APP_ID, scope, "https://login.microsoftonline.com/", True)
    assert endpoint.fetches == 1
    assert first.get_access_token() == again.get_access_token() == endpoint.tokens[0]
    clock.now += 120  # less than five minutes before expiry: the held token serves, a new one is fetched
    later = await factory.create_credentials(APP_ID, scope, "https://login.microsoftonline.com/", True)
    assert later.get_access_token() == endpoint.tokens[0]
    for _ in range(200):
        if len(endpoint.tokens) == 2:
            break
        await asyncio.sleep(0.01)
    assert endpoint.fetches == 2
    assert first.get_access_token() == endpoint.tokens[1]  # clients made earlier sign with the new one
    await factory.create_credentials(APP_ID, "another-scope", "https://login.microsoftonline.com/", True)
    assert endpoint.fetches == 3  # one token per app id and scope


async def test_a_turn_waits_for_a_new_outgoing_token_only_when_the_held_one_is_about_to_expire():
    endpoint = FakeTokenEndpoint(lifetime=600)
    clock = _Clock()
    clock.now = time.time()
    factory = CachingCredentialsFactory(FakeCredentialsFactory(endpoint), clock=clock)
    scope = "https://api.botframework.com"
    await factory.create_credentials(APP_ID, scope, "https://login.microsoftonline.com/", True)
    clock.now += 570  # thirty seconds left
    credentials = await factory.create_credentials(APP_ID, scope, "https://login.microsoftonline.com/", True)
    assert endpoint.fetches == 2
    assert credentials.get_access_token() == endpoint.tokens[1]


async def test_a_hanging_token_endpoint_gets_503_while_healthz_answers_and_fetches_are_not_piled_up(
    fake_connector, idp, token_endpoint, teams, monkeypatch, caplog
):
    monkeypatch.setattr(outgoing_tokens_module, "TOKEN_TIMEOUT", 1.0)
    token_endpoint.open.clear()
    running = await _start(fake_connector, idp, token_endpoint)
    try:
        activities = [teams.message("hej"), teams.message("hallå")]
        turns = [asyncio.create_task(running.post(a, headers=bearer(mint(a["serviceUrl"])))) for a in activities]
        while token_endpoint.fetches == 0:
            await asyncio.sleep(0.01)
        assert await _healthz(running.url) == 200
        assert not any(t.done() for t in turns)
        results = await asyncio.wait_for(asyncio.gather(*turns), 10)
        assert [status for status, _ in results] == [503, 503]
        assert token_endpoint.fetches == 1  # the second turn joined the first one's fetch
        assert fake_connector.sent() == []
        assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
        token_endpoint.open.set()  # the endpoint recovers: the next turn is answered
        activity = teams.message("hej igen")
        for _ in range(50):
            status, _ = await running.post(activity, headers=bearer(mint(activity["serviceUrl"])))
            if status != 503:
                break
            await asyncio.sleep(0.05)
        assert status in (200, 201)
    finally:
        token_endpoint.open.set()
        await running.stop()
