"""Our settings as the configuration object botbuilder's authentication reads."""

from __future__ import annotations

from config import Settings

__all__ = ["to_botbuilder_config"]


def to_botbuilder_config(settings: Settings) -> object:
    """The attribute-style object botbuilder's ConfigurationBotFrameworkAuthentication reads."""

    class _Config:
        APP_ID = settings.app_id
        APP_PASSWORD = settings.app_password.get_secret_value()
        APP_TYPE = settings.app_type
        APP_TENANTID = settings.app_tenant_id

    return _Config()
