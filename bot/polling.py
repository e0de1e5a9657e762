"""Long polling that confirms an update only after it has been handled and committed.

python-telegram-bot's Updater confirms a batch (by asking for the next offset) while the batch
is still being processed, so a process killed mid-update loses it. Here an update is confirmed
only once its handler has run; after a crash Telegram delivers it again, and
``channels.telegram.unit.unit_of_work`` recognises it by its update id: nothing is lost and nothing
is applied twice.

Updates are fetched as raw JSON and read one by one: an update python-telegram-bot cannot read
(for instance a poll from a Bot API server older than the library) is logged and confirmed
instead of failing the whole batch, forever, for everybody.

Updates of one chat are handled one after another, in the order they arrived; updates of
different chats at the same time, at most ``KEXIE_CONCURRENCY`` at once (:class:`Dispatcher`), so
one slow update (a reply retried through a Bot API outage, a registry import) holds up only its
own chat. The offset sent is the end of the contiguous prefix of handled updates.

Every wait (back-off after an error, Telegram's retry-after, a Bot API that is down at start)
ends as soon as ``stop`` is set, so SIGTERM stops the bot promptly.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ExtBot
from telegram.warnings import PTBUserWarning

from bot.startup import BotApiReach
from channels.telegram.tasks import interrupt_all

log = logging.getLogger(__name__)

ALLOWED_UPDATES: Sequence[str] = (
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,  # blocked / unblocked: scheduler.reachability
)
MAX_BACKOFF = 30.0
DEFAULT_CONCURRENCY = 32  # KEXIE_CONCURRENCY (core/settings.py) when the settings are absent
# While an update is being handled, getUpdates answers at once (with the unconfirmed updates):
# without news, ask again after an update is done or after this long, whichever comes first.
REPOLL_INTERVAL = 0.2
REPOLL_GAP = 0.05
# Every answer repeats all unconfirmed updates (under load, most of them): after an answer with
# more repeats than this, the next request waits proportionally longer (up to REPOLL_INTERVAL),
# so re-reading them costs about the same per second at any load.
REPEATS_PER_GAP = 25
# Seconds the updates being handled get to finish once the bot is asked to stop.
STOP_GRACE = 3.0
# Python's cyclic garbage collector runs every 700 allocations by default: a handler allocates
# thousands (ORM rows, Telegram objects), and each run walks every young object, long-lived
# ones again and again. A tenth as often keeps the memory bounded and the CPU for updates.
GC_THRESHOLDS = (7000, 10, 10)


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


def _chat_key(update: Update) -> int | None:
    """What orders an update: its chat, else its user; None when it has neither."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class Dispatcher:
    """Handles updates of one chat in arrival order and updates of different chats at once
    (at most ``concurrency`` at a time), and knows how far the handled updates reach without a gap.

    Telegram confirms every update below the offset of the next ``getUpdates``, so only the end
    of the contiguous prefix of handled updates may be sent: an update handled after a slower one
    that arrived before it stays unconfirmed until that one is done, and is re-delivered (and
    recognised by its id) if the process dies meanwhile.
    """

    def __init__(self, app: Application, concurrency: int) -> None:
        self.app = app
        self._slots = asyncio.Semaphore(concurrency)
        self._chats: dict[int, deque[Update]] = {}  # a worker runs while its chat is here
        self._tasks: set[asyncio.Task[None]] = set()
        self._unfinished: set[int] = set()
        self._seen: int | None = None  # the highest update id dispatched
        self._stopping = False
        self.progress = asyncio.Event()  # set whenever an update is done

    @property
    def busy(self) -> bool:
        """Whether some dispatched update is not handled yet."""
        return bool(self._unfinished)

    def offset(self) -> int | None:
        """The offset that confirms exactly the handled prefix (None before the first update)."""
        if self._unfinished:
            return min(self._unfinished)
        return None if self._seen is None else self._seen + 1

    def dispatch(self, raw: object) -> bool:
        """Queue one raw update behind its chat's earlier ones; False when it was seen before
        (Telegram repeats every update from the offset on until it is confirmed)."""
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            if self._seen is not None and update_id <= self._seen:
                return False
            self._seen = update_id
        else:
            update_id = None  # untrackable: handled, never holds the offset back
        update = read_update(raw, self.app.bot)
        if update is None:
            return True  # skipped and logged: confirmed with the next offset
        if update_id is not None:
            self._unfinished.add(update_id)
        key = _chat_key(update)
        if key is None:
            self._spawn(self._run_alone(update, update_id))
        elif key in self._chats:
            self._chats[key].append(update)
        else:
            self._chats[key] = deque([update])
            self._spawn(self._run_chat(key))
        return True

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_alone(self, update: Update, update_id: int | None) -> None:
        async with self._slots:
            if self._stopping:
                return
            await self._handle(update)
        self._done(update_id)

    async def _run_chat(self, key: int) -> None:
        queue = self._chats[key]
        try:
            while queue:
                update = queue[0]
                async with self._slots:
                    if self._stopping:
                        return  # the rest stays unconfirmed: the next process handles it
                    await self._handle(update)
                queue.popleft()
                self._done(update.update_id)
        finally:
            # No await between the last look at the queue and this: a later update of the chat
            # either joined the queue above or finds no worker and starts one.
            del self._chats[key]

    async def _handle(self, update: Update) -> None:
        try:
            await self.app.process_update(update)  # errors go to the application's error handler
        except Exception as exc:
            # Not confirming it would hold back every later update forever.
            log.error(
                "update %s failed outside its handler: %s", update.update_id, type(exc).__name__
            )

    def _done(self, update_id: int | None) -> None:
        if update_id is not None:
            self._unfinished.discard(update_id)
        self.progress.set()

    async def stop(self, grace: float) -> None:
        """Start nothing more; give the updates being handled ``grace`` seconds, then cancel
        them (a cancelled handler's session rolls back; its update stays unconfirmed)."""
        self._stopping = True
        tasks = set(self._tasks)
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=grace)
        if late:
            log.warning("stopping: %d update(s) still being handled are left for later", len(late))
            for task in late:
                task.cancel()
            await asyncio.wait(late)


