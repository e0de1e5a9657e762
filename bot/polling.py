"""Long polling that confirms an update only after it has been handled and committed.

python-telegram-bot's Updater confirms a batch (by asking for the next offset) while the batch
is still being processed, so a process killed mid-update loses it. Here an update is confirmed
only once its handler has run; after a crash Telegram delivers it again, and
``handlers.common.unit_of_work`` recognises it by its update id: nothing is lost and nothing
is applied twice.

Updates are fetched as raw JSON and read one by one: an update python-telegram-bot cannot read
(for instance a poll from a Bot API server older than the library) is logged and confirmed
instead of failing the whole batch, forever, for everybody.

Every wait (back-off after an error, Telegram's retry-after, a Bot API that is down at start)
ends as soon as ``stop`` is set, so SIGTERM stops the bot promptly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import warnings
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ExtBot
from telegram.warnings import PTBUserWarning

from handlers.tasks import interrupt_all

log = logging.getLogger(__name__)

ALLOWED_UPDATES: Sequence[str] = (
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,  # blocked / unblocked: scheduler.reachability
)
MAX_BACKOFF = 30.0


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``stop`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def _retry_after_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return float(value if isinstance(value, int | float) else value.total_seconds())


def _describe(exc: BaseException, token: str) -> str:
    """The exception for a log line: its type and message, without the bot token."""
    text = str(exc).replace(token, "<token>") if token else str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def read_update(raw: object, bot: ExtBot[Any]) -> Update | None:
    """Turn one raw update into an ``Update``; None (and a log line with its id and type only)
    when python-telegram-bot cannot read it."""
    try:
        if not isinstance(raw, dict):
            raise TypeError("an update is not a JSON object")
        update = Update.de_json(raw, bot)
        bot.insert_callback_data(update)
        return update
    except Exception as exc:
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        kinds = sorted(k for k in raw if k != "update_id") if isinstance(raw, dict) else []
        log.warning(
            "skipped update %s (%s) that could not be read: %s",
            update_id,
            ",".join(kinds) or "?",
            type(exc).__name__,
        )
        return None


async def poll(app: Application, stop: asyncio.Event, *, timeout: int = 10) -> None:
    """Fetch and handle updates one by one until ``stop`` is set."""
    # getUpdates through do_api_request is deliberate (raw JSON, see the module docstring).
    # Added here rather than at import: test runners reset the filters between tests.
    warnings.filterwarnings(
        "ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning
    )
    offset: int | None = None
    backoff = 1.0
    token = app.bot.token
    while not stop.is_set():
        params: dict[str, Any] = {"timeout": timeout, "allowed_updates": list(ALLOWED_UPDATES)}
        if offset is not None:
            params["offset"] = offset
        fetch = asyncio.ensure_future(
            app.bot.do_api_request("getUpdates", api_kwargs=params, read_timeout=timeout + 10)
        )
        stopping = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if fetch not in done:
            fetch.cancel()
            break
        stopping.cancel()
        try:
            raw_updates = fetch.result()
        except RetryAfter as exc:
            await _pause(stop, _retry_after_seconds(exc))
            continue
        except InvalidToken:
            raise
        except Conflict:
            log.warning("another process is polling with this token; retrying in %.0fs", backoff)
            await _pause(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        except (NetworkError, TimedOut) as exc:
            log.warning("polling failed (%s); retrying in %.0fs", _describe(exc, token), backoff)
            await _pause(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        if not isinstance(raw_updates, list):
            log.warning(
                "getUpdates answered something else than a list; retrying in %.0fs", backoff
            )
            await _pause(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        backoff = 1.0
        for raw in raw_updates:
            if stop.is_set():
                break  # the rest stays unconfirmed: the next process handles it
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            update = read_update(raw, app.bot)
            if update is not None:
                await app.process_update(update)  # errors go to the application's error handler
            if isinstance(update_id, int) and not isinstance(update_id, bool):
                offset = max(offset or 0, update_id + 1)


async def _connect(app: Application, stop: asyncio.Event) -> bool:
    """Initialise the application (getMe) and drop any webhook, retrying with back-off while the
    Bot API is unreachable; False when ``stop`` was set first."""
    backoff = 1.0
    token = app.bot.token
    while not stop.is_set():
        try:
            await app.initialize()
            await app.bot.delete_webhook()
            return True
        except InvalidToken:
            raise
        except RetryAfter as exc:
            wait = _retry_after_seconds(exc)
            log.warning("the Bot API asks to wait; retrying in %.0fs", wait)
            await _pause(stop, wait)
        except (NetworkError, TimedOut) as exc:
            log.warning(
                "the Bot API is unreachable (%s); retrying in %.0fs", _describe(exc, token), backoff
            )
            await _pause(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
    return False


async def serve(
    app: Application,
    *,
    timeout: int = 10,
    stop: asyncio.Event | None = None,
    signals: bool = True,
    on_start: Callable[[Application], Awaitable[None]] | None = None,
) -> None:
    """Run the bot until ``stop`` is set (by SIGINT or SIGTERM when ``signals``): connect
    (retrying while the Bot API is down), start jobs, run ``on_start``, poll, shut down."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = (signal.SIGINT, signal.SIGTERM) if signals else ()
    for sig in handled:
        loop.add_signal_handler(sig, stop.set)
    try:
        if not await _connect(app, stop):
            return
        if app.post_init:
            await app.post_init(app)
        await app.start()
        try:
            if on_start is not None:
                await on_start(app)
            await poll(app, stop, timeout=timeout)
        finally:
            await interrupt_all(app)
            await app.stop()
    finally:
        await app.shutdown()
        for sig in handled:
            loop.remove_signal_handler(sig)
