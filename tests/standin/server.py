"""The stand-in server: lifecycle, the test-facing API, request decoding, faults."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from tests.standin.base import _Signal
from tests.standin.constants import (
    _TOKEN_RE,
    BLOCKED_DESCRIPTION,
    CONFLICT_DESCRIPTION,
    DEFAULT_TOKEN,
    MAX_UPLOAD_SIZE,
)
from tests.standin.methods_bot import BotMethods
from tests.standin.methods_messages import MessageMethods
from tests.standin.types import (
    ApiError,
    BotMessage,
    Call,
    ErrorRecord,
    JSONDict,
    StoredFile,
    Upload,
    _bad,
)
from tests.standin.users import FakeUser
from tests.standin.webhook import WebhookMethods

# How form/query-string parameters are decoded (JSON bodies are already typed).
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "media",
        "allowed_updates",
        "commands",
        "scope",
        "menu_button",
        "reply_parameters",
        "link_preview_options",
        "message_ids",
    }
)
_INT_FIELDS = frozenset(
    {
        "offset",
        "limit",
        "timeout",
        "message_id",
        "reply_to_message_id",
        "cache_time",
        "user_id",
        "message_thread_id",
        "from_chat_id",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)

Handler = Callable[[JSONDict], Awaitable[Any]]

FAULT_KINDS = ("status", "timeout", "reset")
DOWNLOAD = "download"  # pseudo-method: :meth:`StandIn.fail_next` on file downloads


@dataclass
class _Fault:
    status: int
    retry_after: int
    description: str | None
    remaining: int
    kind: str = "status"


class StandIn(WebhookMethods, BotMethods, MessageMethods):
    """The fake Bot API server.  Use as ``async with StandIn() as standin: ...``.

    Public attributes:

    * ``token``, ``base_url`` (``http://127.0.0.1:PORT/bot``), ``base_file_url``
    * ``calls``: every request as :class:`Call` ``(monotonic time, method, params)``
    * ``errors``: every 4xx answer as :class:`ErrorRecord` (except the deliberate ones:
      injected faults, rate limiting, blocked users, getUpdates conflicts)
    * ``allow_errors``: set True in a test that provokes errors on purpose
    * ``blocked_hits``: requests refused with 403 because the user blocked the bot
    * ``rate_limited``: number of 429s produced by ``enforce_limits``
    * ``injected``: requests answered by a :meth:`fail_next` fault
    * ``conflicts``: getUpdates requests terminated by a newer one (409)
    * ``commands``: ``{(scope_key, language_code): [(command, description), ...]}``
    * ``menu_buttons``: ``{chat_id or None: MenuButton dict}``
    * ``enforce_limits`` and ``limit_per_chat`` / ``limit_burst`` / ``limit_global``
    * ``strict_html``: reject a bare ``&`` (default True)
    * ``callback_query_ttl``: seconds after which a query can no longer be answered
    * ``timeout_hold``: seconds a ``fail_next(..., kind="timeout")`` request is held
    """

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        super().__init__(token)
        self.host = "127.0.0.1"
        self.port = 0
        self.calls: list[Call] = []
        self.errors: list[ErrorRecord] = []
        self.allow_errors = False
        self.blocked_hits: list[Call] = []
        self.rate_limited = 0
        self.injected: list[Call] = []
        self.conflicts: list[Call] = []
        # Just past python-telegram-bot's default read timeout (5 s); tests that configure a
        # shorter client timeout may lower it to stay fast.
        self.timeout_hold = 5.5
        self._next_update_id = 1
        self._call_signal = _Signal()
        self._faults: dict[str, deque[_Fault]] = {}
        self._runner: web.AppRunner | None = None
        # The methods python-telegram-bot calls in kexie; any other method answers 404, as
        # Telegram does for a method it does not know.
        self._methods: dict[str, Handler] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._ok_true,
                "close": self._ok_true,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setChatMenuButton": self._set_chat_menu_button,
                "getChatMenuButton": self._get_chat_menu_button,
                "setMyDescription": self._set_bot_info,
                "setMyShortDescription": self._set_bot_info,
                "setMyName": self._set_bot_info,
                "getChat": self._get_chat,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendMediaGroup": self._send_media_group,
                "sendChatAction": self._send_chat_action,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "deleteMessages": self._delete_messages,
                "answerCallbackQuery": self._answer_callback_query,
                "getFile": self._get_file,
            }.items()
        }

    # -- lifecycle --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """PTB ``base_url`` (the token is appended by PTB)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB ``base_file_url``."""
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self) -> StandIn:
        """Start serving on a free loopback port."""
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 5 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        """Answer pending long polls and shut the server down."""
        self._closing = True
        self._update_signal.notify()
        await self._stop_webhook()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> StandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def assert_no_errors(self) -> None:
        """Raise AssertionError listing the rejected requests (unless ``allow_errors``)."""
        if self.errors and not self.allow_errors:
            lines = [
                f"  {e.method} -> {e.status} {e.description}\n    params={e.params!r}"
                for e in self.errors
            ]
            raise AssertionError(
                "the Telegram stand-in rejected requests "
                "(set standin.allow_errors = True if intended):\n" + "\n".join(lines)
            )

    # -- test-facing API ----------------------------------------------------------------

    def user(
        self,
        user_id: int = 1001,
        first_name: str = "王芳",
        username: str | None = None,
        language_code: str | None = "zh-hans",
        *,
        last_name: str | None = None,
        opened: bool = True,
    ) -> FakeUser:
        """Return the simulated user ``user_id``, creating it on first use.

        The bot may message the user's private chat right away (as if they had pressed
        Start before); with ``opened=False`` only after the user sent something.
        """
        existing = self.users.get(user_id)
        if existing is not None:
            return existing
        u = FakeUser(self, user_id, first_name, username, language_code, last_name, opened)
        self.users[user_id] = u
        return u

    def block(self, user_id: int, *, notify: bool = False) -> None:
        """Make the user block the bot: sends to them answer 403.

        With ``notify`` a ``my_chat_member`` update (status ``kicked``) is queued, as
        Telegram does.
        """
        self._blocked.add(user_id)
        u = self.users.get(user_id)
        if notify and u is not None:
            self._push_member_update(u, "member", "kicked")

    def unblock(self, user_id: int, *, notify: bool = False) -> None:
        """Undo :meth:`block`."""
        self._blocked.discard(user_id)
        u = self.users.get(user_id)
        if notify and u is not None:
            self._push_member_update(u, "kicked", "member")

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 2,
        times: int = 1,
        description: str | None = None,
        *,
        kind: str = "status",
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail; the request has no effect.

        ``kind="status"`` answers with ``status``: 429 carries ``parameters.retry_after``;
        500/502 give server errors; any other status uses ``description`` or a generic text.
        ``kind="timeout"`` holds the request for :attr:`timeout_hold` seconds (longer than the
        client's read timeout) and then drops the connection unanswered; ``kind="reset"`` drops
        the connection at once without a response.  ``method`` may be :data:`DOWNLOAD` to fail
        file downloads (``/file/bot<token>/<path>``).  Every fault is counted in
        :attr:`injected`.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {FAULT_KINDS}")
        self._faults.setdefault(method.lower(), deque()).append(
            _Fault(status, retry_after, description, times, kind)
        )

    def sent_to(self, chat_id: int) -> list[BotMessage]:
        """Every bot message ever sent to ``chat_id`` (current state, deleted ones too)."""
        u = self.users.get(chat_id)
        if u is None:
            return []
        return [m for _, m in sorted(u._bot_messages.items())]

    def calls_of(self, method: str) -> list[Call]:
        """The recorded calls of one method (case-insensitive)."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def wait_for_call(self, method: str, count: int = 1, timeout: float = 10.0) -> Call:
        """Wait until ``method`` has been called ``count`` times in total; return that call."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(calls := self.calls_of(method)) < count:
            if not await self._call_signal.wait(deadline - loop.time()):
                raise AssertionError(
                    f"{method} called {len(calls)} time(s), expected {count}, within {timeout:g}s"
                )
        return calls[count - 1]

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[str]:
        """Command names set for a scope key (see :attr:`commands`) and language."""
        return [c for c, _ in self.commands.get((scope, language_code), [])]

    def push_update(self, kind: str, payload: JSONDict) -> int:
        """Queue a raw update ``{kind: payload}`` for getUpdates; returns its update_id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, kind: payload})
        self._update_signal.notify()
        return update_id

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by the bot (getUpdates ``offset``)."""
        return list(self._updates)

    async def wait_until_confirmed(self, timeout: float = 10.0) -> None:
        """Wait until the bot has confirmed (consumed) every queued update."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._updates:
            if not await self._update_signal.wait(deadline - loop.time()):
                raise AssertionError(f"updates not confirmed within {timeout:g}s: {self._updates}")

    def file_by_id(self, file_id: str) -> StoredFile:
        """The stored file for a ``file_id``."""
        return self.files[file_id]

    # -- internals -------------------------------------------------------------------------

    def _push_member_update(self, u: FakeUser, old: str, new: str) -> None:
        now = int(time.time())
        bot = self._bot_user()
        self.push_update(
            "my_chat_member",
            {
                "chat": u.chat_json(),
                "from": u.user_json(),
                "date": now,
                "old_chat_member": {"status": old, "user": bot}
                if old != "kicked"
                else {"status": "kicked", "user": bot, "until_date": 0},
                "new_chat_member": {"status": new, "user": bot}
                if new != "kicked"
                else {"status": "kicked", "user": bot, "until_date": 0},
            },
        )

    # -- HTTP -------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            self.calls.append(Call(time.monotonic(), DOWNLOAD, {"path": path}))
            self._call_signal.notify()
            fault = self._take_fault(DOWNLOAD)
            if fault is not None:
                return await self._fault_response(request, DOWNLOAD, {"path": path}, fault)
            return self._download(path[len("/file/bot") :])
        if not path.startswith("/bot"):
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        token, _, method = path[len("/bot") :].partition("/")
        try:
            params = await self._read_params(request)
        except ApiError as exc:
            params = {}
            self.calls.append(Call(time.monotonic(), method, params))
            return self._error_response(method, params, exc)
        self.calls.append(Call(time.monotonic(), method, params))
        self._call_signal.notify()
        if not _TOKEN_RE.match(token) or not method or "/" in method:
            return self._error_response(method, params, ApiError(404, "Not Found"))
        handler = self._methods.get(method.lower())
        if handler is None:
            return self._error_response(method, params, ApiError(404, "Not Found"))
        fault = self._take_fault(method)
        if fault is not None:
            return await self._fault_response(request, method, params, fault)
        try:
            result = await handler(params)
        except ApiError as exc:
            return self._error_response(method, params, exc)
        except Exception as exc:  # a bug in the stand-in: make it loud
            desc = f"Internal stand-in error: {exc!r}"
            self.errors.append(ErrorRecord(method, params, desc, 500))
            return web.json_response(
                {"ok": False, "error_code": 500, "description": desc}, status=500
            )
        return web.json_response({"ok": True, "result": result})

    def _error_response(self, method: str, params: JSONDict, exc: ApiError) -> web.Response:
        call = Call(time.monotonic(), method, params)
        if exc.category == "blocked":
            self.blocked_hits.append(call)
        elif exc.category == "rate_limited":
            self.rate_limited += 1
        elif exc.category == "injected":
            self.injected.append(call)
        elif exc.category == "conflict":
            self.conflicts.append(call)
        elif 400 <= exc.status < 500:
            self.errors.append(ErrorRecord(method, params, exc.description, exc.status))
        return web.json_response(exc.payload(), status=exc.status)

    async def _fault_response(
        self, request: web.Request, method: str, params: JSONDict, fault: _Fault
    ) -> web.StreamResponse:
        """Answer (or, for a timeout or a reset, do not answer) an injected fault."""
        if fault.kind == "status":
            return self._error_response(method, params, self._fault_error(fault))
        self.injected.append(Call(time.monotonic(), method, params))
        if fault.kind == "timeout":
            # The client gives up first (aiohttp then cancels this handler); if it has not,
            # the connection is dropped all the same: no answer ever comes.
            await asyncio.sleep(self.timeout_hold)
        if request.transport is not None:
            request.transport.abort()
        # Nothing reaches the client: the connection is gone before any byte is written.
        raise asyncio.CancelledError

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method.lower())
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    @staticmethod
    def _fault_error(fault: _Fault) -> ApiError:
        if fault.status == 429:
            return ApiError(
                429,
                fault.description or f"Too Many Requests: retry after {fault.retry_after}",
                {"retry_after": fault.retry_after},
                category="injected",
            )
        defaults = {
            400: "Bad Request: injected failure",
            403: BLOCKED_DESCRIPTION,
            409: CONFLICT_DESCRIPTION,
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        try:
            phrase = HTTPStatus(fault.status).phrase
        except ValueError:
            phrase = "Injected failure"
        desc = fault.description or defaults.get(fault.status, phrase)
        return ApiError(fault.status, desc, category="injected")

    async def _read_params(self, request: web.Request) -> JSONDict:
        raw: JSONDict = dict(request.query)
        if request.can_read_body:
            ctype = request.content_type
            try:
                if ctype == "application/json":
                    body = await request.json()
                    if not isinstance(body, dict):
                        raise _bad("JSON object expected")
                    raw.update(body)
                elif ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
                    form = await request.post()
                    for key, value in form.items():
                        if isinstance(value, web.FileField):
                            raw[key] = Upload(
                                key, value.filename, value.content_type, value.file.read()
                            )
                        else:
                            raw[key] = value
                else:
                    await request.read()
            except web.HTTPRequestEntityTooLarge as exc:
                raise ApiError(413, "Request Entity Too Large") from exc
            except json.JSONDecodeError as exc:
                raise _bad("can't parse JSON encoded request body") from exc
        return self._coerce(raw)

    @staticmethod
    def _coerce(raw: JSONDict) -> JSONDict:
        params: JSONDict = {}
        for key, value in raw.items():
            if isinstance(value, str):
                if key in _JSON_FIELDS:
                    try:
                        value = json.loads(value)
                    except json.JSONDecodeError as exc:
                        raise _bad(f"can't parse {key} JSON object") from exc
                elif key in _INT_FIELDS or key == "chat_id":
                    text = value.strip()
                    if re.fullmatch(r"-?\d+", text):
                        value = int(text)
                    elif re.fullmatch(r"-?\d+\.\d*", text):
                        value = int(float(text))
                    elif key != "chat_id":
                        raise _bad(f"invalid {key} specified")
                elif key in _BOOL_FIELDS:
                    value = value.strip().lower() in ("true", "1")
            params[key] = value
        return params
