"""Shared pytest fixtures. Keep each fixture small and say what it provides."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fake_connector import FakeConnector
from tests.teams_activities import TeamsActivities


@pytest.fixture
async def fake_connector(request: pytest.FixtureRequest) -> AsyncIterator[FakeConnector]:
    """A running fake Bot Connector on 127.0.0.1; use `fake_connector.url` as serviceUrl.

    At the end of the test every message it received (sent, created or updated) is checked as the
    bot's (`tests.bot_harness.check_message`: text XOR one card, never both), whatever sent it:
    replies, hand-offs, announcements, card updates. Tests that send activities of their own are
    marked `any_activity`."""
    async with FakeConnector() as fake:
        yield fake
        if request.node.get_closest_marker("any_activity") is None:
            from tests.bot_harness import check_message

            for record in fake.requests:
                if record.kind in ("send", "reply", "create_conversation", "update") and record.status < 300:
                    if record.activity is not None and record.activity.get("type", "message") == "message":
                        check_message(record.activity)


@pytest.fixture
def teams(fake_connector: FakeConnector) -> TeamsActivities:
    """Teams-shaped activity builders whose serviceUrl is the running fake connector."""
    return TeamsActivities(fake_connector.url)


# The bot under test, served on loopback with in-memory storage (tests/bot_harness.py).
# Azurite, the Azure Storage emulator, for the Azure Blob storage tests (tests/azurite.py).
from tests.azurite import azurite
from tests.bot_harness import bot

# The Microsoft 365 Agents Playground in front of `python bot.py`, per test module (tests/playground.py).
from tests.playground import playground
