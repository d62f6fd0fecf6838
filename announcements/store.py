"""The slice of botbuilder's `Storage` the announcement modules use, and model (de)serialisation.

Our stores (`storage.create_storage`) are botbuilder `Storage` objects with one extra method,
`keys(prefix)`, so the registry and the ledger can list what they hold. Values are written as
plain JSON-able dicts; whatever a store adds on the way back (an `e_tag`) is ignored.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

__all__ = ["KeyedStorage", "read_models", "write_models"]

M = TypeVar("M", bound=BaseModel)


class KeyedStorage(Protocol):
    """botbuilder `Storage` plus `keys(prefix)`."""

    async def read(self, keys: list[str]) -> dict[str, Any]: ...

    async def write(self, changes: dict[str, Any]) -> None: ...

    async def delete(self, keys: list[str]) -> None: ...

    async def keys(self, prefix: str) -> list[str]: ...


def _plain(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        data = dict(value)
    else:  # a StoreItem-like object
        data = {k: v for k, v in vars(value).items() if not k.startswith("_")}
    data.pop("e_tag", None)
    return data


async def read_models(storage: KeyedStorage, keys: list[str], model: type[M]) -> dict[str, M]:
    """Read `keys` and validate each value as `model`; missing keys are left out."""
    if not keys:
        return {}
    found = await storage.read(list(keys))
    return {key: model.model_validate(_plain(value)) for key, value in found.items() if value is not None}


async def write_models(storage: KeyedStorage, items: dict[str, BaseModel]) -> None:
    """Write models as JSON-able dicts (no e_tag: last writer wins, as the engine is single-writer)."""
    if items:
        await storage.write({key: item.model_dump(mode="json") for key, item in items.items()})
