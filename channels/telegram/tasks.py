"""Long-running work started by a handler (a large export) that must not delay a shutdown."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.ext import Application

log = logging.getLogger(__name__)

INTERRUPTIBLE = "kexie.interruptible_tasks"
INTERRUPT_GRACE = 5.0  # seconds an interrupted task gets to record that it was interrupted


def interrupt_on_stop(app: Application, task: asyncio.Task[Any]) -> None:
    """Have ``task`` cancelled when the bot stops instead of waiting for it to finish."""
    tasks: set[asyncio.Task[Any]] = app.bot_data.setdefault(INTERRUPTIBLE, set())
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def interrupt_all(app: Application) -> None:
    """Cancel every task registered with :func:`interrupt_on_stop`; wait a little for them."""
    tasks: set[asyncio.Task[Any]] = set(app.bot_data.get(INTERRUPTIBLE, ()))
    pending = {task for task in tasks if not task.done()}
    if not pending:
        return
    log.info("interrupting %d long-running task(s) to stop", len(pending))
    for task in pending:
        task.cancel()
    await asyncio.wait(pending, timeout=INTERRUPT_GRACE)
