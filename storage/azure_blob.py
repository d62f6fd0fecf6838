"""Azure Blob Storage, the scale-out storage (`STORAGE_URL=azureblob://<container>`).

Several bot instances (and `python bot.py announce`) can share one container. Why this shape:
- One blob per key, holding the item as UTF-8 JSON (`storage.encoding`), so every item can be
  read, written and listed on its own and the blob's own ETag is the item's `e_tag`.
- Optimistic concurrency is the service's: a write with an e_tag is a conditional Put Blob
  (`If-Match`), so of two writers holding the same e_tag exactly one wins, even across machines.
  A write to a missing key wins whatever its e_tag (a create with `If-None-Match: *`), and
  `"*"` or no e_tag overwrites unconditionally.
- Blob names are the keys percent-encoded byte by byte (only `A-Z a-z 0-9 - _ ~` stay as they
  are), so any key round-trips, `/` in keys makes no virtual folders, no name ends in
  a dot, and a key prefix encodes to a blob-name prefix (`keys(prefix)` is one listing).
- The async client (aiohttp) is created on first use, in the loop that uses it: constructing the
  storage does no I/O and binds to no event loop. The container is created on first use too.

What a blob container cannot give: a batch of several keys is not one transaction. Every e_tag
of a batch is checked before anything is written, so a stale e_tag writes nothing of its batch
(as in the other storages); only a writer that changes one of the keys between that check and
our write can leave part of a batch written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar
from urllib.parse import unquote

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import BlobClient, ContainerClient

from . import valid_container_name
from .base import ETagConflictError, KeyedStorage, StorageClosedError
from .encoding import ANY_E_TAG, decode_item, encode_item, set_e_tag

__all__ = ["AzureBlobStorage", "blob_name", "key_of"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~")
_MAX_NAME = 1024  # characters in a blob name
_PARALLEL = 16  # requests in flight for one read/write/delete of many keys
_JSON = ContentSettings(content_type="application/json; charset=utf-8")


def blob_name(key: str) -> str:
    """The blob name a storage key is kept under (percent-encoded UTF-8, see the module doc)."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"storage keys must be non-empty strings, not {key!r}")
    name = "".join(chr(b) if b in _SAFE else f"%{b:02X}" for b in key.encode("utf-8"))
    if len(name) > _MAX_NAME:
        raise ValueError(
            f"the key {key[:80]!r}… is too long for a blob name ({len(name)} > {_MAX_NAME} characters once encoded)"
        )
    return name


def key_of(name: str) -> str:
    """The storage key a blob name holds (the inverse of `blob_name`)."""
    return unquote(name, encoding="utf-8", errors="strict")


def _error_code(exc: HttpResponseError) -> str:
    code = getattr(exc, "error_code", None)
    return str(getattr(code, "value", code) or "")


def _etag(upload_result: dict[str, Any]) -> str:
    """The new ETag from `upload_blob`'s result (a dict of response headers, typed `Any`)."""
    etag = upload_result["etag"]
    assert isinstance(etag, str), etag
    return etag


async def _bounded(calls: Iterable[Awaitable[T]]) -> list[T | BaseException]:
    """Await all calls, at most `_PARALLEL` at once; results (or exceptions) in order."""
    gate = asyncio.Semaphore(_PARALLEL)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return await asyncio.gather(*(one(c) for c in calls), return_exceptions=True)


def _raise_first(results: list[Any]) -> None:
    for result in results:
        if isinstance(result, BaseException):
            raise result


