"""The one storage contract Kanalvakten relies on: our own, with no SDK behind it.

Everything the bot keeps (per-user state, the announcement registry, ledger, schedules and run
lock, the anonymous question log, greeting flags) goes through a `KeyedStorage`: `read`, `write`,
`delete` of known keys, `keys(prefix)` to list what is stored under a prefix (the registry and
retention cannot know their keys in advance), `compact()` after retention has deleted personal
data, and `close()` on shutdown. Key prefixes are defined
once, in `storage.keys`; `storage.models` reads and writes pydantic models through it.

Semantics shared by all our implementations (the same as botbuilder's `Storage`, so a port to
another SDK can adapt it in a few lines, except that an e_tag is *always* assigned, so optimistic
concurrency works from the first write):

- `write` accepts dicts and objects (pydantic models, dataclasses, plain objects); everything is
  stored as JSON, so `read` returns plain dicts (with an `e_tag` key) and never the object that
  was written. Keys that are not stored are left out of `read`'s answer.
- A write whose value has no `e_tag`, `None` or `"*"` always wins. A write with any other e_tag
  wins only when it equals the stored one (compare-and-set); otherwise `ETagConflictError` (a
  `KeyError`) and nothing of that batch is written. A write to a key that does not exist wins
  whatever its e_tag. An empty e_tag is an error.
- Every successful write gives the item a new e_tag, and also sets it on the written dict/object,
  so a second save of the same state in the same turn does not conflict with itself.
- `delete` of a key that is not stored is not an error.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

__all__ = ["KeyedStorage", "ETagConflictError", "StorageBusyError", "StorageClosedError"]


class ETagConflictError(KeyError):
    """The item changed since it was read: its stored e_tag differs from the written one."""

    def __init__(self, key: str, expected: str, current: str) -> None:
        super().__init__(f"Etag conflict on {key!r}: written with {expected!r}, stored {current!r}")
        self.key = key
        """Storage key of the item that conflicted."""
        self.expected = expected
        """The e_tag the writer held."""
        self.current = current
        """The e_tag currently stored."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class StorageBusyError(TimeoutError):
    """Another writer (another process, or another storage object on the same data) kept the
    storage locked for longer than the bounded wait; nothing of the operation was done."""


class StorageClosedError(RuntimeError):
    """The storage was used after `close()`."""


class KeyedStorage(ABC):
    """Key-value storage of JSON documents with e_tags; see the module docstring for the rules."""

    @abstractmethod
    async def read(self, keys: list[str]) -> dict[str, Any]:
        """The stored items of `keys` (each a dict with its `e_tag`); missing keys left out."""

    @abstractmethod
    async def write(self, changes: dict[str, Any]) -> None:
        """Store every item of `changes`, all or nothing; `ETagConflictError` on a stale e_tag."""

    @abstractmethod
    async def delete(self, keys: list[str]) -> None:
        """Remove `keys`; keys that are not stored are ignored."""

    @abstractmethod
    async def keys(self, prefix: str = "") -> list[str]:
        """All stored keys that start with `prefix`, sorted."""

    async def compact(self) -> None:
        """Make deleted items unrecoverable from the storage's own files, after a purge.

        A no-op where a delete already removes the data (memory, Azure Blob: a deleted blob is
        gone, and soft delete is the account's setting); SQLite checkpoints its write-ahead log,
        which still holds the pages as they were before the delete."""
        return None

    @abstractmethod
    async def close(self) -> None:
        """Release resources; idempotent. Later use raises `StorageClosedError`."""
