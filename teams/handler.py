"""The activity handler: the only module that turns Teams activities into our plain calls and back.

It decides *whether* to answer (tenant allow-list, @mention in channels and group chats), reads
the user's typed state (`dialogs.state.UserState`) from our storage once per turn and writes it
back once, remembers conversations for announcements, greets on install, and sends what
`assistant.conversation.Conversation` returns: one message per turn (in a channel or group chat
it @mentions the asker), or, for 👍/👎, the pressed card updated in place. What to answer is
decided elsewhere.

An ordinary message costs one storage read (the user's state) and one write (the state and the
anonymous question event together); the registry check is answered from memory
(`announcements.registry`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import logging
import re
import weakref
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlencode

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount
from botbuilder.schema.teams import TeamsChannelAccount
from pydantic import ValidationError

from announcements.registry import CHANNEL_DELETED, TEAM_ARCHIVED, TEAM_DELETED, ConversationRegistry
from assistant.conversation import Conversation, FeedbackGiven, TurnInput
from assistant.flood import WAIT_TEXT, FloodGuard
from cards.actions import ANSWERED_CMD, CHECKLIST_CMD, command_of
from cards.message import Mention as MentionOf
from cards.message import OutgoingMessage
from cards.welcome import welcome_message
from dialogs.state import UserState
from helpdesk.handoff import HandoffRequest
from helpdesk.question_log import QuestionEvent, question_key, record_feedback
from helpdesk.question_texts import question_text_item
from helpdesk.scrub import scrub
from storage import ETagConflictError, KeyedStorage
from storage.keys import greeted_key, user_state_key
from storage.models import plain
from teams.activity import conversation_scope, to_activity
from teams.handoff import ExpertDesk

__all__ = [
    "KanalvaktenBot",
    "on_turn_error",
    "message_link",
    "strip_bot_mention",
    "StorageUnavailable",
    "STORAGE_APOLOGY",
]

log = logging.getLogger(__name__)

STORAGE_APOLOGY = "Oj, jag kan inte spara något just nu. Försök igen om en stund."
"""The one reply when the store cannot be read or written (no answer: nothing would be remembered)."""


class StorageUnavailable(Exception):
    """The user's state could not be read or written (logged where it happened)."""


AdminHook = Callable[[TurnContext, str, Any], Awaitable[bool]]
"""Admin commands (announcements): returns True when it handled the turn."""

_AT_TAG = re.compile(r"</?at>")


def message_link(activity: Activity, tenant_id: str | None) -> str | None:
    """Teams deep link to the message that asked, for a channel thread or a group chat."""
    conversation = activity.conversation.id if activity.conversation else ""
    if not conversation or not activity.id:
        return None
    base, _, root = conversation.partition(";messageid=")
    if conversation_scope(activity) == "channel":
        team = _channel_data(activity).get("team") or {}
        params = {
            "tenantId": tenant_id,
            "parentMessageId": root or activity.id,
            "groupId": team.get("aadGroupId") if isinstance(team, dict) else None,
        }
        query = urlencode({k: v for k, v in params.items() if v})
        return f"https://teams.microsoft.com/l/message/{quote(base, safe='')}/{activity.id}?{query}"
    if conversation_scope(activity) == "groupChat":
        return f"https://teams.microsoft.com/l/message/{quote(base, safe='')}/{activity.id}?" + urlencode(
            {"context": '{"contextType":"chat"}'}
        )
    return None


def _channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def _section_id(activity: Activity, section: str) -> str | None:
    """channelData.<section>.id (Teams: tenant, team, channel) when it is a non-empty string, else
    None: a section of the wrong type (`"tenant": "abc"`, `{"id": 5}`) counts as missing."""
    value = _channel_data(activity).get(section)
    found = value.get("id") if isinstance(value, dict) else None
    return found.strip() if isinstance(found, str) and found.strip() else None


_CHANNEL_DATA_SECTIONS = ("tenant", "team", "channel", "meeting", "settings", "notification")
"""channelData parts botbuilder deserialises as objects (TeamsChannelData): a string there makes its
conversationUpdate/messageUpdate dispatch raise, so the activity would end in a failed turn."""


def _drop_malformed_sections(activity: Activity) -> None:
    """Remove channelData sections of the wrong type (not an object, or an id that is not a string):
    they are treated as missing, by us and by botbuilder."""
    data = activity.channel_data
    if not isinstance(data, dict):
        return
    for section in _CHANNEL_DATA_SECTIONS:
        if section not in data or data[section] is None:
            continue
        value = data[section]
        if not isinstance(value, dict) or ("id" in value and not isinstance(value["id"], str)):
            log.info("channelData.%s of the wrong type treated as missing", section)
            del data[section]


