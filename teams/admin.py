"""The admins' chat commands, wired to Teams: announcements and the curator's report.

`announcements/` and `helpdesk/` are plain Python; this module adapts them to a turn:
- "utskick förhandsvisa" / "utskick skicka" typed in a personal chat, the confirm card's button,
  and the summary posted back to the admin (proactively, with `continue_conversation`) when a
  background send ends (`AnnouncementAdmin`);
- "rapport" in a personal chat: the ten biggest groups of unanswered, asked-back and 👎 questions as a card
  (`ReportAdmin`). Anyone not in ADMIN_AAD_IDS is answered as if it were an ordinary question.
The announcement's checklist ("Spara", from anyone) and the admins' "beredskap" with its
reminder button go to `teams.readiness`. `chain_admin_hooks` gives the activity handler one hook for all of them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from botbuilder.core import TurnContext

from announcements.admin import (
    handle_admin_command,
    handle_admin_submit,
    is_admin,
    is_admin_submit,
    parse_admin_command,
    summary_message,
)
from announcements.checklist_turns import is_checklist_submit, is_readiness_command
from announcements.schedule import run_scheduler
from announcements.service import AnnouncementService
from cards.report import report_card
from helpdesk.report import is_report_command, load_report, top_groups
from knowledge.models import KnowledgeBase
from storage import KeyedStorage
from teams.activity import to_activity
from teams.readiness import ReadinessTurns

__all__ = ["AnnouncementAdmin", "ReportAdmin", "AdminHook", "chain_admin_hooks"]

AdminHook = Callable[[TurnContext, str, Any], Awaitable[bool]]
"""Handles the turn if it is an admin command; True when it was."""


def chain_admin_hooks(*hooks: AdminHook) -> AdminHook:
    """One hook that asks each in turn until one handles the turn."""

    async def chained(turn_context: TurnContext, text: str, value: Any) -> bool:
        for hook in hooks:
            if await hook(turn_context, text, value):
                return True
        return False

    return chained


log = logging.getLogger(__name__)


class AnnouncementAdmin:
    """Admin chat commands ("utskick förhandsvisa", "utskick skicka") and the scheduler task."""

    def __init__(
        self,
        service: AnnouncementService,
        *,
        app_id: str,
        poll_seconds: float = 30.0,
        clock: Callable[[], dt.datetime] | None = None,
    ):
        self.service = service
        self.app_id = app_id
        self.poll_seconds = poll_seconds
        self.readiness = ReadinessTurns(service, app_id=app_id, clock=clock)

    async def handle(self, turn_context: TurnContext, text: str, value: Any) -> bool:
        """Handle the turn if it is an announcement command; True when it was."""
        if value is not None and is_checklist_submit(value):
            await self.readiness.submit(turn_context, value)
            return True
        if value is None and is_readiness_command(text):
            await self.readiness.readiness(turn_context)
            return True
        activity = turn_context.activity
        aad_id = activity.from_property.aad_object_id if activity.from_property else None
        scope = (activity.conversation.conversation_type if activity.conversation else None) or "personal"
        if value is not None:
            if not is_admin_submit(value):
                return False
            reference = TurnContext.get_conversation_reference(activity)
            adapter = turn_context.adapter

            async def on_done(result: Any) -> None:
                async def post(context: TurnContext) -> None:
                    await context.send_activity(to_activity(summary_message(result)))

                try:
                    await adapter.continue_conversation(reference, post, self.app_id)
                except Exception:
                    log.exception("could not tell the admin that the announcement finished")

            reply = await handle_admin_submit(value, aad_id, self.service, on_done, conversation_type=scope)
        else:
            command = parse_admin_command(text)
            if command is None:
                return False
            reply = await handle_admin_command(command, aad_id, self.service, conversation_type=scope)
        await turn_context.send_activity(to_activity(reply.message))
        return True

    async def start_background(self) -> asyncio.Event:
        stop = asyncio.Event()
        self.service.track(asyncio.create_task(run_scheduler(self.service, stop, poll_seconds=self.poll_seconds)))
        return stop

    async def stop_background(self, stop: asyncio.Event) -> None:
        stop.set()
        await self.service.close()


class ReportAdmin:
    """ "rapport" from an admin in a personal chat: the report's top ten as a card."""

    def __init__(
        self, storage: KeyedStorage, kb: KnowledgeBase, *, admin_ids: Iterable[str], retention_days: int
    ) -> None:
        self.storage = storage
        self.kb = kb
        self.admin_ids = list(admin_ids)
        self.retention_days = retention_days

    async def handle(self, turn_context: TurnContext, text: str, value: Any) -> bool:
        activity = turn_context.activity
        scope = (activity.conversation.conversation_type if activity.conversation else None) or "personal"
        if value is not None or scope != "personal" or not is_report_command(text):
            return False
        aad_id = activity.from_property.aad_object_id if activity.from_property else None
        if not is_admin(aad_id, self.admin_ids):
            return False  # an ordinary word for everyone else
        report = await load_report(self.storage, self.kb)
        message = report_card(
            top_groups(report, 10),
            topic_titles={t.id: t.title for t in self.kb.topics},
            questions=report.total,
            retention_days=self.retention_days,
        )
        await turn_context.send_activity(to_activity(message))
        log.info("report card sent to an admin (%d groups)", min(10, len(report.questions)))
        return True
