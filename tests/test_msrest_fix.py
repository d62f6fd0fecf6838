"""The start-up fixes to msrest give exactly what msrest gave before, only sooner."""

from __future__ import annotations

import datetime as dt
import enum
import types
from typing import Any

from botbuilder import schema
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, CardAction
from botframework.connector import models
from hypothesis import given
from hypothesis import strategies as st
from msrest.exceptions import SerializationError
from msrest.serialization import Deserializer, Model, Serializer, attribute_transformer, last_restapi_key_transformer
from msrest.universal_http.requests import ClientRetryPolicy

from cards.message import OutgoingMessage
from teams import msrest_fix
from teams.activity import to_activity
from tests import teams_activities

# msrest 0.7.1's own definition, spelled out: retry 408, and 500-998 but 501 and 505
ORIGINAL = [i for i in range(999) if i not in ([i for i in range(500) if i != 408] + [501, 505])]
CLIENT_MODELS = {k: v for k, v in models.__dict__.items() if isinstance(v, type)}
SCHEMA_MODELS = {**CLIENT_MODELS, **{k: v for k, v in vars(schema).items() if isinstance(v, type)}}


def test_the_retry_policy_retries_the_same_codes_after_the_speedup():
    msrest_fix.apply()
    msrest_fix.apply()  # idempotent
    assert list(ClientRetryPolicy().policy.status_forcelist) == ORIGINAL


def _serializers(client_models: dict[str, type] = CLIENT_MODELS) -> tuple[Serializer, Serializer]:
    """(with the fixes, with msrest's own `serialize_object` and `_serialize` all the way down)."""
    msrest_fix.apply()
    fixed = Serializer(client_models)
    original = Serializer(client_models)
    original.serialize_object = types.MethodType(msrest_fix._msrest_serialize_object, original)  # type: ignore[method-assign]
    original._serialize = types.MethodType(msrest_fix._msrest_serialize, original)  # type: ignore[method-assign]
    original.serialize_type["object"] = original.serialize_object  # type: ignore[assignment]
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


SERVICE_URL = "https://smba.trafficmanager.net/emea/"


def _teams_activities() -> list[Activity]:
    bodies = [
        teams_activities.message("hej", service_url=SERVICE_URL),
        teams_activities.message("tvåfaktor", service_url=SERVICE_URL, conversation_type="channel", mention_bot=True),
        teams_activities.message("hjälp", service_url=SERVICE_URL, conversation_type="groupChat", mention_bot=True),
        teams_activities.card_submit({"cmd": "guide", "step": 2}, service_url=SERVICE_URL),
        teams_activities.conversation_update([teams_activities.BOT_ID], service_url=SERVICE_URL),
        teams_activities.conversation_update(
            [teams_activities.BOT_ID], service_url=SERVICE_URL, conversation_type="channel"
        ),
        teams_activities.installation_update("remove", service_url=SERVICE_URL),
    ]
    return [Activity().deserialize(body) for body in bodies]


def test_activities_and_references_serialize_as_msrest_serializes_them():
    fixed, original = _serializers(SCHEMA_MODELS)
    for activity in _teams_activities():
        reference = TurnContext.get_conversation_reference(activity)
        reply = TurnContext.apply_conversation_reference(to_activity(OutgoingMessage(text="Hej")), reference)
        for model, kind in ((activity, "Activity"), (reference, "ConversationReference"), (reply, "Activity")):
            assert fixed.body(model, kind) == original.body(model, kind)
            assert fixed._serialize(model) == original._serialize(model)
            for transformer in (attribute_transformer, last_restapi_key_transformer):
                kwargs = {"key_transformer": transformer, "keep_readonly": True}
                assert fixed._serialize(model, **kwargs) == original._serialize(model, **kwargs)
    assert msrest_fix._serialize is Serializer._serialize  # the fix was the one under test