def _conversation_tenant(activity: Activity) -> str | None:
    """conversation.tenantId (botbuilder keeps Teams' spelling among the additional properties)."""
    conversation = activity.conversation
    if conversation is None:
        return None
    found = conversation.tenant_id or (conversation.additional_properties or {}).get("tenantId")
    return found.strip() if isinstance(found, str) and found.strip() else None


def _tenant_key(tenant: str | None) -> str | None:
    """How tenant ids are compared: trimmed, case-insensitive (GUIDs are written both ways)."""
    return tenant.strip().lower() if tenant else None


def _section_name(activity: Activity, section: str) -> str | None:
    """channelData.<section>.name (Teams: team, channel), or None."""
    value = _channel_data(activity).get(section)
    name = value.get("name") if isinstance(value, dict) else None
    return name if isinstance(name, str) else None


def _team_id(activity: Activity) -> str | None:
    return _section_id(activity, "team")


def _bot_mentions(activity: Activity) -> list[str]:
    """The `<at>…</at>` texts of the mentions of this bot (recipient) in the activity."""
    recipient = activity.recipient.id if activity.recipient else None
    found = []
    for entity in activity.entities or []:
        if str(getattr(entity, "type", "")).lower() != "mention":
            continue
        props = getattr(entity, "additional_properties", None) or {}
        raw_mentioned = props.get("mentioned")
        mentioned = raw_mentioned if isinstance(raw_mentioned, dict) else {}
        if recipient and mentioned.get("id") == recipient:
            found.append(str(props.get("text") or f"<at>{mentioned.get('name', '')}</at>"))
    return found


def strip_bot_mention(activity: Activity) -> str:
    """The text without the bot's @mention.

    botbuilder's `TurnContext.remove_recipient_mention` feeds the display name to `re.sub` as a
    pattern, so a bot renamed "Kanalvakten (test)" would not be removed; plain replacement is safe.
    """
    text = activity.text or ""
    for mention in _bot_mentions(activity):
        text = text.replace(mention, " ")
    return _AT_TAG.sub(" ", text)  # other people's mentions stay as plain names


def _text_to_log(activity: Activity) -> str:
    """The text as typed, without the bot's @mention; other mentions stay tagged for scrubbing."""
    text = activity.text or ""
    for mention in _bot_mentions(activity):
        text = text.replace(mention, " ")
    return html.unescape(text)


def _names_in(activity: Activity) -> list[str]:
    """Names a stored text must not keep: the people mentioned (not the bot) and the asker."""
    recipient = activity.recipient.id if activity.recipient else None
    names = [activity.from_property.name] if activity.from_property and activity.from_property.name else []
    for entity in activity.entities or []:
        props = getattr(entity, "additional_properties", None) or {}
        mentioned = props.get("mentioned")
        mentioned = mentioned if isinstance(mentioned, dict) else {}
        if str(getattr(entity, "type", "")).lower() == "mention" and mentioned.get("id") != recipient:
            names.append(str(mentioned.get("name") or ""))
    return names


def _discard(task: asyncio.Future[Any]) -> None:
    """Drop a read no longer needed: cancel it, and never leave its outcome unretrieved."""
    task.cancel()
    task.add_done_callback(lambda done: done.cancelled() or done.exception())


