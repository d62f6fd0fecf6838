"""The activity handler: the only module that turns Teams activities into our plain calls and back.

It decides *whether* to answer (tenant allow-list, @mention in channels and group chats), reads
the user's typed state (`dialogs.state.UserState`) from our storage once per turn and writes it
back once, remembers conversations for announcements, greets on install, and sends what
`assistant.conversation.Conversation` returns. What to answer is decided elsewhere.

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

from botbuilder.core import TurnContext
from botbuilder.core.cloud_adapter_base import CloudAdapterBase
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, Mention
from pydantic import ValidationError

from announcements.registry import ConversationRegistry
from assistant.conversation import Conversation, TurnInput
from assistant.flood import WAIT_TEXT, FloodGuard
from cards.handoff import expert_message
from cards.welcome import welcome_message
from dialogs.state import UserState
from helpdesk.handoff import HandoffRequest
from helpdesk.question_log import QuestionEvent, question_key
from storage import ETagConflictError, KeyedStorage
from storage.keys import greeted_key, user_state_key
from storage.models import plain
from teams.activity import conversation_scope, start_channel_thread, to_activity

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
    """channelData.<section>.id (Teams: tenant, team, channel), or None."""
    value = _channel_data(activity).get(section)
    return value.get("id") if isinstance(value, dict) else None


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
        mentioned = props.get("mentioned") if isinstance(props.get("mentioned"), dict) else {}
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
        flood_guard: FloodGuard | None = None,
    ):
        self.conversation = conversation
        self.storage = storage
        self.handoff = conversation.handoff
        # One turn at a time per (conversation, user) and per conversation for the greeting: Teams
        # sends conversationUpdate and installationUpdate together, and a double click sends two
        # submits; without this both turns read the same state and the second save conflicts.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.allowed_tenants = set(allowed_tenants or [])
        self.registry = registry
        self.admin_hook = admin_hook
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.flood_guard = flood_guard
        """Per (conversation, user) flood control of the messages the bot would answer; None: off."""

    # ------------------------------------------------------------------ turn
    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tenant = self._tenant(activity)
        if self.allowed_tenants and tenant not in self.allowed_tenants:
            log.warning("ignoring %s activity from a tenant that is not allowed", activity.type)
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
        await self._remember(turn_context)
        scope = conversation_scope(activity)
        if not _addressed(activity):
            return  # in channels and group chats we speak only when spoken to
        mentioned = bool(_bot_mentions(activity))
        text = strip_bot_mention(activity) if mentioned else (activity.text or "")
        text = html.unescape(text).strip()

        if self.admin_hook is not None and await self.admin_hook(turn_context, text, activity.value):
            return

        key = user_state_key(activity.channel_id or "", activity.conversation.id, activity.from_property.id)
        try:
            state, e_tag = await self._read_state(key)
        except StorageUnavailable:
            await turn_context.send_activity(STORAGE_APOLOGY)
            return
        turn = TurnInput(text=text, value=activity.value, scope=scope, now=self.clock())
        result = self.conversation.handle(turn, state)
        event = None
        if result.outcome != "other":
            event = QuestionEvent(
                at=turn.now, topic=result.topic, scope=scope, outcome=result.outcome, platform=result.platform
            )
        # Saved once per turn, *before* the answer goes out: when the store cannot be written the
        # user gets one apology and no answer, so the next message continues from the state they
        # last saw (no guide step shown and then shown again). When the answer then cannot be
        # delivered, the state is put back, so the step the user never saw is not skipped.
        try:
            saved_tag = await self._save(key, result.state, e_tag, event)
        except StorageUnavailable:
            await turn_context.send_activity(STORAGE_APOLOGY)
            return
        log.info("answered scope=%s topic=%s outcome=%s", scope, result.topic, result.outcome)
        try:
            for message in result.messages:
                await turn_context.send_activity(to_activity(message))
        except Exception:
            if saved_tag is not None:
                await self._restore(key, state, saved_tag)
            raise
        if result.handoff is not None:
            await self._hand_off(turn_context, result.handoff)

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

    async def _save(self, key: str, state: UserState, e_tag: str | None, event: QuestionEvent | None) -> str | None:
        """One write: the state (compare-and-set on the e_tag read) and the anonymous question event.

        Returns the new e_tag (None when a concurrent turn's state won); StorageUnavailable when
        the store cannot be written."""
        item = {**state.model_dump(mode="json"), "e_tag": e_tag}
        logged = {question_key(event): event.model_dump(mode="json")} if event is not None else {}
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
        """A new thread in the experts' channel, or @mentions of the experts in this thread."""
        activity = turn_context.activity
        if request.scope == "personal":  # the user pressed the button: their name goes along
            request = request.model_copy(
                update={"asker": activity.from_property.name if activity.from_property else None}
            )
        else:
            request = request.model_copy(update={"link": message_link(activity, self._tenant(activity))})
        message = to_activity(expert_message(request))
        try:
            if self.handoff.channel_id:
                connector = turn_context.turn_state.get(CloudAdapterBase.BOT_CONNECTOR_CLIENT_KEY)
                await start_channel_thread(
                    connector,
                    self.handoff.channel_id,
                    message,
                    bot=activity.recipient,
                    tenant_id=self._tenant(activity),
                )
            elif self.handoff.expert_ids:
                tags = []
                message.entities = []
                for number, aad_id in enumerate(self.handoff.expert_ids, start=1):
                    tag = f"<at>expert {number}</at>"
                    tags.append(tag)
                    message.entities.append(
                        Mention(mentioned=ChannelAccount(id=aad_id, name=f"expert {number}"), text=tag, type="mention")
                    )
                message.text = " ".join(tags) + " " + message.text
                await turn_context.send_activity(message)
            log.info("question handed to people (%s)", request.reason)
        except Exception:
            log.exception("could not hand the question to people")

    # ------------------------------------------------------------------ install / uninstall
    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._remember(turn_context)
        await self._welcome(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._forget(turn_context, "uninstalled")

    async def on_teams_members_added(self, teams_members_added, team_info, turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m.id == bot_id for m in teams_members_added):
            await self._remember(turn_context)
            await self._welcome(turn_context)

    async def on_teams_members_removed(self, teams_members_removed, team_info, turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m.id == bot_id for m in teams_members_removed):
            await self._forget(turn_context, "bot removed")

    async def on_teams_team_deleted(self, team_info, turn_context: TurnContext) -> None:
        await self._forget(turn_context, "team deleted")

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
        return _section_id(activity, "tenant")

    async def _remember(self, turn_context: TurnContext) -> None:
        if self.registry is None:
            return
        activity = turn_context.activity
        team_id, channel_id = _team_id(activity), _section_id(activity, "channel")
        scope = conversation_scope(activity)
        if scope == "channel" and not team_id:
            log.warning("a channel activity without a team id: conversation not registered")
            return
        reference = TurnContext.get_conversation_reference(activity).serialize()
        try:
            await self.registry.remember(
                reference=reference,
                scope="team" if scope == "channel" or team_id else scope,
                team_id=team_id,
                channel_id=channel_id,
                tenant_id=self._tenant(activity),
                now=self.clock(),
            )
        except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            log.warning("conversation not registered: %s", str(exc).splitlines()[0])
        except Exception:
            log.exception("could not remember the conversation")

    async def _forget(self, turn_context: TurnContext, reason: str) -> None:
        if self.registry is None:
            return
        activity = turn_context.activity
        try:
            await self.registry.forget(activity.conversation.id, reason, team_id=_team_id(activity), now=self.clock())
        except Exception:
            log.exception("could not forget the conversation")


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
