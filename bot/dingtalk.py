"""Serving DingTalk: the app's API client, its front, the Stream connection, and — when the bot
runs on DingTalk alone — the scheduler's clock, which python-telegram-bot's JobQueue keeps
otherwise (``bot/jobs.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.jobs import TICK_SECONDS, tick_once
from bot.logs import quiet_library_loggers
from channels.dingtalk.api import DingTalkApi
from channels.dingtalk.front import DingTalkFront
from channels.dingtalk.messenger import DingTalkMessenger
from channels.dingtalk.stream import (
    CARD_TOPIC,
    ROBOT_TOPIC,
    CardPresses,
    Dispatcher,
    RobotMessages,
    StreamClient,
)
from core.settings import Settings
from handlers import export_run
from handlers.routes import register_flows
from scheduler.jobs import Scheduler
from scheduler.sender import Sender
from storage.db import Database

log = logging.getLogger(__name__)

SEND_IDLE = 1.0  # the sender looks at least this often without being woken


@dataclass
class DingTalkChannel:
    """Everything of one DingTalk app, built once per process."""

    api: DingTalkApi
    front: DingTalkFront
    dispatcher: Dispatcher
    client: StreamClient
    messenger: DingTalkMessenger


def build_dingtalk(settings: Settings, db: Database, wake: Callable[[], None]) -> DingTalkChannel:
    """The DingTalk channel on ``db``; ``wake``: have the outbox sender look now."""
    quiet_library_loggers()
    register_flows()
    api = DingTalkApi(settings)
    front = DingTalkFront(api, settings, wake)
    dispatcher = Dispatcher(front, db, settings, concurrency=settings.concurrency)
    client = StreamClient(settings)
    client.register_callback_handler(ROBOT_TOPIC, RobotMessages(dispatcher, api))
    client.register_callback_handler(CARD_TOPIC, CardPresses(dispatcher))
    return DingTalkChannel(api, front, dispatcher, client, DingTalkMessenger(front))


async def serve_dingtalk(channel: DingTalkChannel, db: Database, stop: asyncio.Event) -> None:
    """Keep the Stream connection until ``stop`` is set; then finish the replies in flight.
    The API client stays open (the scheduler may still be sending): :func:`close_dingtalk`
    closes it once everything that sends has stopped."""
    await export_run.after_restart(channel.front, db)
    log.info("DingTalk: connecting to the stream gateway")
    try:
        await channel.client.run(stop)
    finally:
        await channel.dispatcher.finish()
        await channel.front.stop()


async def close_dingtalk(channel: DingTalkChannel) -> None:
    """Close the API client (after the connection, the replies and the scheduler stopped)."""
    await channel.api.aclose()


async def run_scheduler(scheduler: Scheduler, sender: Sender, wake: asyncio.Event,
                        stop: asyncio.Event) -> None:  # fmt: skip
    """The tick every minute and the sender whenever woken (or every second), until ``stop``."""

    async def ticking() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TICK_SECONDS)
            if not stop.is_set() and await tick_once(scheduler):
                wake.set()

    async def sending() -> None:
        while not stop.is_set():
            wake.clear()
            try:
                await sender.drain()
            except Exception:
                log.exception("outbox sender failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), SEND_IDLE)

    await asyncio.gather(ticking(), sending())