class AzureBlobStorage(KeyedStorage):
    """A `KeyedStorage` with one JSON blob per key in one Azure Blob container."""

    def __init__(self, connection_string: str, container: str) -> None:
        if not connection_string or not connection_string.strip():
            raise ValueError("an Azure Storage connection string is required")
        if not valid_container_name(container):
            raise ValueError(
                f"{container!r} is not a valid Azure Blob container name "
                "(3-63 lowercase letters, digits and single hyphens, starting with a letter or digit)"
            )
        self.container = container
        """Name of the blob container that holds the items."""
        self._connection_string = connection_string
        self._client: ContainerClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready: asyncio.Future[None] | None = None  # the container exists
        self._closed = False

    def __repr__(self) -> str:  # never the connection string: it holds the account key
        return f"AzureBlobStorage(container={self.container!r})"

    # -- the client --------------------------------------------------------------------------

    async def _container(self) -> ContainerClient:
        """The client, made (and the container created) on first use in the running loop."""
        if self._closed:
            raise StorageClosedError(f"{self!r} is closed")
        loop = asyncio.get_running_loop()
        if self._client is not None and self._loop is not loop:
            if self._loop is not None and not self._loop.is_closed():
                raise RuntimeError(f"{self!r} is in use by another event loop")
            # The loop of the old client has ended (e.g. one asyncio.run after another): its
            # connections went with it, so start afresh in this loop.
            self._client, self._ready = None, None
        if self._client is None:
            quiet = logging.getLogger("azure.core.pipeline.policies.http_logging_policy")
            if quiet.level == logging.NOTSET:  # it logs every request at INFO
                quiet.setLevel(logging.WARNING)
            self._client = ContainerClient.from_connection_string(self._connection_string, self.container)
            self._loop = loop
        if self._ready is None:
            self._ready = loop.create_task(self._create_container(self._client))
        try:
            await asyncio.shield(self._ready)
        except Exception:
            if self._ready.done():
                self._ready = None  # try again next time (e.g. the service was unreachable)
            raise
        return self._client

    async def _create_container(self, client: ContainerClient) -> None:
        try:
            await client.create_container()
            log.info("created Azure Blob container %s", self.container)
        except ResourceExistsError:
            pass
        log.info("opened Azure Blob storage, container %s", self.container)

    # -- Storage -----------------------------------------------------------------------------

    async def read(self, keys: list[str]) -> dict[str, Any]:
        keys = list(dict.fromkeys(keys or ()))
        if not keys:
            return {}
        names = [blob_name(key) for key in keys]
        client = await self._container()

        async def read_one(name: str) -> dict[str, Any] | None:
            try:
                downloader = await client.get_blob_client(name).download_blob()
                text = (await downloader.readall()).decode("utf-8")
            except ResourceNotFoundError as exc:
                if _error_code(exc) in ("BlobNotFound", ""):
                    return None
                raise
            return decode_item(text, downloader.properties.etag)

        results = await _bounded(read_one(name) for name in names)
        _raise_first(results)
        return {key: item for key, item in zip(keys, results, strict=False) if item is not None}

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise ValueError("changes are required when writing")
        if not changes:
            return
        # Everything that can fail without the service fails before anything is written.
        encoded = {key: (blob_name(key), *encode_item(key, value)) for key, value in changes.items()}
        client = await self._container()

        conditional = {k: v for k, v in encoded.items() if v[2] not in (None, ANY_E_TAG)}
        if len(encoded) > 1 and conditional:
            await self._check_e_tags(client, conditional)

        async def write_one(key: str, name: str, text: str, e_tag: str | None) -> None:
            tag = await self._put(client, key, name, text, e_tag)
            set_e_tag(changes[key], tag)

        # Conditional writes first: when one of them conflicts, the rest of the batch stays unwritten.
        results = await _bounded(write_one(k, *v) for k, v in conditional.items())
        _raise_first(results)
        results = await _bounded(write_one(k, *v) for k, v in encoded.items() if k not in conditional)
        _raise_first(results)
        log.debug("wrote %d item(s)", len(encoded))

    async def _check_e_tags(self, client: ContainerClient, items: dict[str, tuple[str, str, str | None]]) -> None:
        """Raise the first `ETagConflictError` of a batch before any of it is written."""

        async def current(name: str) -> str | None:
            try:
                return (await client.get_blob_client(name).get_blob_properties()).etag
            except ResourceNotFoundError:
                return None

        stored = await _bounded(current(name) for name, _, _ in items.values())
        _raise_first(stored)
        for (key, (_, _, e_tag)), tag in zip(items.items(), stored, strict=False):
            if tag is not None and tag != e_tag:
                raise ETagConflictError(key, str(e_tag), str(tag))

    async def _put(self, client: ContainerClient, key: str, name: str, text: str, e_tag: str | None) -> str:
        """Upload one item under the e_tag rules; returns its new e_tag (the blob's ETag)."""
        blob = client.get_blob_client(name)
        data = text.encode("utf-8")
        if e_tag is None or e_tag == ANY_E_TAG:
            return _etag(await blob.upload_blob(data, overwrite=True, content_settings=_JSON))
        try:
            return _etag(
                await blob.upload_blob(
                    data,
                    overwrite=True,
                    content_settings=_JSON,
                    etag=e_tag,
                    match_condition=MatchConditions.IfNotModified,
                )
            )
        except (ResourceModifiedError, ResourceNotFoundError) as exc:
            if isinstance(exc, ResourceNotFoundError) and _error_code(exc) != "BlobNotFound":
                raise
        # The e_tag did not match: a conflict, unless the item does not exist (then it wins).
        stored = await self._stored_e_tag(blob)
        if stored is not None:
            raise ETagConflictError(key, e_tag, stored)
        try:
            return _etag(
                await blob.upload_blob(
                    data, overwrite=True, content_settings=_JSON, match_condition=MatchConditions.IfMissing
                )
            )
        except (ResourceExistsError, ResourceModifiedError):  # another writer created it first
            raise ETagConflictError(key, e_tag, await self._stored_e_tag(blob) or "") from None

    @staticmethod
    async def _stored_e_tag(blob: BlobClient) -> str | None:
        try:
            return (await blob.get_blob_properties()).etag
        except ResourceNotFoundError:
            return None

    async def delete(self, keys: list[str]) -> None:
        keys = list(dict.fromkeys(keys or ()))
        if not keys:
            return
        names = [blob_name(key) for key in keys]
        client = await self._container()

        async def delete_one(name: str) -> None:
            with contextlib.suppress(ResourceNotFoundError):
                await client.delete_blob(name)

        _raise_first(await _bounded(delete_one(name) for name in names))

    # -- KeyedStorage ------------------------------------------------------------------------

    async def keys(self, prefix: str = "") -> list[str]:
        start = blob_name(prefix) if prefix else None
        client = await self._container()
        found = [key_of(name) async for name in client.list_blob_names(name_starts_with=start)]
        return sorted(key for key in found if key.startswith(prefix))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        client, self._client = self._client, None
        ready, self._ready = self._ready, None
        if ready is not None and not ready.done():
            ready.cancel()
            await asyncio.gather(ready, return_exceptions=True)
        if client is None:
            return
        if self._loop is not asyncio.get_running_loop():
            return  # made in a loop that has ended; its connections ended with it
        await client.close()
        log.info("closed Azure Blob storage, container %s", self.container)
