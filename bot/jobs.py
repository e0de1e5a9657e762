"""The scheduler on python-telegram-bot's JobQueue: a tick every minute, a sender every second.

The JobQueue (APScheduler) only provides the clock; the tick and the sender themselves are plain
objects of ``scheduler/`` (:mod:`scheduler.jobs`), and the sender talks to Telegram through
:class:`handlers.messenger.TelegramMessenger`.
"""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from core.settings import Settings
from handlers.messenger import TelegramMessenger
from scheduler.jobs import Scheduler
from scheduler.sender import Sender
from storage.db import Database

log = logging.getLogger(__name__)

TICK_SECONDS = 60
SEND_SECONDS = 1.0
SEND_BUDGET = 0.8  # each sender run stops before the next one is due


def install(app: Application) -> Scheduler:
    """Add the tick (every minute) and the sender (every second) to the app's JobQueue."""
    settings: Settings = app.bot_data["settings"]
    db: Database = app.bot_data["db"]
    scheduler = Scheduler(db, settings)
    app.bot_data["scheduler"] = scheduler
    app.bot_data["sender"] = scheduler.sender(TelegramMessenger(app.bot))
    queue = app.job_queue
    if queue is None:  # PTB installed without the job-queue extra
        log.warning("no JobQueue: scheduled reminders are disabled")
        return scheduler
    queue.run_repeating(run_tick, interval=TICK_SECONDS, first=TICK_SECONDS, name="scheduler:tick")
    queue.run_repeating(run_sender, interval=SEND_SECONDS, first=6, name="scheduler:send")
    return scheduler


async def run_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: one tick (a failure is logged; the next tick tries again)."""
    scheduler: Scheduler = context.bot_data["scheduler"]
    try:
        result = await scheduler.tick()
    except Exception:
        log.exception("scheduler tick failed")
        return
    if result.enqueued:
        log.info("scheduler queued %d message(s)", result.enqueued)


async def run_sender(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: send what is due for at most :data:`SEND_BUDGET` seconds."""
    sender: Sender = context.bot_data["sender"]
    try:
        await sender.drain(budget=SEND_BUDGET)
    except Exception:
        log.exception("outbox sender failed")
