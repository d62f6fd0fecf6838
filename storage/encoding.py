"""Turning what is handed to `KeyedStorage.write` into JSON, and the e_tag rules.

Shared by the SQLite and in-memory storages so that tests on `memory://` fail on the same
unserialisable values that production on SQLite would.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import uuid
from collections.abc import Mapping
from typing import Any

from .base import ETagConflictError

__all__ = ["encode_item", "decode_item", "new_e_tag", "check_e_tag", "set_e_tag", "ANY_E_TAG"]

ANY_E_TAG = "*"
"""The e_tag that overwrites whatever is stored."""


def _to_jsonable(value: Any) -> Any:
    """`json.dumps` default hook: objects become their JSON shape."""
    # msrest models (Activity, ConversationReference, ...) know their wire format.
    serialize = getattr(value, "serialize", None)
    if callable(serialize) and hasattr(value, "_attribute_map"):
        return serialize()
    model_dump = getattr(value, "model_dump", None)  # pydantic v2
    if callable(model_dump):
        return model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "__dict__") and not isinstance(value, type):  # StoreItem and plain objects
        return {k: v for k, v in vars(value).items() if not k.startswith("_")}
    raise TypeError(f"cannot store a value of type {type(value).__name__} as JSON")


def encode_item(key: str, value: object) -> tuple[str, str | None]:
    """The item as JSON text without its e_tag, and the e_tag it was written with.

    Raises `TypeError` when the value is not a mapping/object or holds something JSON cannot
    represent, and `ValueError` for an empty e_tag (as botbuilder's MemoryStorage does).
    """
    if value is None:
        raise TypeError(f"cannot store None under {key!r}; use delete()")
    data = value if isinstance(value, Mapping) else _to_jsonable(value)
    if not isinstance(data, Mapping):
        raise TypeError(f"the value stored under {key!r} must be a dict or an object, not {type(value).__name__}")
    data = dict(data)
    e_tag = data.pop("e_tag", None)
    if e_tag == "":
        raise ValueError(f"e_tag missing (empty) in the value written to {key!r}")
    text = json.dumps(data, default=_to_jsonable, ensure_ascii=False, separators=(",", ":"))
    return text, (None if e_tag is None else str(e_tag))


def decode_item(text: str, e_tag: str) -> dict[str, Any]:
    """The dict `read` returns: the stored JSON plus its current e_tag."""
    data: dict[str, Any] = json.loads(text)
    data["e_tag"] = e_tag
    return data


def new_e_tag() -> str:
    """A fresh e_tag; random so a deleted and recreated item never reuses an old one."""
    return uuid.uuid4().hex


def check_e_tag(key: str, written: str | None, stored: str | None) -> None:
    """Raise `ETagConflictError` unless a write with `written` may replace `stored`."""
    if stored is None or written is None or written in (ANY_E_TAG, stored):
        return
    raise ETagConflictError(key, written, stored)


def set_e_tag(value: Any, e_tag: str) -> None:
    """Give the caller's dict/object the e_tag it now has in storage (best effort)."""
    if isinstance(value, dict):
        value["e_tag"] = e_tag
        return
    try:
        value.e_tag = e_tag
    except (AttributeError, TypeError, ValueError):  # frozen models, slots, read-only mappings
        pass
