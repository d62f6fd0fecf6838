"""Bot Connector clients kept per service URL and credentials, reading the environment once as requests
would read it per request. (That turns share one client and it signs with the refreshed token:
tests/test_auth.py.)"""

from __future__ import annotations

import requests
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials

from teams.connector_clients import ConnectorClients

SERVICE_URL = "https://smba.trafficmanager.net/emea/"


def _client(url: str) -> ConnectorClient:
    credentials = MicrosoftAppCredentials.empty()
    return ConnectorClients().get(url, credentials, lambda: ConnectorClient(credentials, base_url=url))


def test_a_client_is_kept_per_service_url_and_credentials():
    clients = ConnectorClients(limit=2)
    built: list[ConnectorClient] = []

    def build(url: str, credentials: MicrosoftAppCredentials):
        def make() -> ConnectorClient:
            built.append(ConnectorClient(credentials, base_url=url))
            return built[-1]

        return make

    emea, amer = SERVICE_URL, "https://smba.trafficmanager.net/amer/"
    first, second = MicrosoftAppCredentials.empty(), MicrosoftAppCredentials.empty()
    one = clients.get(emea, first, build(emea, first))
    assert clients.get(emea, first, build(emea, first)) is one
    assert clients.get(emea, second, build(emea, second)) is not one  # other credentials
    assert clients.get(amer, first, build(amer, first)) is not one
    assert len(built) == 3
    assert clients.get(emea, first, build(emea, first)) is not one  # the least recently used went
    assert len(built) == 4 and clients.created == 4


def _what_requests_reads(url: str) -> dict:
    return requests.Session().merge_environment_settings(url, {}, None, True, None)


def test_proxies_and_the_ca_bundle_are_what_requests_would_read(monkeypatch, tmp_path):
    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "smba.internal.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/corporate.pem")
    for url in (SERVICE_URL, "https://smba.internal.example/emea/"):
        client = _client(url)
        expected = _what_requests_reads(url)
        assert client.config.proxies.use_env_settings is False  # requests' trust_env off: read here
        assert client.config.proxies.proxies == expected["proxies"]
        assert client.config.connection.verify == expected["verify"] == "/etc/ssl/certs/corporate.pem"
    assert _client(SERVICE_URL).config.proxies.proxies["https"] == "http://proxy.example:3128"
    assert "https" not in _client("https://smba.internal.example/emea/").config.proxies.proxies


def test_without_proxies_nothing_changes_but_the_lookup(monkeypatch, tmp_path):
    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    client = _client(SERVICE_URL)
    assert client.config.proxies.proxies == _what_requests_reads(SERVICE_URL)["proxies"] == {}
    assert client.config.connection.verify is True


def test_a_netrc_entry_for_the_service_leaves_the_client_to_requests(monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine smba.trafficmanager.net login bot password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    client = _client(SERVICE_URL)
    assert client.config.proxies.use_env_settings is True
    assert client.config.proxies.proxies == {}
