"""Five measured fixes to the archived SDK's HTTP client layer (msrest), applied once at start-up.

msrest and botbuilder are archived, so these cannot be fixed upstream; they go with the rest of
`teams/` when moving to the Microsoft 365 Agents SDK. Each gives exactly what msrest gave before
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
3. Empty attributes. An Activity has some forty attributes and a reply sets a handful; for every
   other one msrest's `Serializer._serialize` splits the wire key with a regular expression, then
   `serialize_data` raises ValueError for the None and the loop catches it. `_serialize` below is
   msrest 0.7.1's JSON branch with the None skipped first and the split of each wire key made
   once; XML models, an explicit data type and other key transformers take msrest's own code.
4. Extra properties. For every model it reads (an incoming activity is a dozen), msrest's
   `Deserializer._build_additional_properties` recomputes the set of keys the class knows from its
   attribute map, a regular-expression split per attribute. The set depends only on the map, a
   constant of the generated class, so it is computed once per map.
5. Validation. Before sending, msrest validates the body model by model, attribute by attribute,
   against each class's `_validation` constraints. The Bot Framework schema declares none (every
   `_validation` is empty), so for such a class `_validate` below visits only what can still
   fail: attributes that hold something (msrest also converts each basic value and recurses into
   nested models and lists; None passes every check). Classes with constraints take msrest's own
   `Model.validate`.
"""

from __future__ import annotations

import functools
from typing import Any

from msrest.exceptions import SerializationError, raise_with_traceback
from msrest.serialization import (
    _FLATTEN,
    Deserializer,
    Model,
    Serializer,
    _decode_attribute_map_key,
    _recursive_validate,
    attribute_transformer,
    full_restapi_key_transformer,
    last_restapi_key_transformer,
)
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


_msrest_serialize = Serializer._serialize
_VALUE_KEEPING_TRANSFORMERS = (full_restapi_key_transformer, attribute_transformer, last_restapi_key_transformer)
"""msrest's key transformers; each returns the value unchanged, so a None stays None."""


@functools.cache
def _wire_keys(key: str) -> list[str]:
    """full_restapi_key_transformer's keys for an attribute map key (read, never changed)."""
    return full_restapi_key_transformer(key, {"key": key}, None)[0]


def _serialize(self: Serializer, target_obj: Any, data_type: str | None = None, **kwargs: Any) -> Any:
    key_transformer = kwargs.get("key_transformer", self.key_transformer)
    if (
        data_type
        or target_obj is None
        or not hasattr(target_obj, "_attribute_map")
        or key_transformer not in _VALUE_KEEPING_TRANSFORMERS
        or kwargs.setdefault("is_xml", target_obj.is_xml_model())
    ):
        return _msrest_serialize(self, target_obj, data_type, **kwargs)
    # msrest 0.7.1 Serializer._serialize, JSON branch, with `if value is None: continue` added
    keep_readonly = kwargs.get("keep_readonly", False)
    serialized: dict[str, Any] = {}
    attr_name = None
    try:
        for attr, attr_desc in target_obj._attribute_map.items():
            attr_name = attr
            if not keep_readonly and target_obj._validation.get(attr_name, {}).get("readonly", False):
                continue
            if attr_name == "additional_properties" and attr_desc["key"] == "":
                if target_obj.additional_properties is not None:
                    serialized.update(target_obj.additional_properties)
                continue
            try:
                value = getattr(target_obj, attr)
                if value is None:
                    continue  # msrest: serialize_data raises ValueError("No value ..."), caught below
                if key_transformer is full_restapi_key_transformer:
                    keys = _wire_keys(attr_desc["key"])  # the same list, made once per key
                else:
                    keys, value = key_transformer(attr, attr_desc.copy(), value)
                    keys = keys if isinstance(keys, list) else [keys]
                kwargs["serialization_ctxt"] = attr_desc
                new_attr = self.serialize_data(value, attr_desc["type"], **kwargs)
                for k in reversed(keys):
                    new_attr = {k: new_attr}
                _new_attr, _serialized = new_attr, serialized
                for k in keys:
                    if k not in _serialized:
                        _serialized.update(_new_attr)
                    _new_attr = _new_attr[k]
                    _serialized = _serialized[k]
            except ValueError as err:
                if isinstance(err, SerializationError):
                    raise
                continue
    except (AttributeError, KeyError, TypeError) as err:
        msg = f"Attribute {attr_name} in object {target_obj.__class__.__name__} cannot be serialized.\n{target_obj}"
        raise_with_traceback(SerializationError, msg, err)
    return serialized


_msrest_build_additional_properties = Deserializer._build_additional_properties
_known_keys: dict[int, tuple[dict[str, Any], frozenset[str]]] = {}
"""id(attribute map) -> (the map, kept so the id stays its own; the wire keys it knows)."""


def _build_additional_properties(self: Deserializer, attribute_map: Any, data: Any) -> Any:
    if (
        not self.additional_properties_detection
        or not isinstance(data, dict)
        or ("additional_properties" in attribute_map and attribute_map["additional_properties"].get("key") != "")
    ):
        return _msrest_build_additional_properties(self, attribute_map, data)
    known = _known_keys.get(id(attribute_map))
    if known is None or known[0] is not attribute_map:
        keys = frozenset(
            _decode_attribute_map_key(_FLATTEN.split(desc["key"])[0])
            for desc in attribute_map.values()
            if desc["key"] != ""
        )
        known = _known_keys[id(attribute_map)] = (attribute_map, keys)
    # msrest 0.7.1, from here on unchanged
    present_keys = set(data.keys())
    missing_keys = present_keys - known[1]
    return {key: data[key] for key in missing_keys}


_msrest_validate = Model.validate
_BASIC_TYPES = frozenset(Serializer.basic_types.values())


def _validate(self: Model) -> list[Any]:
    if self._validation:
        return _msrest_validate(self)  # type: ignore[no-any-return]
    # msrest 0.7.1 Model.validate for a class without constraints: the same conversions and
    # recursion, without the attributes that are None (Serializer.validate(None) with no
    # constraints returns, and _recursive_validate of None is empty) and without the debug names
    # no constraint can use.
    result: list[Any] = []
    for attr_name, attr_desc in self._attribute_map.items():
        value = getattr(self, attr_name)
        if value is None or (attr_name == "additional_properties" and attr_desc["key"] == ""):
            continue
        attr_type = attr_desc["type"]
        if attr_type in _BASIC_TYPES:
            Serializer.serialize_basic(value, attr_type)  # raises as in msrest for a bad int/float
            continue  # a basic value has nothing to recurse into
        result += _recursive_validate(attr_name, attr_type, value)
    return result


def apply() -> None:
    """Idempotent. Serializers made before this keep msrest's method (it binds it in __init__)."""
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]
    Serializer.serialize_object = _serialize_object  # type: ignore[method-assign]
    Serializer._serialize = _serialize  # type: ignore[method-assign]
    Deserializer._build_additional_properties = _build_additional_properties  # type: ignore[method-assign]
    Model.validate = _validate  # type: ignore[method-assign]