class KanalvaktenBot(TeamsActivityHandler):
    """Kanalvakten's Teams activity handler."""

    def __init__(
        self,
        conversation: Conversation,
        storage: KeyedStorage,
        *,
        allowed_tenants: list[str] | None = None,
        registry: ConversationRegistry | None = None,
        admin_hook: AdminHook | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        experts: ExpertDesk | None = None,
        flood_guard: FloodGuard | None = None,
    ):
        self.conversation = conversation
        self.storage = storage
        self.handoff = conversation.handoff
        self.experts = experts or ExpertDesk(conversation.handoff, storage, clock=clock)
        # One turn at a time per (conversation, user) and per conversation for the greeting: Teams
        # sends conversationUpdate and installationUpdate together, and a double click sends two
        # submits; without this both turns read the same state and the second save conflicts.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.allowed_tenants = {key for key in map(_tenant_key, allowed_tenants or []) if key}
        """ALLOWED_TENANTS, trimmed and lower-cased; empty: any tenant (local use)."""
        self.registry = registry
        self.admin_hook = admin_hook
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.flood_guard = flood_guard
        """Per (conversation, user) flood control of the messages the bot would answer; None: off."""

    # ------------------------------------------------------------------ turn
    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        _drop_malformed_sections(activity)
        tenant = self._tenant(activity)
        if self.allowed_tenants and _tenant_key(tenant) not in self.allowed_tenants:
            log.warning(
                "ignoring %s activity from tenant %s: not in ALLOWED_TENANTS",
                activity.type,
                tenant[:100] if tenant else "(none given)",
            )
            return
        conversation_id = activity.conversation.id if activity.conversation else ""
        user_id = activity.from_property.id if activity.from_property else ""
        if self.flood_guard is not None and _addressed(activity):
            # before the lock: a flood must not queue up behind it
            verdict = self.flood_guard.check(f"{conversation_id.split(';messageid=')[0]}/{user_id}")
            if verdict == "drop":
                log.debug("dropped a message from a flooding user")
                return
            if verdict == "warn":
                log.warning(
                    "a user floods a %s conversation: told to wait once, dropping until it slows",
                    conversation_scope(activity),
                )
                await turn_context.send_activity(WAIT_TEXT)
                return
        lock = self._lock(f"turn/{conversation_id}/{user_id}")
        async with lock:
            await super().on_turn(turn_context)

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        reading: asyncio.Future[tuple[UserState, str | None]] | None = None
        if (
            _addressed(activity)
            and command_of(activity.value) != ANSWERED_CMD
            and activity.conversation is not None
            and activity.from_property is not None
        ):
            # The user's state is read on the storage's thread while this turn registers the
            # conversation, parses the text and asks the admin hook (the sleep lets the read start).
            key = user_state_key(activity.channel_id or "", activity.conversation.id, activity.from_property.id)
            reading = asyncio.ensure_future(self._read_state(key))
            await asyncio.sleep(0)
        try:
            await self._answer(turn_context, reading)
        finally:
            if reading is not None:
                _discard(reading)  # unused (the admin hook answered, or the turn failed): dropped

    async def _answer(
        self, turn_context: TurnContext, reading: asyncio.Future[tuple[UserState, str | None]] | None
    ) -> None:
        activity = turn_context.activity
        await self._remember(turn_context)
        scope = conversation_scope(activity)
        if not _addressed(activity):
            return  # in channels and group chats we speak only when spoken to
        mentioned = bool(_bot_mentions(activity))
        is_submit = activity.value is not None
        text = strip_bot_mention(activity) if mentioned else (activity.text or "")
        text = html.unescape(text).strip()

        if command_of(activity.value) == ANSWERED_CMD:  # an expert's "Besvarad"
            await self.experts.answered(turn_context)
            return
        if self.admin_hook is not None and await self.admin_hook(turn_context, text, activity.value):
            return

        key = user_state_key(activity.channel_id or "", activity.conversation.id, activity.from_property.id)
        try:
            state, e_tag = await (reading if reading is not None else self._read_state(key))
        except StorageUnavailable:
            await turn_context.send_activity(STORAGE_APOLOGY)
            return
        turn = TurnInput(text=text, value=activity.value, scope=scope, now=self.clock())
        result = self.conversation.handle(turn, state)
        logged: dict[str, Any] = {}
        if result.outcome != "other":
            event = QuestionEvent(
                at=turn.now, topic=result.topic, scope=scope, outcome=result.outcome, platform=result.platform
            )
            if result.question_id:
                event.id = result.question_id
            logged[question_key(event)] = event.model_dump(mode="json")
        if result.outcome == "unanswered" or result.unsure:  # its text, scrubbed, for the curator's report
            item = question_text_item(
                _text_to_log(activity),
                "unsure" if result.unsure else "unanswered",
                at=turn.now,
                scope=scope,
                names=_names_in(activity),
            )
            if item is not None:
                logged[item[0]] = item[1]
        # Saved once per turn, *before* the answer goes out: when the store cannot be written the
        # user gets one apology and no answer, so the next message continues from the state they
        # last saw (no guide step shown and then shown again). When the answer then cannot be
        # delivered, the state is put back, so the step the user never saw is not skipped.
        try:
            saved_tag = await self._save(key, result.state, e_tag, logged)
        except StorageUnavailable:
            await turn_context.send_activity(STORAGE_APOLOGY)
            return
        log.info("answered scope=%s topic=%s outcome=%s", scope, result.topic, result.outcome)
        asker = activity.from_property
        try:
            for message in result.messages:
                if scope != "personal" and not is_submit and asker is not None and asker.id:
                    # In a thread the answer is for the one who asked: say so, and notify them.
                    message = message.model_copy(update={"mentions": [MentionOf(id=asker.id, name=asker.name or "")]})
                await turn_context.send_activity(to_activity(message))
            if result.update is not None:
                await self._update_card(turn_context, result.update)
        except Exception:
            if saved_tag is not None:
                await self._restore(key, state, saved_tag)
            raise
        if result.feedback is not None:
            await self._record_feedback(result.feedback, scope)
        if result.handoff is not None:
            await self._hand_off(turn_context, result.handoff)

    async def _update_card(self, turn_context: TurnContext, message: OutgoingMessage) -> None:
        """Put `message` in place of the card whose button was pressed (Teams gives its id as the
        submit's `replyToId`); when there is no such id or the update fails, send it instead."""
        card_id = turn_context.activity.reply_to_id
        if card_id:
            updated = to_activity(message)
            updated.id = card_id
            try:
                await turn_context.update_activity(updated)
                return
            except Exception:
                log.warning("could not update the card in place; sending it as a new message", exc_info=True)
        await turn_context.send_activity(to_activity(message))

    async def _record_feedback(self, feedback: FeedbackGiven, scope: str) -> None:
        """👍/👎 on the question's event, and a 👎 comment's text, scrubbed, for the curator's report;
        statistics never cost an answer."""
        try:
            comment = scrub(feedback.comment) if feedback.comment else None
            await record_feedback(
                self.storage, feedback.question_id, feedback.value, comment or None, asked_at=feedback.asked_at
            )
            if feedback.comment:
                item = question_text_item(
                    feedback.comment, "comment", at=self.clock(), topic=feedback.topic, scope=scope
                )
                if item is not None:
                    await self.storage.write({item[0]: item[1]})
        except Exception:
            log.exception("could not record the feedback")

    # ------------------------------------------------------------------ user state
    async def _read_state(self, key: str) -> tuple[UserState, str | None]:
        """The user's state and its e_tag (None: nothing stored yet); StorageUnavailable if unreadable."""
        try:
            stored = (await self.storage.read([key])).get(key)
        except Exception as exc:
            log.error("could not read the user state: %s", _describe(exc))
            raise StorageUnavailable from exc
        if stored is None:
            return UserState(), None
        e_tag = stored.get("e_tag") if isinstance(stored, dict) else None
        try:
            return UserState.model_validate(plain(stored)), e_tag
        except ValidationError:
            log.warning("unreadable user state replaced")
            return UserState(), e_tag

    async def _save(self, key: str, state: UserState, e_tag: str | None, logged: dict[str, Any]) -> str | None:
        """One write: the state (compare-and-set on the e_tag read), the anonymous question event
        and, for a question the bot could not answer, its scrubbed text.

        Returns the new e_tag (None when a concurrent turn's state won); StorageUnavailable when
        the store cannot be written."""
        item = {**state.model_dump(mode="json"), "e_tag": e_tag}
        try:
            await self.storage.write({key: item, **logged})
        except ETagConflictError:
            # Another process answered this user at the same moment; its state wins.
            log.warning("user state changed by a concurrent turn; this turn's changes are dropped")
            if logged:
                await self._log_question(logged)
            return None
        except Exception as exc:
            log.error("could not save the user state: %s", _describe(exc))
            raise StorageUnavailable from exc
        return item.get("e_tag")

    async def _restore(self, key: str, state: UserState, e_tag: str) -> None:
        """Put back the state from before a turn whose answer was not delivered (unless changed since)."""
        try:
            await self.storage.write({key: {**state.model_dump(mode="json"), "e_tag": e_tag}})
        except Exception as exc:  # noqa: BLE001 - the turn is failing already; its error is what counts
            log.warning("could not put back the user state after a failed reply: %s", _describe(exc))

    async def _log_question(self, logged: dict[str, Any]) -> None:
        """The question event alone, after its state lost a race; statistics never cost an answer."""
        try:
            await self.storage.write(logged)
        except Exception:
            log.exception("could not log the question event")

    # ------------------------------------------------------------------ hand-off to people
    async def _hand_off(self, turn_context: TurnContext, request: HandoffRequest) -> None:
        """To the experts (`teams.handoff.ExpertDesk`): with the asker's name from a personal chat
        (they pressed the button), with a link to the question from a thread."""
        activity = turn_context.activity
        if request.scope == "personal":
            request = request.model_copy(
                update={"asker": activity.from_property.name if activity.from_property else None}
            )
        else:
            request = request.model_copy(update={"link": message_link(activity, self._tenant(activity))})
        await self.experts.hand_off(turn_context, request, tenant_id=self._tenant(activity))

    # ------------------------------------------------------------------ install / uninstall
    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._remember(turn_context)
        await self._welcome(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._forget(turn_context, "uninstalled")

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> Any:
        """botbuilder's dispatch, with Teams' eventType matched in any case: Microsoft's published
        team-restored event says "teamrestored", botbuilder compares with "teamRestored"."""
        data = turn_context.activity.channel_data
        if isinstance(data, dict) and isinstance(data.get("eventType"), str):
            data["eventType"] = _EVENT_TYPES.get(data["eventType"].strip().lower(), data["eventType"])
        return await super().on_conversation_update_activity(turn_context)

    async def on_teams_members_added_dispatch(self, members_added, team_info, turn_context: TurnContext) -> Any:
        """The added members as the activity names them, with no lookup.

        botbuilder asks the Bot Connector for each added member it knows little about
        (`GET /v3/conversations/{id}/members/{uid}`) and fails the turn when that answers 404
        MemberNotFound, so the welcome in a new personal chat was never sent. All this bot needs is
        whether it was added itself, and its own id is in the activity (`recipient.id`)."""
        accounts = []
        for member in members_added or []:
            account = member.serialize()
            account.pop("additional_properties", None)
            accounts.append(TeamsChannelAccount().deserialize(account))
        return await self.on_teams_members_added(accounts, team_info, turn_context)

    async def on_teams_members_added(self, teams_members_added, team_info, turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m.id == bot_id for m in teams_members_added):
            await self._remember(turn_context)
            await self._welcome(turn_context)

    async def on_teams_members_removed(self, teams_members_removed, team_info, turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m.id == bot_id for m in teams_members_removed):
            await self._forget(turn_context, "bot removed")

    # ------------------------------------------------------------------ team and channel lifecycle
    # Archived and deleted teams, and a deleted announcement channel, are marked in the registry so
    # announcements skip them; unarchiving or restoring takes the mark away again.
    async def on_teams_team_deleted(self, team_info, turn_context: TurnContext) -> None:
        await self._forget(turn_context, TEAM_DELETED)

    async def on_teams_team_hard_deleted(self, team_info, turn_context: TurnContext) -> None:
        await self._forget(turn_context, TEAM_DELETED)

    async def on_teams_team_archived(self, team_info, turn_context: TurnContext) -> None:
        await self._forget(turn_context, TEAM_ARCHIVED)

    async def on_teams_team_unarchived(self, team_info, turn_context: TurnContext) -> None:
        await self._reinstate(turn_context, TEAM_ARCHIVED)

    async def on_teams_team_restored(self, team_info, turn_context: TurnContext) -> None:
        await self._reinstate(turn_context, TEAM_DELETED)

    async def on_teams_channel_deleted(self, channel_info, team_info, turn_context: TurnContext) -> None:
        await self._channel_lifecycle(turn_context, deleted=True)

    async def on_teams_channel_restored(self, channel_info, team_info, turn_context: TurnContext) -> None:
        await self._channel_lifecycle(turn_context, deleted=False)

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext):
        # Non-Teams channels (the Bot Framework Emulator): same rule, the bot itself was added.
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m.id == bot_id for m in members_added):
            await self._welcome(turn_context)

    async def _welcome(self, turn_context: TurnContext) -> None:
        """Greet once per conversation: Teams sends both conversationUpdate and installationUpdate,
        often at the same moment, so the flag is written before the greeting goes out."""
        key = greeted_key(turn_context.activity.conversation.id)
        async with self._lock(key):
            if (await self.storage.read([key])).get(key):
                return
            await self.storage.write({key: {"at": self.clock().isoformat()}})
        scope = conversation_scope(turn_context.activity)
        await turn_context.send_activity(to_activity(welcome_message(scope)))

    # ------------------------------------------------------------------ registry
    def _tenant(self, activity: Activity) -> str | None:
        """channelData.tenant.id, else conversation.tenantId; None when neither is a string."""
        return _section_id(activity, "tenant") or _conversation_tenant(activity)

    async def _remember(self, turn_context: TurnContext) -> None:
        if self.registry is None:
            return
        activity = turn_context.activity
        if command_of(activity.value) == CHECKLIST_CMD:
            return  # a checklist press never re-registers a conversation the bot was removed from
        team_id, channel_id = _team_id(activity), _section_id(activity, "channel")
        scope = conversation_scope(activity)
        if scope == "channel" and not team_id:
            log.warning("a channel activity without a team id: conversation not registered")
            return
        reference = TurnContext.get_conversation_reference(activity).serialize()
        vouched = _vouched_service_url(turn_context)
        if vouched is not None:
            reference["serviceUrl"] = vouched
        try:
            await self.registry.remember(
                reference=reference,
                scope="team" if scope == "channel" or team_id else scope,
                team_id=team_id,
                channel_id=channel_id,
                tenant_id=self._tenant(activity),
                now=self.clock(),
                team_name=_section_name(activity, "team"),
                channel_name=_section_name(activity, "channel"),
                service_url_vouched=vouched is not None,
            )
        except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            log.warning("conversation not registered: %s", str(exc).splitlines()[0])
        except Exception:
            log.exception("could not remember the conversation")

    async def _reinstate(self, turn_context: TurnContext, reason: str) -> None:
        if self.registry is None:
            return
        activity = turn_context.activity
        record_id = _team_id(activity) or (activity.conversation.id if activity.conversation else "")
        try:
            await self.registry.reinstate(record_id, reason, now=self.clock())
        except Exception:
            log.exception("could not reinstate the conversation")

    async def _channel_lifecycle(self, turn_context: TurnContext, *, deleted: bool) -> None:
        if self.registry is None:
            return
        activity = turn_context.activity
        team_id, channel_id = _team_id(activity), _section_id(activity, "channel")
        if not team_id or not channel_id:
            log.info("a channel event without team and channel ids ignored")
            return
        try:
            if deleted:
                await self.registry.channel_deleted(team_id, channel_id, now=self.clock())
            else:
                await self.registry.reinstate(team_id, CHANNEL_DELETED, channel_id=channel_id, now=self.clock())
        except Exception:
            log.exception("could not record the channel event")

    async def _forget(self, turn_context: TurnContext, reason: str) -> None:
        if self.registry is None:
            return
        activity = turn_context.activity
        try:
            await self.registry.forget(activity.conversation.id, reason, team_id=_team_id(activity), now=self.clock())
        except Exception:
            log.exception("could not forget the conversation")


