"""Validating the manifest and its localization file against Microsoft's published schemas.

Teams refuses a package that does not match its schema, usually with a message that does not say
which field is wrong. We validate before zipping and turn every schema error into a `Problem`
naming the field (a dotted path such as `description.short`) and the reason in plain words.

The schemas (see ../shared/schemas/PROVENANCE.md) declare draft-04 but use `const` and
`if`/`then`, so they are read with a Draft 7 validator. One pattern uses `\\p{L}`, which Python's
`re` cannot compile, so `pattern`, `patternProperties` and the `regex` format use the `regex`
module instead. Keywords written beside a `$ref` (ignored by Draft 7) are made to count.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex
from jsonschema import Draft7Validator, FormatChecker, ValidationError, validators

__all__ = [
    "Problem",
    "SCHEMA_DIR",
    "MANIFEST_SCHEMA",
    "LOCALIZATION_SCHEMA",
    "manifest_validator",
    "localization_validator",
    "schema_problems",
]

log = logging.getLogger(__name__)

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "shared" / "schemas"
"""The shared schema folder, beside the repository (as in CI: a checkout with ../shared)."""
MANIFEST_SCHEMA = "teams-app-manifest-v1.30.schema.json"
LOCALIZATION_SCHEMA = "teams-app-manifest-localization-v1.30.schema.json"


@dataclass(frozen=True)
class Problem:
    """One reason the package cannot be built: which field, and why."""

    field: str
    """Where: a setting's name (`MicrosoftAppId`), a manifest path or an icon file."""
    reason: str
    """Why, in words an administrator can act on."""

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


def _regex_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterable[ValidationError]:
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _regex_pattern_properties(
    validator: Any, properties: dict, instance: Any, schema: Any
) -> Iterable[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in properties.items():
        for key, value in instance.items():
            if regex.search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


_FORMATS = FormatChecker()


@_FORMATS.checks("regex", raises=regex.error)
def _is_regex(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    regex.compile(instance)
    return True


_RegexDraft7Validator = validators.extend(
    Draft7Validator,
    {"pattern": _regex_pattern, "patternProperties": _regex_pattern_properties},
)


_ANNOTATIONS = {"description", "default", "examples", "title", "$comment"}


def _apply_ref_siblings(node: Any) -> Any:
    """Make keywords written beside a `$ref` count, as the schema's authors meant.

    Up to Draft 7 a `$ref` hides its siblings, so the localization schema's
    `{"maxLength": 80, "$ref": "#/definitions/nonEmptyString"}` would never check the length
    that Teams enforces. Rewriting such a node to `allOf: [{$ref}, {siblings}]` keeps both.
    """
    if isinstance(node, list):
        return [_apply_ref_siblings(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _apply_ref_siblings(v) for k, v in node.items()}
    constraints = {k: v for k, v in node.items() if k != "$ref" and k not in _ANNOTATIONS}
    if "$ref" in node and constraints:
        annotations = {k: v for k, v in node.items() if k in _ANNOTATIONS}
        return {**annotations, "allOf": [{"$ref": node["$ref"]}, constraints]}
    return node


@functools.cache
def _validator(name: str) -> Any:
    path = SCHEMA_DIR / name
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"schema {path} not found; the shared folder must sit beside the repository") from None
    log.debug("loaded schema %s", path)
    return _RegexDraft7Validator(_apply_ref_siblings(schema), format_checker=_FORMATS)


def manifest_validator() -> Any:
    """The (cached) Draft 7 validator for Teams app manifest v1.30."""
    return _validator(MANIFEST_SCHEMA)


def localization_validator() -> Any:
    """The (cached) Draft 7 validator for a v1.30 localization file."""
    return _validator(LOCALIZATION_SCHEMA)


def _field(error: ValidationError, prefix: str) -> str:
    parts: list[str] = []
    for part in error.absolute_path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    where = "".join(parts) or "(top level)"
    return f"{prefix}{where}" if prefix else where


def _size(value: object) -> int:
    # maxLength, minLength and maxItems only ever fail on a string or an array.
    assert isinstance(value, Sized), value
    return len(value)


def _reason(error: ValidationError) -> str:
    value = error.instance
    if error.validator == "maxLength":
        return f"{_size(value)} characters, the schema allows at most {error.validator_value}"
    if error.validator == "minLength":
        return f"{_size(value)} characters, the schema needs at least {error.validator_value}"
    if error.validator == "maxItems":
        return f"{_size(value)} items, the schema allows at most {error.validator_value}"
    if error.validator == "pattern":
        return f"{value!r} does not match the pattern {error.validator_value}"
    if error.validator == "enum":
        return f"{value!r} is not one of {error.validator_value} (Teams is case-sensitive)"
    if error.validator == "additionalProperties":
        return error.message
    message = error.message
    return message if len(message) <= 300 else message[:297] + "..."


def schema_problems(instance: Any, validator: Any, *, prefix: str = "") -> list[Problem]:
    """Every schema error in `instance` as a Problem, in document order."""
    errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path])
    return [Problem(_field(e, prefix), _reason(e)) for e in errors]