class _OpenModel(Model):
    """The msrest features Bot Framework models do not use: extra properties, a flattened key, read-only."""

    _attribute_map = {  # noqa: RUF012 - msrest reads it from the class
        "additional_properties": {"key": "", "type": "{object}"},
        "name": {"key": "name", "type": "str"},
        "nested": {"key": "properties.nested", "type": "str"},
        "server_set": {"key": "serverSet", "type": "str"},
        "count": {"key": "count", "type": "int"},
        "when": {"key": "when", "type": "iso-8601"},
    }
    _validation = {"server_set": {"readonly": True}}  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.additional_properties = kwargs.get("additional_properties")  # type: ignore[assignment]
        self.name = kwargs.get("name")
        self.nested = kwargs.get("nested")
        self.server_set = kwargs.get("server_set")
        self.count = kwargs.get("count")
        self.when = kwargs.get("when")


def _outcome(serializer: Serializer, model: Model, **kwargs: Any) -> Any:
    try:
        return serializer._serialize(model, **kwargs)
    except Exception as exc:  # noqa: BLE001 - compared
        return type(exc), str(exc)


def test_msrest_features_bot_framework_does_not_use_serialize_as_in_msrest():
    fixed, original = _serializers({"_OpenModel": _OpenModel})
    models_ = [
        _OpenModel(name="a", nested="b", server_set="c", count=3, additional_properties={"extra": [1, {"x": None}]}),
        _OpenModel(nested="only", when=dt.datetime(2026, 9, 13, 8, 0, tzinfo=dt.UTC)),
        _OpenModel(),
        _OpenModel(count="not a number"),  # fails in both
    ]
    for model in models_:
        for kwargs in ({}, {"keep_readonly": True}, {"key_transformer": attribute_transformer}):
            assert _outcome(fixed, model, **kwargs) == _outcome(original, model, **kwargs), (model, kwargs)
    assert _outcome(fixed, models_[0]) == {
        "extra": [1, {"x": None}],
        "name": "a",
        "properties": {"nested": "b"},
        "count": 3,
    }
    assert _outcome(fixed, models_[3])[0] is SerializationError


def test_activities_deserialize_as_msrest_deserializes_them():
    msrest_fix.apply()
    bodies = [
        teams_activities.message("hej", service_url=SERVICE_URL),
        {**teams_activities.message("hej", service_url=SERVICE_URL), "futureField": {"a": 1}},
        teams_activities.message("tvåfaktor", service_url=SERVICE_URL, conversation_type="channel", mention_bot=True),
        teams_activities.card_submit({"cmd": "guide", "step": 2}, service_url=SERVICE_URL),
        teams_activities.conversation_update([teams_activities.BOT_ID], service_url=SERVICE_URL),
    ]
    for body in bodies:
        fixed = Deserializer(SCHEMA_MODELS)
        original = Deserializer(SCHEMA_MODELS)
        original._build_additional_properties = types.MethodType(  # type: ignore[method-assign]
            msrest_fix._msrest_build_additional_properties, original
        )
        ours, theirs = fixed("Activity", body), original("Activity", body)
        assert ours == theirs  # msrest's Model.__eq__ compares every attribute, nested models too
        assert ours.conversation.additional_properties == {"tenantId": teams_activities.TENANT_ID}
    assert ours.additional_properties == {}
    assert fixed("Activity", bodies[1]).additional_properties == {"futureField": {"a": 1}}


def _validation_outcome(model: Model) -> Any:
    try:
        return [str(error) for error in model.validate()]
    except Exception as exc:  # noqa: BLE001 - compared
        return type(exc), str(exc)


def test_validation_finds_what_msrest_finds(monkeypatch):
    msrest_fix.apply()
    highlighted = to_activity(OutgoingMessage(text="Hej"))
    highlighted.text_highlights = [schema.TextHighlight(text="Hej", occurrence=1)]
    broken = to_activity(OutgoingMessage(text="Hej"))
    broken.text_highlights = [schema.TextHighlight(text="Hej", occurrence="first")]  # not an int
    models_: list[Model] = [*_teams_activities(), highlighted, broken, _OpenModel(name="a", count=2)]
    models_.append(_OpenModel(count="x"))  # a class with constraints: msrest's own code
    ours = [_validation_outcome(model) for model in models_]
    monkeypatch.setattr(Model, "validate", msrest_fix._msrest_validate)
    assert ours == [_validation_outcome(model) for model in models_]
    assert ours[-3][0] is ValueError  # the bad occurrence fails in both