_EVENT_TYPES = {
    name.lower(): name
    for name in (
        "channelCreated",
        "channelDeleted",
        "channelRenamed",
        "channelRestored",
        "teamArchived",
        "teamDeleted",
        "teamHardDeleted",
        "teamRenamed",
        "teamRestored",
        "teamUnarchived",
        "teamMemberAdded",
        "teamMemberRemoved",
    )
}
"""Teams' conversationUpdate event types, as botbuilder spells them, by their lower-case form."""


def _vouched_service_url(turn_context: TurnContext) -> str | None:
    """The serviceUrl the Bot Connector's token vouched for (its `serviceurl` claim, which
    teams/auth.py requires to equal the activity's), or None: authentication off, or a token that
    names no service URL. Only a vouched URL may replace the one stored for a conversation."""
    identity = turn_context.turn_state.get(BotAdapter.BOT_IDENTITY_KEY)
    claims = getattr(identity, "claims", None)
    bound = claims.get("serviceurl") if isinstance(claims, dict) else None
    if isinstance(bound, str) and bound and bound == turn_context.activity.service_url:
        return bound
    return None


def _addressed(activity: Activity) -> bool:
    """A message the bot answers: any in a personal chat, a card submit, or one that @mentions it."""
    if activity.type != ActivityTypes.message:
        return False
    return conversation_scope(activity) == "personal" or activity.value is not None or bool(_bot_mentions(activity))


def _describe(exc: BaseException) -> str:
    """`Type: first line` of an exception, short: for one log line without a traceback."""
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    """Log the failure and apologise; the user's state is left as it was before the turn."""
    log.error("turn failed: %s", error, exc_info=error)
    if turn_context.activity.type == ActivityTypes.message:
        try:
            await turn_context.send_activity(
                'Oj, något gick fel hos mig. Försök igen om en stund, eller skriv "hjälp".'
            )
        except Exception:  # noqa: BLE001 - the connector itself may be what failed
            log.warning("could not send the apology either")
