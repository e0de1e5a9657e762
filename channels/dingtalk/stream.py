"""DingTalk's Stream mode: one WebSocket that carries the robot's messages and card presses.

The SDK (``dingtalk-stream``) gives the frames' classes, the handlers' registration and their
acks (a ping's echoes its ``opaque``); the connection itself is kept here: 0.24.3 opens it with
blocking ``requests`` on the event loop, from an endpoint fixed at import, retries every 10 s
forever, and acks on whichever socket is the newest. :class:`StreamClient` opens it with an
async client against ``KEXIE_DINGTALK_API_URL``, acks each frame on the socket it came on,
reconnects with backoff after a dropped socket or a refused ticket, and after a ``disconnect``
frame opens the next connection at once while the old one finishes its events.

An event is acked after its answer is committed (never before: a process killed mid-update
has not acked, so DingTalk may deliver it again, and the event's ordinal recognises it); the
replies follow, and one chat's next event waits for them: one chat in order, different chats
at once (at most ``KEXIE_CONCURRENCY``). Several instances each keep their own connection;
DingTalk hands each event to one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote_plus

import httpx
import websockets
from dingtalk_stream import (
    AckMessage,
    CallbackHandler,
    CallbackMessage,
    Credential,
    DingTalkStreamClient,
    SystemMessage,
)

from channels.dingtalk.api import DingTalkApi, DingTalkError
from channels.dingtalk.front import READ_RETRY_BUDGET, DingTalkFront, described
from channels.dingtalk.incoming import message_event, press_event
from core.settings import Settings
from core.texts import t
from handlers.common import Turn
from handlers.port import FetchFailed, Incoming
from handlers.routes import REPROMPT, handler_for
from handlers.unit_of_work import run_turn
from storage.db import Database
from storage.evidence import MAX_DOWNLOAD_BYTES

log = logging.getLogger(__name__)

ROBOT_TOPIC = "/v1.0/im/bot/messages/get"
CARD_TOPIC = CallbackHandler.TOPIC_CARD_CALLBACK
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0
OPEN_TIMEOUT = 10.0
STOP_GRACE = 3.0  # seconds the replies in flight get when the bot stops
DRAIN_SECONDS = 10.0  # DingTalk closes a socket about 10 s after its disconnect frame
REMEMBERED = 10_000  # chats and event ids the dispatcher remembers
# Frames read but not yet acked, per connection: beyond this the socket is not read until some
# are done (a flood waits in DingTalk, not in memory).
MAX_IN_FLIGHT = 256


class Dispatcher:
    """Runs each event as one unit of work, one chat's in order, and performs its replies."""

    def __init__(
        self, front: DingTalkFront, db: Database, settings: Settings, *, concurrency: int
    ) -> None:
        self.front = front
        self.db = db
        self.settings = settings
        self._slots = asyncio.Semaphore(concurrency)
        self._chats: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}
        # The last ordinal given per chat, and the events seen, in this process (bounded).
        self._last: OrderedDict[str, int] = OrderedDict()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.handled = 0
        self._replies: set[asyncio.Task[None]] = set()

    async def handle(self, event: Incoming, ordinal: int) -> None:
        """Apply ``event`` and commit; its replies are sent in the background, before the
        chat's next event is applied. Returns once the answer is stored (the ack may go)."""
        chat = event.sender.external_id
        lock = self._chats.setdefault(chat, asyncio.Lock())
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        await lock.acquire()
        ordinal = self._ordinal(chat, event.key, ordinal)
        # The ordinal is the event's key from here on, as Telegram's update id is (the flows
        # compare the key they stored with the account's last applied ordinal).
        event = replace(event, key=str(ordinal))
        try:
            async with self._slots:
                turn = await run_turn(
                    handler_for(event),
                    event,
                    front=self.front,
                    db=self.db,
                    settings=self.settings,
                    ordinal=ordinal,
                    reprompt=REPROMPT,
                )
        except Exception as exc:
            self._release(chat, lock)
            log.error("event %s of a DingTalk chat failed: %s", event.key, described(exc))
            await self._tell_error(event)
            return
        self.handled += 1
        # Replies are not the front's background work (which a stop interrupts): a stop
        # waits for them (finish()).
        task = asyncio.create_task(self._reply(turn, chat, lock), name=f"reply {event.key}")
        self._replies.add(task)
        task.add_done_callback(self._replies.discard)

    async def finish(self, grace: float = STOP_GRACE) -> None:
        """Let the replies in flight go out (at most ``grace`` seconds), then cancel the rest."""
        pending = set(self._replies)
        if pending:
            _, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                task.cancel()

    def _ordinal(self, chat: str, key: str, stamp: int) -> int:
        """The event's ordinal for ``run_turn``: DingTalk's millisecond stamp, made to grow
        within the chat (two pictures of one choice can share a millisecond, and each is its
        own answer); an event seen before keeps its stamp, so it is recognised and not applied
        again, as one delivered again after a restart is by the stamp stored with the answer."""
        if key and key in self._seen:
            return stamp
        ordinal = max(stamp, self._last.get(chat, 0) + 1)
        self._last[chat] = ordinal
        self._last.move_to_end(chat)
        if key:
            self._seen[key] = None
        for memory in (self._last, self._seen):
            while len(memory) > REMEMBERED:
                memory.popitem(last=False)
        return ordinal

    async def _reply(self, turn: Turn, chat: str, lock: asyncio.Lock) -> None:
        try:
            await self.front.perform(turn)
        finally:
            self._release(chat, lock)

    def _release(self, chat: str, lock: asyncio.Lock) -> None:
        lock.release()
        left = self._waiting.get(chat, 1) - 1
        if left <= 0:
            self._waiting.pop(chat, None)
            self._chats.pop(chat, None)
        else:
            self._waiting[chat] = left

    async def _tell_error(self, event: Incoming) -> None:
        with contextlib.suppress(Exception):
            await self.front.send_text(event.sender, t("zh", "error_generic"), urgent=True)


