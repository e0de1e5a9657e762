"""Serving the admin console (web/): its services from the bot's, the ASGI app mounted at
``/console``, and in polling mode a small uvicorn server on ``KEXIE_WEB_LISTEN``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp
from telegram.ext import Application

from bot.startup import ListenError, bind
from channels.telegram.exports import send_export as send_export_in_chat
from channels.telegram.tasks import interrupt_on_stop
from core.address import Address
from core.settings import Settings, parse_listen
from core.texts import t
from handlers import export_run
from handlers.port import Front
from scheduler.notices import WAKE
from storage.db import Database
from storage.evidence import open_evidence_store
from web.app import create_console
from web.export_runs import SendExport, Spawn
from web.page import Console, ResolveCode

log = logging.getLogger(__name__)

PREFIX = "/console"
#: ``bot_data`` key of the DingTalk sign-in's code check (``web.page.ResolveCode``), set by
#: ``kexie run`` when DingTalk is served beside Telegram.
RESOLVE_CODE = "dingtalk_resolve_code"
#: ``bot_data`` key of DingTalk's front when it is served beside Telegram (a DingTalk admin's
#: console export is sent in their DingTalk chat).
DINGTALK_FRONT = "dingtalk_front"


def console_services(app: Application) -> Console:
    """The console's services, sharing the bot's database, evidence store and sender."""
    settings: Settings = app.bot_data["settings"]
    db: Database = app.bot_data["db"]

    def wake() -> None:
        event = app.bot_data.get(WAKE)
        if isinstance(event, asyncio.Event):
            event.set()

    console = Console(settings=settings, db=db, store=open_evidence_store(settings), wake=wake)
    # DingTalk served beside Telegram: its 免登 codes are checked by its API client.
    console.resolve_code = app.bot_data.get(RESOLVE_CODE)
    console.extras["application"] = app  # for bot-side plug-ins (e.g. sending files in chat)
    console.extras["send_export"] = partial_send_export(app)
    console.extras["spawn"] = partial_spawn(app)
    return console


def partial_spawn(app: Application) -> Spawn:
    """The console's background work as the bot's own tasks: a stopping bot cancels them (an
    export is then recorded as interrupted, and its admin told after the restart, as in chat)."""

    def spawn(coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task: asyncio.Task[None] = app.create_task(coroutine, name=name)
        interrupt_on_stop(app, task)
        return task

    return spawn


def partial_send_export(app: Application) -> SendExport:
    """How the console sends an export's files to the admin's chat: a heading, then each file
    as a document, the way ``/export`` sends them (same retries, same size limit)."""

    async def send_export(
        to: Address, lang: str, heading: str, files: list[Path], job_id: int
    ) -> None:
        other: Front | None = app.bot_data.get(DINGTALK_FRONT)
        if other is not None and to.channel == other.channel:
            await through(other)(to, lang, heading, files, job_id)
            return
        await send_export_in_chat(app, to, lang, heading, files, job_id)

    return send_export


def console_mount(app: Application) -> Mount:
    """``/console`` for another Starlette app's routes (webhook mode)."""
    return Mount(PREFIX, app=create_console(console_services(app)))


def console_app(app: Application) -> ASGIApp:
    """A Starlette app serving only the console under ``/console`` (polling mode, tests)."""
    return Starlette(routes=[console_mount(app)])


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the bot's serve loop owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_console(app: Application, stop: asyncio.Event) -> None:
    """In polling mode, serve the console on ``KEXIE_WEB_LISTEN`` until ``stop`` is set."""
    await _serve(console_app(app), app.bot_data["settings"], stop)


def console_alone(
    settings: Settings,
    db: Database,
    front: Front,
    wake: Callable[[], None],
    resolve_code: ResolveCode | None,
) -> ASGIApp:
    """The console of a bot that runs without Telegram: exports in chat and background work
    through ``front`` (DingTalk's), sign-in by DingTalk's 免登 code (``resolve_code``)."""
    console = Console(settings=settings, db=db, store=open_evidence_store(settings), wake=wake)
    console.resolve_code = resolve_code

    def spawn(coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(coroutine, name=name)

    console.extras["send_export"] = through(front)
    console.extras["spawn"] = spawn
    return Starlette(routes=[Mount(PREFIX, app=create_console(console))])


def through(front: Front) -> SendExport:
    """A console export sent in the admin's chat through ``front``: a heading, then each file
    that fits the channel (the browser download has the others)."""

    async def send_export(
        to: Address, lang: str, heading: str, files: list[Path], job_id: int
    ) -> None:
        await front.send(to, t(lang, "web_export_chat_heading", heading=heading))
        for number, path in enumerate(files, start=1):
            what = f"console export file {number}/{len(files)} of job {job_id}"
            await export_run.send_file(front, to, path, what)

    return send_export


async def serve_console_alone(
    settings: Settings,
    db: Database,
    front: Front,
    wake: Callable[[], None],
    resolve_code: ResolveCode | None,
    stop: asyncio.Event,
) -> None:
    """:func:`serve_console` for a bot that runs without Telegram."""
    await _serve(console_alone(settings, db, front, wake, resolve_code), settings, stop)


async def _serve(asgi: ASGIApp, settings: Settings, stop: asyncio.Event) -> None:
    """Serve ``asgi`` on ``KEXIE_WEB_LISTEN`` until ``stop`` is set.

    The console is a convenience beside the chat: when its port cannot be had, one warning is
    logged and the bot goes on without it."""
    if settings.web_listen == "off":
        return
    host, port = parse_listen(settings.web_listen)
    # The socket is bound here, not by uvicorn: uvicorn answers a busy port with SystemExit,
    # which would end the whole bot.
    try:
        sock = bind("KEXIE_WEB_LISTEN", host, port)
    except ListenError as exc:
        log.warning("console not served on %s:%d: %s; the bot runs without it", host, port, exc)
        return
    server = _Server(uvicorn.Config(asgi, log_level="warning", access_log=False, lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    log.info("console served on %s:%d", host, port)
    try:
        await stop.wait()
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(serving, 5)
        sock.close()
