"""What CloudAdapter authenticates with: our token validation, botbuilder's connector plumbing.

`create_bot_authentication(settings)` builds a `BotFrameworkAuthentication` whose
`authenticate_request` checks the token with teams/auth.py (asynchronous, bounded, no stack
traces) and hands CloudAdapter an `AuthenticateRequestResult` built from the verified claims, so
botbuilder's own blocking validation never runs. Everything outbound (connector factory, user token
client) is botbuilder's `ConfigurationBotFrameworkAuthentication`, given credentials whose tokens
are cached (teams/outgoing_tokens.py). The connector is created for the activity's `serviceUrl`,
which the validator has checked against the token's `serviceurl` claim; connector clients are
reused across turns and the user-token client is built only when used (teams/connector_clients.py).

With authentication off (no MicrosoftAppId: local development) every request is anonymous, as in
botbuilder, and an Authorization header is ignored rather than validated against Microsoft.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.integration.aiohttp import (
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)
from botframework.connector.skills import BotFrameworkClient

from config import Settings
from teams.auth import (
    AAD_ISSUERS,
    BotTokenValidator,
    IdentityServiceUnavailable,
    OpenIdKeys,
    TokenRejected,
    tenant_issuers,
)
from teams.connector_clients import ConnectorClients, LazyUserTokenClient
from teams.outgoing_tokens import CachingCredentialsFactory

__all__ = ["ValidatingBotFrameworkAuthentication", "create_bot_authentication", "to_botbuilder_config"]

log = logging.getLogger(__name__)


class ValidatingBotFrameworkAuthentication(BotFrameworkAuthentication):
    """botbuilder's authentication with the inbound token check replaced (see module doc)."""

    def __init__(
        self,
        inner: BotFrameworkAuthentication,
        credentials: ServiceClientCredentialsFactory,
        validator: BotTokenValidator | None,
    ) -> None:
        self._inner = inner
        self._credentials = credentials
        self.validator = validator
        """None: authentication is off."""
        self.connector_clients = ConnectorClients()
        """The connector clients every turn and proactive message reuses."""

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        if self.validator is None:
            anonymous = await self._inner.authenticate_request(activity, "")
            if anonymous.connector_factory is not None:
                anonymous.connector_factory = self.connector_clients.factory(anonymous.connector_factory)
            return anonymous
        try:
            claims = await self.validator.validate(
                auth_header, channel_id=activity.channel_id, service_url=activity.service_url
            )
        except TokenRejected as exc:
            log.warning("refused a request with status 401: %s", exc.reason)
            raise
        except IdentityServiceUnavailable as exc:
            log.warning("refused a request with status 503: %s", exc)
            raise
        identity = ClaimsIdentity(claims, True)
        result = AuthenticateRequestResult()
        result.claims_identity = identity
        result.audience = self._inner.get_originating_audience()
        result.caller_id = await self.generate_caller_id(
            credential_factory=self._credentials,
            claims_identity=identity,
            caller_id=CallerIdConstants.public_azure_channel,
        )
        result.connector_factory = self.create_connector_factory(identity)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        raise PermissionError("streaming requests are not served")

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        raise PermissionError("skill requests are not served")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self.connector_clients.factory(self._inner.create_connector_factory(claims_identity))

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        return LazyUserTokenClient(lambda: self._inner.create_user_token_client(claims_identity))

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def close(self) -> None:
        """Stops a key refresh still running and closes the connector clients (at shutdown)."""
        await self.connector_clients.close()
        if self.validator is not None:
            await self.validator.channel_keys.close()
            await self.validator.aad_keys.close()


def create_bot_authentication(
    settings: Settings,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
) -> ValidatingBotFrameworkAuthentication:
    """The authentication for CloudAdapter. `credentials_factory` replaces the SDK's (tests)."""
    config: Any = to_botbuilder_config(settings)
    credentials = CachingCredentialsFactory(credentials_factory or ConfigurationServiceClientCredentialFactory(config))
    inner = ConfigurationBotFrameworkAuthentication(config, credentials_factory=credentials)
    validator = None
    if settings.auth_enabled:
        issuers = AAD_ISSUERS
        if settings.app_type == "SingleTenant" and settings.app_tenant_id:
            issuers += tenant_issuers(settings.app_tenant_id)
        validator = BotTokenValidator(
            settings.app_id,
            channel_keys=OpenIdKeys(settings.channel_openid_metadata_url),
            aad_keys=OpenIdKeys(settings.aad_openid_metadata_url),
            aad_issuers=issuers,
        )
    return ValidatingBotFrameworkAuthentication(inner, credentials, validator)


def to_botbuilder_config(settings: Settings) -> object:
    """The attribute-style object botbuilder's ConfigurationBotFrameworkAuthentication reads.

    Without an app id (authentication off) it is an anonymous MultiTenant registration: botbuilder's
    SingleTenant/UserAssignedMSI branches would demand an app id and a tenant at start."""
    anonymous = not settings.app_id

    class _Config:
        APP_ID = settings.app_id
        APP_PASSWORD = "" if anonymous else settings.app_password.get_secret_value()
        APP_TYPE = "MultiTenant" if anonymous else settings.app_type
        APP_TENANTID = "" if anonymous else settings.app_tenant_id

    return _Config()
