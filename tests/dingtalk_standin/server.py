"""The DingTalk stand-in: one aiohttp server on loopback speaking the Stream gateway, the v1.0
robot API, the old API (media upload, user info) and the session webhook.

State lives in the :class:`DingTalkStandIn` object, so a bot process can be killed and started
again against the same stand-in. Time is read from ``standin.clock`` (``time.time`` unless a
test replaces it), so a test can age tokens, tickets, session webhooks and 免登 codes.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import BodyPartReader, web

from tests.dingtalk_standin.records import (
    ACK_TIMEOUT,
    AUTH_CODE_TTL,
    BAD_CREDENTIALS,
    BAD_DOWNLOAD_CODE,
    BAD_PARAMETER,
    BAD_TOKEN,
    CARD_TOPIC,
    ERR_AUTH_CODE,
    ERR_BUSY,
    ERR_MEDIA_SIZE,
    ERR_MEDIA_TYPE,
    ERR_MSGTYPE,
    ERR_SESSION,
    ERR_TOKEN,
    ERR_TOO_LONG,
    INJECTED,
    MAX_BATCH_USERS,
    MAX_MEDIA_BYTES,
    MAX_TEXT_CHARS,
    ROBOT_TOPIC,
    SESSION_TTL,
    TICKET_TTL,
    TOKEN_TTL,
    TOO_LONG,
    TOO_MANY_USERS,
    UNKNOWN_CARD,
    UNKNOWN_MEDIA,
    UNKNOWN_ROBOT,
    UNKNOWN_STAFF,
    Card,
    CardDataError,
    JSONDict,
    Media,
    Rejected,
    Sent,
    card_text,
    parse_card_data,
)
from tests.ports import free_port

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]

_MSG_KEYS = ("sampleText", "sampleMarkdown", "sampleImageMsg", "sampleFile", "sampleLink")
_WEBHOOK_TYPES = ("text", "markdown", "actionCard", "link", "feedCard")
_MEDIA_TYPES = ("image", "voice", "video", "file")


class _Refused(Exception):
    """Raised inside a route: answer ``status`` with ``body`` (the refusal is recorded)."""

    def __init__(self, status: int, body: JSONDict) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


def _v1(error: tuple[int, str], message: str) -> _Refused:
    return _Refused(error[0], {"code": error[1], "message": message, "requestid": _id()})


def _old(errcode: int, errmsg: str) -> _Refused:
    return _Refused(200, {"errcode": errcode, "errmsg": errmsg, "request_id": _id()})


def _id(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex


def _opaque_code(prefix: str) -> str:
    """A code shaped like DingTalk's (base64-ish, with + and /), so clients quote it."""
    return prefix + base64.b64encode(os.urandom(18)).decode()


@dataclass
class _Socket:
    ws: web.WebSocketResponse
    request: web.Request
    number: int


@dataclass
class _Delivery:
    frame: JSONDict
    topic: str
    at: float | None = None  # monotonic time the frame went out on a socket


