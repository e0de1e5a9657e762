"""Webhook mode (``kexie run --webhook``): Telegram POSTs each update; an ASGI app answers.

The app (Starlette, served by uvicorn, as python-telegram-bot's ``customwebhookbot`` example
does) has three routes:

- ``POST /telegram`` (``KEXIE_WEBHOOK_PATH``): the secret header is compared in constant time
  (403 and nothing else otherwise); the update is read with :func:`bot.polling.read_update` and
  handled to the end before the answer. 200 means its transaction committed; when it failed
  in a way a retry may get past (the database unreachable, a dropped connection), a 500 makes
  Telegram deliver it again, and the update id stored with the member makes that a no-op. A
  handler bug is logged and answered 200, as polling confirms it: redeliveries would fail the
  same way, each with an apology to the user.
  A body that is not a JSON object with an integer ``update_id`` is refused with 400 before any
  handler sees it (a log line with the body's size only): a string id would otherwise reach
  ``channels.telegram.unit.unit_of_work``, be stored as the member's last update, and make each real
  update after it look like a redelivery. An update that has its id but that
  python-telegram-bot cannot read gets 200 and a log line with ids only: a retry could never
  succeed.
- ``GET /healthz``: 200 when the database answers and the outbox sender ran recently, else 503;
  the JSON body says which.
- ``GET /metrics``: Prometheus text (:mod:`bot.metrics`).
- ``/console/…``: the admin console, a Telegram Mini App (:mod:`web`, :mod:`bot.console`).

Every request body is bounded (:class:`web.body_limit.BodyLimit`, :data:`MAX_BODY`): a larger
``Content-Length`` gets 413 before anything is read, a chunked body 413 once it passes the
limit; nothing is stored.

Several instances behind a load balancer share one PostgreSQL: Telegram sends one chat's
updates one after another, and ``channels.telegram.unit.unit_of_work`` serialises a chat in the
database (an advisory lock), so whichever instance receives an update applies it in order and
once. Within one instance, updates of one chat also take turns (a redelivery may overlap the
original), and at most ``KEXIE_CONCURRENCY`` updates are handled at once. An album's photos
may reach several instances: the one acknowledgement is decided in the database
(``handlers.report.evidence.acknowledge_album``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application, ContextTypes

from bot import metrics
from bot.console import console_mount
from bot.polling import ALLOWED_UPDATES, STOP_GRACE, read_update
from bot.startup import BotApiReach, bind, until_connected
from channels.telegram.tasks import interrupt_all
from core.settings import Settings, parse_listen
from storage.db import TRANSIENT_DB_ERRORS, Database
from web.body_limit import BodyLimit

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # an update is a few kilobytes; anything this large is not one
# update_id is stored in a BIGINT column (ChannelAccount.last_update_id).
MAX_UPDATE_ID = 2**63 - 1
# /healthz: the sender runs every second (bot/jobs.py); silent this long means it is stuck.
SENDER_STALE = 60.0
DB_PROBE_TIMEOUT = 3.0

# The failures of the update being handled in this task (python-telegram-bot hands a handler's
# exception to the error handlers instead of raising it from process_update).
_failures: ContextVar[list[BaseException] | None] = ContextVar("kexie_failures", default=None)


async def _note_failure(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    box = _failures.get()
    if box is not None and context.error is not None:
        box.append(context.error)


class _TimedSender:
    """The outbox sender, remembering when a run last finished (for /healthz and /metrics)."""

    def __init__(self, inner: Any, started: float) -> None:
        self._inner = inner
        self.last_run = started  # the grace before the first run counts from the start

    async def drain(self, **kwargs: Any) -> Any:
        """Run the real sender's drain and note the time it finished."""
        try:
            return await self._inner.drain(**kwargs)
        finally:
            self.last_run = time.monotonic()
            metrics.SENDER_LAST_RUN.set_to_current_time()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``serve_webhook`` owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Webhook:
    """The ASGI app around one python-telegram-bot Application."""

    def __init__(self, app: Application, settings: Settings, db: Database) -> None:
        if not settings.webhook_secret:
            raise ValueError("webhook mode needs KEXIE_WEBHOOK_SECRET")
        self.app = app
        self.settings = settings
        self.db = db
        self._secret = settings.webhook_secret.encode()
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._chats: dict[int, tuple[asyncio.Lock, int]] = {}  # lock, requests using it
        self.started = time.monotonic()
        app.add_error_handler(_note_failure)
        # Bounded before any route reads a byte; the console inside keeps its own lower bound.
        self.asgi = BodyLimit(
            Starlette(
                routes=[
                    Route(settings.webhook_path, self.telegram, methods=["POST"]),
                    Route("/healthz", self.healthz, methods=["GET"]),
                    Route("/metrics", self.metrics, methods=["GET"]),
                    console_mount(app),  # the admin console (web/), at /console
                ]
            ),
            MAX_BODY,
        )

    # --- POST /telegram ----------------------------------------------------------------------

    async def telegram(self, request: Request) -> Response:
        """Handle one update; 200 once it is committed (see the module docstring)."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook request without the right secret from %s", _peer(request))
            return PlainTextResponse("forbidden", status_code=403)
        body = await request.body()  # at most MAX_BODY bytes: BodyLimit refuses more
        raw, problem = parse_update(body)
        if raw is None:
            # The body only by its size: it may hold anything a sender put there.
            log.warning("webhook request refused: %s (%d bytes)", problem, len(body))
            metrics.UPDATES.labels("unknown", "refused").inc()
            return PlainTextResponse("bad request", status_code=400)
        kind = metrics.update_type(raw)
        update = read_update(raw, self.app.bot)  # logs what it cannot read
        if update is None:
            metrics.UPDATES.labels(kind, "unreadable").inc()
            return PlainTextResponse("ok")
        began = time.perf_counter()
        failures = await self._handle(update)
        metrics.HANDLER_SECONDS.observe(time.perf_counter() - began)
        if any(worth_retrying(exc) for exc in failures):
            metrics.UPDATES.labels(kind, "retry").inc()
            log.warning(
                "update %s failed (%s): answering 500 for a redelivery",
                update.update_id,
                type(failures[0]).__name__,
            )
            return PlainTextResponse("failed", status_code=500)
        if failures:
            # A bug fails the same way every time: redeliveries would only repeat the apology
            # (as in polling, the update is confirmed; the error handler logged it).
            metrics.UPDATES.labels(kind, "failed").inc()
            return PlainTextResponse("ok")
        metrics.UPDATES.labels(kind, "handled").inc()
        return PlainTextResponse("ok")

    async def _handle(self, update: Update) -> list[BaseException]:
        """Process ``update`` after its chat's earlier ones in this process; its failures."""
        box: list[BaseException] = []
        token = _failures.set(box)
        key = _chat_key(update)
        try:
            with self._chat_turn(key) as lock:
                async with lock, self._slots:
                    try:
                        await self.app.process_update(update)
                    except Exception as exc:
                        box.append(exc)
        finally:
            _failures.reset(token)
        return box

    @contextlib.contextmanager
    def _chat_turn(self, key: int | None) -> Iterator[asyncio.Lock]:
        if key is None:
            yield asyncio.Lock()
            return
        lock, users = self._chats.get(key, (asyncio.Lock(), 0))
        self._chats[key] = (lock, users + 1)
        try:
            yield lock
        finally:
            lock, users = self._chats[key]
            if users <= 1:
                del self._chats[key]
            else:
                self._chats[key] = (lock, users - 1)

    # --- GET /healthz, /metrics --------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        """200 when the database answers and the sender ran recently; 503 saying which not."""
        body: dict[str, str] = {}
        try:
            async with asyncio.timeout(DB_PROBE_TIMEOUT):
                await self.db.ping()
            body["database"] = "ok"
        except Exception as exc:
            body["database"] = f"unavailable ({type(exc).__name__})"
        sender = self.app.bot_data.get("sender")
        if isinstance(sender, _TimedSender):
            age = time.monotonic() - sender.last_run
            body["sender"] = "ok" if age <= SENDER_STALE else f"last run {age:.0f}s ago"
        else:
            body["sender"] = "not running"
        healthy = body["database"] == "ok" and body["sender"] == "ok"
        return JSONResponse(body, status_code=200 if healthy else 503)

    async def metrics(self, request: Request) -> Response:
        """Prometheus text; the installation-wide gauges are read from the database now."""
        try:
            async with asyncio.timeout(DB_PROBE_TIMEOUT), self.db.session() as session:
                await metrics.refresh_from_database(session)
        except Exception as exc:  # the process's own counters are still worth serving
            log.warning("metrics: database figures unavailable (%s)", type(exc).__name__)
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)


