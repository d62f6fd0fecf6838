"""Settings: read once, Microsoft's names, clear failures on bad values."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigurationError, load_settings
from teams.bot_authentication import to_botbuilder_config

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_need_no_configuration():
    settings = load_settings(_env_file=None)
    assert (settings.host, settings.port, settings.storage_url) == ("127.0.0.1", 3978, "sqlite:///data/kanalvakten.db")
    assert settings.auth_enabled is False


def test_microsofts_names_and_lists_are_read():
    settings = load_settings(
        _env_file=None,
        MicrosoftAppId="00000000-1111-2222-3333-444444444444",
        MicrosoftAppPassword="s3cret",
        MicrosoftAppType="singletenant",
        MicrosoftAppTenantId="5f0c3a2e-8b7d-4c1a-9e6f-2d4b8a7c1e90",
        ADMIN_AAD_IDS=" a , b,,c ",
        ELECTION_DATE="2029-06-10",
    )
    assert settings.auth_enabled
    assert settings.app_type == "SingleTenant"
    assert settings.admin_aad_ids == ["a", "b", "c"]
    assert settings.election_date == dt.date(2029, 6, 10)
    assert "s3cret" not in repr(settings)
    assert to_botbuilder_config(settings).APP_PASSWORD == "s3cret"


@pytest.mark.parametrize(
    "overrides, name",
    [
        pytest.param({"MicrosoftAppId": "not-a-guid"}, "MicrosoftAppId", id="app-id"),
        pytest.param({"PORT": "eighty"}, "PORT", id="port"),
        pytest.param({"STORAGE_URL": "postgres://x"}, "STORAGE_URL", id="storage-url"),
        pytest.param({"ELECTION_DATE": "26 maj"}, "ELECTION_DATE", id="election-date"),
        pytest.param({"MicrosoftAppType": "Sometimes"}, "MicrosoftAppType", id="app-type"),
    ],
)
def test_bad_values_fail_with_the_variable_named(overrides, name):
    with pytest.raises(ConfigurationError) as excinfo:
        load_settings(_env_file=None, **overrides)
    assert name in str(excinfo.value)


def test_an_azure_blob_storage_url_needs_its_connection_string(monkeypatch):
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    with pytest.raises(ConfigurationError, match="AZURE_STORAGE_CONNECTION_STRING"):
        load_settings(_env_file=None, STORAGE_URL="azureblob://kanalvakten")
    with pytest.raises(ConfigurationError, match="container"):
        load_settings(_env_file=None, STORAGE_URL="azureblob://Kanal_vakten", AZURE_STORAGE_CONNECTION_STRING="x")
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountName=kv;AccountKey=s3cret")
    settings = load_settings(_env_file=None, STORAGE_URL="azureblob://kanalvakten")
    assert settings.storage_url == "azureblob://kanalvakten"
    assert settings.azure_storage_connection_string.get_secret_value() == "AccountName=kv;AccountKey=s3cret"
    assert "s3cret" not in repr(settings)


def test_the_bot_refuses_to_start_on_bad_configuration():
    result = subprocess.run(
        [sys.executable, "bot.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PORT": "-1"},
    )
    assert result.returncode == 2
    assert "PORT" in result.stderr and "Traceback" not in result.stderr
