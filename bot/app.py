"""Application assembly: every handler registered in one place, in the order updates meet them."""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import shutil
import sqlite3
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot import jobs
from bot.lanes import LaneRateLimiter
from bot.logs import quiet_library_loggers
from bot.metrics import CountingRequest
from channels.telegram import reachability, retries, unit
from channels.telegram.menus import set_default_menus
from channels.telegram.unit import unit_of_work as uow
from core.callbacks import Codec
from core.enums import Channel
from core.settings import Settings
from core.texts import t
from handlers import routes
from handlers.common import Handler
from handlers.routes import Command, Route
from scheduler.messenger import Messenger
from storage.db import Database

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
SQLITE_FULL = 13  # sqlite3.SQLITE_FULL from Python 3.11

# python-telegram-bot's default; tests lower it to keep timeouts fast.
READ_TIMEOUT = 5.0
# A download runs inside the handler, with its database session open: retried more briefly
# than a reply.
READ_RETRY_BUDGET = 30.0


class RetryingReads(CountingRequest):
    """HTTP for every call but getUpdates; ``getFile`` and file downloads, which are safe to
    repeat, are retried on 5xx, timeouts and dropped connections.

    Sends are retried after the commit by ``channels.telegram.unit.unit_of_work`` instead, and
    429 by ``bot.lanes.LaneRateLimiter``: one layer per kind of failure.
    """

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        """See :meth:`telegram.request.BaseRequest.do_request`."""
        if not (url.endswith("/getFile") or "/file/bot" in url):
            return await super().do_request(url, method, *args, **kwargs)

        async def attempt() -> tuple[int, bytes]:
            code, payload = await super(RetryingReads, self).do_request(
                url, method, *args, **kwargs
            )
            if code >= 500:
                raise NetworkError(f"server error {code}")
            return code, payload

        # Never log the URL: it carries the bot token.
        what = "a file download" if "/file/bot" in url else "getFile"
        deadline = asyncio.get_running_loop().time() + READ_RETRY_BUDGET
        return await retries.with_retries(attempt, deadline=deadline, what=what)


def _button(handler: Handler, codec: Codec[Any]) -> CallbackQueryHandler[Any, None]:
    """The handler of one kind of button, matched by its codec's pattern: an id longer than 19
    digits matches nothing (the stale-button answer), and one beyond a 64-bit integer parses as
    no such thing in the handler, so no forged id reaches the database."""
    return CallbackQueryHandler(uow(handler), re.compile(codec.pattern))


def _telegram_handler(route: Route) -> CommandHandler[Any, None] | CallbackQueryHandler[Any, None]:
    """The python-telegram-bot handler of one route of the table."""
    if isinstance(route, Command):
        return CommandHandler(route.name, uow(route.handler), PRIVATE)
    return _button(route.handler, route.codec)


def build_application(
    settings: Settings, db: Database, others: Mapping[Channel, Messenger] | None = None
) -> Application:
    """Build the bot: settings and database in ``bot_data``, handlers in reading order;
    ``others``: the scheduler's messengers of the channels served beside Telegram."""
    quiet_library_loggers()
    app = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.file_api_url)
        .request(RetryingReads(connection_pool_size=256, read_timeout=READ_TIMEOUT))
        # Two lanes (bot/lanes.py): replies paced per chat, scheduled messages within
        # KEXIE_BROADCAST_RATE and behind replies. 429 is honoured there and only there; 5xx,
        # timeouts and dropped connections are retried by RetryingReads (downloads),
        # unit_of_work (replies) and the scheduler's sender (scheduled messages).
        .rate_limiter(LaneRateLimiter(settings.broadcast_rate))
        # Every text is catalog HTML; the few plain ones pass parse_mode=None.
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .post_init(_post_init)
        .build()
    )
    app.bot_data["settings"] = settings
    app.bot_data["db"] = db
    # An update delivered again after a crash asks its question again (channels.telegram.unit).
    app.bot_data[unit.REPROMPT] = routes.REPROMPT

    # Flows that receive plain messages, chosen by the state stored for each member.
    routes.register_flows()
    # 1-6. Commands and buttons, in the order updates meet them (handlers/routes.py: the same
    # table every front reads): everybody's commands, reporting, the association's reports,
    # registry and roles, /chase, review, exports, /plan and /settings.
    for route in routes.ROUTES:
        app.add_handler(_telegram_handler(route))
    # A spreadsheet sent by a district admin outside any flow is a registry import.
    xlsx, xls = (filters.Document.FileExtension(e) for e in routes.SPREADSHEET_EXTENSIONS)
    app.add_handler(MessageHandler(PRIVATE & (xlsx | xls), uow(routes.SPREADSHEET)))
    # Blocked / unblocked the bot (channels/telegram/reachability.py): deliveries stop, resume.
    app.add_handler(
        ChatMemberHandler(reachability.chat_member_changed, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    # The tick (every minute) and the outbox sender (every second) on the JobQueue.
    jobs.install(app, others)

    # 7. Anything else: answers to the current question, then unknown commands and buttons.
    app.add_handler(
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & ~filters.COMMAND, uow(routes.MESSAGE))
    )
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, uow(routes.UNKNOWN_COMMAND)))
    app.add_handler(MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, uow(routes.EDITED)))
    app.add_handler(CallbackQueryHandler(uow(routes.STALE_BUTTON)))
    app.add_error_handler(_on_error)
    return app