# Failures a redelivery may get past: the database unreachable or gone, a dropped connection,
# a timeout. Anything else is a bug or a refusal that would fail again.
_TRANSIENT: tuple[type[BaseException], ...] = (
    *TRANSIENT_DB_ERRORS,
    ConnectionError,
    TimeoutError,
)


def worth_retrying(exc: BaseException) -> bool:
    """Whether a handler's failure should make Telegram deliver the update again (a 500)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, _TRANSIENT):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def parse_update(body: bytes) -> tuple[dict[str, Any] | None, str]:
    """The JSON object in ``body`` when it has an integer ``update_id`` in range; else None and
    why (words naming only types, never the content)."""
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8, or nested deeper than the parser goes
        return None, "not JSON"
    if not isinstance(raw, dict):
        return None, f"a JSON {type(raw).__name__}, not an object"
    if "update_id" not in raw:
        return None, "no update_id"
    update_id = raw["update_id"]
    # bool is an int to Python; 7.0 and "7" are not Telegram's ids either.
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None, f"update_id is a {type(update_id).__name__}"
    if not 0 <= update_id <= MAX_UPDATE_ID:
        return None, "update_id out of range"
    return raw, ""


def _chat_key(update: Update) -> int | None:
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


def _peer(request: Request) -> str:
    return request.client.host if request.client else "?"


async def serve_webhook(
    app: Application,
    settings: Settings,
    db: Database,
    *,
    stop: asyncio.Event | None = None,
    signals: bool = True,
    on_start: Callable[[Application], Awaitable[None]] | None = None,
) -> None:
    """Run the bot in webhook mode until ``stop`` is set (by SIGINT or SIGTERM when
    ``signals``): connect, start jobs, serve HTTP, call ``setWebhook``, run ``on_start``."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = (signal.SIGINT, signal.SIGTERM) if signals else ()
    for sig in handled:
        loop.add_signal_handler(sig, stop.set)
    webhook = Webhook(app, settings, db)
    host, port = parse_listen(settings.webhook_listen)
    # Bound before connecting, so a taken port stops the start at once, naming its setting.
    sock = bind("KEXIE_WEBHOOK_LISTEN", host, port)
    reach = BotApiReach.of(app)
    server = _Server(
        uvicorn.Config(
            webhook.asgi,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=int(STOP_GRACE),
        )
    )
    try:
        reach.connecting()
        if not await until_connected(stop, app.initialize, reach):
            return
        if app.post_init:
            await app.post_init(app)
        if "sender" in app.bot_data:
            app.bot_data["sender"] = _TimedSender(app.bot_data["sender"], time.monotonic())
        await app.start()
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            while not server.started and not serving.done():
                await asyncio.sleep(0.05)
            if serving.done():
                serving.result()  # could not listen: raise why
                return
            registered = await until_connected(
                stop,
                lambda: app.bot.set_webhook(
                    url=settings.webhook_url or "",
                    secret_token=settings.webhook_secret,
                    allowed_updates=list(ALLOWED_UPDATES),
                    max_connections=settings.webhook_max_connections,
                ),
                reach,
            )
            if registered:
                log.info("webhook set; listening on %s:%d", host, port)
                if on_start is not None:
                    await on_start(app)
                await stop.wait()
        finally:
            # The webhook stays registered: other instances may still be serving it.
            server.should_exit = True
            with contextlib.suppress(Exception):
                await serving
            await interrupt_all(app)
            await app.stop()
    finally:
        sock.close()
        await app.shutdown()
        # A start stopped before the Bot API answered leaves the application uninitialised,
        # which app.shutdown() skips; the bot's HTTP sessions are open all the same.
        await app.bot.shutdown()
        for sig in handled:
            loop.remove_signal_handler(sig)
