"""The checklist on Teams: "Spara" presses, the admins' "beredskap", the reminder button.

`announcements.checklist_turns` decides; this module does the Bot Connector work: it redraws
every checklist card of the conversation in place (`PUT .../activities/{id}`; the card that was
pressed through `turn_context.update_activity` with the submit's `replyToId`, the others through
the turn's connector client), posts the reply, and tells the admin when a reminder has gone out.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.cloud_adapter_base import CloudAdapterBase
from botbuilder.schema import ConversationAccount

from announcements.checklist_turns import (
    CardUpdate,
    handle_checklist_submit,
    handle_readiness_command,
    reminder_done_message,
)
from announcements.registry import registry_id, scope_of
from announcements.service import AnnouncementService
from cards.message import OutgoingMessage
from teams.activity import conversation_scope, to_activity

__all__ = ["ReadinessTurns"]

log = logging.getLogger(__name__)


class ReadinessTurns:
    """Checklist submits and "beredskap" for one bot."""

    def __init__(
        self, service: AnnouncementService, *, app_id: str, clock: Callable[[], dt.datetime] | None = None
    ) -> None:
        self.service = service
        self.app_id = app_id
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    async def submit(self, turn_context: TurnContext, value: dict[str, Any]) -> None:
        activity = turn_context.activity
        data: dict[str, Any] = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        team = data.get("team")
        team = team if isinstance(team, dict) else {}
        kind = activity.conversation.conversation_type if activity.conversation else None
        record_id = registry_id(activity.conversation.id, scope_of(kind), team.get("id"))
        sender = activity.from_property
        reference = TurnContext.get_conversation_reference(activity)
        adapter = turn_context.adapter

        async def on_reminder_done(result: Any) -> None:
            async def post(context: TurnContext) -> None:
                await context.send_activity(to_activity(reminder_done_message(result)))

            try:
                await adapter.continue_conversation(reference, post, self.app_id)
            except Exception:
                log.exception("could not tell the admin that the reminder finished")

        outcome = await handle_checklist_submit(
            value,
            service=self.service,
            conversation_id=record_id,
            by=(sender.name or None) if sender else None,
            aad_object_id=sender.aad_object_id if sender else None,
            now=self.clock(),
            conversation_type=conversation_scope(activity),
            pressed_activity_id=activity.reply_to_id,
            turn_conversation_id=activity.conversation.id,
            on_reminder_done=on_reminder_done,
        )
        redrawn = await self._redraw(turn_context, outcome.updates)
        reply = outcome.reply
        if outcome.result == "saved" and outcome.updates and not redrawn:
            reply = reply or _not_redrawn()
        if reply is not None:
            await turn_context.send_activity(to_activity(reply))

    async def readiness(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        aad_id = activity.from_property.aad_object_id if activity.from_property else None
        message = await handle_readiness_command(self.service, aad_id, conversation_type=conversation_scope(activity))
        await turn_context.send_activity(to_activity(message))

    async def _redraw(self, turn_context: TurnContext, updates: list[CardUpdate]) -> bool:
        """Update each card in place; True when every update went through."""
        activity = turn_context.activity
        pressed = activity.reply_to_id
        client = turn_context.turn_state.get(CloudAdapterBase.BOT_CONNECTOR_CLIENT_KEY)
        ok = True
        for update in updates:
            replacement = to_activity(update.message)
            replacement.id = update.activity_id
            if replacement.attachments:
                # The card alone: its fallbackText and the summary carry the text (an update with
                # text and a card is two messages to the Agents Playground, which refuses it).
                replacement.text = None
            try:
                if update.activity_id == pressed:
                    await turn_context.update_activity(replacement)
                else:
                    replacement.conversation = ConversationAccount(id=update.conversation_id)
                    replacement.service_url = activity.service_url
                    replacement.channel_id = activity.channel_id
                    replacement.from_property = activity.recipient
                    await client.conversations.update_activity(update.conversation_id, update.activity_id, replacement)
            except Exception:
                ok = False
                log.warning("could not update checklist card %s", update.activity_id, exc_info=True)
        return ok


def _not_redrawn() -> OutgoingMessage:
    return OutgoingMessage(text="Det är sparat, men kortet kunde inte uppdateras just nu. Det visas rätt nästa gång.")