class DingTalkStandIn:
    """A fake DingTalk for one enterprise-internal app with a robot in Stream mode.

    Use as ``async with DingTalkStandIn() as ding: ...`` and point the client at
    ``ding.api_url`` (KEXIE_DINGTALK_API_URL) and ``ding.oapi_url`` (KEXIE_DINGTALK_OAPI_URL).
    Users of the organisation are added with :meth:`add_user` (a user who sends the robot a
    message is added on the way). Messages and card presses go to the client as CALLBACK
    frames (round robin over the open connections, queued while there is none); every
    accepted call is in :attr:`sent`, every refused one in :attr:`rejected`.
    """

    def __init__(
        self,
        *,
        client_id: str = "ding-test-id",
        client_secret: str = "ding-test-secret",
        robot_code: str | None = None,
        corp_id: str = "ding-test-corp",
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.robot_code = robot_code or client_id
        self.corp_id = corp_id
        self.host = "127.0.0.1"
        self.port = 0
        self.clock: Callable[[], float] = time.time
        self.ack_timeout = ACK_TIMEOUT
        self.disconnect_grace = 10.0  # DingTalk closes a socket ~10 s after a disconnect frame
        self.users: dict[str, str] = {}  # staff id → nick
        self.sent: list[Sent] = []
        self.rejected: list[Rejected] = []
        self.cards: dict[str, Card] = {}
        self.calls: collections.Counter[str] = collections.Counter()
        self.connections = 0
        self.acks: dict[str, JSONDict] = {}
        self.messages: dict[str, JSONDict] = {}  # msgId → the robot message's data, as pushed
        self.stray_acks: list[JSONDict] = []  # acks naming no frame the stand-in sent
        self.media: dict[str, Media] = {}  # media_id → uploaded file
        self._tokens: dict[str, float] = {}  # access token → expiry (clock)
        self._tickets: dict[str, float] = {}  # ticket → expiry (clock)
        self._sessions: dict[str, tuple[str, float]] = {}  # session → (staff id, expiry)
        self._auth_codes: dict[str, tuple[str, float]] = {}  # 免登 code → (staff id, expiry)
        self._download_codes: dict[str, tuple[str, Media]] = {}  # code → (staff id, file)
        self._files: dict[str, bytes] = {}  # download URL token → bytes
        self._faults: dict[str, collections.deque[int]] = {}
        self._sockets: list[_Socket] = []
        self._round_robin = 0
        self._queue: collections.deque[_Delivery] = collections.deque()
        self._deliveries: dict[str, _Delivery] = {}  # frame messageId → delivery
        self._ack_times: dict[str, float] = {}  # frame messageId → monotonic ack time
        self._msg_frames: dict[str, str] = {}  # robot message msgId → frame messageId
        self._ack_waiters: dict[str, list[asyncio.Future[JSONDict]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The v1.0 API and Stream gateway base (KEXIE_DINGTALK_API_URL)."""
        return f"http://{self.host}:{self.port}"

    @property
    def oapi_url(self) -> str:
        """The old API base (KEXIE_DINGTALK_OAPI_URL): the same server."""
        return f"http://{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        """Whether a Stream WebSocket is open now."""
        return bool(self._sockets)

    async def start(self) -> None:
        """Serve on a free loopback port (from tests.ports, safe under pytest-xdist)."""
        # Room past the media limit, so an oversized upload meets DingTalk's errcode 40006
        # rather than aiohttp's own 413.
        app = web.Application(client_max_size=5 * MAX_MEDIA_BYTES)
        routes: dict[tuple[str, str], Route] = {
            ("POST", "/v1.0/oauth2/accessToken"): self._access_token,
            ("POST", "/v1.0/gateway/connections/open"): self._connections_open,
            ("GET", "/connect"): self._connect,
            ("POST", "/v1.0/robot/messageFiles/download"): self._download,
            ("GET", "/files/{token}"): self._file,
            ("POST", "/v1.0/robot/oToMessages/batchSend"): self._batch_send,
            ("POST", "/v1.0/im/v1.0/robot/interactiveCards/send"): self._card_send,
            ("PUT", "/v1.0/im/robots/interactiveCards"): self._card_update,
            ("POST", "/robot/sendBySession"): self._webhook,
            ("POST", "/media/upload"): self._upload,
            ("POST", "/topapi/v2/user/getuserinfo"): self._userinfo,
        }
        for (method, path), route in routes.items():
            app.router.add_route(method, path, route)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        for _ in range(20):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            port = free_port()
            try:
                sock.bind((self.host, port))
            except OSError:  # taken between the check and the bind: the next one
                sock.close()
                continue
            self.port = port
            await web.SockSite(self._runner, sock).start()
            return
        raise RuntimeError("no free loopback port for the DingTalk stand-in")

    async def stop(self) -> None:
        """Close every socket (going away) and stop serving."""
        for task in list(self._tasks):
            task.cancel()
        closing = [sock.ws.close(code=1001, message=b"stand-in stopping") for sock in self._sockets]
        await asyncio.gather(*closing, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DingTalkStandIn:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- the organisation and time ---------------------------------------------------------

    def add_user(self, user_id: str, nick: str = "") -> None:
        """A member of the organisation (only they get messages and cards)."""
        self.users[user_id] = nick or self.users.get(user_id) or user_id

    def issue_auth_code(self, user_id: str) -> str:
        """A 免登 code as ``dd.getAuthCode`` gives the H5 page: single use, valid 5 minutes."""
        self.add_user(user_id)
        code = _id("auth")
        self._auth_codes[code] = (user_id, self.clock() + AUTH_CODE_TTL)
        return code

    def expire_tokens(self) -> None:
        """Forget every access token: the next call with one gets 401 (40014 on the old API)."""
        self._tokens.clear()

    def expire_sessions(self) -> None:
        """Age every session webhook past its sessionWebhookExpiredTime."""
        now = self.clock()
        self._sessions = {s: (user, now - 1) for s, (user, _) in self._sessions.items()}

    def fail_next(self, endpoint: str, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``endpoint`` (a :attr:`calls` name) with
        ``status`` — a transient failure (500/503) or a rate limit (429)."""
        self._faults.setdefault(endpoint, collections.deque()).extend([status] * times)

    # -- the Stream: frames to the client ----------------------------------------------------

    def _frame(self, kind: str, topic: str, data: JSONDict) -> JSONDict:
        return {
            "specVersion": "1.0",
            "type": kind,
            "headers": {
                "appId": self.client_id,
                "contentType": "application/json",
                "messageId": _id(),
                "time": str(int(self.clock() * 1000)),
                "topic": topic,
            },
            "data": json.dumps(data, ensure_ascii=False),
        }

    async def _push(self, frame: JSONDict, *, to: _Socket | None = None) -> str:
        """Send a frame on one connection (round robin), or queue it until one opens."""
        delivery = _Delivery(frame, frame["headers"]["topic"])
        message_id: str = frame["headers"]["messageId"]
        self._deliveries[message_id] = delivery
        if to is None and not self._sockets:
            self._queue.append(delivery)
        else:
            await self._deliver(delivery, to)
        return message_id

    async def _deliver(self, delivery: _Delivery, to: _Socket | None = None) -> None:
        while to is not None or self._sockets:
            if to is None:
                self._round_robin = (self._round_robin + 1) % len(self._sockets)
                target = self._sockets[self._round_robin]
            else:
                target = to
            try:
                await target.ws.send_str(json.dumps(delivery.frame, ensure_ascii=False))
            except (ConnectionError, RuntimeError):
                if target in self._sockets:
                    self._sockets.remove(target)
                if to is not None:
                    return
                continue
            delivery.at = time.monotonic()
            return
        self._queue.append(delivery)

    @staticmethod
    def conversation_id(user_id: str) -> str:
        """The conversationId of the user's 1:1 chat with the robot (stable per user)."""
        return "cid" + base64.b64encode(user_id.encode()).decode()

    def _robot_message(self, user_id: str, msgtype: str, body: JSONDict) -> JSONDict:
        self.add_user(user_id)
        now = self.clock()
        session = _id()  # URL-safe: the webhook URL is used as given
        self._sessions[session] = (user_id, now + SESSION_TTL)
        msg_id = _opaque_code("msg")
        return {
            "conversationId": self.conversation_id(user_id),
            "chatbotCorpId": self.corp_id,
            "chatbotUserId": "$:LWCP_v1:$" + base64.b64encode(self.robot_code.encode()).decode(),
            "msgId": msg_id,
            "senderNick": self.users[user_id],
            "isAdmin": False,
            "senderStaffId": user_id,
            "sessionWebhookExpiredTime": int((now + SESSION_TTL) * 1000),
            "createAt": int(now * 1000),
            "senderCorpId": self.corp_id,
            "conversationType": "1",
            "senderId": "$:LWCP_v1:$" + base64.b64encode(user_id.encode()[::-1]).decode(),
            "sessionWebhook": f"{self.api_url}/robot/sendBySession?session={session}",
            "robotCode": self.robot_code,
            "msgtype": msgtype,
            **body,
        }

    async def _send_message(self, user_id: str, msgtype: str, body: JSONDict) -> str:
        data = self._robot_message(user_id, msgtype, body)
        self.messages[data["msgId"]] = data
        message_id = await self._push(self._frame("CALLBACK", ROBOT_TOPIC, data))
        self._msg_frames[data["msgId"]] = message_id
        return str(data["msgId"])

    def _file_code(self, user_id: str, media: Media) -> str:
        code = _opaque_code("dc")
        self._download_codes[code] = (user_id, media)
        return code

    async def send_text(self, user_id: str, text: str) -> str:
        """The user sends the robot a text; returns the message's msgId."""
        return await self._send_message(user_id, "text", {"text": {"content": text}})

    async def send_picture(self, user_id: str, data: bytes) -> str:
        """The user sends a picture (behind a downloadCode); returns the msgId."""
        code = self._file_code(user_id, Media("image.jpg", data, "image"))
        content = {"downloadCode": code, "pictureDownloadCode": code}
        return await self._send_message(user_id, "picture", {"content": content})

    async def send_file(self, user_id: str, data: bytes, name: str) -> str:
        """The user sends a file (behind a downloadCode); returns the msgId."""
        code = self._file_code(user_id, Media(name, data, "file"))
        content = {"downloadCode": code, "fileName": name, "spaceId": "1", "fileId": _id()}
        return await self._send_message(user_id, "file", {"content": content})

    async def send_unsupported(self, user_id: str, msgtype: str = "audio") -> str:
        """The user sends something kexie does not take (audio, video, …); returns the msgId."""
        content: JSONDict = {"downloadCode": self._file_code(user_id, Media("x", b"", msgtype))}
        if msgtype in ("audio", "video"):
            content["duration"] = 4000
        if msgtype == "audio":
            content["recognition"] = "语音"
        return await self._send_message(user_id, msgtype, {"content": content})

    async def press(self, user_id: str, card_biz_id: str, action_id: str) -> str:
        """The user presses a button of a card they hold; returns the frame's messageId.

        A press of a button the card does not show now is a mistake of the test (a real user
        cannot make it) and raises AssertionError."""
        card = self.cards.get(card_biz_id)
        if card is None or card.user_id != user_id:
            raise AssertionError(f"{user_id} holds no card {card_biz_id}: {self._summary()}")
        shown = [button_id for row in card.buttons() for _, button_id in row]
        if action_id not in shown:
            raise AssertionError(f"card {card_biz_id} shows no button {action_id!r}: {shown}")
        private = {"cardPrivateData": {"actionIds": [action_id], "params": {}}}
        data = {
            "outTrackId": card_biz_id,
            "userId": user_id,
            "corpId": self.corp_id,
            "type": "actionCallback",
            "spaceType": "IM",
            "spaceId": self.conversation_id(user_id),
            "userIdType": 1,
            "extension": "{}",
            "content": json.dumps(private, ensure_ascii=False),
        }
        return await self._push(self._frame("CALLBACK", CARD_TOPIC, data))

    async def ping(self) -> None:
        """A SYSTEM ping; raises AssertionError unless the client echoes its opaque in 5 s."""
        opaque = _id()
        message_id = await self._push(self._frame("SYSTEM", "ping", {"opaque": opaque}))
        ack = await self.wait_acked(message_id, timeout=5.0)
        echoed = json.loads(ack.get("data") or "null")
        if echoed != {"opaque": opaque} or ack.get("code") != 200:
            raise AssertionError(f"ping {opaque} answered with {ack}")

    async def send_disconnect(self) -> None:
        """A SYSTEM disconnect on every open connection; each closes ``disconnect_grace``
        seconds later if the client has not closed it (it should reconnect meanwhile)."""
        for sock in list(self._sockets):
            await self._push(self._frame("SYSTEM", "disconnect", {"reason": "test"}), to=sock)
            self._spawn(self._close_later(sock))

    async def _close_later(self, sock: _Socket) -> None:
        await asyncio.sleep(self.disconnect_grace)
        await sock.ws.close(code=1000, message=b"disconnect")

    async def drop_socket(self) -> None:
        """Cut every open connection without a close frame (a network failure)."""
        for sock in list(self._sockets):
            self._sockets.remove(sock)
            transport = sock.request.transport
            if transport is not None:
                transport.abort()

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the Stream: acks ------------------------------------------------------------------

    def frame_id(self, msg_id: str) -> str:
        """The frame messageId that carried the robot message ``msg_id`` (or ``msg_id``)."""
        return self._msg_frames.get(msg_id, msg_id)

    def unacked(self) -> list[str]:
        """The CALLBACK frames (messageIds) not acked with code 200 within ``ack_timeout``
        seconds of going out (late acks included); frames still queued are not listed."""
        now = time.monotonic()
        late: list[str] = []
        for message_id, delivery in self._deliveries.items():
            if delivery.frame["type"] != "CALLBACK" or delivery.at is None:
                continue
            acked = self._ack_times.get(message_id)
            code = self.acks.get(message_id, {}).get("code")
            if acked is None:
                overdue = now - delivery.at > self.ack_timeout
            else:
                overdue = acked - delivery.at > self.ack_timeout or code != 200
            if overdue:
                late.append(message_id)
        return late

    def awaiting_ack(self) -> list[str]:
        """The CALLBACK frames (messageIds) that went out and have no ack yet, however recent
        (for a check at the end of a test, when :meth:`unacked`'s timeout has not run out)."""
        return [
            message_id
            for message_id, delivery in self._deliveries.items()
            if delivery.frame["type"] == "CALLBACK"
            and delivery.at is not None
            and message_id not in self.acks
        ]

    @property
    def queued(self) -> int:
        """Frames waiting for a connection."""
        return len(self._queue)

    async def wait_acked(self, message_id: str, timeout: float = 10.0) -> JSONDict:
        """Wait for the ack of a frame (its messageId, or a robot message's msgId)."""
        frame_id = self.frame_id(message_id)
        if frame_id in self.acks:
            return self.acks[frame_id]
        future: asyncio.Future[JSONDict] = asyncio.get_running_loop().create_future()
        self._ack_waiters.setdefault(frame_id, []).append(future)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            summary = self._summary()
            raise AssertionError(f"no ack for {message_id} in {timeout}s: {summary}") from None

    def _on_ack(self, raw: str) -> None:
        try:
            ack = json.loads(raw)
            message_id = ack["headers"]["messageId"]
        except (ValueError, KeyError, TypeError):
            self.stray_acks.append({"raw": raw})
            return
        if message_id not in self._deliveries:
            self.stray_acks.append(ack)
            return
        self.acks[message_id] = ack
        self._ack_times.setdefault(message_id, time.monotonic())
        for future in self._ack_waiters.pop(message_id, []):
            if not future.done():
                future.set_result(ack)

    # -- what was received -----------------------------------------------------------------

    def texts_to(self, user_id: str) -> list[str]:
        """Every text, markdown and card (sent or updated: its title and markdown) the user
        received, in order."""
        texts: list[str] = []
        for sent in self.sent:
            if sent.user_id != user_id:
                continue
            body = sent.body
            if sent.kind == "otm" and body["msgKey"] == "sampleText":
                texts.append(body["msgParam"]["content"])
            elif sent.kind == "otm" and body["msgKey"] == "sampleMarkdown":
                texts.append(body["msgParam"]["text"])
            elif sent.kind == "webhook" and body.get("msgtype") == "text":
                texts.append(body["text"]["content"])
            elif sent.kind == "webhook" and body.get("msgtype") == "markdown":
                texts.append(body["markdown"]["text"])
            elif sent.kind in ("card", "card_update"):
                texts.append(card_text(body["cardData"]))
        return texts

    def buttons_of(self, card_biz_id: str) -> list[list[tuple[str, str]]]:
        """Rows of (label, id) of a card as it is now."""
        return self.cards[card_biz_id].buttons()

    def last_card_to(self, user_id: str) -> Card | None:
        """The card most recently sent to the user (as it is now), or None."""
        for sent in reversed(self.sent):
            if sent.kind == "card" and sent.user_id == user_id:
                return self.cards[sent.body["cardBizId"]]
        return None

    def files_to(self, user_id: str) -> list[tuple[str, bytes]]:
        """Files (sampleFile) the user received: (fileName, the uploaded bytes)."""
        files: list[tuple[str, bytes]] = []
        for sent in self.sent:
            if sent.kind == "otm" and sent.user_id == user_id:
                param = sent.body["msgParam"]
                if sent.body["msgKey"] == "sampleFile":
                    files.append((param["fileName"], self.media[param["mediaId"]].data))
        return files

    def images_to(self, user_id: str) -> list[bytes]:
        """Images (sampleImageMsg with an uploaded media_id as photoURL) the user received."""
        return [
            self.media[sent.body["msgParam"]["photoURL"]].data
            for sent in self.sent
            if sent.kind == "otm"
            and sent.user_id == user_id
            and sent.body["msgKey"] == "sampleImageMsg"
            and sent.body["msgParam"]["photoURL"] in self.media
        ]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Poll ``predicate`` until true; AssertionError with a summary after ``timeout``."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met in {timeout}s: {self._summary()}")
            await asyncio.sleep(0.02)

    def _summary(self) -> str:
        lines = [
            f"connections={self.connections} connected={self.connected} queued={self.queued}",
            f"calls={dict(self.calls)} unacked={self.unacked()}",
        ]
        for sent in self.sent[-8:]:
            body = json.dumps(sent.body, ensure_ascii=False)[:300]
            lines.append(f"  sent {sent.kind} → {sent.user_id}: {body}")
        lines += [f"  rejected {r.endpoint} {r.status}: {r.answer}" for r in self.rejected[-5:]]
        return "\n".join(lines)

    # -- HTTP plumbing ---------------------------------------------------------------------

    def _record(self, kind: str, user_id: str | None, body: JSONDict) -> None:
        self.sent.append(Sent(kind, user_id, body, self.clock()))

    async def _serve(
        self,
        endpoint: str,
        request: web.Request,
        handle: Callable[[JSONDict], JSONDict],
        *,
        v1: bool,
    ) -> web.Response:
        """Meter the call, apply an injected fault, decode JSON, run ``handle``, answer."""
        self.calls[endpoint] += 1
        faults = self._faults.get(endpoint)
        if faults:
            status = faults.popleft()
            body = (
                {"code": INJECTED, "message": "injected fault"}
                if v1
                else {"errcode": ERR_BUSY, "errmsg": "系统繁忙"}
            )
            return web.json_response(body, status=status)
        payload: JSONDict = {}
        try:
            if request.content_type.startswith("multipart/"):
                payload = await self._multipart(request)
            else:
                text = await request.text()
                payload = json.loads(text) if text else {}
                if not isinstance(payload, dict):
                    raise _v1(BAD_PARAMETER, "the body must be a JSON object")
            return web.json_response(handle({**payload, **self._auth(request)}))
        except ValueError:
            refused = _v1(BAD_PARAMETER, "the body is not JSON")
        except _Refused as exc:
            refused = exc
        self.rejected.append(Rejected(endpoint, refused.status, refused.body, payload))
        return web.json_response(refused.body, status=refused.status)

    @staticmethod
    def _auth(request: web.Request) -> JSONDict:
        """The access token of a request (header on v1.0, query on the old API), as a
        pseudo-field the handlers read and strip."""
        token = request.headers.get("x-acs-dingtalk-access-token") or request.query.get(
            "access_token"
        )
        extra: JSONDict = {"__token": token}
        if "session" in request.query:
            extra["__session"] = request.query["session"]
        return extra

    @staticmethod
    async def _multipart(request: web.Request) -> JSONDict:
        fields: JSONDict = {}
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader):
                continue  # a nested multipart: DingTalk takes flat forms only
            data = bytes(await part.read(decode=False))
            if part.filename:
                fields[part.name or ""] = Media(part.filename, data, "")
            else:
                fields[part.name or ""] = data.decode()
        return fields

    def _v1_token(self, payload: JSONDict) -> None:
        if not self._token_valid(payload.pop("__token", None)):
            raise _v1(BAD_TOKEN, "不合法的access_token")

    def _old_token(self, payload: JSONDict) -> None:
        if not self._token_valid(payload.pop("__token", None)):
            raise _old(ERR_TOKEN, "不合法的access_token")

    def _token_valid(self, token: object) -> bool:
        return isinstance(token, str) and self._tokens.get(token, 0.0) > self.clock()

    def _robot(self, payload: JSONDict) -> None:
        if payload.get("robotCode") != self.robot_code:
            raise _v1(UNKNOWN_ROBOT, f"robotCode {payload.get('robotCode')!r} is not this robot")

    # -- HTTP: credentials and the Stream gateway -------------------------------------------

    async def _access_token(self, request: web.Request) -> web.StreamResponse:
        def handle(payload: JSONDict) -> JSONDict:
            if (payload.get("appKey"), payload.get("appSecret")) != (
                self.client_id,
                self.client_secret,
            ):
                raise _v1(BAD_CREDENTIALS, "无效的clientId或clientSecret")
            token = _id()
            self._tokens[token] = self.clock() + TOKEN_TTL
            self._record("token", None, {"appKey": payload["appKey"]})
            return {"accessToken": token, "expireIn": TOKEN_TTL}

        return await self._serve("accessToken", request, handle, v1=True)

    async def _connections_open(self, request: web.Request) -> web.StreamResponse:
        def handle(payload: JSONDict) -> JSONDict:
            if (payload.get("clientId"), payload.get("clientSecret")) != (
                self.client_id,
                self.client_secret,
            ):
                raise _v1(BAD_CREDENTIALS, "无效的clientId或clientSecret")
            subscriptions = payload.get("subscriptions")
            if not isinstance(subscriptions, list) or not subscriptions:
                raise _v1(BAD_PARAMETER, "subscriptions is required")
            ticket = _opaque_code("")
            self._tickets[ticket] = self.clock() + TICKET_TTL
            return {"endpoint": f"ws://{self.host}:{self.port}/connect", "ticket": ticket}

        return await self._serve("connectionsOpen", request, handle, v1=True)

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        expiry = self._tickets.pop(ticket, None)  # single use: gone even when refused late
        if expiry is None or expiry < self.clock():
            body = {"code": "InvalidAuthentication", "message": "ticket is invalid or used"}
            return web.json_response(body, status=401)
        # A client that does not answer the close handshake holds stop() 2 s, not 10.
        ws = web.WebSocketResponse(autoping=True, timeout=2.0)
        await ws.prepare(request)
        self.connections += 1
        sock = _Socket(ws, request, self.connections)
        self._sockets.append(sock)
        while self._queue:
            await self._deliver(self._queue.popleft(), sock)
        try:
            async for message in ws:
                if message.type == web.WSMsgType.TEXT:
                    self._on_ack(message.data)
        finally:
            if sock in self._sockets:
                self._sockets.remove(sock)
        return ws

    # -- HTTP: robot messages, cards, files --------------------------------------------------

    async def _download(self, request: web.Request) -> web.StreamResponse:
        def handle(payload: JSONDict) -> JSONDict:
            self._v1_token(payload)
            self._robot(payload)
            found = self._download_codes.get(str(payload.get("downloadCode")))
            if found is None:
                raise _v1(BAD_DOWNLOAD_CODE, "downloadCode无效")
            user_id, media = found
            token = _id()
            self._files[token] = media.data
            self._record("download", user_id, dict(payload))
            return {"downloadUrl": f"{self.api_url}/files/{token}"}

        return await self._serve("download", request, handle, v1=True)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        data = self._files.get(request.match_info["token"])
        if data is None:
            return web.Response(status=404, text="NoSuchKey")
        return web.Response(body=data, content_type="application/octet-stream")

    async def _batch_send(self, request: web.Request) -> web.StreamResponse:
        def handle(payload: JSONDict) -> JSONDict:
            self._v1_token(payload)
            self._robot(payload)
            user_ids = payload.get("userIds")
            if not isinstance(user_ids, list) or not user_ids:
                raise _v1(BAD_PARAMETER, "userIds is required")
            if len(user_ids) > MAX_BATCH_USERS:
                raise _v1(TOO_MANY_USERS, f"at most {MAX_BATCH_USERS} userIds")
            msg_key = payload.get("msgKey")
            if msg_key not in _MSG_KEYS:
                raise _v1(BAD_PARAMETER, f"msgKey {msg_key!r} is not supported")
            try:
                param = json.loads(payload.get("msgParam") or "")
            except (TypeError, ValueError):
                raise _v1(BAD_PARAMETER, "msgParam is not JSON") from None
            self._check_msg_param(msg_key, param)
            invalid = [u for u in user_ids if u not in self.users]
            for user_id in user_ids:
                if user_id not in invalid:
                    self._record("otm", user_id, {**payload, "msgParam": param})
            return {
                "processQueryKey": _opaque_code(""),
                "invalidStaffIdList": invalid,
                "flowControlledStaffIdList": [],
            }

        return await self._serve("batchSend", request, handle, v1=True)

    def _check_msg_param(self, msg_key: str, param: object) -> None:
        if not isinstance(param, dict):
            raise _v1(BAD_PARAMETER, "msgParam must be a JSON object")
        required = {
            "sampleText": ("content",),
            "sampleMarkdown": ("title", "text"),
            "sampleImageMsg": ("photoURL",),
            "sampleFile": ("mediaId", "fileName", "fileType"),
            "sampleLink": ("text", "title", "picUrl", "messageUrl"),
        }[msg_key]
        for name in required:
            if not isinstance(param.get(name), str) or not param[name]:
                raise _v1(BAD_PARAMETER, f"msgParam.{name} is required")
        for name in ("content", "text"):
            if len(param.get(name) or "") > MAX_TEXT_CHARS:
                raise _v1(TOO_LONG, f"msgParam.{name} is over {MAX_TEXT_CHARS} characters")
        if msg_key == "sampleFile" and param["mediaId"] not in self.media:
            raise _v1(UNKNOWN_MEDIA, f"mediaId {param['mediaId']!r} was never uploaded")
        if msg_key == "sampleImageMsg":
            photo = param["photoURL"]
            if photo not in self.media and not photo.startswith(("http://", "https://")):
                raise _v1(UNKNOWN_MEDIA, f"photoURL {photo!r} is neither a media_id nor a URL")

    async def _card_send(self, request: web.Request) -> web.StreamResponse:
        def handle(payload: JSONDict) -> JSONDict:
            self._v1_token(payload)
            self._robot(payload)
            if payload.get("cardTemplateId") != "StandardCard":
                raise _v1(BAD_PARAMETER, "cardTemplateId must be StandardCard")
            card_biz_id = payload.get("cardBizId")
            if not isinstance(card_biz_id, str) or not card_biz_id:
                raise _v1(BAD_PARAMETER, "cardBizId is required")
            try:
                receiver = json.loads(payload.get("singleChatReceiver") or "")
                user_id = receiver["userId"]
            except (TypeError, ValueError, KeyError):
                raise _v1(BAD_PARAMETER, 'singleChatReceiver must be {"userId": …}') from None
            if user_id not in self.users:
                raise _v1(UNKNOWN_STAFF, f"staffId {user_id} does not exist")
            data = self._card_data(payload)
            self.cards[card_biz_id] = Card(card_biz_id, user_id, data, history=[data])
            self._record("card", user_id, {**payload, "cardData": data})
            return {"processQueryKey": _opaque_code("")}

        return await self._serve("cardSend", request, handle, v1=True)

    async def _card_update(self, request: web.Request) -> web.StreamResponse:
        def handle(payload: JSONDict) -> JSONDict:
            self._v1_token(payload)
            card = self.cards.get(str(payload.get("cardBizId")))
            if card is None:
                raise _v1(UNKNOWN_CARD, f"card {payload.get('cardBizId')} does not exist")
            data = self._card_data(payload)
            card.data = data
            card.updates += 1
            card.history.append(data)
            self._record("card_update", card.user_id, {**payload, "cardData": data})
            return {"success": True, "result": True}

        return await self._serve("cardUpdate", request, handle, v1=True)

    @staticmethod
    def _card_data(payload: JSONDict) -> JSONDict:
        try:
            return parse_card_data(payload.get("cardData"))
        except CardDataError as exc:
            raise _v1(exc.error, str(exc)) from None

    async def _webhook(self, request: web.Request) -> web.StreamResponse:
        def handle(payload: JSONDict) -> JSONDict:
            payload.pop("__token", None)
            session = self._sessions.get(str(payload.pop("__session", "")))
            if session is None or session[1] < self.clock():
                raise _old(ERR_SESSION, "session webhook is unknown or expired")
            msgtype = payload.get("msgtype")
            if msgtype not in _WEBHOOK_TYPES or not isinstance(payload.get(msgtype), dict):
                raise _old(ERR_MSGTYPE, "无效的会话消息的类型")
            content = payload[msgtype]
            text = content.get("content") if msgtype == "text" else content.get("text")
            if msgtype in ("text", "markdown") and not isinstance(text, str):
                raise _old(ERR_MSGTYPE, "会话消息的json结构无效或不完整")
            if isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
                raise _old(ERR_TOO_LONG, "消息内容长度超过限制")
            self._record("webhook", session[0], payload)
            return {"errcode": 0, "errmsg": "ok"}

        return await self._serve("webhook", request, handle, v1=False)

    # -- HTTP: the old API -----------------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        def handle(payload: JSONDict) -> JSONDict:
            self._old_token(payload)
            media_type = payload.get("type")
            media = payload.get("media")
            if media_type not in _MEDIA_TYPES or not isinstance(media, Media):
                raise _old(ERR_MEDIA_TYPE, "无效的媒体文件类型")
            if len(media.data) > MAX_MEDIA_BYTES:
                raise _old(ERR_MEDIA_SIZE, "不合法的文件大小")
            media_id = "@lA" + _opaque_code("").replace("/", "_")
            self.media[media_id] = Media(media.name, media.data, str(media_type))
            body = {"type": media_type, "filename": media.name, "size": len(media.data)}
            self._record("upload", None, {**body, "media_id": media_id})
            return {
                "errcode": 0,
                "errmsg": "ok",
                "media_id": media_id,
                "created_at": int(self.clock() * 1000),
                "type": media_type,
            }

        return await self._serve("upload", request, handle, v1=False)

    async def _userinfo(self, request: web.Request) -> web.StreamResponse:
        def handle(payload: JSONDict) -> JSONDict:
            self._old_token(payload)
            code = str(payload.get("code"))
            found = self._auth_codes.pop(code, None)  # single use, even when expired
            if found is None or found[1] < self.clock():
                raise _old(ERR_AUTH_CODE, "不存在的临时授权码")
            user_id = found[0]
            self._record("userinfo", user_id, {"code": code, "userid": user_id})
            return {
                "errcode": 0,
                "errmsg": "ok",
                "result": {
                    "userid": user_id,
                    "name": self.users[user_id],
                    "device_id": _id(),
                    "sys": False,
                    "sys_level": 0,
                    "associated_unionid": "",
                    "unionid": base64.b64encode(user_id.encode()).decode(),
                },
            }

        return await self._serve("userinfo", request, handle, v1=False)
