"""Wiring into python-telegram-bot's JobQueue: a tick every minute, a sender every second.

The JobQueue (APScheduler) only provides the clock. Each tick derives from the database what is
due now (:mod:`scheduler.reminders`), renders it (:mod:`scheduler.render`) and stores it in the
outbox under its unique key (:mod:`scheduler.outbox`); the sender (:mod:`scheduler.sender`)
drains the outbox within Telegram's limits. Both are safe to run in several processes at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram.ext import Application, ContextTypes

from core.settings import Settings
from scheduler import outbox
from scheduler.clock import Clock, SystemClock
from scheduler.reminders import Timing, due_now, is_quiet
from scheduler.render import render
from scheduler.sender import Sender
from scheduler.snapshot import load_snapshot
from storage.db import Database

log = logging.getLogger(__name__)

TICK_SECONDS = 60
SEND_SECONDS = 1.0
SEND_BUDGET = 0.8  # each sender run stops before the next one is due


@dataclass
class TickResult:
    """What one tick found and stored."""

    due: int = 0  # items due now (already queued ones included)
    enqueued: int = 0  # outbox rows inserted by this tick


class Scheduler:
    """Derives due messages from the database and stores them in the outbox."""

    def __init__(self, db: Database, settings: Settings, clock: Clock | None = None) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock or SystemClock()
        self.timing = Timing.from_settings(settings)

    async def tick(self, now: datetime | None = None) -> TickResult:
        """One pass: everything due at ``now`` (default: the clock) ends up in the outbox once."""
        now = now or self.clock.now()
        if is_quiet(now, self.timing):
            return TickResult()  # nothing is emitted at night: skip the queries
        async with self.db.session() as session:
            snap = await load_snapshot(session, now, self.timing)
            due = due_now(snap, now, self.timing)
            if not due:
                return TickResult()
            queued = await outbox.existing_keys(session, [d.key for d in due])
            rows = []
            for item in due:
                if item.key not in queued:
                    rows += await render(
                        session, item, snap.people[item.member_id], self.timing, now
                    )
            inserted = await outbox.enqueue(session, rows, now)
        return TickResult(due=len(due), enqueued=inserted)

    def sender(self, bot: Any, **kwargs: Any) -> Sender:
        """A sender for this scheduler's database, clock and quiet hours."""
        return Sender(
            self.db,
            bot,
            clock=self.clock,
            timing=self.timing,
            evidence_dir=self.settings.evidence_dir,
            **kwargs,
        )


def install(app: Application) -> Scheduler:
    """Add the tick (every minute) and the sender (every second) to the app's JobQueue."""
    settings: Settings = app.bot_data["settings"]
    db: Database = app.bot_data["db"]
    scheduler = Scheduler(db, settings)
    app.bot_data["scheduler"] = scheduler
    app.bot_data["sender"] = scheduler.sender(app.bot)
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
