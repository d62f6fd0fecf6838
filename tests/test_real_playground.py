"""Against a real component: the Microsoft 365 Agents Playground, Microsoft's local Teams emulator.

The bot runs as `python bot.py` (a separate process, as in production) and the Playground (npm,
pinned in tools/playground) talks to it as Teams would, with its own activity shapes, its own
connector for replies, and Adaptive Card submits. Needs Node; skipped where there is none (failed under CI).
"""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

# `playground` (tests/playground.py, via conftest): the Playground's URL in front of `python bot.py`.


class Emulated:
    """One user talking to the bot through the Playground; bot messages arrive on its websocket."""

    def __init__(self, session: aiohttp.ClientSession, url: str, config: dict, ws):
        self.session, self.url, self.config, self.ws = session, url, config, ws
        self.bot_id = config["bot"]["id"]
        self.user_id = config["currentUser"]["id"]

    async def say(self, conversation_id: str, text: str, *, mention: bool = False, expect: int = 1) -> list[dict]:
        body = {"from": {"id": self.user_id}, "text": text, "textFormat": "plain"}
        if mention:
            tag = f"<at>{self.config['bot']['name']}</at>"
            body["text"] = f"{tag} {text}"
            body["mentions"] = [{"mentioned": {"id": self.bot_id}, "text": tag}]
        await self.session.post(f"{self.url}/_conversation/v1/conversations/{conversation_id}/messages", json=body)
        return await self.replies(expect)

    async def press(self, conversation_id: str, message_id: str, value: dict, expect: int = 1) -> list[dict]:
        await self.session.post(
            f"{self.url}/_conversation/v1/submit",
            json={
                "conversation": {"id": conversation_id},
                "from": {"id": self.user_id},
                "replyToId": message_id,
                "value": value,
            },
        )
        return await self.replies(expect)

    async def nothing_more(self, wait: float = 1.0) -> list[dict]:
        """Bot messages that arrive within `wait` seconds (none, when a turn said all it had to)."""
        try:
            return await self.replies(1, timeout=wait)
        except TimeoutError:
            return []

    async def replies(self, count: int, timeout: float = 20) -> list[dict]:
        """The next `count` messages from the bot (text-only or card, as the Playground shows them)."""
        got: list[dict] = []
        async with asyncio.timeout(timeout):
            while len(got) < count:
                frame = await self.ws.receive()
                data = json.loads(frame.data)
                message = data.get("message") or {}
                if data.get("action") == "createMessage" and (message.get("from") or {}).get("id") == self.bot_id:
                    got.append({**message, "conversationId": data.get("actionConversationId")})
        return got


@pytest.fixture
async def emulated(playground):
    async with aiohttp.ClientSession() as session:
        config = (await (await session.get(f"{playground}/_internal/v1/config")).json())["config"]
        async with session.ws_connect(f"{playground}/_ws_conversation/v1/conversations/stream") as ws:
            yield Emulated(session, playground, config, ws)


def _text(messages: list[dict]) -> str:
    parts = []
    for message in messages:
        parts.append(message.get("text") or "")
        for attachment in message.get("attachments") or []:
            parts.append(json.dumps(attachment.get("content"), ensure_ascii=False))
    return "\n".join(parts)


def _card_message(messages: list[dict]) -> dict:
    return next(m for m in messages if m.get("attachments"))


async def test_the_real_teams_emulator_gets_an_answer_with_the_official_link(emulated):
    personal = emulated.config["personalChat"]["id"]
    replies = await emulated.say(personal, "hur slår jag på tvåfaktor på insta?")
    assert "https://www.instagram.com/accounts/two_factor_authentication/" in _text(replies)
    assert not replies[0].get("text")  # the card alone: with text too, Teams shows two messages
    assert await emulated.nothing_more() == []


async def test_the_guide_runs_in_the_real_emulator_by_typing_and_by_pressing_buttons(emulated):
    personal = emulated.config["personalChat"]["id"]
    replies = await emulated.say(personal, "starta guiden")  # introduction and step 1, one message
    assert "Steg 1 av 11" in _text(replies)
    step_card = _card_message(replies)
    button = next(
        a["data"]
        for a in step_card["attachments"][0]["content"]["actions"]
        if a.get("data", {}).get("action") == "next"
    )
    replies = await emulated.press(personal, step_card["messageId"], button)
    assert "Steg 2 av 11" in _text(replies)
    replies = await emulated.say(personal, "nästa")
    assert "Steg 3 av 11" in _text(replies)
    await emulated.say(personal, "avbryt")
    assert await emulated.nothing_more() == []


async def test_a_mention_in_the_emulators_team_channel_is_answered_there(emulated):
    channel = emulated.config["teams"][0]["channels"][0]["id"]
    replies = await emulated.say(channel, "när är valet?", mention=True)
    assert "valet" in _text(replies).lower()
    assert all(r["conversationId"].startswith(channel) for r in replies)
