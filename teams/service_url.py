"""Which `serviceUrl` an inbound activity may name: where the bot's replies and announcements go.

With authentication on, the Bot Connector's token vouches for the activity's `serviceUrl` (its
`serviceurl` claim must equal it, teams/auth.py), so any https address Microsoft signs for is
accepted. With authentication off (local development) nobody vouches for it, so only these are
accepted:

- loopback, http or https (the Agents Playground, the Bot Framework Emulator, tests);
- https to a Bot Framework or Teams service host, as Microsoft documents them:
  `smba.trafficmanager.net` (public Teams, e.g. https://smba.trafficmanager.net/emea/),
  `smba.infra.gcc.teams.microsoft.com` and other `*.teams.microsoft.com` / `*.teams.microsoft.us`
  hosts (GCC, GCC High, DoD), `*.botframework.com` / `*.botframework.us` /
  `*.botframework.azure.cn` (Bot Framework channels and sovereign clouds) and
  `*.botapi.skype.com` (Teams' own rings, e.g. https://canary.botapi.skype.com/amer/ in
  Microsoft's published messageUpdate payloads).

Never, in either mode: credentials in the URL (`https://user:pass@…`), a port that is not a number,
whitespace, control characters or backslashes (parsers disagree on those).

Plain Python (no SDK), used by teams/app.py before botbuilder sees the activity.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from config import is_loopback_host

__all__ = ["TRUSTED_HOSTS", "TRUSTED_HOST_SUFFIXES", "service_url_problem"]

TRUSTED_HOSTS = frozenset({"smba.trafficmanager.net"})
"""Exact host names (a suffix would admit anyone's `<name>.trafficmanager.net`)."""
TRUSTED_HOST_SUFFIXES = (
    ".botframework.com",
    ".botframework.us",
    ".botframework.azure.cn",
    ".teams.microsoft.com",
    ".teams.microsoft.us",
    ".botapi.skype.com",
)
"""Domains only Microsoft can name hosts in."""


def _trusted_host(host: str) -> bool:
    return host in TRUSTED_HOSTS or any(host.endswith(suffix) for suffix in TRUSTED_HOST_SUFFIXES)


def service_url_problem(service_url: object, *, authenticated: bool) -> str | None:
    """Why `service_url` cannot be used, in the words of a 400 answer; None if it can."""
    if not isinstance(service_url, str) or not service_url:
        return "activity lacks a valid serviceUrl"
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in service_url):
        return "activity serviceUrl is not a plain URL"
    try:
        parts = urlsplit(service_url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "activity serviceUrl is not a plain URL"
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        return "activity lacks a valid serviceUrl"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "activity serviceUrl must not carry credentials"
    if is_loopback_host(host):
        return None
    if parts.scheme != "https":
        return "activity serviceUrl must be https (http only on loopback)"
    if authenticated or _trusted_host(host):
        return None
    return "activity serviceUrl is not a Bot Framework or Teams service address"
