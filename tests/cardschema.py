"""Test helper: validate an Adaptive Card against the published Adaptive Card 1.5 schema.

Use it on every card the bot sends: `from tests.cardschema import validate_card`, then
`validate_card(card)`; it raises AssertionError listing every error, each with its JSON path.

What the schema (Draft 6, ../shared/schemas/adaptive-card-v1.5.0.schema.json) catches, at any
depth (body, Container items, ColumnSet columns, actions, ShowCard cards): unknown element or
action types, missing required properties (TextBlock.text, Action.OpenUrl.url, FactSet.facts...),
unknown properties on an element or action (every definition has additionalProperties: false),
and wrong enum values (size "huge", weight "heavy", Teams-style lower-case typos...). It does not
require `version` on the top-level card, so this helper adds that check.

Teams' host-specific `msteams` key (e.g. `{"width": "Full"}`) is not in the schema and the card
object forbids additional properties, so the schema alone would reject every card we send. It is
checked here separately (an object; `width`, if given, is "Full") and removed before schema
validation. Only the top-level card may carry it.

The schema nests elements in `anyOf` over every element type, so a raw jsonschema error reads
"is not valid under any of the given schemas". This helper follows the branch whose `type`
matches the element and reports the real error beneath it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator, ValidationError

__all__ = ["ADAPTIVE_CARD_SCHEMA", "card_errors", "validate_card"]

ADAPTIVE_CARD_SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "adaptive-card-v1.5.0.schema.json"
_MSTEAMS_KEYS = {"width", "entities", "allowExpand"}


@functools.cache
def _validator() -> Draft6Validator:
    schema = json.loads(ADAPTIVE_CARD_SCHEMA.read_text(encoding="utf-8"))
    return Draft6Validator(schema, format_checker=Draft6Validator.FORMAT_CHECKER)


def _path(error: ValidationError) -> str:
    out = "$"
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _is_type_mismatch(error: ValidationError, instance: Any) -> bool:
    """An error saying the element's `type` is not this branch's type."""
    if error.validator == "enum" and list(error.relative_path) == ["type"]:
        return True
    return error.validator == "required" and isinstance(instance, dict) and "type" not in instance


def _descendants(error: ValidationError) -> Iterable[ValidationError]:
    for sub in error.context:
        yield sub
        yield from _descendants(sub)


def _explain(error: ValidationError) -> Iterable[str]:
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        yield f"{_path(error)}: {error.message if len(error.message) < 300 else error.message[:297] + '...'}"
        return
    if not isinstance(error.instance, dict):
        # A property value (size, color...): its branches are "one of these names" or null.
        enum = next((sub for sub in _descendants(error) if sub.validator == "enum"), error)
        yield f"{_path(error)}: {enum.message}"
        return
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    matching = [errs for errs in branches.values() if not any(_is_type_mismatch(e, error.instance) for e in errs)]
    if not matching:
        kind = error.instance.get("type") if isinstance(error.instance, dict) else None
        if kind is None:
            yield f'{_path(error)}: has no "type" (or is not an object)'
        else:
            yield f"{_path(error)}: unknown type {kind!r} in Adaptive Cards 1.5"
        return
    for errs in matching:
        for sub in errs:
            yield from _explain(sub)


def card_errors(card: dict[str, Any]) -> list[str]:
    """Every problem in `card`, one line each with its JSON path; empty when valid."""
    if not isinstance(card, dict):
        return [f"$: a card must be a JSON object, got {type(card).__name__}"]
    errors: list[str] = []
    card = dict(card)
    msteams = card.pop("msteams", None)
    if msteams is not None:
        if not isinstance(msteams, dict):
            errors.append("$.msteams: must be an object")
        else:
            unknown = set(msteams) - _MSTEAMS_KEYS
            if unknown:
                errors.append(f"$.msteams: unknown keys {sorted(unknown)}")
            if "width" in msteams and msteams["width"] != "Full":
                errors.append(f'$.msteams.width: {msteams["width"]!r}, Teams knows only "Full"')
    if card.get("type") != "AdaptiveCard":
        errors.append(f'$.type: {card.get("type")!r}, a top-level card must be "AdaptiveCard"')
    if "version" not in card:
        errors.append('$.version: missing; a top-level card needs it ("1.5")')
    for error in sorted(_validator().iter_errors(card), key=lambda e: list(map(str, e.absolute_path))):
        errors.extend(_explain(error))
    return list(dict.fromkeys(errors))


def validate_card(card: dict[str, Any]) -> None:
    """Raise AssertionError listing every error when `card` is not a valid Adaptive Card 1.5."""
    errors = card_errors(card)
    if errors:
        raise AssertionError("invalid Adaptive Card:\n  " + "\n  ".join(errors))