class RobotMessages(CallbackHandler):
    """Topic ``/v1.0/im/bot/messages/get``: what people write and send to the robot."""

    def __init__(self, dispatcher: Dispatcher, api: DingTalkApi) -> None:
        super().__init__()
        self.dispatcher = dispatcher
        self.api = api

    async def process(self, message: CallbackMessage) -> tuple[int, str]:
        """Apply the message; it is acked (by the returned status) once it is committed."""
        data = message.data if isinstance(message.data, Mapping) else {}
        event = message_event(data, self._download)
        if event is None:
            return AckMessage.STATUS_OK, "OK"
        front = self.dispatcher.front
        hook, expires = data.get("sessionWebhook"), data.get("sessionWebhookExpiredTime")
        if isinstance(hook, str) and isinstance(expires, int | float | str):
            with contextlib.suppress(ValueError):
                front.note_webhook(event.sender, hook, int(expires))
        ordinal = _stamp(data.get("createAt"), message.headers.time)
        await self.dispatcher.handle(event, ordinal)
        return AckMessage.STATUS_OK, "OK"

    async def _download(self, code: str) -> bytes:
        front = self.dispatcher.front
        try:
            return await front.retrying(
                lambda: self.api.download(code, limit=MAX_DOWNLOAD_BYTES, urgent=True),
                what="a download",
                budget=READ_RETRY_BUDGET,
            )
        except DingTalkError as exc:
            raise FetchFailed(type(exc).__name__, too_big=exc.too_big) from exc


