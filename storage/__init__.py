"""Persistent state: botbuilder `Storage` implementations chosen by `STORAGE_URL`.

`create_storage(url)` is the one place that reads the URL; the rest of the bot sees a
`KeyedStorage` (botbuilder's read/write/delete plus `keys(prefix)` and `close()`), so an Azure Blob
implementation can be added later without touching callers.
"""

from __future__ import annotations

from pathlib import Path

from .base import ETagConflictError, KeyedStorage, StorageClosedError
from .memory import MemoryStorage
from .sqlite import SqliteStorage

__all__ = [
    "create_storage",
    "KeyedStorage",
    "MemoryStorage",
    "SqliteStorage",
    "ETagConflictError",
    "StorageClosedError",
]

_SQLITE = "sqlite:///"
_MEMORY = "memory://"


def create_storage(url: str) -> KeyedStorage:
    """The storage a `STORAGE_URL` names; nothing is opened until first use.

    - `sqlite:///data/kanalvakten.db`: a file relative to the working directory;
    - `sqlite:////var/lib/kanalvakten/state.db`: an absolute path (four slashes);
    - `memory://`: in-process, lost on exit (tests).

    Raises `ValueError` with the accepted forms for anything else.
    """
    url = (url or "").strip()
    if url == _MEMORY:
        return MemoryStorage()
    if url.startswith(_SQLITE):
        path = url[len(_SQLITE):]
        if not path or path.endswith("/") or "?" in path or path == ":memory:":
            raise ValueError(
                f"STORAGE_URL {url!r} does not name a database file; "
                "use sqlite:///relative/path.db, sqlite:////absolute/path.db or memory://"
            )
        return SqliteStorage(Path(path))
    raise ValueError(
        f"unsupported STORAGE_URL {url!r}; expected sqlite:///relative/path.db, "
        "sqlite:////absolute/path.db or memory://"
    )
