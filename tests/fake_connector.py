"""A fake Bot Connector (Bot Framework REST API v3) that records what the bot sends.

End-to-end tests give inbound activities `serviceUrl = fake.url`, so every reply, proactive
message and TeamsInfo call of the bot lands here, in order, with the parsed JSON. Answers are
what botbuilder's `ConnectorClient` expects:

- POST /v3/conversations/{cid}/activities (send) and .../activities/{aid} (reply):
  200 {"id": <new id>};
- PUT /v3/conversations/{cid}/activities/{aid} (update): 200 {"id": aid}; DELETE: 200;
- POST /v3/conversations (create: a new thread in a Teams channel, or a 1:1 chat):
  201 {"id": "<channel>;messageid=<n>" or "a:1…", "activityId": "<n>"}; the embedded activity
  counts as a sent message;
- GET /v3/conversations/{cid}/members, /members/{uid}, /pagedmembers: plausible Teams members
  (`fake.members[cid] = [...]` to choose them; a channel id covers its threads);
- GET /v3/teams/{tid}, /v3/teams/{tid}/conversations: team details, channel list;
- anything else: 404, recorded.

Failures are programmable per conversation (`fake.fail(cid, status=429, times=2,
retry_after=1)`) or for all (`fake.fail_all(500)`); every attempt is counted. `fake.hang(cid)`
holds requests about a conversation unanswered until `fake.release()` (a connector that hangs).

How botbuilder 4.17.1 surfaces an HTTP error from the connector (pinned down by
tests/test_fake_connector.py; the announcement engine relies on it):

- Every connector operation raises `botframework.connector.models.ErrorResponseException` (the
  same class as `botbuilder.schema.ErrorResponseException`; a subclass of
  `msrest.exceptions.HttpOperationError`) for a final status it does not expect (send, reply, update:
  not 200/201/202; create: not 200/201/202; delete: not 200/202). `CloudAdapter` and
  `TurnContext.send_activity` let it propagate unchanged, also inside `continue_conversation`.
- `exc.response` is a `requests.Response` (msrest runs `requests` in a thread):
  `exc.response.status_code` is the int status, `exc.response.headers.get("Retry-After")` the
  header as a string (case-insensitive mapping). `exc.error.error.code` / `.message` come from a
  `{"error": {"code", "message"}}` body; `str(exc)` is "(code) message".
- Retries inside the client (msrest's urllib3 `Retry`, total=3, backoff 0.8 s, under urllib3 2):
  POST (send, reply, create) is never retried: a 429/5xx reaches the caller after exactly one
  attempt, so the caller must back off and honour Retry-After itself. PUT/DELETE/GET (update,
  delete, members) are retried up to 3 more times on 408 and 5xx except 501/505, and on
  413/429/503 when a Retry-After header is present (sleeping that long): a 429 with
  `Retry-After: 1` on an update costs 4 attempts and ~3 s before the error surfaces. When those
  retries run out the caller gets `msrest.exceptions.ClientRequestError` ("… too many 500 error
  responses"), *not* ErrorResponseException, and there is no `response`/status attribute.
- A connector that cannot be reached (refused, reset, timeout) is also `ClientRequestError`,
  after urllib3's connect retries (any method, ~5 s with the default backoff).
- So a sender should: catch `ErrorResponseException` -> `exc.response.status_code` and
  `Retry-After`; catch `ClientRequestError` -> transient, retry later.
- TeamsInfo.get_member in a channel turn asks `/v3/conversations/<turn's conversation id>/
  members/<id>` (the thread id, not the team id) in botbuilder 4.17.1.

Standalone (for tests that SIGKILL a process and read what was recorded):
`python -m tests.fake_connector --port 0 --record FILE.jsonl` prints
`listening on http://127.0.0.1:PORT` and appends one flushed JSON line per request to FILE.
A standalone fake is programmable over HTTP: `POST /_fake/fail` with
`{"conversation_id": …|null, "status": 429, "times": 2, "retry_after": 1}`, `POST /_fake/heal`,
`POST /_fake/clear`, `GET /_fake/requests`; these are not recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Literal

from aiohttp import web

from tests.teams_activities import TENANT_ID, USER_AAD_ID, USER_ID, USER_NAME

__all__ = ["FakeConnector", "RecordedRequest", "Failure", "RequestKind", "thread_root"]

log = logging.getLogger(__name__)

RequestKind = Literal[
    "send",
    "reply",
    "update",
    "delete",
    "create_conversation",
    "members",
    "member",
    "paged_members",
    "team",
    "team_channels",
    "unknown",
]
_MESSAGE_KINDS = ("send", "reply", "create_conversation")


def thread_root(conversation_id: str) -> str:
    """`19:x@thread.tacv2;messageid=5` -> `19:x@thread.tacv2` (other ids unchanged)."""
    return conversation_id.split(";messageid=", 1)[0]


@dataclasses.dataclass
class RecordedRequest:
    """One request the bot made, as the fake received and answered it."""

    seq: int
    """Order of arrival, from 1."""
    method: str
    path: str
    """Decoded request path, e.g. `/v3/conversations/a:1xyz/activities`."""
    kind: RequestKind
    conversation_id: str | None
    """The conversation the request is about. For a created channel thread, the new thread's
    id (`<channel>;messageid=<n>`); when creation failed, the channel id or the user id."""
    activity_id: str | None
    """The activity id in the path (reply, update, delete)."""
    body: Any
    """Parsed JSON body (the activity, or the conversation parameters for create), or the raw
    text when it was not JSON, or None."""
    status: int
    """HTTP status the fake answered."""
    response_id: str | None
    """The id the fake gave the sent activity (send, reply, create)."""
    received_at: float
    """`time.time()` when the request arrived."""
    authorization: str | None
    """The Authorization header, if the bot sent one."""

    @property
    def activity(self) -> dict[str, Any] | None:
        """The activity this request carried (for create, the embedded one)."""
        if not isinstance(self.body, dict):
            return None
        if self.kind == "create_conversation":
            return self.body.get("activity")
        if self.kind in ("send", "reply", "update"):
            return self.body
        return None

    @property
    def is_message(self) -> bool:
        """A successfully sent activity (send, reply, or a create carrying one)."""
        return self.kind in _MESSAGE_KINDS and self.status < 300 and self.activity is not None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Failure:
    """A programmed failure: answer `status` for the next `times` requests (None: forever)."""

    status: int
    times: int | None = 1
    retry_after: float | str | None = None
    code: str | None = None

    def take(self) -> bool:
        """Consume one use; False once exhausted."""
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


_ERROR_CODES = {
    400: "BadArgument",
    401: "Unauthorized",
    403: "BotNotInConversationRoster",
    404: "ConversationNotFound",
    412: "PreconditionFailed",
    429: "Throttled",
    500: "ServiceError",
    502: "BadGateway",
    503: "ServiceUnavailable",
}


def _default_member(user_id: str = USER_ID, *, tenant_id: str = TENANT_ID) -> dict[str, Any]:
    if user_id == USER_ID:
        name, aad = USER_NAME, USER_AAD_ID
    else:
        name = f"Användare {user_id[-4:]}"
        aad = f"00000000-0000-4000-8000-{abs(hash(user_id)) % 10**12:012d}"
    return {
        "id": user_id,
        "name": name,
        "aadObjectId": aad,
        "givenName": name.split()[0],
        "surname": name.split()[-1],
        "email": f"{aad[:8]}@example.org",
        "userPrincipalName": f"{aad[:8]}@example.org",
        "tenantId": tenant_id,
        "userRole": "user",
    }


class FakeConnector:
    """The fake Bot Connector; `await start()` / `await close()` or `async with`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        record_file: str | Path | None = None,
        delay: float = 0.0,
    ) -> None:
        self.host = host
        self.port = port
        self.delay = delay
        """Seconds to wait before answering each request (to slow a broadcast down)."""
        self.requests: list[RecordedRequest] = []
        """Everything received, in order."""
        self.members: dict[str, list[dict[str, Any]]] = {}
        """Members per conversation (or team) id; unset conversations get one default user."""
        self._record_path = Path(record_file) if record_file else None
        self._record: IO[str] | None = None
        self._failures: dict[str, Failure] = {}
        self._hangs: dict[str, asyncio.Event] = {}
        self.hanging = 0
        """Requests held by `hang()` right now."""
        self._global_failure: Failure | None = None
        self._ids = itertools.count(1_700_000_000_001)
        self._seq = itertools.count(1)
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""
        """The serviceUrl to give the bot, `http://127.0.0.1:PORT/`."""

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> FakeConnector:
        self._changed = asyncio.Condition()
        if self._record_path is not None:
            self._record_path.parent.mkdir(parents=True, exist_ok=True)
            self._record = self._record_path.open("a", encoding="utf-8")
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.port = port
        self.url = f"http://{host}:{port}/"
        log.info("fake connector listening on %s", self.url)
        return self

    async def close(self) -> None:
        self.release()  # hung requests answer, so the server can stop at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._record is not None:
            self._record.close()
            self._record = None

    async def __aenter__(self) -> FakeConnector:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        conv = "/v3/conversations/{cid}"
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post(conv + "/activities", self._send)
        app.router.add_post(conv + "/activities/{aid}", self._reply)
        app.router.add_put(conv + "/activities/{aid}", self._update)
        app.router.add_delete(conv + "/activities/{aid}", self._delete)
        app.router.add_get(conv + "/members", self._members)
        app.router.add_get(conv + "/pagedmembers", self._paged_members)
        app.router.add_get(conv + "/members/{uid}", self._member)
        app.router.add_get("/v3/teams/{tid}", self._team)
        app.router.add_get("/v3/teams/{tid}/conversations", self._team_channels)
        app.router.add_post("/_fake/fail", self._control_fail)
        app.router.add_post("/_fake/heal", self._control_heal)
        app.router.add_post("/_fake/clear", self._control_clear)
        app.router.add_get("/_fake/requests", self._control_requests)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        return app

    # -- programming it ------------------------------------------------------------------------

    def fail(
        self,
        conversation_id: str,
        status: int = 429,
        *,
        times: int | None = 1,
        retry_after: float | str | None = None,
        code: str | None = None,
    ) -> Failure:
        """Answer `status` to the next `times` requests about `conversation_id` (None: always).

        A channel id also matches its threads (`<channel>;messageid=…`) and the creation of new
        threads in it; for a 1:1 create, the id is the user's. `retry_after` sets `Retry-After`.
        """
        failure = Failure(status, times, retry_after, code)
        self._failures[conversation_id] = failure
        return failure

    def fail_all(
        self,
        status: int = 500,
        *,
        times: int | None = None,
        retry_after: float | str | None = None,
        code: str | None = None,
    ) -> Failure:
        """Answer `status` to every request (the next `times`; None: until `heal()`)."""
        self._global_failure = Failure(status, times, retry_after, code)
        return self._global_failure

    def hang(self, conversation_id: str) -> None:
        """Requests about `conversation_id` (a channel id covers its threads) get no answer until
        `release()` (or `close()`): a connector that accepts the connection and never answers."""
        self._hangs.setdefault(conversation_id, asyncio.Event())

    def release(self, conversation_id: str | None = None) -> None:
        """Let hung requests (about one conversation, or all) be answered, and stop hanging."""
        for cid in [conversation_id] if conversation_id is not None else list(self._hangs):
            event = self._hangs.pop(cid, None)
            if event is not None:
                event.set()

    async def wait_hanging(self, n: int, *, timeout: float = 5.0) -> None:
        """Wait until at least `n` requests are being held by `hang()`."""
        await self._wait(lambda: self.hanging >= n or None, timeout, f"{n} hanging request(s)")

    def heal(self, conversation_id: str | None = None) -> None:
        """Stop failing for one conversation, or everywhere (also the global switch)."""
        if conversation_id is None:
            self._failures.clear()
            self._global_failure = None
        else:
            self._failures.pop(conversation_id, None)

    def clear(self) -> None:
        """Forget recorded requests and programmed failures (members stay)."""
        self.requests.clear()
        self.heal()

    # -- reading what happened -----------------------------------------------------------------

    @staticmethod
    def _about(record: RecordedRequest, conversation_id: str | None) -> bool:
        if conversation_id is None:
            return True
        cid = record.conversation_id
        return cid is not None and (cid == conversation_id or thread_root(cid) == conversation_id)

    def sent(self, conversation_id: str | None = None) -> list[RecordedRequest]:
        """Requests that delivered an activity, optionally in one conversation (a channel id
        also matches its threads)."""
        return [r for r in self.requests if r.is_message and self._about(r, conversation_id)]

    def messages(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """The activities the bot sent (send, reply, create with activity), in order."""
        return [r.activity for r in self.sent(conversation_id)]  # type: ignore[misc]

    def attempts(self, conversation_id: str | None = None, *, kind: RequestKind | None = None) -> int:
        """How many requests (failed ones too) were about `conversation_id`."""
        return sum(1 for r in self.requests if self._about(r, conversation_id) and (kind is None or r.kind == kind))

    async def wait_for(
        self, n: int, *, timeout: float = 5.0, conversation_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Wait until at least `n` activities were sent (in a conversation); return them all."""

        def enough() -> list[dict[str, Any]] | None:
            found = self.messages(conversation_id)
            return found if len(found) >= n else None

        where = f" in {conversation_id}" if conversation_id else ""
        return await self._wait(enough, timeout, f"{n} message(s){where}")

    async def wait_for_message(
        self,
        predicate: Callable[[dict[str, Any]], bool] = lambda _: True,
        *,
        timeout: float = 5.0,
        conversation_id: str | None = None,
    ) -> dict[str, Any]:
        """Wait for the first sent activity that satisfies `predicate` and return it."""

        def first() -> dict[str, Any] | None:
            return next((m for m in self.messages(conversation_id) if predicate(m)), None)

        return await self._wait(first, timeout, "a matching message")

    async def wait_for_request(
        self, predicate: Callable[[RecordedRequest], bool], *, timeout: float = 5.0
    ) -> RecordedRequest:
        """Wait for the first recorded request (any kind, failed too) matching `predicate`."""

        def first() -> RecordedRequest | None:
            return next((r for r in self.requests if predicate(r)), None)

        return await self._wait(first, timeout, "a matching request")

    async def _wait(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        assert self._changed is not None, "start() the fake connector first"
        async with self._changed:
            try:
                return await asyncio.wait_for(self._changed.wait_for(check), timeout)
            except TimeoutError:
                raise TimeoutError(
                    f"fake connector: no {what} within {timeout}s; received:\n{self.describe()}"
                ) from None

    def describe(self) -> str:
        """One line per recorded request, for assertion messages."""
        lines = []
        for r in self.requests:
            activity = r.activity or {}
            text = activity.get("text") or ("[card]" if activity.get("attachments") else "")
            lines.append(f"  #{r.seq} {r.method} {r.path} -> {r.status} {text!r:.80}")
        return "\n".join(lines) or "  (nothing)"

    # -- request handling ----------------------------------------------------------------------

    def _new_id(self) -> str:
        return str(next(self._ids))

    def _failure_for(self, key: str | None) -> Failure | None:
        candidates = []
        if key is not None:
            candidates += [self._failures.get(key), self._failures.get(thread_root(key))]
        candidates.append(self._global_failure)
        for failure in candidates:
            if failure is not None and failure.take():
                return failure
        return None

    async def _body(self, request: web.Request) -> Any:
        """Parsed JSON, raw text, or None; aiohttp caches the body, so reading twice is fine."""
        raw = await request.text()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    async def _handle(
        self,
        request: web.Request,
        kind: RequestKind,
        *,
        conversation_id: str | None,
        answer: Callable[[Any], tuple[int, Any, str | None, str | None]],
        failure_key: str | None = None,
    ) -> web.Response:
        """Record the request, then answer it: a programmed failure or `answer(body)`.

        `answer` returns (status, JSON payload, the id given to a sent activity, the
        conversation id to record instead of `conversation_id`).
        """
        received_at = time.time()
        body = await self._body(request)
        key = failure_key or conversation_id
        hang = self._hangs.get(key) or self._hangs.get(thread_root(key)) if key is not None else None
        if hang is not None:
            self.hanging += 1
            await self._notify()
            try:
                await hang.wait()
            finally:
                self.hanging -= 1
        if self.delay:
            await asyncio.sleep(self.delay)
        headers: dict[str, str] = {}
        failure = self._failure_for(failure_key or conversation_id)
        response_id = None
        if failure is not None:
            status = failure.status
            payload: Any = {
                "error": {
                    "code": failure.code or _ERROR_CODES.get(status, "Error"),
                    "message": f"fake connector: programmed {status}",
                }
            }
            if failure.retry_after is not None:
                headers["Retry-After"] = str(failure.retry_after)
        else:
            status, payload, response_id, recorded_cid = answer(body)
            conversation_id = recorded_cid or conversation_id
        record = RecordedRequest(
            seq=next(self._seq),
            method=request.method,
            path=request.path,
            kind=kind,
            conversation_id=conversation_id,
            activity_id=request.match_info.get("aid"),
            body=body,
            status=status,
            response_id=response_id,
            received_at=received_at,
            authorization=request.headers.get("Authorization"),
        )
        await self._remember(record)
        if payload is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(payload, status=status, headers=headers)

    async def _remember(self, record: RecordedRequest) -> None:
        self.requests.append(record)
        if self._record is not None:
            self._record.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
            self._record.flush()
        log.debug("%s %s -> %s", record.method, record.path, record.status)
        await self._notify()

    async def _notify(self) -> None:
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    def _sent(self, body: Any) -> tuple[int, Any, str | None, str | None]:
        if not isinstance(body, dict):
            return 400, {"error": {"code": "BadArgument", "message": "activity expected"}}, None, None
        new_id = self._new_id()
        return 200, {"id": new_id}, new_id, None

    async def _send(self, request: web.Request) -> web.Response:
        return await self._handle(request, "send", conversation_id=request.match_info["cid"], answer=self._sent)

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._handle(request, "reply", conversation_id=request.match_info["cid"], answer=self._sent)

    async def _update(self, request: web.Request) -> web.Response:
        aid = request.match_info["aid"]
        return await self._handle(
            request,
            "update",
            conversation_id=request.match_info["cid"],
            answer=lambda _: (200, {"id": aid}, None, None),
        )

    async def _delete(self, request: web.Request) -> web.Response:
        return await self._handle(
            request,
            "delete",
            conversation_id=request.match_info["cid"],
            answer=lambda _: (200, None, None, None),
        )

    async def _create_conversation(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        params = body if isinstance(body, dict) else {}
        channel_id = ((params.get("channelData") or {}).get("channel") or {}).get("id")
        members = params.get("members") or []
        user_id = members[0].get("id") if members and isinstance(members[0], dict) else None
        key = channel_id or user_id

        def created(_: Any) -> tuple[int, Any, str | None, str | None]:
            if not isinstance(body, dict):
                return 400, {"error": {"code": "BadArgument", "message": "parameters expected"}}, None, None
            activity_id = self._new_id()
            if channel_id:
                new_cid = f"{channel_id};messageid={activity_id}"
            else:
                new_cid = "a:1" + "".join(ch for ch in (user_id or activity_id) if ch.isalnum())
            payload = {"id": new_cid, "activityId": activity_id}
            has_activity = isinstance(params.get("activity"), dict)
            return 201, payload, activity_id if has_activity else None, new_cid

        return await self._handle(request, "create_conversation", conversation_id=key, answer=created)

    def _members_of(self, cid: str) -> list[dict[str, Any]]:
        return self.members.get(cid) or self.members.get(thread_root(cid)) or [_default_member()]

    async def _members(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        return await self._handle(
            request,
            "members",
            conversation_id=cid,
            answer=lambda _: (200, self._members_of(cid), None, None),
        )

    async def _paged_members(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        return await self._handle(
            request,
            "paged_members",
            conversation_id=cid,
            answer=lambda _: (200, {"members": self._members_of(cid), "continuationToken": None}, None, None),
        )

    async def _member(self, request: web.Request) -> web.Response:
        cid, uid = request.match_info["cid"], request.match_info["uid"]

        def member(_: Any) -> tuple[int, Any, str | None, str | None]:
            configured = self.members.get(cid) or self.members.get(thread_root(cid))
            if configured is None:
                return 200, _default_member(uid), None, None
            found = next((m for m in configured if m.get("id") == uid), None)
            if found is None:
                return (
                    404,
                    {"error": {"code": "MemberNotFoundInConversation", "message": "The member was not found."}},
                    None,
                    None,
                )
            return 200, found, None, None

        return await self._handle(request, "member", conversation_id=cid, answer=member)

    async def _team(self, request: web.Request) -> web.Response:
        tid = request.match_info["tid"]
        return await self._handle(
            request,
            "team",
            conversation_id=tid,
            answer=lambda _: (
                200,
                {"id": tid, "name": "Valkansliet", "aadGroupId": "8d3c1e2f-0000-4000-8000-00000000a11e"},
                None,
                None,
            ),
        )

    async def _team_channels(self, request: web.Request) -> web.Response:
        tid = request.match_info["tid"]
        return await self._handle(
            request,
            "team_channels",
            conversation_id=tid,
            answer=lambda _: (200, {"conversations": [{"id": tid, "name": None}]}, None, None),
        )

    async def _unknown(self, request: web.Request) -> web.Response:
        return await self._handle(
            request,
            "unknown",
            conversation_id=None,
            answer=lambda _: (
                404,
                {
                    "error": {
                        "code": "NotFound",
                        "message": f"fake connector: no route for {request.method} {request.path}",
                    }
                },
                None,
                None,
            ),
        )

    # -- control API for a standalone fake -----------------------------------------------------

    async def _control_fail(self, request: web.Request) -> web.Response:
        spec = await request.json()
        kwargs = {
            "times": spec.get("times", 1),
            "retry_after": spec.get("retry_after"),
            "code": spec.get("code"),
        }
        if spec.get("conversation_id") is None:
            self.fail_all(int(spec.get("status", 500)), **kwargs)
        else:
            self.fail(spec["conversation_id"], int(spec.get("status", 429)), **kwargs)
        return web.json_response({"ok": True})

    async def _control_heal(self, request: web.Request) -> web.Response:
        spec = await request.json() if request.can_read_body else {}
        self.heal(spec.get("conversation_id"))
        return web.json_response({"ok": True})

    async def _control_clear(self, request: web.Request) -> web.Response:
        self.clear()
        return web.json_response({"ok": True})

    async def _control_requests(self, request: web.Request) -> web.Response:
        return web.json_response([r.to_json() for r in self.requests])


# -- standalone process ------------------------------------------------------------------------


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fake_connector",
        description="A fake Bot Connector that records what a bot sends.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--record", metavar="FILE.jsonl", help="append each request as a JSON line (flushed) to FILE")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering each request")
    parser.add_argument(
        "--fail",
        nargs=3,
        action="append",
        default=[],
        metavar=("CONVERSATION", "STATUS", "TIMES"),
        help="fail requests about CONVERSATION ('*': all) with STATUS, TIMES times ('always' for ever); repeatable",
    )
    parser.add_argument("--retry-after", default=None, help="Retry-After header value for the --fail rules")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeConnector(host=args.host, port=args.port, record_file=args.record, delay=args.delay)
    for conversation, status, times in args.fail:
        count = None if times == "always" else int(times)
        if conversation == "*":
            fake.fail_all(int(status), times=count, retry_after=args.retry_after)
        else:
            fake.fail(conversation, int(status), times=count, retry_after=args.retry_after)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await fake.start()
    print(f"listening on {fake.url.rstrip('/')}", flush=True)
    try:
        await stop.wait()
    finally:
        await fake.close()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(_serve(_parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
