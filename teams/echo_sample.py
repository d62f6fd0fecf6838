"""The benchmark baseline: Microsoft's echo bot, built as the official sample builds it.

Not part of Kanalvakten; `make bench` (benchmarks/side_by_side.py) runs it beside Kanalvakten, each
in its own process, against the same fake Bot Connector, and prints Kanalvakten's latency and
throughput as ratios of this bot's. It follows BotBuilder-Samples `samples/python/02.echo-bot`
(botbuilder 4.17.1): `DefaultConfig` read from the environment (empty app id: no authentication),
`CloudAdapter(ConfigurationBotFrameworkAuthentication(CONFIG))`, an `ActivityHandler` that answers
"Echo: <text>", the sample's `on_error`, and `ADAPTER.process(req, BOT)` behind
`aiohttp_error_middleware`. No storage, and none of Kanalvakten's fixes (no msrest fix, no cached
tokens or connector clients): a process that runs it must not import teams.app or teams.msrest_fix.

It lives in `teams/` because it is Bot Framework SDK code, and tests/test_layering.py keeps every
SDK import inside `teams/` without exceptions.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import traceback

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.core.integration import aiohttp_error_middleware
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

__all__ = ["DefaultConfig", "EchoBot", "create_echo_app"]


class DefaultConfig:
    """Bot Configuration (the sample's config.py)."""

    PORT = 3978
    APP_ID = os.environ.get("MicrosoftAppId", "")  # noqa: SIM112 - the SDK's names
    APP_PASSWORD = os.environ.get("MicrosoftAppPassword", "")  # noqa: SIM112 - the SDK's names
    APP_TYPE = os.environ.get("MicrosoftAppType", "MultiTenant")  # noqa: SIM112 - the SDK's names
    APP_TENANTID = os.environ.get("MicrosoftAppTenantId", "")  # noqa: SIM112 - the SDK's names


class EchoBot(ActivityHandler):
    """The sample's bots/echo_bot.py."""

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext):
        for member in members_added:
            if member.id != turn_context.activity.recipient.id:
                await turn_context.send_activity("Hello and welcome!")

    async def on_message_activity(self, turn_context: TurnContext):
        return await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))


async def _on_error(context: TurnContext, error: Exception) -> None:
    """The sample's on_error."""
    print(f"\n [on_turn_error] unhandled error: {error}", file=sys.stderr)
    traceback.print_exc()
    await context.send_activity("The bot encountered an error or bug.")
    await context.send_activity("To continue to run this bot, please fix the bot source code.")
    if context.activity.channel_id == "emulator":
        trace_activity = Activity(
            label="TurnError",
            name="on_turn_error Trace",
            timestamp=dt.datetime.now(dt.UTC),
            type=ActivityTypes.trace,
            value=f"{error}",
            value_type="https://www.botframework.com/schemas/error",
        )
        await context.send_activity(trace_activity)


def create_echo_app() -> web.Application:
    """The sample's app.py, built when called instead of at import."""
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(DefaultConfig()))
    adapter.on_turn_error = _on_error
    bot = EchoBot()

    async def messages(req: web.Request) -> web.Response:
        return await adapter.process(req, bot)

    app = web.Application(middlewares=[aiohttp_error_middleware])
    app.router.add_post("/api/messages", messages)
    return app
