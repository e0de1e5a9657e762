"""Long polling that confirms an update only after it has been handled and committed.

python-telegram-bot's Updater confirms a batch (by asking for the next offset) while the batch
is still being processed, so a process killed mid-update loses it. Here an update is confirmed
only once its handler has run; after a crash Telegram delivers it again, and
``handlers.common.unit_of_work`` recognises it by its update id: nothing is lost and nothing
is applied twice.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

log = logging.getLogger(__name__)

ALLOWED_UPDATES: Sequence[str] = (
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,  # blocked / unblocked: scheduler.reachability
)


async def poll(app: Application, stop: asyncio.Event, *, timeout: int = 10) -> None:
    """Fetch and handle updates one by one until ``stop`` is set."""
    offset: int | None = None
    backoff = 1.0
    while not stop.is_set():
        fetch = asyncio.ensure_future(
            app.bot.get_updates(
                offset=offset,
                timeout=timeout,
                allowed_updates=list(ALLOWED_UPDATES),
                read_timeout=timeout + 10,
            )
        )
        stopping = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if fetch not in done:
            fetch.cancel()
            break
        stopping.cancel()
        try:
            updates = fetch.result()
        except RetryAfter as exc:
            await asyncio.sleep(
                float(
                    exc.retry_after
                    if isinstance(exc.retry_after, int | float)
                    else exc.retry_after.total_seconds()
                )
            )
            continue
        except InvalidToken:
            raise
        except Conflict:
            log.warning("another process is polling with this token; retrying in %.0fs", backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30)
            continue
        except (NetworkError, TimedOut) as exc:
            log.warning("polling failed (%s); retrying in %.0fs", exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30)
            continue
        backoff = 1.0
        for update in updates:
            await app.process_update(update)  # errors go to the application's error handler
            offset = update.update_id + 1


async def serve(app: Application, *, timeout: int = 10) -> None:
    """Run the bot until SIGINT or SIGTERM: initialise, start jobs, poll, shut down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with app:
        if app.post_init:
            await app.post_init(app)
        await app.bot.delete_webhook()
        await app.start()
        try:
            await poll(app, stop, timeout=timeout)
        finally:
            await app.stop()
