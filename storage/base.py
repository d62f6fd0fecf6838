"""The storage contract Kanalvakten relies on, on top of botbuilder's `Storage`.

botbuilder's `Storage` only knows read/write/delete of known keys. The announcement registry has
to find every conversation it has seen without knowing the keys in advance, and the server has to
close the database on shutdown, so every storage we use also offers `keys(prefix)` and `close()`.

Semantics shared by all our implementations (they mirror botbuilder's `MemoryStorage`, except
that an e_tag is *always* assigned, so optimistic concurrency works from the first write):

- `write` accepts dicts and objects (`StoreItem`, pydantic models, msrest models such as
  `ConversationReference`); everything is stored as JSON, so `read` returns plain dicts (with an
  `e_tag` key) and never the object that was written.
- A write whose value has no `e_tag`, `None` or `"*"` always wins. A write with any other e_tag
  wins only when it equals the stored one; otherwise `ETagConflictError` (a `KeyError`, like
  `MemoryStorage` raises) and nothing of that batch is written. A write to a key that does not
  exist wins whatever its e_tag (as in `MemoryStorage`). An empty e_tag is an error.
- Every successful write gives the item a new e_tag, and also sets it on the written dict/object,
  so a second save of the same state in the same turn does not conflict with itself.
"""

from __future__ import annotations

from abc import abstractmethod

from botbuilder.core import Storage

__all__ = ["KeyedStorage", "ETagConflictError", "StorageClosedError"]


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


class StorageClosedError(RuntimeError):
    """The storage was used after `close()`."""


class KeyedStorage(Storage):
    """A botbuilder `Storage` that can also list its keys and be closed."""

    @abstractmethod
    async def keys(self, prefix: str = "") -> list[str]:
        """All stored keys that start with `prefix`, sorted."""

    @abstractmethod
    async def close(self) -> None:
        """Release resources; idempotent. Later use raises `StorageClosedError`."""
