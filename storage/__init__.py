"""Persistent state: our `KeyedStorage` contract and its implementations, chosen by `STORAGE_URL`.

`create_storage(url)` is the one place that reads the URL; the rest of the bot sees a
`KeyedStorage` (read/write/delete with e_tag compare-and-set, `keys(prefix)` and `close()`, see
`storage.base`): SQLite (the embedded default), Azure Blob Storage (scale-out) or memory (tests).
Key prefixes live in `storage.keys`; `read_models`/`write_models` store pydantic models.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import ETagConflictError, KeyedStorage, StorageBusyError, StorageClosedError
from .memory import MemoryStorage
from .models import read_models, write_models
from .sqlite import SqliteStorage

if TYPE_CHECKING:
    from .azure_blob import AzureBlobStorage

__all__ = [
    "create_storage",
    "KeyedStorage",
    "AzureBlobStorage",
    "MemoryStorage",
    "SqliteStorage",
    "ETagConflictError",
    "StorageBusyError",
    "StorageClosedError",
    "valid_container_name",
    "read_models",
    "write_models",
]

_SQLITE = "sqlite:///"
_MEMORY = "memory://"
_AZURE_BLOB = "azureblob://"
AZURE_CONNECTION_VARIABLE = "AZURE_STORAGE_CONNECTION_STRING"
_FORMS = "sqlite:///relative/path.db, sqlite:////absolute/path.db, azureblob://<container> or memory://"
_CONTAINER = re.compile(r"^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")


def valid_container_name(name: str) -> bool:
    """Azure's rule for a blob container: 3-63 lowercase letters, digits and single inner hyphens."""
    return bool(_CONTAINER.match(name))


def __getattr__(name: str) -> Any:
    # The Azure SDK is imported only by those who use it (it takes a while to import).
    if name == "AzureBlobStorage":
        from .azure_blob import AzureBlobStorage

        return AzureBlobStorage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def create_storage(url: str, *, azure_connection_string: str | None = None) -> KeyedStorage:
    """The storage a `STORAGE_URL` names; nothing is opened until first use.

    - `sqlite:///data/kanalvakten.db`: a file relative to the working directory;
    - `sqlite:////var/lib/kanalvakten/state.db`: an absolute path (four slashes);
    - `azureblob://kanalvakten`: one blob per key in that container of the storage account that
      `azure_connection_string` names (by default the environment variable
      `AZURE_STORAGE_CONNECTION_STRING`); the container is created on first use;
    - `memory://`: in-process, lost on exit (tests).

    Raises `ValueError` with the accepted forms for anything else, and naming
    `AZURE_STORAGE_CONNECTION_STRING` when an Azure Blob URL has no connection string.
    """
    url = (url or "").strip()
    if url == _MEMORY:
        return MemoryStorage()
    if url.startswith(_SQLITE):
        path = url[len(_SQLITE) :]
        if not path or path.endswith("/") or "?" in path or path == ":memory:":
            raise ValueError(f"STORAGE_URL {url!r} does not name a database file; use {_FORMS}")
        return SqliteStorage(Path(path))
    if url.startswith(_AZURE_BLOB):
        container = url[len(_AZURE_BLOB) :]
        if not valid_container_name(container):
            raise ValueError(
                f"STORAGE_URL {url!r} does not name an Azure Blob container; use "
                "azureblob://<container> (3-63 lowercase letters, digits and single hyphens)"
            )
        connection_string = (azure_connection_string or os.environ.get(AZURE_CONNECTION_VARIABLE) or "").strip()
        if not connection_string:
            raise ValueError(
                f"STORAGE_URL {url!r} needs the storage account's connection string in {AZURE_CONNECTION_VARIABLE}"
            )
        from .azure_blob import AzureBlobStorage

        return AzureBlobStorage(connection_string, container)
    raise ValueError(f"unsupported STORAGE_URL {url!r}; expected {_FORMS}")