async def poll(
    app: Application, stop: asyncio.Event, *, timeout: int = 10, concurrency: int | None = None
) -> None:
    """Fetch updates and handle them (per chat in order, across chats at once) until ``stop`` is
    set; ``concurrency`` defaults to the settings' ``KEXIE_CONCURRENCY``."""
    # getUpdates through do_api_request is deliberate (raw JSON, see the module docstring).
    # Added here rather than at import: test runners reset the filters between tests.
    warnings.filterwarnings(
        "ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning
    )
    if concurrency is None:
        settings = app.bot_data.get("settings")
        concurrency = getattr(settings, "concurrency", DEFAULT_CONCURRENCY)
    gc.set_threshold(*GC_THRESHOLDS)
    dispatcher = Dispatcher(app, concurrency)
    try:
        await _fetch(app, stop, dispatcher, timeout)
    finally:
        await dispatcher.stop(STOP_GRACE)


async def _fetch(
    app: Application, stop: asyncio.Event, dispatcher: Dispatcher, timeout: int
) -> None:
    backoff = 1.0
    token = app.bot.token
    loop = asyncio.get_running_loop()
    reach = BotApiReach.of(app)
    while not stop.is_set():
        params: dict[str, Any] = {"timeout": timeout, "allowed_updates": list(ALLOWED_UPDATES)}
        dispatcher.progress.clear()  # an update done during the request: ask again at once
        offset = dispatcher.offset()
        if offset is not None:
            params["offset"] = offset
        asked = loop.time()
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
            reach.failed()
            await _pause(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        reach.reached()
        if not isinstance(raw_updates, list):
            log.warning(
                "getUpdates answered something else than a list; retrying in %.0fs", backoff
            )
            await _pause(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        backoff = 1.0
        fresh = 0
        for raw in raw_updates:
            if stop.is_set():
                break  # the rest stays unconfirmed: the next process handles it
            fresh += dispatcher.dispatch(raw)
        if dispatcher.busy:
            # Telegram answers at once while anything from the offset on is unconfirmed, with
            # everything since: asking again at once would spin. Without news, wait until an
            # update is done (the offset moves) or a moment; and never ask more often than
            # every REPOLL_GAP, each answer carrying all the news of that time.
            if not fresh:
                await _progress_or(stop, dispatcher.progress, REPOLL_INTERVAL)
            repeats = len(raw_updates) - fresh
            gap = min(REPOLL_INTERVAL, REPOLL_GAP * max(1.0, repeats / REPEATS_PER_GAP))
            if (wait := asked + gap - loop.time()) > 0:
                await _pause(stop, wait)


async def _progress_or(stop: asyncio.Event, progress: asyncio.Event, seconds: float) -> None:
    """Wait until ``progress`` or ``stop`` is set, at most ``seconds``."""
    waits = {asyncio.ensure_future(progress.wait()), asyncio.ensure_future(stop.wait())}
    _, pending = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()


async def _connect(app: Application, stop: asyncio.Event) -> bool:
    """Initialise the application (getMe) and drop any webhook, retrying with back-off while the
    Bot API is unreachable; False when ``stop`` was set first."""
    backoff = 1.0
    token = app.bot.token
    reach = BotApiReach.of(app)
    reach.connecting()
    while not stop.is_set():
        try:
            await app.initialize()
            await app.bot.delete_webhook()
            reach.reached()
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
            reach.failed()
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
        # A start stopped before the Bot API answered leaves the application uninitialised,
        # which app.shutdown() skips; the bot's HTTP sessions are open all the same.
        await app.bot.shutdown()
        for sig in handled:
            loop.remove_signal_handler(sig)