async def _post_init(app: Application) -> None:
    try:
        await set_default_menus(app.bot)
    except TelegramError as exc:
        log.warning("could not set the default command menu: %s", exc)


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure by ids and exception types, and tell the user in one calm sentence.

    A full disk is named as such (to the user, and as an error with the free space): nothing
    can be saved until an operator makes room. The log never holds the update or an exception's
    message, which may quote what the user wrote.
    """
    error = context.error
    ids = _update_ids(update)
    settings: Settings | None = context.bot_data.get("settings")
    full = error is not None and is_storage_full(error)
    if full and error is not None:
        free = _free_bytes(settings)
        log.error(
            "storage is full while handling %s: %s bytes (%.1f MB) free in the data dir; %s",
            ids,
            free,
            free / 1024 / 1024 if free >= 0 else -1,
            describe_error(error),
        )
    elif error is not None:
        log.error("error while handling %s: %s", ids, describe_error(error))
    if isinstance(update, Update) and update.effective_chat is not None:
        text = t("zh", "error_storage_full") if full else t("zh", "error_generic")
        try:
            await context.bot.send_message(update.effective_chat.id, text)
        except TelegramError as exc:
            log.warning("could not tell %s about the error (%s)", ids, type(exc).__name__)


def _update_ids(update: object) -> str:
    """The update's ids, for the log (never its content)."""
    if not isinstance(update, Update):
        return "a job" if update is None else type(update).__name__
    user = update.effective_user
    return f"update {update.update_id} from user {user.id if user else '?'}"


def _chain(error: BaseException) -> list[BaseException]:
    """The exception and its causes and contexts, each once."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_storage_full(error: BaseException) -> bool:
    """Whether the disk (files or database) is full: ENOSPC, or SQLite's SQLITE_FULL, seen
    through wrappers such as SQLAlchemy's ``OperationalError.orig``."""
    for exc in _chain(error):
        for candidate in (exc, getattr(exc, "orig", None)):
            if isinstance(candidate, OSError) and candidate.errno == errno.ENOSPC:
                return True
            if isinstance(candidate, sqlite3.Error) and (
                getattr(candidate, "sqlite_errorcode", None) == SQLITE_FULL
                or "database or disk is full" in str(candidate)
            ):
                return True
    return False


def describe_error(error: BaseException) -> str:
    """Exception types and where they were raised, without their messages (which may quote
    user input: database errors carry their parameters)."""
    parts = []
    for exc in _chain(error):
        frames = traceback.extract_tb(exc.__traceback__)
        where = " <- ".join(
            f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames[-6:])
        )
        parts.append(f"{type(exc).__module__}.{type(exc).__qualname__} at {where or '?'}")
    return "; caused by ".join(parts)


def _free_bytes(settings: Settings | None) -> int:
    if settings is None:
        return -1
    try:
        return shutil.disk_usage(settings.data_dir).free
    except OSError:
        return -1
