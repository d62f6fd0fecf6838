"""The start-up fixes to msrest give exactly what msrest gave before, only sooner."""

from __future__ import annotations

import datetime as dt
import enum
import types
from typing import Any

from botbuilder.schema import CardAction
from botframework.connector import models
from hypothesis import given
from hypothesis import strategies as st
from msrest.serialization import Serializer
from msrest.universal_http.requests import ClientRetryPolicy

from cards.message import OutgoingMessage
from teams import msrest_fix
from teams.activity import to_activity

# msrest 0.7.1's own definition, spelled out: retry 408, and 500-998 but 501 and 505
ORIGINAL = [i for i in range(999) if i not in ([i for i in range(500) if i != 408] + [501, 505])]
CLIENT_MODELS = {k: v for k, v in models.__dict__.items() if isinstance(v, type)}


def test_the_retry_policy_retries_the_same_codes_after_the_speedup():
    msrest_fix.apply()
    msrest_fix.apply()  # idempotent
    assert list(ClientRetryPolicy().policy.status_forcelist) == ORIGINAL


def _serializers() -> tuple[Serializer, Serializer]:
    """(with the fix, with msrest's own serialize_object all the way down)."""
    msrest_fix.apply()
    fixed = Serializer(CLIENT_MODELS)
    original = Serializer(CLIENT_MODELS)
    original.serialize_object = types.MethodType(msrest_fix._msrest_serialize_object, original)  # type: ignore[method-assign]
    original.serialize_type["object"] = original.serialize_object
    return fixed, original


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


@given(JSON)
def test_a_plain_json_value_serializes_as_msrest_serializes_it(value):
    fixed, original = _serializers()
    assert fixed.serialize_object(value) == original.serialize_object(value)


class _Colour(enum.Enum):
    RED = "red"


class _Text(str):
    pass


def test_anything_else_takes_msrest_s_own_path():
    fixed, original = _serializers()
    when = dt.datetime(2026, 9, 13, 8, 0, tzinfo=dt.UTC)
    for value in (
        {"at": when, "n": 1},
        [CardAction(type="imBack", title="Ja", value="ja"), {"x": [1, 2.5, True, None]}],
        {1: "int key", "tuple": (1, 2)},
        {"enum": _Colour.RED, "text": _Text("subclass")},
        dt.date(2026, 9, 13),
    ):
        assert fixed.serialize_object(value) == original.serialize_object(value), value


def test_the_result_is_a_copy_like_msrest_s():
    fixed, _ = _serializers()
    card: dict[str, Any] = {"body": [{"type": "TextBlock", "text": "Hej"}]}
    copy = fixed.serialize_object(card)
    copy["body"][0]["text"] = "changed"
    assert card["body"][0]["text"] == "Hej"


def test_a_reply_with_a_card_has_the_same_body():
    fixed, original = _serializers()
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "**Tvåstegsverifiering**", "wrap": True, "size": "Medium"}],
        "actions": [{"type": "Action.Submit", "title": "Starta guiden", "data": {"cmd": "guide", "step": 1}}],
    }
    activity = to_activity(
        OutgoingMessage(text="Så slår du på tvåstegsverifiering", card=card, suggested=[("Ja", "ja")])
    )
    assert fixed.body(activity, "Activity") == original.body(activity, "Activity")
