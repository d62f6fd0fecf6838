"""The experts' desk in Teams: post a question to the experts, and close the loop when they answer.

- `hand_off`: the experts' card goes to a new thread in the experts' channel (`EXPERTS_CHANNEL_ID`)
  or, without a channel, into the asking thread with the experts (`EXPERT_AAD_IDS`) @mentioned.
  Its "Besvarad" button carries only a random id; the rest is a `helpdesk.handoff.HandoffRecord`
  in our storage: the asker's conversation reference (no user), the asking message's id, and
  where the card is.
- `answered`: an expert pressed "Besvarad". Only in the experts' place (the experts' channel, or
  by an expert mentioned on the card). The record is marked answered once (compare-and-set), the
  asker is told in their own conversation (a proactive message through the stored reference),
  and the card is updated in place to say who answered. A second press is refused politely.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from botbuilder.core import TurnContext
from botbuilder.core.cloud_adapter_base import CloudAdapterBase
from botbuilder.schema import ConversationReference

from cards.escape import escape_markdown
from cards.handoff import answered_notice, expert_message, with_expert_mentions
from cards.message import OutgoingMessage
from helpdesk.handoff import (
    HandoffRecord,
    HandoffRequest,
    HandoffTarget,
    load_handoff,
    mark_answered,
    new_handoff_id,
    save_handoff,
    unmark_answered,
    valid_handoff_id,
)
from storage import KeyedStorage
from teams.activity import start_channel_thread, to_activity

__all__ = ["ExpertDesk"]

log = logging.getLogger(__name__)

PROACTIVE_TIMEOUT_SECONDS = 30.0
"""Telling the asker waits at most this long for the Bot Connector."""

_GONE = (
    "Jag hittar inte den frågan längre (sparade frågor tas bort efter en tid), så jag kan inte "
    "meddela den som frågade. Svara gärna direkt där frågan ställdes."
)
_NOT_YOURS = "Den knappen är till för stadens experter. De trycker på den när frågan är besvarad."
_ALREADY = "Den frågan är redan markerad som besvarad, och den som frågade har fått veta det. Tack!"
_UNREACHABLE = "Jag kunde inte nå den som frågade just nu. Tryck på ”Besvarad” igen om en stund."


def _thread_base(conversation_id: str | None) -> str:
    """`19:x@thread.tacv2;messageid=5` -> `19:x@thread.tacv2`: a channel, whichever thread."""
    return (conversation_id or "").split(";messageid=", 1)[0]


class ExpertDesk:
    """Hand-offs to the experts and their "Besvarad"; one per app."""

    def __init__(
        self,
        target: HandoffTarget,
        storage: KeyedStorage,
        *,
        app_id: str = "",
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.target = target
        self.storage = storage
        self.app_id = app_id
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    # ------------------------------------------------------------------ hand-off
    async def hand_off(self, turn_context: TurnContext, request: HandoffRequest, *, tenant_id: str | None) -> None:
        """Post the experts' card and remember the hand-off; errors are logged, never raised (the
        user already has their answer)."""
        activity = turn_context.activity
        handoff_id = new_handoff_id()
        message = expert_message(request, handoff_id=handoff_id)
        try:
            if self.target.channel_id:
                connector = turn_context.turn_state.get(CloudAdapterBase.BOT_CONNECTOR_CLIENT_KEY)
                response = await start_channel_thread(
                    connector, self.target.channel_id, to_activity(message), bot=activity.recipient, tenant_id=tenant_id
                )
                where = getattr(response, "id", None) or self.target.channel_id
                card_id = getattr(response, "activity_id", None)
            elif self.target.expert_ids:
                message = with_expert_mentions(message, self.target.expert_ids)
                response = await turn_context.send_activity(to_activity(message))
                where, card_id = activity.conversation.id, getattr(response, "id", None)
            else:
                return
            log.info("question handed to people (%s)", request.reason)
        except Exception:
            log.exception("could not hand the question to people")
            return

        reference = TurnContext.get_conversation_reference(activity)
        reference.user = None  # the notice goes to the conversation; no need to keep who asked
        # A button press answers the card it sits on; a typed question is its own message.
        asked = activity.reply_to_id if activity.value is not None and activity.reply_to_id else activity.id
        reference.activity_id = asked
        record = HandoffRecord(
            id=handoff_id,
            created_at=self.clock(),
            request=request,
            reference=reference.serialize(),
            asker_message_id=asked,
            experts_conversation_id=where,
            experts_activity_id=card_id,
        )
        try:
            await save_handoff(self.storage, record)
        except Exception:
            log.exception("could not remember the hand-off; its Besvarad button will say so")

    # ------------------------------------------------------------------ "Besvarad"
    async def answered(self, turn_context: TurnContext) -> None:
        """An expert pressed "Besvarad" on the card of `value["id"]`."""
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        handoff_id = value.get("id")
        loaded = await load_handoff(self.storage, str(handoff_id)) if valid_handoff_id(handoff_id) else None
        if loaded is None:
            await self._say(turn_context, _GONE)
            return
        if not self._may_answer(turn_context, loaded[0]):
            await self._say(turn_context, _NOT_YOURS)
            return
        outcome, record = await mark_answered(self.storage, loaded[0].id, self.clock())
        if outcome == "missing" or record is None:
            await self._say(turn_context, _GONE)
            return
        if outcome == "already":
            await self._say(turn_context, _ALREADY)
            return
        try:
            await asyncio.wait_for(self._tell_asker(turn_context, record), PROACTIVE_TIMEOUT_SECONDS)
        except Exception:
            log.exception("could not tell the asker that the experts have answered")
            await unmark_answered(self.storage, record)
            await self._say(turn_context, _UNREACHABLE)
            return
        log.info("hand-off answered; the asker was told")
        # The conversation's address is not needed any more: keep only that it was answered.
        record.reference, record.asker_message_id = {}, None
        await save_handoff(self.storage, record)
        await self._mark_card(turn_context, record)

    def _may_answer(self, turn_context: TurnContext, record: HandoffRecord) -> bool:
        """Pressed where the card is, by the experts: in the experts' channel, or (mentions) by
        one of the experts."""
        activity = turn_context.activity
        here = _thread_base(activity.conversation.id if activity.conversation else None)
        if not here or here != _thread_base(record.experts_conversation_id):
            return False
        if self.target.channel_id:
            return here == self.target.channel_id
        aad_id = activity.from_property.aad_object_id if activity.from_property else None
        return bool(aad_id) and aad_id in self.target.expert_ids

    async def _tell_asker(self, turn_context: TurnContext, record: HandoffRecord) -> None:
        reference = ConversationReference().deserialize(record.reference)
        notice = to_activity(answered_notice(record.request.scope))

        async def post(context: TurnContext) -> None:
            if record.asker_message_id:  # a reply to the message that asked (botbuilder replies to
                context.activity.id = record.asker_message_id  # the turn's activity id)
            await context.send_activity(notice)

        await turn_context.adapter.continue_conversation(reference, post, self.app_id)

    async def _mark_card(self, turn_context: TurnContext, record: HandoffRecord) -> None:
        """The experts' card, updated in place: "Besvarad av <name>", no button."""
        activity = turn_context.activity
        name = (activity.from_property.name if activity.from_property else None) or "en expert"
        updated = to_activity(expert_message(record.request, answered_by=name))
        updated.id = record.experts_activity_id or activity.reply_to_id
        try:
            await turn_context.update_activity(updated)
        except Exception:
            log.exception("could not update the experts' card")
            await self._say(
                turn_context, f"Tack! Jag har meddelat den som frågade att {escape_markdown(name)} har svarat."
            )

    @staticmethod
    async def _say(turn_context: TurnContext, text: str) -> None:
        await turn_context.send_activity(to_activity(OutgoingMessage(text=text)))
