"""Start-up: the shipped .env.example starts as is; an incomplete registration or an unauthenticated
bot on a public interface is refused with one line naming the variable, never a traceback."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import bot
from config import ConfigurationError, check_registration, check_serving, load_settings

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "00000000-1111-2222-3333-444444444444"
TENANT = "5f0c3a2e-8b7d-4c1a-9e6f-2d4b8a7c1e90"


def _run_bot(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py")],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "STORAGE_URL": "memory://", **env},
    )


@pytest.mark.parametrize(
    "env, named",
    [
        pytest.param(
            {"MicrosoftAppId": APP_ID, "MicrosoftAppPassword": "s3cret", "MicrosoftAppType": "SingleTenant"},
            "MicrosoftAppTenantId",
            id="single-tenant-without-tenant",
        ),
        pytest.param(
            {"MicrosoftAppId": APP_ID, "MicrosoftAppType": "UserAssignedMSI"},
            "MicrosoftAppTenantId",
            id="managed-identity-without-tenant",
        ),
        pytest.param({"MicrosoftAppId": APP_ID}, "MicrosoftAppPassword", id="app-id-without-password"),
        pytest.param(
            {"MicrosoftAppId": APP_ID, "MicrosoftAppType": "SingleTenant", "MicrosoftAppTenantId": TENANT},
            "MicrosoftAppPassword",
            id="single-tenant-without-password",
        ),
        pytest.param({"HOST": "0.0.0.0"}, "ALLOW_UNAUTHENTICATED", id="public-host-without-authentication"),
        pytest.param({"HOST": "10.1.2.3", "ALLOW_UNAUTHENTICATED": "no"}, "MicrosoftAppId", id="allow-set-to-no"),
    ],
)
def test_an_incomplete_configuration_is_refused_with_one_line_naming_the_variable(env, named, tmp_path):
    result = _run_bot(env, tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr
    assert "s3cret" not in result.stderr


def test_a_managed_identity_needs_no_password_and_an_empty_app_id_asks_for_nothing():
    msi = load_settings(
        _env_file=None, MicrosoftAppId=APP_ID, MicrosoftAppType="UserAssignedMSI", MicrosoftAppTenantId=TENANT
    )
    check_registration(msi)
    assert msi.auth_enabled and msi.app_type == "UserAssignedMSI"
    local = load_settings(_env_file=None, MicrosoftAppType="SingleTenant", MicrosoftAppId="")
    check_serving(local)
    assert not local.auth_enabled
    assert local.app_type == "MultiTenant"  # nothing downstream asks for a tenant


def test_the_package_builder_needs_the_app_id_alone():
    """The completeness of the registration is a start-up check, not a property of the settings."""
    settings = load_settings(_env_file=None, MicrosoftAppId=APP_ID, MicrosoftAppType="SingleTenant")
    with pytest.raises(ConfigurationError, match="MicrosoftAppTenantId"):
        check_registration(settings)


def test_announcing_with_an_incomplete_registration_is_refused(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), "announce", "status"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "STORAGE_URL": "memory://", "MicrosoftAppId": APP_ID},
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "MicrosoftAppPassword" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_hosts_serve_without_authentication(host):
    check_serving(load_settings(_env_file=None, HOST=host))


def test_a_public_host_with_an_app_id_needs_no_permission():
    check_serving(load_settings(_env_file=None, HOST="0.0.0.0", MicrosoftAppId=APP_ID, MicrosoftAppPassword="s3cret"))
    with pytest.raises(ConfigurationError, match="ALLOW_UNAUTHENTICATED"):
        check_serving(load_settings(_env_file=None, HOST="0.0.0.0"))


def test_allow_unauthenticated_on_a_public_host_starts_with_a_warning(monkeypatch, tmp_path, caplog):
    """In-process with the server call replaced: tests never bind anything but 127.0.0.1."""
    served = {}
    monkeypatch.chdir(tmp_path)  # no .env
    for name, value in {"HOST": "0.0.0.0", "ALLOW_UNAUTHENTICATED": "true", "STORAGE_URL": "memory://"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("aiohttp.web.run_app", lambda app, **kwargs: served.update(kwargs))
    with caplog.at_level(logging.WARNING):
        assert bot.main([]) == 0
    assert served["host"] == "0.0.0.0"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "ALLOW_UNAUTHENTICATED" in r.message]
    assert len(warnings) == 1
    assert "without authentication" in warnings[0].message


def test_the_shipped_env_example_starts_as_is_and_answers_healthz(tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": "0"}  # everything else from .env
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bot.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = None
        seen = []
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = process.stderr.readline()  # type: ignore[union-attr]
            if not line:
                break
            seen.append(line)
            if "Running on http://" in line:
                url = line.split("Running on ", 1)[1].strip()
        assert url is not None, "".join(seen)
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
            assert response.status == 200
        assert not any("Traceback" in line for line in seen)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()
