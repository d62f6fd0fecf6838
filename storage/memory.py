"""In-memory storage (`memory://`) for tests and throw-away local runs.

Same contract as the SQLite storage (see `storage.base`), values kept as JSON text, so a test on
`memory://` catches the values SQLite could not store. Each operation runs without awaiting, so
it is atomic with respect to other tasks on the event loop.
"""

from __future__ import annotations

import logging
from typing import Any

from .base import KeyedStorage, StorageClosedError
from .encoding import check_e_tag, decode_item, encode_item, new_e_tag, set_e_tag

__all__ = ["MemoryStorage"]

log = logging.getLogger(__name__)


class MemoryStorage(KeyedStorage):
    """A dict of key -> (JSON text, e_tag); lost when the process ends."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise StorageClosedError("MemoryStorage is closed")

    async def read(self, keys: list[str]) -> dict[str, Any]:
        self._check_open()
        found: dict[str, Any] = {}
        for key in keys or ():
            item = self._items.get(key)
            if item is not None:
                found[key] = decode_item(*item)
        return found

    async def write(self, changes: dict[str, Any]) -> None:
        self._check_open()
        if changes is None:
            raise ValueError("changes are required when writing")
        encoded = {key: encode_item(key, value) for key, value in changes.items()}
        for key, (_, e_tag) in encoded.items():  # all or nothing, like the SQLite transaction
            stored = self._items.get(key)
            check_e_tag(key, e_tag, stored[1] if stored else None)
        for key, (text, _) in encoded.items():
            tag = new_e_tag()
            self._items[key] = (text, tag)
            set_e_tag(changes[key], tag)
        log.debug("wrote %d item(s)", len(encoded))

    async def delete(self, keys: list[str]) -> None:
        self._check_open()
        for key in keys or ():
            self._items.pop(key, None)

    async def keys(self, prefix: str = "") -> list[str]:
        self._check_open()
        return sorted(key for key in self._items if key.startswith(prefix))

    async def close(self) -> None:
        self._closed = True
