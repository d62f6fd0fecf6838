"""Checking that every link in the knowledge base still answers (`python -m knowledge links --check`).

Each address is fetched once with aiohttp (GET, redirects followed, a timeout per link, a few at
a time), and the outcome is one of: ok (2xx), redirected (2xx at another address: worth updating
the YAML), or failed (4xx/5xx, no answer in time, no connection). Only failures make the command
exit 1. Platforms sometimes refuse automated requests (LinkedIn answers 999); such an answer is
reported as it is, for a person to open the link and judge.

For use where the internet is reachable (the bot itself never runs this); tests point a copy of
the knowledge base at a local server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import aiohttp

__all__ = ["LinkCheck", "check_links", "DEFAULT_TIMEOUT", "USER_AGENT"]

DEFAULT_TIMEOUT = 15.0
"""Seconds per link, connection and answer together."""
DEFAULT_CONCURRENCY = 6
"""Links fetched at the same time; the handful of hosts involved need not see more."""
USER_AGENT = "Mozilla/5.0 (compatible; Kanalvakten-linkcheck/1.0)"
"""Some help centres answer a client without a browser-like User-Agent with an error page."""
MAX_REDIRECTS = 10

Outcome = Literal["ok", "redirected", "failed"]


@dataclass(frozen=True)
class LinkCheck:
    """What one address answered."""

    url: str
    """The address as written in the knowledge base."""
    status: int | None = None
    """The final HTTP status, None when there was no answer."""
    final_url: str | None = None
    """Where the redirects ended, when there were any."""
    redirects: list[tuple[int, str]] = field(default_factory=list)
    """Each redirect on the way: (status, the address that redirected)."""
    error: str | None = None
    """Why there was no usable answer (timeout, connection, too many redirects)."""

    @property
    def outcome(self) -> Outcome:
        if self.error is not None or self.status is None or not 200 <= self.status < 300:
            return "failed"
        return "redirected" if self.redirects else "ok"

    def describe(self) -> str:
        """One line for a person: what happened, in plain words."""
        if self.error is not None:
            return self.error
        # Each redirect's target is the next hop's address, the last one's the final address.
        targets = [hop for _, hop in self.redirects[1:]] + [self.final_url or "?"]
        chain = "".join(
            f" -> {target} ({status})" for (status, _), target in zip(self.redirects, targets, strict=False)
        )
        if self.outcome == "failed":
            return f"HTTP {self.status}" + (f" after redirect{chain}" if chain else "")
        return f"redirected{chain}" if chain else f"HTTP {self.status}"


async def _check_one(session: aiohttp.ClientSession, url: str, timeout: float) -> LinkCheck:
    try:
        async with session.get(
            url, allow_redirects=True, max_redirects=MAX_REDIRECTS, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as response:
            redirects = [(r.status, str(r.url)) for r in response.history]
            return LinkCheck(
                url=url, status=response.status, redirects=redirects, final_url=str(response.url) if redirects else None
            )
    except TimeoutError:
        return LinkCheck(url=url, error=f"no answer within {timeout:g} s")
    except aiohttp.TooManyRedirects:
        return LinkCheck(url=url, error=f"more than {MAX_REDIRECTS} redirects")
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        return LinkCheck(url=url, error=f"{type(exc).__name__}: {exc}".rstrip(": "))


async def check_links(
    urls: Iterable[str], *, timeout: float = DEFAULT_TIMEOUT, concurrency: int = DEFAULT_CONCURRENCY
) -> list[LinkCheck]:
    """Fetch each distinct address once; results in the order the addresses were given."""
    unique = list(dict.fromkeys(urls))
    gate = asyncio.Semaphore(max(1, concurrency))

    async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as session:

        async def one(url: str) -> LinkCheck:
            async with gate:
                return await _check_one(session, url, timeout)

        return list(await asyncio.gather(*(one(url) for url in unique)))
