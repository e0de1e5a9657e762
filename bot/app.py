"""Application assembly: every handler registered in one place, in the order updates meet them."""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import shutil
import sqlite3
import traceback
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
from bot.metrics import CountingRequest
from channels.telegram import reachability, retries, unit
from channels.telegram.menus import set_default_menus
from channels.telegram.unit import unit_of_work as uow
from core import report_buttons as rb
from core import review_buttons as rv
from core.callbacks import Codec
from core.schedule_buttons import CANCEL_PLAN, REPORT_PLAN, RESUME_DRAFT, START_EXPORT
from core.settings import Settings
from core.texts import t
from handlers import chase as chase_desk
from handlers import (
    district,
    export,
    invite,
    members,
    mine,
    org,
    org_card,
    org_new,
    pickers,
    plan,
    registry_import,
    report,
    review,
    review_queue,
    router,
    start,
    status,
)
from handlers import settings as settings_panel
from handlers.common import Handler, Turn
from handlers.menus import MENU_OPEN
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


def build_application(settings: Settings, db: Database) -> Application:
    """Build the bot: settings and database in ``bot_data``, handlers in reading order."""
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
    app.bot_data[unit.REPROMPT] = router.reprompt

    # Flows that receive plain messages, chosen by the state stored for each member.
    router.register_flow(
        report.FLOW, report.receive_message, report.cancel_report, report.ask_again
    )

    # 1. Commands everybody has.
    app.add_handler(CommandHandler("start", uow(start.start), PRIVATE))
    app.add_handler(CommandHandler("help", uow(start.help_command), PRIVATE))
    app.add_handler(CommandHandler("cancel", uow(router.cancel), PRIVATE))
    app.add_handler(_button(start.open_home, MENU_OPEN))  # the home's buttons (handlers/menus.py)

    # 2. Reporting an activity (handlers/report/, report.mmd; buttons: core/report_buttons.py).
    app.add_handler(CommandHandler("report", uow(report.start_report), PRIVATE))
    app.add_handler(_button(report.start_report, rb.MENU))
    app.add_handler(_button(report.choose_org, rb.ORG))
    app.add_handler(_button(report.resume_draft, rb.RESUME))
    app.add_handler(_button(report.restart_draft, rb.RESTART))
    app.add_handler(_button(report.pick_date, rb.DATE))
    app.add_handler(_button(report.pick_role, rb.ROLE))
    app.add_handler(_button(report.confirm_headcount, rb.HEADCOUNT))
    app.add_handler(_button(report.finish_evidence, rb.EVIDENCE_DONE))
    app.add_handler(_button(report.clear_evidence, rb.EVIDENCE_CLEAR))
    app.add_handler(_button(report.submit_report, rb.SUBMIT))
    app.add_handler(_button(report.ask_field_to_fix, rb.EDIT))
    app.add_handler(_button(report.fix_field, rb.FIX))
    app.add_handler(_button(report.show_card, rb.CARD))
    app.add_handler(_button(report.finish_amend, rb.AMENDED))
    app.add_handler(_button(report.ask_cancel, rb.CANCEL))
    app.add_handler(_button(report.discard_draft, rb.DISCARD))
    app.add_handler(_button(report.keep_draft, rb.KEEP))

    # 3. The association's reports (handlers/mine.py).
    app.add_handler(CommandHandler("mine", uow(mine.list_reports), PRIVATE))
    app.add_handler(_button(mine.list_reports, mine.MINE_PAGE))
    app.add_handler(_button(mine.open_report, mine.MINE_OPEN))
    app.add_handler(_button(mine.edit_report, mine.MINE_EDIT))
    app.add_handler(_button(mine.ask_withdraw, mine.MINE_WITHDRAW))
    app.add_handler(_button(mine.withdraw_report, mine.MINE_WITHDRAW_YES))
    app.add_handler(_button(mine.resubmit_report, mine.MINE_RESUBMIT))

    # 4. Registry and roles (issue: roles, invitations and the registry).
    # /org (handlers/org.py, org_new.py, org_card.py, org.mmd; flow "org") and /district
    # (handlers/district.py, district.mmd; flow "district").
    router.register_flow(org_card.FLOW, org.receive_answer, org.cancel_registry, org.ask_again)
    router.register_flow(
        district.DISTRICT_FLOW, district.receive_figure, org.cancel_registry, district.ask_again
    )
    app.add_handler(CommandHandler("org", uow(org.open_registry), PRIVATE))
    app.add_handler(_button(org.open_org, org.ORG_OPEN))
    app.add_handler(_button(org.fill_missing, org_card.ORG_FILL))
    app.add_handler(_button(org.pick_field, org_card.ORG_EDIT))
    app.add_handler(_button(org.choose_field, org.ORG_FIELD))
    app.add_handler(_button(org.pick_choice, org.ORG_CHOICE))
    app.add_handler(_button(org.skip_field, org.ORG_SKIP))
    app.add_handler(_button(org_new.ask_new_kind, pickers.ORG_NEW))
    app.add_handler(_button(org_new.ask_new_name, org_new.ORG_KIND))
    app.add_handler(CommandHandler("district", uow(district.open_district), PRIVATE))
    app.add_handler(_button(district.open_district_pressed, district.DST_OPEN))
    app.add_handler(_button(district.ask_figure, district.DST_SET))
    # A spreadsheet sent by a district admin outside any flow is a registry import.
    app.add_handler(
        MessageHandler(
            # .xls too, so an old-format registry gets "save it as .xlsx" (storage/importer.py).
            PRIVATE
            & (filters.Document.FileExtension("xlsx") | filters.Document.FileExtension("xls")),
            uow(registry_import.receive_spreadsheet),
        )
    )
    # /invite and /invites (handlers/invite.py, invite.mmd).
    app.add_handler(CommandHandler("invite", uow(invite.start_invite), PRIVATE))
    app.add_handler(_button(invite.choose_org, invite.INV_ORG))
    app.add_handler(_button(invite.choose_role, invite.INV_ROLE))
    app.add_handler(_button(invite.choose_uses, invite.INV_USES))
    app.add_handler(_button(invite.make_invite, invite.INV_MAKE))
    app.add_handler(CommandHandler("invites", uow(invite.list_invites), PRIVATE))
    app.add_handler(_button(invite.revoke, invite.INV_REVOKE))
    # /members (handlers/members.py, members.mmd).
    app.add_handler(CommandHandler("members", uow(members.start_members), PRIVATE))
    app.add_handler(_button(members.choose_org, members.MEM_ORG))
    app.add_handler(_button(members.ask_remove, members.MEM_RM))
    app.add_handler(_button(members.remove_member, members.MEM_RMYES))
    # /status (handlers/status.py).
    app.add_handler(CommandHandler("status", uow(status.show_status), PRIVATE))
    app.add_handler(_button(status.open_status, status.STS_OPEN))
    # /chase 催报 (handlers/chase.py, chase.mmd; codecs in core/chase_buttons.py).
    app.add_handler(CommandHandler("chase", uow(chase_desk.show_chase), PRIVATE))
    app.add_handlers([_button(handler, codec) for handler, codec in chase_desk.BUTTONS])
    # Review (审核, handlers/review.py, review.mmd; buttons: core/review_buttons.py): 通过 / 退回
    # on cards and in /review (review_queue.py: pages, 本页全部通过 → the photos → 确认全部通过),
    # the reason (flow "review"), 去修改 / 重新提交.
    router.register_flow(review.FLOW, review.receive_reason, review.cancel_reason, review.ask_again)
    app.add_handler(CommandHandler("review", uow(review_queue.show_queue), PRIVATE))
    app.add_handlers([_button(handler, codec) for handler, codec in review_queue.BUTTONS])
    app.add_handler(_button(review.approve_pressed, rv.APPROVE))
    app.add_handler(_button(review.ask_reason, rv.RETURN))
    app.add_handler(_button(review.amend_returned, rv.AMEND))
    app.add_handler(_button(review.resubmit_returned, rv.RESUBMIT))
    # 可能重复 at 提交 (handlers/report/card.py): 仍然提交 submits past the check, 查看那条.
    app.add_handler(_button(report.submit_report, rv.DUPLICATE_SUBMIT))
    app.add_handler(_button(review.view_duplicate, rv.DUPLICATE_VIEW))
    # 5. Exports (issue: annexes 1-1, 1-2, 1-3).
    router.register_flow(export.FLOW, export.receive_message, export.cancel_export)
    app.add_handler(CommandHandler("export", uow(export.start_export), PRIVATE))
    # 导出 on a deadline reminder or the city summary opens the same flow.
    app.add_handler(_button(export.start_export, START_EXPORT))
    app.add_handler(_button(export.choose_annex, export.EXP_ANNEX))
    app.add_handler(_button(export.choose_year, export.EXP_YEAR))
    app.add_handler(_button(export.choose_where, export.EXP_WHERE))
    app.add_handler(_button(export.choose_where, export.EXP_WHERE_CITY))
    app.add_handler(_button(export.cancel_button, export.EXP_CANCEL))
    app.add_handler(_button(export.toggle_approved, export.EXP_APPROVED))

    # 6. Scheduler commands (issue: reminders).
    # /plan (handlers/plan.py, plan.mmd) and /settings (handlers/settings.py, settings.mmd);
    # the buttons of the scheduler's messages; the tick and the sender (bot/jobs.py).
    router.register_flow(plan.FLOW, plan.receive_message, plan.cancel_plan_flow, plan.ask_again)
    app.add_handler(CommandHandler("plan", uow(plan.start_plan), PRIVATE))
    app.add_handler(_button(plan.choose_org, plan.PLAN_ORG))
    app.add_handler(_button(plan.pick_date, plan.PLAN_DATE))
    app.add_handler(_button(plan.cancel_plan, CANCEL_PLAN))
    app.add_handler(_button(plan.resume_reminded_draft, RESUME_DRAFT))
    app.add_handler(_button(plan.report_planned_activity, REPORT_PLAN))
    app.add_handler(CommandHandler("settings", uow(settings_panel.show_settings), PRIVATE))
    app.add_handler(_button(settings_panel.change_setting, settings_panel.SETTING_LANG))
    # The scheduler's 不再提醒 (core.schedule_buttons.MUTE_NUDGES) is a switch button too.
    app.add_handler(_button(settings_panel.change_setting, settings_panel.SETTING_SWITCH))
    # Blocked / unblocked the bot (channels/telegram/reachability.py): deliveries stop, resume.
    app.add_handler(
        ChatMemberHandler(reachability.chat_member_changed, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    # The tick (every minute) and the outbox sender (every second) on the JobQueue.
    jobs.install(app)

    # 7. Anything else: answers to the current question, then unknown commands and buttons.
    app.add_handler(
        MessageHandler(
            PRIVATE & filters.UpdateType.MESSAGE & ~filters.COMMAND, uow(router.route_message)
        )
    )
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, uow(start.unknown_command)))
    app.add_handler(
        MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, uow(router.edited_message))
    )
    app.add_handler(CallbackQueryHandler(uow(_stale_button)))
    app.add_error_handler(_on_error)
    return app


async def _stale_button(turn: Turn) -> None:
    """A button whose data matches nothing any more (an old keyboard, or a forged one)."""
    turn.notice(turn.t("button_expired"))


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


def quiet_library_loggers() -> None:
    """Cap the libraries whose chattier levels would log what users wrote or the token:
    httpx logs every request URL (with the bot token) at INFO (python-telegram-bot's own
    getUpdates still goes through it; aiohttp carries the rest), python-telegram-bot every
    request's parameters and every update at DEBUG, aiosqlite and SQLAlchemy SQL parameters."""
    for name, level in (
        ("httpx", logging.WARNING),
        ("aiohttp", logging.WARNING),
        ("httpcore", logging.WARNING),
        ("telegram", logging.INFO),
        ("aiosqlite", logging.INFO),
        ("sqlalchemy.engine", logging.WARNING),
        ("apscheduler", logging.WARNING),
    ):
        logger = logging.getLogger(name)
        if logger.level < level:  # NOTSET (0) too: an explicit level survives a DEBUG root
            logger.setLevel(level)
