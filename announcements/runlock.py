"""A run lock in the bot's storage: compare-and-set on the item's e_tag, so two processes (the CLI
and the bot's scheduler, or two bot instances on one database or blob container) can never both
hold it.

The lock is one item, `{"owner", "pid", "host", "heartbeat"}`:

- `acquire`: read it. Held by someone alive (below) -> `LockHeld`. Missing -> create it with an
  e_tag no item can have, which the storage accepts only while the key is still missing; there ->
  overwrite it with the e_tag just read, which the storage accepts only if nobody wrote it since.
  Either way a rival who wrote in between makes the storage raise `ETagConflictError`
  (`storage.base`), and we raise `LockHeld`: of two racers exactly one wins.
- `renew` (the heartbeat, every `fresh_seconds / 3`) writes with the e_tag of our last write. A
  conflict means someone took the lock over: `LockLost`, and the holder stops. (A conflict caused
  by our own earlier write whose answer was lost is recognised by the owner id and adopted.)
- `check` raises `LockLost` once the lock is lost, or when no renewal has succeeded for
  `fresh_seconds` (the lock may have been taken over meanwhile): call it before each unit of work.
- `release` renews (CAS) and then deletes. Storage has no conditional delete, but right after a
  successful renewal the lock is fresh, so nobody may take it over in the moment before the delete.

When is a holder alive? On this host: while its process exists *and* its heartbeat is fresh (a
process id can be reused after a crash, a container restart usually gets the same one). On another
host: while its heartbeat is younger than `fresh_seconds`. So a killed holder's lock on this host
is taken over at once, any other after `fresh_seconds` without a heartbeat.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any

from announcements.clock import Clock, SystemClock
from storage import KeyedStorage
from storage.base import ETagConflictError

LockStorage = KeyedStorage
"""What the lock needs of the bot's storage: the one storage contract (`storage.base`)."""

__all__ = ["RunLock", "LockHeld", "LockLost", "LockStorage", "pid_alive", "FRESH_SECONDS"]

log = logging.getLogger(__name__)

FRESH_SECONDS = 60.0
"""A lock whose heartbeat is older than this is stale (renewed every third of it)."""

_MISSING = "kanalvakten:missing"
"""The e_tag to create a missing item with: never a stored item's, so a create conflicts if a
rival created the item first (a write to a missing key wins whatever its e_tag)."""


class LockHeld(Exception):
    """Someone alive holds the lock (or took it at the same moment); the text names the holder."""


class LockLost(Exception):
    """We held the lock, and someone took it over (or we could not renew it in time)."""


