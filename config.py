"""Configuration: one `Settings` model read once at startup.

Names follow DESIGN.md and Microsoft's samples (`MicrosoftAppId`, ...). Everything is optional for
local use: an empty app id means local development with authentication off. A `.env` file in the
working directory is read when present. Bad values fail at start with a clear message.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterable
from typing import Annotated

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = [
    "Settings",
    "load_settings",
    "ConfigurationError",
    "check_registration",
    "check_serving",
    "is_loopback_host",
]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class ConfigurationError(Exception):
    """Raised when the environment holds a value the bot cannot run with."""


def _split_csv(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Iterable):
        return [str(v).strip() for v in value]
    raise TypeError(f"expected a comma-separated string or a list, not {type(value).__name__}")


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True)

    host: str = Field("127.0.0.1", alias="HOST")
    """Interface the HTTP server binds to."""
    port: int = Field(3978, alias="PORT", ge=0, le=65535)
    """TCP port of the HTTP server (0 picks a free port, for tests)."""

    app_id: str = Field("", alias="MicrosoftAppId")
    """Azure Bot registration's app id; empty means local development, no authentication."""
    app_password: SecretStr = Field(SecretStr(""), alias="MicrosoftAppPassword")
    """Client secret of the app registration."""
    app_type: str = Field("MultiTenant", alias="MicrosoftAppType")
    """MultiTenant, SingleTenant or UserAssignedMSI, as in Microsoft's samples."""
    app_tenant_id: str = Field("", alias="MicrosoftAppTenantId")
    """Tenant of the app registration (SingleTenant / UserAssignedMSI)."""
    allow_unauthenticated: bool = Field(False, alias="ALLOW_UNAUTHENTICATED")
    """Serve without MicrosoftAppId on a non-loopback HOST (refused otherwise; logged as a warning)."""
    channel_openid_metadata_url: str = Field(
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
        alias="TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL",
    )
    """Where the Bot Framework's token signing keys are found (botbuilder's name; leave unset)."""
    aad_openid_metadata_url: str = Field(
        "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
        alias="TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL",
    )
    """Where Azure AD's token signing keys are found (botbuilder's name; leave unset)."""

    azure_storage_connection_string: SecretStr = Field(SecretStr(""), alias="AZURE_STORAGE_CONNECTION_STRING")
    """Connection string of the Azure Storage account behind `azureblob://` (it holds the key)."""
    storage_url: str = Field("sqlite:///data/kanalvakten.db", alias="STORAGE_URL")
    """Where state lives: `sqlite:///path`, `azureblob://<container>` (Azure Blob Storage, with
    AZURE_STORAGE_CONNECTION_STRING), or `memory://` for tests."""
    bot_domain: str = Field("", alias="BOT_DOMAIN")
    """Public host name of the messaging endpoint (for the manifest's validDomains)."""

    allowed_tenants: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="ALLOWED_TENANTS")
    """Azure AD tenant ids the bot serves; empty: any (local use)."""
    admin_aad_ids: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="ADMIN_AAD_IDS")
    """Azure AD object ids allowed to send announcements and read reports."""
    experts_channel_id: str = Field("", alias="EXPERTS_CHANNEL_ID")
    """Teams channel where unanswered questions are handed to people."""
    expert_aad_ids: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="EXPERT_AAD_IDS")
    """Experts to @mention when no channel is set."""
    retention_days: int = Field(90, alias="RETENTION_DAYS", ge=1, le=3650)
    """How long question logs are kept."""

    election_name: str = Field("", alias="ELECTION_NAME")
    """Overrides the election name in the knowledge base (e.g. "EU-valet")."""
    election_date: dt.date | None = Field(None, alias="ELECTION_DATE")
    """Overrides the election date in the knowledge base (YYYY-MM-DD)."""
    support_contact: str = Field("", alias="SUPPORT_CONTACT")
    """Who to contact when an account is hijacked; overrides the knowledge base's placeholder."""

    guide_expiry_days: int = Field(7, alias="GUIDE_EXPIRY_DAYS", ge=1, le=365)
    """A guide untouched this long is quietly forgotten."""
    announce_rate: float = Field(30.0, alias="ANNOUNCE_RATE", gt=0, le=50)
    """Messages per second for a broadcast, all conversations together (Teams allows 50)."""
    announce_channel_id: str = Field("", alias="ANNOUNCE_CHANNEL_ID")
    """Channel for team announcements; empty: the team's General channel."""

    privacy_url: str = Field("https://goteborg.se/wps/portal/om-webbplatsen/personuppgifter", alias="PRIVACY_URL")
    """Privacy statement linked from the Teams manifest."""
    terms_url: str = Field("https://goteborg.se/wps/portal/om-webbplatsen", alias="TERMS_URL")
    """Terms of use linked from the Teams manifest."""

    knowledge_dir: str = Field("", alias="KNOWLEDGE_DIR")
    """Folder of the knowledge base's YAML files; empty: the shipped knowledge/data."""

    log_level: str = Field("INFO", alias="LOG_LEVEL")
    """Python logging level."""
    log_format: str = Field("text", alias="LOG_FORMAT")
    """`text` (one readable line per record) or `json` (one JSON object per line, for log services)."""

    @field_validator("allowed_tenants", "admin_aad_ids", "expert_aad_ids", mode="before")
    @classmethod
    def _csv(cls, value: object) -> list[str]:
        return _split_csv(value)

    @field_validator("election_date", mode="before")
    @classmethod
    def _empty_date(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator(
        "privacy_url",
        "terms_url",
        "storage_url",
        "app_type",
        "log_level",
        "log_format",
        "channel_openid_metadata_url",
        "aad_openid_metadata_url",
        "allow_unauthenticated",
        mode="before",
    )
    @classmethod
    def _empty_means_default(cls, value: object, info: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return cls.model_fields[info.field_name].default  # type: ignore[attr-defined]
        return value

    @field_validator("app_id")
    @classmethod
    def _app_id(cls, value: str) -> str:
        value = value.strip()
        if value and not _GUID.match(value):
            raise ValueError("MicrosoftAppId must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) or empty")
        return value

    @field_validator("channel_openid_metadata_url", "aad_openid_metadata_url")
    @classmethod
    def _metadata_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        loopback = parts.hostname in ("127.0.0.1", "::1", "localhost")
        if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
            raise ValueError("an OpenID metadata URL must be https:// (http:// only on loopback)")
        return value.strip()

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("text", "json"):
            raise ValueError("LOG_FORMAT must be text or json")
        return value

    @field_validator("app_type")
    @classmethod
    def _app_type(cls, value: str) -> str:
        allowed = {"multitenant": "MultiTenant", "singletenant": "SingleTenant", "userassignedmsi": "UserAssignedMSI"}
        key = (value or "MultiTenant").strip().lower()
        if key not in allowed:
            raise ValueError("MicrosoftAppType must be MultiTenant, SingleTenant or UserAssignedMSI")
        return allowed[key]

    @field_validator("storage_url")
    @classmethod
    def _storage_url(cls, value: str, info: ValidationInfo) -> str:
        if value.startswith("azureblob://"):
            from storage import valid_container_name

            if not valid_container_name(value[len("azureblob://") :]):
                raise ValueError(
                    "STORAGE_URL azureblob://<container> needs a container name of 3-63 "
                    "lowercase letters, digits and single hyphens"
                )
            secret = info.data.get("azure_storage_connection_string")
            if secret is None or not secret.get_secret_value().strip():
                raise ValueError(
                    "STORAGE_URL azureblob://… needs AZURE_STORAGE_CONNECTION_STRING "
                    "(the storage account's connection string)"
                )
            return value
        if not (value.startswith("sqlite:///") or value == "memory://"):
            raise ValueError("STORAGE_URL must be sqlite:///PATH, azureblob://<container> or memory://")
        return value

    @field_validator("app_password", "app_tenant_id", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _anonymous_is_multitenant(self) -> Settings:
        """Without an app id (local development, authentication off) the app type, password and
        tenant are not used: the type is taken as MultiTenant, so nothing downstream asks for a
        tenant. Whether a registration is complete is asked at start (`check_registration`)."""
        if not self.app_id:
            self.app_type = "MultiTenant"
        return self

    @property
    def auth_enabled(self) -> bool:
        """Authentication is on whenever an app id is configured."""
        return bool(self.app_id)


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; turn pydantic's error into a ConfigurationError of one line that
    names the variable (several problems are joined with "; ")."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            message = str(err["msg"]).removeprefix("Value error, ")
            name = ".".join(str(p) for p in err["loc"])
            problems.append(f"{name}: {message}" if name else message)
        text = "; ".join(" ".join(problem.split()) for problem in problems)
        raise ConfigurationError(f"Invalid configuration: {text}") from None


def is_loopback_host(host: str) -> bool:
    """True for an interface only this machine reaches (127.0.0.0/8, ::1, localhost)."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_registration(settings: Settings) -> None:
    """What the app type needs, asked only when there is an app id: SingleTenant and UserAssignedMSI
    need MicrosoftAppTenantId, and every type but UserAssignedMSI needs MicrosoftAppPassword.

    Called where the bot talks to the Bot Connector (serving, announcements); building the Teams
    app package needs the app id alone. Raises ConfigurationError (one line, naming the variable)."""
    if not settings.app_id:
        return
    if settings.app_type in ("SingleTenant", "UserAssignedMSI") and not settings.app_tenant_id:
        raise ConfigurationError(
            f"Invalid configuration: MicrosoftAppTenantId must be set when MicrosoftAppType is {settings.app_type}"
        )
    if settings.app_type != "UserAssignedMSI" and not settings.app_password.get_secret_value():
        raise ConfigurationError(
            "Invalid configuration: MicrosoftAppPassword must be set when MicrosoftAppId is set "
            "(the app registration's client secret)"
        )


def check_serving(settings: Settings) -> None:
    """Everything `python bot.py` needs to serve: a complete registration (`check_registration`), and
    no unauthenticated bot where others can reach the port.

    Without MicrosoftAppId every request is accepted unauthenticated; that is for local development
    on a loopback HOST. Anywhere else it takes ALLOW_UNAUTHENTICATED=true (the caller logs a
    warning). Raises ConfigurationError (one line, naming the variables)."""
    check_registration(settings)
    if settings.auth_enabled or is_loopback_host(settings.host) or settings.allow_unauthenticated:
        return
    raise ConfigurationError(
        f"Invalid configuration: HOST={settings.host} is reachable from other machines but MicrosoftAppId is "
        "empty (no authentication); set MicrosoftAppId, or HOST=127.0.0.1, or ALLOW_UNAUTHENTICATED=true"
    )
