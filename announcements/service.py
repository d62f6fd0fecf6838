"""Putting the pieces together for one bot: content, recipients, a send, with its sender.

`AnnouncementService` is what the bot holds (built in `create_app`, closed in `cleanup_ctx`):
it renders the configured announcement, says who it goes to, runs a send (the CLI, an admin in
chat, the scheduler), and keeps background sends so shutdown can stop them. It is given plain
values: the knowledge base loaded once, the configured election, the admins' ids, the broadcast
policy and a sender factory (the Bot Connector sender lives in `teams.sender`).

Every send goes through `send`, which refuses (before anything is sent) an announcement whose
election has passed (`ElectionPassed`) or that changed since it was confirmed
(`AnnouncementChanged`), and a second send of an announcement this bot is already sending
(`BroadcastBusy`; another process's send is caught by the broadcaster's run lock).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from announcements.broadcast import (
    BroadcastBusy,
    Broadcaster,
    BroadcastPolicy,
    BroadcastProgress,
    BroadcastSummary,
    MessageFor,
    Sender,
)
from announcements.clock import Clock, SystemClock
from announcements.content import AnnouncementContent, announcement_content
from announcements.ledger import Ledger, LedgerEntry
from announcements.readiness import ReadinessStore
from announcements.registry import ConversationRecord, ConversationRegistry
from announcements.reminders import ReminderPlan, Reminders
from cards.announcement import render_announcement
from cards.checklist import render_reminder
from cards.message import OutgoingMessage
from knowledge.answers import election_when
from knowledge.models import Election, KnowledgeBase
from storage import KeyedStorage

__all__ = [
    "Recipients",
    "AnnouncementService",
    "AnnouncementChanged",
    "ElectionPassed",
    "NoChecklist",
    "ReminderSummary",
    "SenderFactory",
    "election_passed_reason",
    "recipients_for",
]

log = logging.getLogger(__name__)

SenderFactory = Callable[[], Sender]
"""Makes a sender for one send; if it has `async close()`, it is closed afterwards."""


class ElectionPassed(Exception):
    """The configured election is over: the announcement would say "inför <valet>" and, a line
    later, "<valet> var den ..."; nothing is sent until the coming election is configured."""

    def __init__(self, content: AnnouncementContent) -> None:
        self.content = content
        super().__init__(election_passed_reason(content))


class AnnouncementChanged(ValueError):
    """The knowledge base's announcement is no longer the one previewed, confirmed or scheduled."""


def election_passed_reason(content: AnnouncementContent) -> str:
    """Why a past election's announcement is refused, and what to do (English, like the CLI)."""
    election = content.election
    return (
        f"the configured election has passed: {election.name} was on {election.date.isoformat()} "
        f"(today is {content.as_of.isoformat()}); set ELECTION_NAME and ELECTION_DATE (YYYY-MM-DD) "
        "to the coming election (or change it in knowledge/data/organisation.yaml), check it with "
        "'announce preview', then send"
    )


class NoChecklist(ValueError):
    """The announcement has no checklist, so there is nothing to remind of."""


_R = TypeVar("_R")

_REMIND_KEY = "remind:"
"""Prefix of a reminder's entry in `AnnouncementService._active` (a send uses the bare id)."""


class ReminderSummary(BaseModel):
    """What a `remind` did."""

    announcement_id: str
    round: int | None = None
    """The round sent (None: nobody needed a reminder)."""
    resumed: bool = False
    """An unfinished round was resumed instead of starting a new one."""
    broadcast: BroadcastSummary | None = None
    """The delivery of the round."""
    ready: int = 0
    """Conversations with every item settled."""
    reminded_recently: int = 0
    """Skipped: reminded within 72 hours."""
    not_delivered: int = 0
    """Skipped: the announcement has not reached them."""

    @property
    def ok(self) -> bool:
        return self.broadcast is None or self.broadcast.ok

    def lines(self) -> list[str]:
        skipped = (
            f"ready {self.ready}, reminded within 72 h {self.reminded_recently}, "
            f"announcement not delivered {self.not_delivered}"
        )
        if self.broadcast is None:
            return [f"reminder for {self.announcement_id}: nobody to remind ({skipped})"]
        head = f"reminder round {self.round} for {self.announcement_id}" + (" (resumed)" if self.resumed else "")
        return [head, *self.broadcast.lines(), f"  not reminded: {skipped}"]