def pid_alive(pid: object) -> bool:
    """Whether a process with this id exists on this host."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to someone else
        return True
    except OSError:
        return False
    return True


class RunLock:
    """One named lock in storage; see the module docstring."""

    def __init__(
        self,
        storage: LockStorage,
        key: str,
        *,
        clock: Clock | None = None,
        fresh_seconds: float = FRESH_SECONDS,
        host: str | None = None,
        pid: int | None = None,
        is_alive: Callable[[object], bool] = pid_alive,
    ) -> None:
        if fresh_seconds <= 0:
            raise ValueError("fresh_seconds must be positive")
        self.key = key
        self.fresh_seconds = fresh_seconds
        self._storage = storage
        self._clock: Clock = clock or SystemClock()
        self._host = host if host is not None else socket.gethostname()
        self._pid = pid if pid is not None else os.getpid()
        self._is_alive = is_alive
        self._owner = uuid.uuid4().hex
        self._e_tag: str | None = None
        """The e_tag of our latest write while we hold the lock; None when we do not."""
        self._renewed_at = -math.inf
        self._lost: str | None = None

    @property
    def held(self) -> bool:
        """We took the lock and have not released or lost it (as far as we know)."""
        return self._e_tag is not None and self._lost is None

    @property
    def renew_every(self) -> float:
        return self.fresh_seconds / 3

    async def acquire(self) -> None:
        """Take the lock, or raise `LockHeld` naming the holder."""
        if self._e_tag is not None:
            raise RuntimeError("this RunLock is already held; use one RunLock per run")
        found = (await self._storage.read([self.key])).get(self.key)
        if isinstance(found, dict) and found.get("owner"):
            busy, why = self._holder_alive(found)
            if busy:
                raise LockHeld(why)
            log.warning("%s: taking over a stale lock (%s)", self.key, why)
        e_tag = found.get("e_tag") if isinstance(found, dict) else None
        await self._write(e_tag or _MISSING, on_conflict=LockHeld("another process took the lock at the same moment"))
        self._lost = None

    async def renew(self) -> None:
        """The heartbeat: CAS-write a new heartbeat; `LockLost` if someone took the lock over."""
        if self._e_tag is None:
            raise LockLost(f"{self.key}: not held")
        if self._lost is not None:
            raise LockLost(self._lost)
        try:
            await self._write(self._e_tag, on_conflict=None)
        except ETagConflictError:
            current = (await self._storage.read([self.key])).get(self.key)
            if isinstance(current, dict) and current.get("owner") == self._owner and current.get("e_tag"):
                # Our own write got through but its answer was lost: the lock is still ours.
                self._e_tag = str(current["e_tag"])
                await self._write(self._e_tag, on_conflict=None)
                return
            self._lost = f"the lock was taken over by another process ({self._describe(current)})"
            raise LockLost(self._lost) from None

    def check(self) -> None:
        """Raise `LockLost` if the lock is lost or has gone unrenewed for `fresh_seconds`."""
        if self._lost is not None:
            raise LockLost(self._lost)
        if self._e_tag is None:
            raise LockLost(f"{self.key}: not held")
        age = self._clock.monotonic() - self._renewed_at
        if age >= self.fresh_seconds:
            raise LockLost(f"the lock could not be renewed for {age:.0f} s; another process may have taken it over")

    async def release(self) -> None:
        """Give the lock up (if still ours): renew by CAS, then delete. Never raises."""
        if self._e_tag is None:
            return
        try:
            if self._lost is None:
                await self.renew()
                await self._storage.delete([self.key])
        except LockLost:
            log.warning("%s: not releasing a lock that another process took over", self.key)
        except Exception:  # a storage error: the lock goes stale after fresh_seconds
            log.warning(
                "%s: could not release the lock; it goes stale in %.0f s", self.key, self.fresh_seconds, exc_info=True
            )
        finally:
            self._e_tag = None

    # -- internals --------------------------------------------------------------------------

    async def _write(self, e_tag: str, *, on_conflict: Exception | None) -> None:
        record: dict[str, Any] = {
            "owner": self._owner,
            "pid": self._pid,
            "host": self._host,
            "heartbeat": self._clock.utcnow().isoformat(),
            "e_tag": e_tag,
        }
        started = self._clock.monotonic()
        try:
            await self._storage.write({self.key: record})
        except ETagConflictError:
            if on_conflict is None:
                raise
            raise on_conflict from None
        new_tag = record.get("e_tag")
        if not new_tag or new_tag == e_tag:  # a store that does not hand the new e_tag back
            stored = (await self._storage.read([self.key])).get(self.key) or {}
            if stored.get("owner") != self._owner:
                raise on_conflict or LockLost(f"{self.key}: overwritten right after our write")
            new_tag = stored.get("e_tag")
        self._e_tag = str(new_tag)
        self._renewed_at = started

    def _holder_alive(self, found: dict[str, Any]) -> tuple[bool, str]:
        age = self._age(found.get("heartbeat"))
        who = self._describe(found)
        if age >= self.fresh_seconds:
            return False, f"{who}, no heartbeat for {age:.0f} s"
        if found.get("host") == self._host and not self._is_alive(found.get("pid")):
            return False, f"{who}, that process has ended"
        return True, f"{who}, heartbeat {max(age, 0):.0f} s ago"

    def _age(self, heartbeat: object) -> float:
        try:
            stamp = dt.datetime.fromisoformat(str(heartbeat))
        except ValueError:
            return math.inf
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        return (self._clock.utcnow() - stamp).total_seconds()

    @staticmethod
    def _describe(found: object) -> str:
        if not isinstance(found, dict):
            return "unknown"
        return f"pid {found.get('pid')} on {found.get('host')}"
