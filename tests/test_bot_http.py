"""Malformed requests to /api/messages get a 4xx, no stack trace, and the server keeps serving."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize(
    "content_type, raw, status",
    [
        pytest.param("application/json", b"{not json", 400, id="not-json"),
        pytest.param("application/json", b"\xff\xfe\x00garbage", 400, id="not-utf8"),
        pytest.param("application/json", b"[1, 2, 3]", 400, id="json-array"),
        pytest.param("application/json", b'{"hello": "world"}', 400, id="json-not-activity"),
        pytest.param(
            "application/json", b'{"type": "message", "text": "hej"}', 400, id="activity-without-conversation"
        ),
        pytest.param("application/json", b'{"type": 42}', 400, id="type-not-string"),
        pytest.param(
            "application/json",
            b'{"type": "message", "channelId": "msteams", "serviceUrl": "http://127.0.0.1:9/", '
            b'"conversation": {"id": "a:1"}, "recipient": {"id": "28:b"}, "channelData": {}}',
            400,
            id="no-from",
        ),
        pytest.param(
            "application/json",
            b'{"type": "message", "channelId": "msteams", "serviceUrl": "file:///etc/passwd", '
            b'"conversation": {"id": "a:1"}, "from": {"id": "29:u"}, "recipient": {"id": "28:b"}, "channelData": {}}',
            400,
            id="service-url-not-http",
        ),
        pytest.param(
            "application/json",
            b'{"type": "message", "channelId": "msteams", "serviceUrl": "https://attacker.example/", '
            b'"conversation": {"id": "a:1"}, "from": {"id": "29:u"}, "recipient": {"id": "28:b"}}',
            400,
            id="service-url-not-microsoft",
        ),
        pytest.param(
            "application/json",
            b'{"type": "message", "channelId": "msteams", "serviceUrl": "https://u:p@smba.trafficmanager.net/emea/", '
            b'"conversation": {"id": "a:1"}, "from": {"id": "29:u"}, "recipient": {"id": "28:b"}}',
            400,
            id="service-url-with-credentials",
        ),
        pytest.param("application/json", b"[" * 100000 + b"]" * 100000, 400, id="deeply-nested"),
        pytest.param("text/plain", b'{"type": "message"}', 415, id="wrong-content-type"),
        pytest.param("", b'{"type": "message"}', 415, id="no-content-type"),
        pytest.param(
            "application/json", b'{"type": "message", "text": "' + b"a" * 1_000_000 + b'"}', 413, id="1MB-body"
        ),
    ],
)
async def test_malformed_requests_get_a_4xx_and_the_server_keeps_serving(bot, teams, content_type, raw, status):
    got, text = await bot.post(None, content_type=content_type, raw=raw)
    assert got == status
    assert "Traceback" not in text and 'File "' not in text
    assert json.loads(text)["error"]
    replies = await bot.send(teams.message("tvåfaktor insta"))
    assert replies, "the server stopped answering"


async def test_a_huge_message_text_is_answered_not_crashed(bot, teams):
    replies = await bot.send(teams.message("tvåfaktor instagram " * 2500))
    assert replies


async def test_with_an_app_id_a_request_without_a_valid_token_is_refused(fake_connector, teams):
    from tests.bot_harness import RunningBot, test_settings

    settings = test_settings(
        MicrosoftAppId="00000000-1111-2222-3333-444444444444",
        MicrosoftAppPassword="x",
        MicrosoftAppType="SingleTenant",
        MicrosoftAppTenantId="5f0c3a2e-8b7d-4c1a-9e6f-2d4b8a7c1e90",
    )
    running = await RunningBot(fake_connector, settings).start()
    try:
        status, text = await running.post(teams.message("hej"))
        assert status == 401
        assert "Traceback" not in text
        assert fake_connector.sent() == []
    finally:
        await running.stop()


def _mutations(activity: dict, rounds: int, seed: int = 7):
    """Deterministic variations of a valid activity: keys dropped, values of the wrong type."""
    import copy
    import random

    rng = random.Random(seed)
    odd_values = [None, 0, -1, 3.5, True, "", "x" * 5000, [], [1, "a"], {}, {"id": None}, "<at>x</at>", "\x00\ud800"]

    def paths(node, prefix=()):
        if isinstance(node, dict):
            for key, value in node.items():
                yield (*prefix, key)
                yield from paths(value, (*prefix, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield (*prefix, index)
                yield from paths(value, (*prefix, index))

    all_paths = list(paths(activity))
    for _ in range(rounds):
        variant = copy.deepcopy(activity)
        for path in rng.sample(all_paths, k=rng.randint(1, 3)):
            parent = variant
            try:
                for part in path[:-1]:
                    parent = parent[part]
                if rng.random() < 0.3 and isinstance(parent, dict):
                    parent.pop(path[-1], None)
                else:
                    parent[path[-1]] = rng.choice(odd_values)
            except (KeyError, IndexError, TypeError):
                continue
        yield variant


@pytest.mark.parametrize("kind", ["message", "card_submit", "conversation_update", "installation_update"])
async def test_mangled_teams_activities_never_get_a_5xx(bot, teams, kind):
    import json as _json

    base = {
        "message": lambda: teams.message("tvåfaktor insta", conversation_type="channel", mention_bot=True),
        "card_submit": lambda: teams.card_submit(
            {"cmd": "guide", "action": "next", "guide": "facebook_2fa", "step": 1}
        ),
        "conversation_update": lambda: teams.conversation_update(
            members_added=["28:bot-id"], conversation_type="channel"
        ),
        "installation_update": lambda: teams.installation_update("add"),
    }[kind]()
    statuses = set()
    for variant in _mutations(base, rounds=60):
        raw = _json.dumps(variant, ensure_ascii=True).encode()
        status, text = await bot.post(None, raw=raw)
        statuses.add(status)
        assert status < 500, (status, text, variant)
        assert "Traceback" not in text
    assert statuses & {200, 201}, statuses  # most variants still reach the bot, not only the validator
    assert await bot.send(teams.message("hej"))  # still serving
