"""Two measured fixes to the archived SDK's serialization layer, applied once at start-up.

msrest and botbuilder are archived, so these cannot be fixed upstream; they go with the rest of
`teams/` when moving to the Microsoft 365 Agents SDK. Both give exactly what msrest gave before
(tests/test_msrest_fix.py compares them with msrest's own code).

1. Retry policy. msrest 0.7.1 builds its retry policy for every msrest client with
   `[i for i in range(999) if i not in self.safe_codes]`, a list membership test: ~500 000
   comparisons, about 5 ms per client (botbuilder made two per turn). A frozenset gives the same
   retry codes.
2. Cards. msrest serializes an `object`-typed value (an Adaptive Card is one: `Attachment.content`)
   with a recursive Python call per node, an exception-guarded enum probe per string and
   `eval("int")` per number: more than half of the time msrest spends on a reply with a card
   (`make bench`). For a tree of plain JSON values (exactly dict with str keys, list, str, int,
   float, bool, None) its result is a copy of the tree, which `_plain_copy` makes directly;
   anything else (a model, a date, a subclass, XML or custom serializers) takes msrest's own
   path, unchanged.
"""

from __future__ import annotations

from typing import Any

from msrest.serialization import Serializer
from msrest.universal_http.requests import ClientRetryPolicy

__all__ = ["apply"]


class _NotPlain(Exception):
    """The tree holds something msrest must serialize itself."""


def _plain_copy(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict:
        copy = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            copy[key] = _plain_copy(item)
        return copy
    if kind is list:
        return [_plain_copy(item) for item in value]
    raise _NotPlain


_msrest_serialize_object = Serializer.serialize_object


def _serialize_object(self: Serializer, attr: Any, **kwargs: Any) -> Any:
    if not kwargs.get("is_xml") and not kwargs.get("basic_types_serializers"):
        try:
            return _plain_copy(attr)
        except _NotPlain:
            pass
    return _msrest_serialize_object(self, attr, **kwargs)


def apply() -> None:
    """Idempotent. Serializers made before this keep msrest's method (it binds it in __init__)."""
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]
    Serializer.serialize_object = _serialize_object  # type: ignore[method-assign]
