"""Pydantic models in and out of a `KeyedStorage`."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from .base import KeyedStorage

__all__ = ["read_models", "write_models", "plain"]

M = TypeVar("M", bound=BaseModel)


def plain(value: Any) -> dict[str, Any]:
    """A stored value as a dict without the `e_tag` the storage added."""
    if isinstance(value, dict):
        data = dict(value)
    else:  # an object-like value
        data = {k: v for k, v in vars(value).items() if not k.startswith("_")}
    data.pop("e_tag", None)
    return data


async def read_models(storage: KeyedStorage, keys: list[str], model: type[M]) -> dict[str, M]:
    """Read `keys` and validate each value as `model`; missing keys are left out."""
    if not keys:
        return {}
    found = await storage.read(list(keys))
    return {key: model.model_validate(plain(value)) for key, value in found.items() if value is not None}


async def write_models(storage: KeyedStorage, items: dict[str, BaseModel]) -> None:
    """Write models as JSON-able dicts (no e_tag: last writer wins, for single-writer data)."""
    if items:
        await storage.write({key: item.model_dump(mode="json") for key, item in items.items()})