class Recipients(BaseModel):
    """Who an announcement goes to, and where it stands."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    announcement_id: str
    installed: list[ConversationRecord]
    """Recipients: every installed conversation."""
    not_installed: list[ConversationRecord] = Field(default_factory=list)
    """Uninstalled or gone: skipped."""
    ledger: dict[str, LedgerEntry] = Field(default_factory=dict)
    """Ledger entries of this announcement, by conversation id."""

    @property
    def counts(self) -> dict[str, int]:
        out = {"personal": 0, "groupChat": 0, "team": 0}
        for record in self.installed:
            out[record.scope] += 1
        return out

    @property
    def already_sent(self) -> int:
        return sum(1 for r in self.installed if (e := self.ledger.get(r.id)) and e.status == "sent")

    @property
    def remaining(self) -> int:
        done = {"sent", "gone"}
        return sum(1 for r in self.installed if not ((e := self.ledger.get(r.id)) and e.status in done))


async def recipients_for(storage: KeyedStorage, announcement_id: str) -> Recipients:
    records = await ConversationRegistry(storage).all()
    return Recipients(
        announcement_id=announcement_id,
        installed=[r for r in records if r.installed],
        not_installed=[r for r in records if not r.installed],
        ledger=await Ledger(storage).entries(announcement_id),
    )


class AnnouncementService:
    """One bot's announcements: content, recipients, sends, background sends."""

    def __init__(
        self,
        storage: KeyedStorage,
        kb: KnowledgeBase,
        *,
        sender_factory: SenderFactory,
        election: Election | None = None,
        admin_ids: Iterable[str] = (),
        clock: Clock | None = None,
        policy: BroadcastPolicy | None = None,
    ) -> None:
        self.storage = storage
        self.kb = kb
        """The knowledge base, loaded once by the caller (its announcement is what is sent)."""
        self.election = election or kb.election
        """The configured election the announcement speaks of."""
        self.admin_ids = frozenset(a.strip().lower() for a in admin_ids if a.strip())
        """Azure AD object ids (lower case) allowed to preview and send in chat."""
        self.clock = clock or SystemClock()
        self.policy = policy or BroadcastPolicy()
        self._sender_factory = sender_factory
        self._tasks: set[asyncio.Task[Any]] = set()
        self._active: set[str] = set()
        """Announcement ids being sent by this service now (a send, or a background send started)."""

    def content(self, today: dt.date | None = None) -> AnnouncementContent:
        """The configured announcement, filled in for `today` (default: the clock's today)."""
        return announcement_content(self.kb, self.election, today or self.clock.utcnow().date())

    def message(self, today: dt.date | None = None) -> OutgoingMessage:
        return render_announcement(self.content(today))

    async def recipients(self, announcement_id: str | None = None) -> Recipients:
        return await recipients_for(self.storage, announcement_id or self.content().id)

    def is_sending(self, announcement_id: str) -> bool:
        """This service is sending (or about to send) that announcement right now."""
        return announcement_id in self._active

    def checked_content(self, expected_id: str | None = None) -> AnnouncementContent:
        """The configured announcement, if it may be sent now; else `AnnouncementChanged` (not
        `expected_id` any more) or `ElectionPassed`."""
        content = self.content()
        if expected_id is not None and expected_id != content.id:
            raise AnnouncementChanged(f"the announcement is now {content.id!r}, not {expected_id!r}; preview it again")
        if content.election_passed:
            raise ElectionPassed(content)
        return content

    def _reserve(self, announcement_id: str) -> None:
        if announcement_id in self._active:
            raise BroadcastBusy(f"announcement {announcement_id} is already being sent by this bot")
        self._active.add(announcement_id)

    async def send(
        self, *, on_progress: Callable[[BroadcastProgress], None] | None = None, expected_id: str | None = None
    ) -> BroadcastSummary:
        """Send the configured announcement now to every installed conversation missing it.

        Refuses, before sending anything: `AnnouncementChanged` when `expected_id` is given and the
        knowledge base's announcement has another id (edited between preview/confirm/scheduling and
        the send); `ElectionPassed` when the configured election's date is past; `BroadcastBusy`
        when the same announcement is already being sent (here, or by another process).
        """
        content = self.checked_content(expected_id)
        self._reserve(content.id)
        try:
            return await self._deliver(content, on_progress)
        finally:
            self._active.discard(content.id)

    async def _deliver(
        self, content: AnnouncementContent, on_progress: Callable[[BroadcastProgress], None] | None
    ) -> BroadcastSummary:
        message = render_announcement(content)
        recipients = await ConversationRegistry(self.storage).installed()
        summary = await self._broadcast(content.id, message, recipients, on_progress)
        log.info(
            "announcement %s: sent %d, failed %d, gone %d, retried %d, skipped %d, %.1f s",
            summary.announcement_id,
            summary.sent,
            summary.failed,
            summary.gone,
            summary.retried,
            summary.skipped_already_sent,
            summary.seconds,
        )
        return summary

    async def _broadcast(
        self,
        ledger_id: str,
        message: OutgoingMessage | MessageFor,
        recipients: list[ConversationRecord],
        on_progress: Callable[[BroadcastProgress], None] | None,
    ) -> BroadcastSummary:
        """One run of the broadcaster under `ledger_id`, with a sender made for it."""
        sender = self._sender_factory()
        try:
            broadcaster = Broadcaster(
                self.storage, sender, policy=self.policy, clock=self.clock, on_progress=on_progress
            )
            return await broadcaster.run(ledger_id, message, recipients)
        finally:
            close = getattr(sender, "close", None)
            if close is not None:
                await close()

    # -- reminders (announcements.reminders) ----------------------------------------------------

    def reminder_content(self) -> AnnouncementContent:
        """The announcement, if reminders may go out now: `ElectionPassed` after the election day,
        `NoChecklist` when the announcement has no checklist to remind of."""
        content = self.checked_content()
        if not content.checklist:
            raise NoChecklist(f"announcement {content.id} has no checklist (announcement.yaml: checklist)")
        return content

    async def reminder_plan(self) -> ReminderPlan:
        """Who a reminder sent now would go to (for the admin's card and the CLI)."""
        content = self.content()
        return await Reminders(self.storage).plan(content, self.clock.utcnow())

    async def remind(self, *, on_progress: Callable[[BroadcastProgress], None] | None = None) -> ReminderSummary:
        """Remind every conversation that got the announcement, has not settled its checklist and
        got no reminder in 72 hours; resumes an unfinished round first. Refuses like `send`
        (`ElectionPassed`, `BroadcastBusy`) and with `NoChecklist`."""
        content = self.reminder_content()
        key = _REMIND_KEY + content.id
        self._reserve(key)
        try:
            return await self._remind(content, on_progress)
        finally:
            self._active.discard(key)

    async def _remind(
        self, content: AnnouncementContent, on_progress: Callable[[BroadcastProgress], None] | None
    ) -> ReminderSummary:
        reminders = Reminders(self.storage)
        round_, resumed, plan = await reminders.open_round(content, self.clock.utcnow())
        summary = ReminderSummary(
            announcement_id=content.id,
            ready=len(plan.ready),
            reminded_recently=len(plan.reminded_recently),
            not_delivered=len(plan.not_delivered),
        )
        if round_ is None:
            return summary
        store = ReadinessStore(self.storage)
        when = election_when(content.election, content.as_of)

        async def message_for(record: ConversationRecord) -> OutgoingMessage:
            readiness = await store.get(content.id, record.id)
            return render_reminder(content.checklist, readiness, content.id, content.election.name, when)

        result = await self._broadcast(round_.ledger_id, message_for, plan.recipients, on_progress)
        outcome = " ".join(result.lines()[1].split())
        await reminders.finish_round(content.id, round_.number, self.clock.utcnow(), outcome)
        log.info("%s: reminder round %d: sent %d, failed %d", content.id, round_.number, result.sent, result.failed)
        return summary.model_copy(update={"round": round_.number, "resumed": resumed, "broadcast": result})

    def start_remind(
        self, *, on_done: Callable[[ReminderSummary | BaseException], Awaitable[None]] | None = None
    ) -> asyncio.Task[ReminderSummary]:
        """`remind` in the background (the admin's button); reserved before this returns, so a
        second press while it runs raises `BroadcastBusy`."""
        content = self.reminder_content()
        return self._in_background(
            _REMIND_KEY + content.id,
            f"reminder of {content.id}",
            lambda: self._remind(self.reminder_content(), None),
            on_done,
        )

    def is_reminding(self) -> bool:
        """This service is sending a reminder for the configured announcement now."""
        return _REMIND_KEY + self.content().id in self._active

    def start_send(
        self,
        *,
        expected_id: str | None = None,
        on_done: Callable[[BroadcastSummary | BaseException], Awaitable[None]] | None = None,
    ) -> asyncio.Task[BroadcastSummary]:
        """Send in the background (a chat turn must not wait a minute); `on_done` gets the result.

        The announcement is reserved before this returns, so a second call for the same one (a
        second press of "Skicka nu") raises `BroadcastBusy` at once instead of starting a task.
        """
        announcement_id = expected_id or self.content().id
        return self._in_background(
            announcement_id,
            f"announcement send of {announcement_id}",
            lambda: self._deliver(self.checked_content(announcement_id), None),
            on_done,
        )

    def _in_background(
        self,
        key: str,
        what: str,
        work: Callable[[], Awaitable[_R]],
        on_done: Callable[[_R | BaseException], Awaitable[None]] | None,
    ) -> asyncio.Task[_R]:
        """Reserve `key` now, run `work` as a task, release `key` when it ends (or when the task is
        cancelled before its first step), and hand the result or the error to `on_done`."""
        self._reserve(key)
        ran = False

        def release_if_never_ran(_: asyncio.Task[Any]) -> None:
            if not ran:
                self._active.discard(key)

        async def run() -> _R:
            nonlocal ran
            ran = True
            try:
                try:
                    result = await work()
                finally:
                    self._active.discard(key)
            except asyncio.CancelledError:
                raise
            except (BroadcastBusy, ElectionPassed, AnnouncementChanged) as exc:
                log.warning("background %s not started: %s", what, exc)
                if on_done is not None:
                    await on_done(exc)
                raise
            except BaseException as exc:
                log.exception("background %s failed", what)
                if on_done is not None:
                    await on_done(exc)
                raise
            if on_done is not None:
                await on_done(result)
            return result

        try:
            task = asyncio.create_task(run(), name=f"background {what}")
        except BaseException:
            self._active.discard(key)
            raise
        self._tasks.add(task)
        task.add_done_callback(self._forget_task)
        task.add_done_callback(release_if_never_ran)
        return task

    def _forget_task(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("background task ended with %r", task.exception())

    def track(self, task: asyncio.Task[Any]) -> None:
        """Keep a task (the scheduler) so `close()` stops it."""
        self._tasks.add(task)
        task.add_done_callback(self._forget_task)

    async def close(self) -> None:
        """Stop background sends and the scheduler. An interrupted send leaves at most the
        requests in flight as `in_flight`; the next send resumes."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