class CardPresses(CallbackHandler):
    """Topic ``/v1.0/card/instances/callback``: a button pressed on one of the robot's cards."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        super().__init__()
        self.dispatcher = dispatcher

    async def process(self, message: CallbackMessage) -> tuple[int, dict[str, Any]]:
        """Apply the press; acked once it is committed. The ack's response is empty: the card
        is updated through the card API, with what the flow answered (a response's
        ``cardData`` would need a template's variables)."""
        data = message.data if isinstance(message.data, Mapping) else {}
        key = str(message.headers.message_id or "")
        event = press_event(data, key, self.dispatcher.front.card)
        if event is None:
            return AckMessage.STATUS_OK, {}
        await self.dispatcher.handle(event, _stamp(None, message.headers.time))
        return AckMessage.STATUS_OK, {}


def _stamp(created: object, frame_time: object) -> int:
    """DingTalk's time of an event in milliseconds (the same event delivered again has the
    same one): what :meth:`Dispatcher._ordinal` makes the event's ordinal from."""
    for value in (created, frame_time):
        with contextlib.suppress(TypeError, ValueError):
            return int(str(value))
    return int(time.time() * 1000)


class StreamClient(DingTalkStreamClient):
    """The SDK's client, its connection opened asynchronously and re-opened with backoff."""

    def __init__(self, settings: Settings, *, http: httpx.AsyncClient | None = None) -> None:
        secret = settings.dingtalk_client_secret.get_secret_value()
        super().__init__(Credential(settings.dingtalk_client_id, secret), logger=log)
        self.settings = settings
        self._http = http
        self.connections = 0

    async def open_stream(self) -> dict[str, Any] | None:
        """Ask the gateway for an endpoint and a ticket (None: refused or unreachable)."""
        body = {
            "clientId": self.credential.client_id,
            "clientSecret": self.credential.client_secret,
            "subscriptions": [
                {"type": "CALLBACK", "topic": topic} for topic in self.callback_handler_map
            ],
            "ua": "kexie",
            "localIp": _local_ip(),
        }
        url = f"{self.settings.dingtalk_api_url}/v1.0/gateway/connections/open"
        client = self._http or httpx.AsyncClient(timeout=OPEN_TIMEOUT)
        try:
            response = await client.post(url, json=body, timeout=OPEN_TIMEOUT)
        except httpx.HTTPError as exc:
            log.warning("DingTalk stream gateway unreachable (%s)", type(exc).__name__)
            return None
        finally:
            if self._http is None:
                await client.aclose()
        if response.status_code != 200:
            # Never log the body's secret; DingTalk's error code says enough.
            log.error("DingTalk refused the stream connection: HTTP %s", response.status_code)
            return None
        opened: dict[str, Any] = response.json()
        return opened if opened.get("endpoint") and opened.get("ticket") else None

    async def run(
        self, stop: asyncio.Event, *, on_connect: Callable[[], None] | None = None
    ) -> None:
        """Keep a connection open until ``stop`` is set. After a ``disconnect`` frame the
        next connection opens at once while the old one finishes what it carries (DingTalk
        closes it some seconds later); after a lost one, the next waits a growing backoff."""
        self.pre_start()
        attempt = 0
        draining: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            moved = asyncio.Event()
            websocket = await self._connect()
            if websocket is not None:
                self.connections += 1
                attempt = 0
                log.info("DingTalk stream connected")
                if on_connect is not None:
                    on_connect()
                reader = asyncio.create_task(self._read(websocket, stop, moved))
                mover = asyncio.create_task(moved.wait())
                await asyncio.wait({reader, mover}, return_when=asyncio.FIRST_COMPLETED)
                mover.cancel()
                if not reader.done():  # asked to move: it drains beside the next one
                    draining.add(reader)
                    reader.add_done_callback(draining.discard)
            if stop.is_set():
                break
            if moved.is_set():
                continue
            delay = min(BACKOFF_FIRST * 2**attempt, BACKOFF_MAX) * random.uniform(0.5, 1.0)
            attempt = min(attempt + 1, 16)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        if draining:
            await asyncio.wait(draining, timeout=DRAIN_SECONDS)

    async def _connect(self) -> Any:
        """A new connection (None: the gateway or the socket refused, or is unreachable)."""
        opened = await self.open_stream()
        if opened is None:
            return None
        uri = f"{opened['endpoint']}?ticket={quote_plus(str(opened['ticket']))}"
        try:
            return await websockets.connect(uri, open_timeout=OPEN_TIMEOUT)
        except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
            log.warning("DingTalk stream refused (%s)", type(exc).__name__)
            return None

    async def _read(self, websocket: Any, stop: asyncio.Event, moved: asyncio.Event) -> None:
        """Each frame in a task of its own (one chat's order is kept by the dispatcher), acked
        on this socket; until the socket closes, the bot stops, or — after a ``disconnect`` —
        :data:`DRAIN_SECONDS` have passed."""
        tasks: set[asyncio.Task[Any]] = set()

        async def close_when_done() -> None:
            stopping = asyncio.create_task(stop.wait())
            moving = asyncio.create_task(moved.wait())
            await asyncio.wait({stopping, moving}, return_when=asyncio.FIRST_COMPLETED)
            for waiter in (stopping, moving):
                waiter.cancel()
            if not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), DRAIN_SECONDS)
            await websocket.close()

        closer = asyncio.create_task(close_when_done())
        try:
            async for raw in websocket:
                try:
                    frame = json.loads(raw)
                except ValueError:
                    log.warning("DingTalk stream: a frame that is not JSON")
                    continue
                task = asyncio.create_task(self._frame(frame, websocket, moved))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                if len(tasks) >= MAX_IN_FLIGHT:
                    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except websockets.exceptions.ConnectionClosed as exc:
            log.warning("DingTalk stream lost (%s)", type(exc).__name__)
        finally:
            if tasks:
                # Events being applied get to finish before the connection goes (their acks
                # may be lost with it: DingTalk then delivers them again, and the ordinal
                # stored with the answer recognises them).
                await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
            closer.cancel()
            with contextlib.suppress(Exception):
                await websocket.close()

    async def _frame(self, frame: dict[str, Any], websocket: Any, moved: asyncio.Event) -> None:
        """Route one frame to its handler and ack it on the socket it came on (the SDK's
        ``route_message`` acks on whichever socket is the newest)."""
        try:
            ack = None
            kind = frame.get("type", "")
            if kind == SystemMessage.TYPE:
                system = SystemMessage.from_dict(frame)
                ack = await self.system_handler.raw_process(system)
                if system.headers.topic == SystemMessage.TOPIC_DISCONNECT:
                    log.info("DingTalk asked to reconnect")
                    moved.set()
            elif kind == CallbackMessage.TYPE:
                callback = CallbackMessage.from_dict(frame)
                handler = self.callback_handler_map.get(callback.headers.topic)
                if handler is None:
                    log.warning("DingTalk stream: a callback of an unknown topic")
                    return
                ack = await handler.raw_process(callback)
            if ack is not None:
                await websocket.send(json.dumps(ack.to_dict()))
        except websockets.exceptions.ConnectionClosed:
            log.warning("DingTalk stream closed before an ack was sent")
        except Exception as exc:
            log.error("DingTalk stream: a frame failed: %s", described(exc))


def _local_ip() -> str:
    """This host's address as the gateway asks for it (informational; no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"
