"""The scheduler on python-telegram-bot's JobQueue: a tick every minute, the sender continuously.

The JobQueue (APScheduler) only provides the clock; the tick and the sender themselves are plain
objects of ``scheduler/`` (:mod:`scheduler.jobs`), and the sender talks to Telegram through
:class:`channels.telegram.messenger.TelegramMessenger`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from telegram.ext import Application, ContextTypes

from channels.telegram.messenger import TelegramMessenger
from core.enums import Channel
from core.settings import Settings
from scheduler.jobs import Scheduler
from scheduler.messenger import Messenger
from scheduler.notices import WAKE
from scheduler.sender import Sender
from storage.db import Database

log = logging.getLogger(__name__)

TICK_SECONDS = 60
SEND_SECONDS = 1.0
# Each sender run drains, then waits to be woken, for most of its second: the sender is busy
# whenever there is work, and a stop of the JobQueue waits at most this long for it.
SEND_BUDGET = 0.85


def install(app: Application, others: Mapping[Channel, Messenger] | None = None) -> Scheduler:
    """Add the tick (every minute) and the sender (every second) to the app's JobQueue;
    ``others``: the messengers of the other channels served beside Telegram."""
    settings: Settings = app.bot_data["settings"]
    db: Database = app.bot_data["db"]
    scheduler = Scheduler(db, settings)
    app.bot_data["scheduler"] = scheduler
    # rate=None: the bot's broadcast lane (bot/lanes.py, KEXIE_BROADCAST_RATE) is the budget.
    app.bot_data["sender"] = scheduler.sender(
        {Channel.TELEGRAM: TelegramMessenger(app.bot), **(others or {})}, rate=None
    )
    app.bot_data[WAKE] = asyncio.Event()
    queue = app.job_queue
    if queue is None:  # PTB installed without the job-queue extra
        log.warning("no JobQueue: scheduled reminders are disabled")
        return scheduler
    queue.run_repeating(run_tick, interval=TICK_SECONDS, first=TICK_SECONDS, name="scheduler:tick")
    queue.run_repeating(run_sender, interval=SEND_SECONDS, first=6, name="scheduler:send")
    return scheduler


async def run_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: one tick."""
    await tick_once(context.bot_data["scheduler"])


async def tick_once(scheduler: Scheduler) -> int:
    """One tick, its failure logged (the next tick tries again): the rows it queued."""
    try:
        result = await scheduler.tick()
    except Exception:
        log.exception("scheduler tick failed")
        return 0
    if result.enqueued:
        log.info("scheduler queued %d message(s)", result.enqueued)
    return result.enqueued


async def run_sender(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: for :data:`SEND_BUDGET` seconds, send what is due, and when nothing is, wait to be
    woken (:data:`WAKE`) instead of for the next run."""
    sender: Sender = context.bot_data["sender"]
    wake: asyncio.Event | None = context.bot_data.get(WAKE)
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + SEND_BUDGET
    try:
        while (left := stop_at - loop.time()) > 0:
            if wake is not None:
                wake.clear()
            await sender.drain(budget=left)
            left = stop_at - loop.time()
            if wake is None or left <= 0:
                return
            try:
                await asyncio.wait_for(wake.wait(), timeout=left)
            except TimeoutError:
                return
    except Exception:
        log.exception("outbox sender failed")
