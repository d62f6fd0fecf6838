"""Can the store be written? The probe behind `/healthz`: a write and a delete, cached briefly.

A bot whose store refuses writes still answers HTTP, but every turn would fail: the load balancer
or the operator should know. `StorageProbe.check()` writes `health/<instance>` and deletes it, and
keeps the verdict for `ttl` seconds, so `/healthz` stays cheap however often it is polled; callers
that arrive while a probe runs share it. A probe that takes longer than `timeout` counts as a
failure. The verdict is None when the store works, else a short reason for people (exception type
and first words, never a connection string).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
import uuid
from collections.abc import Callable

from .base import KeyedStorage
from .keys import HEALTH_PREFIX

__all__ = ["StorageProbe"]

log = logging.getLogger(__name__)

_SECRET = re.compile(r"(?i)\b(sig|accountkey|key|password|token)=[^&;\s]+")
"""Credentials an SDK might echo in an error (a SAS signature in a URL, a key): never shown."""


class StorageProbe:
    """A cached write+delete check of one storage (see the module doc)."""

    def __init__(
        self,
        storage: KeyedStorage,
        *,
        ttl: float = 5.0,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._storage = storage
        self._ttl = ttl
        self._timeout = timeout
        self._clock = clock
        self._key = f"{HEALTH_PREFIX}{uuid.uuid4().hex[:12]}"
        self._verdict: str | None = None
        self._checked_at = -float("inf")
        self._running: asyncio.Future[str | None] | None = None
        self.probes = 0
        """Probes actually run (the rest were answered from the cache)."""

    async def check(self) -> str | None:
        """None when the store takes writes; otherwise why not."""
        if self._clock() - self._checked_at < self._ttl:
            return self._verdict
        if self._running is None:
            self._running = asyncio.ensure_future(self._probe())
        running = self._running
        try:
            return await asyncio.shield(running)
        finally:
            if running.done() and self._running is running:
                self._running = None

    async def _probe(self) -> str | None:
        self.probes += 1
        try:
            async with asyncio.timeout(self._timeout):
                await self._storage.write({self._key: {"at": dt.datetime.now(dt.UTC).isoformat()}})
                await self._storage.delete([self._key])
            verdict = None
        except TimeoutError:
            verdict = f"storage did not answer within {self._timeout:g} s"
        except Exception as exc:  # noqa: BLE001 - any failure is the answer
            detail = _SECRET.sub(r"\1=…", " ".join(str(exc).split()))[:160]
            verdict = f"storage cannot be written: {type(exc).__name__}" + (f": {detail}" if detail else "")
        if verdict != self._verdict:
            if verdict is None:
                log.info("storage takes writes again")
            else:
                log.error("health: %s", verdict)
        self._verdict, self._checked_at = verdict, self._clock()
        return verdict
