"""Application assembly: every handler registered in one place, in the order updates meet them."""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.config import Settings
from bot.texts import t
from handlers import (
    common,
    export,
    invite,
    members,
    mine,
    plan,
    registry,
    report,
    router,
    start,
    status,
)
from handlers import settings as settings_panel
from handlers.common import Turn
from handlers.common import unit_of_work as uow
from handlers.menus import set_default_menus
from scheduler import jobs
from storage.db import Database

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE

# python-telegram-bot's default; tests lower it to keep timeouts fast.
READ_TIMEOUT = 5.0
# A download runs inside the handler, with its database session open: retried more briefly
# than a reply.
READ_RETRY_BUDGET = 30.0


class RetryingReads(HTTPXRequest):
    """HTTP for every call but getUpdates; ``getFile`` and file downloads, which are safe to
    repeat, are retried on 5xx, timeouts and dropped connections.

    Sends are retried after the commit by ``handlers.common.unit_of_work`` instead, and 429 by
    ``AIORateLimiter``: one layer per kind of failure.
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
        return await common.with_retries(attempt, deadline=deadline, what=what)


def build_application(settings: Settings, db: Database) -> Application:
    """Build the bot: settings and database in ``bot_data``, handlers in reading order."""
    app = (
        ApplicationBuilder()
        .token(settings.bot_token)
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.file_api_url)
        .request(RetryingReads(connection_pool_size=256, read_timeout=READ_TIMEOUT))
        .rate_limiter(AIORateLimiter(max_retries=2))
        .post_init(_post_init)
        .build()
    )
    app.bot_data["settings"] = settings
    app.bot_data["db"] = db

    # Flows that receive plain messages, chosen by the state stored for each member.
    router.register_flow(
        report.FLOW, report.receive_message, report.cancel_report, report.ask_again
    )

    # 1. Commands everybody has.
    app.add_handler(CommandHandler("start", uow(start.start), PRIVATE))
    app.add_handler(CommandHandler("help", uow(start.help_command), PRIVATE))
    app.add_handler(CommandHandler("cancel", uow(router.cancel), PRIVATE))

    # 2. Reporting an activity (handlers/report.py, report.mmd).
    app.add_handler(CommandHandler("report", uow(report.start_report), PRIVATE))
    app.add_handler(CallbackQueryHandler(uow(report.start_report), r"^menu:report$"))
    app.add_handler(CallbackQueryHandler(uow(report.choose_org), r"^rep:org:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(report.resume_draft), r"^rep:\d+:resume$"))
    app.add_handler(CallbackQueryHandler(uow(report.restart_draft), r"^rep:\d+:restart$"))
    app.add_handler(CallbackQueryHandler(uow(report.pick_date), r"^rep:\d+:date:\d{4}-\d\d-\d\d$"))
    app.add_handler(CallbackQueryHandler(uow(report.pick_role), r"^rep:\d+:role:\d$"))
    app.add_handler(CallbackQueryHandler(uow(report.finish_evidence), r"^rep:\d+:evdone$"))
    app.add_handler(CallbackQueryHandler(uow(report.clear_evidence), r"^rep:\d+:evclear$"))
    app.add_handler(CallbackQueryHandler(uow(report.submit_report), r"^rep:\d+:submit$"))
    app.add_handler(CallbackQueryHandler(uow(report.ask_field_to_fix), r"^rep:\d+:edit$"))
    app.add_handler(CallbackQueryHandler(uow(report.fix_field), r"^rep:\d+:fix:\w+$"))
    app.add_handler(CallbackQueryHandler(uow(report.show_card), r"^rep:\d+:card$"))
    app.add_handler(CallbackQueryHandler(uow(report.finish_amend), r"^rep:\d+:amended$"))
    app.add_handler(CallbackQueryHandler(uow(report.ask_cancel), r"^rep:\d+:cancel$"))
    app.add_handler(CallbackQueryHandler(uow(report.discard_draft), r"^rep:\d+:discard$"))
    app.add_handler(CallbackQueryHandler(uow(report.keep_draft), r"^rep:\d+:keep$"))

    # 3. The association's reports (handlers/mine.py).
    app.add_handler(CommandHandler("mine", uow(mine.list_reports), PRIVATE))
    app.add_handler(CallbackQueryHandler(uow(mine.list_reports), r"^(menu:mine|mine:page:\d+)$"))
    app.add_handler(CallbackQueryHandler(uow(mine.open_report), r"^mine:open:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(mine.edit_report), r"^mine:edit:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(mine.ask_withdraw), r"^mine:withdraw:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(mine.withdraw_report), r"^mine:withdraw_yes:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(mine.resubmit_report), r"^mine:resubmit:\d+$"))

    # 4. Registry and roles (issue: roles, invitations and the registry).
    # /org and /district (handlers/registry.py, registry.mmd); flows "org" and "district".
    router.register_flow(
        registry.FLOW, registry.receive_answer, registry.cancel_registry, registry.ask_again
    )
    router.register_flow(
        registry.DISTRICT_FLOW,
        registry.receive_figure,
        registry.cancel_registry,
        registry.ask_again,
    )
    app.add_handler(CommandHandler("org", uow(registry.open_registry), PRIVATE))
    app.add_handler(CallbackQueryHandler(uow(registry.open_org), r"^org:open:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(registry.fill_missing), r"^org:fill:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(registry.pick_field), r"^org:edit:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(registry.choose_field), r"^org:f:\d+:\w+$"))
    app.add_handler(CallbackQueryHandler(uow(registry.pick_choice), r"^org:c:\d+:\w+:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(registry.skip_field), r"^org:skip:\d+:\w+$"))
    app.add_handler(CallbackQueryHandler(uow(registry.ask_new_kind), r"^org:new:\d+:[oi]$"))
    app.add_handler(CallbackQueryHandler(uow(registry.ask_new_name), r"^org:kind:\d+:[ez]:[oi]$"))
    app.add_handler(CommandHandler("district", uow(registry.open_district), PRIVATE))
    app.add_handler(CallbackQueryHandler(uow(registry.open_district_pressed), r"^dst:open:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(registry.ask_figure), r"^dst:set:\d+:\w+$"))
    # A spreadsheet sent by a district admin outside any flow is a registry import.
    app.add_handler(
        MessageHandler(
            PRIVATE & filters.Document.FileExtension("xlsx"), uow(registry.receive_spreadsheet)
        )
    )
    # /invite and /invites (handlers/invite.py, invite.mmd).
    app.add_handler(CommandHandler("invite", uow(invite.start_invite), PRIVATE))
    app.add_handler(CallbackQueryHandler(uow(invite.choose_org), r"^inv:org:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(invite.choose_role), r"^inv:role:\d+:[ra]$"))
    app.add_handler(CallbackQueryHandler(uow(invite.choose_uses), r"^inv:uses:\d+:[ra]:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(invite.make_invite), r"^inv:make:\d+:[ra]:\d+:\d+$"))
    app.add_handler(CommandHandler("invites", uow(invite.list_invites), PRIVATE))
    app.add_handler(CallbackQueryHandler(uow(invite.revoke), r"^inv:revoke:\d+$"))
    # /members (handlers/members.py, members.mmd).
    app.add_handler(CommandHandler("members", uow(members.start_members), PRIVATE))
    app.add_handler(CallbackQueryHandler(uow(members.choose_org), r"^mem:org:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(members.ask_remove), r"^mem:rm:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(members.remove_member), r"^mem:rmyes:\d+$"))
    # /status (handlers/status.py).
    app.add_handler(CommandHandler("status", uow(status.show_status), PRIVATE))
    app.add_handler(CallbackQueryHandler(uow(status.open_status), r"^sts:open:\d+$"))
    # 5. Exports (issue: annexes 1-1, 1-2, 1-3).
    router.register_flow(export.FLOW, export.receive_message, export.cancel_export)
    app.add_handler(CommandHandler("export", uow(export.start_export), PRIVATE))
    # 导出 on a deadline reminder or the city summary opens the same flow.
    app.add_handler(CallbackQueryHandler(uow(export.start_export), r"^export:start$"))
    app.add_handler(CallbackQueryHandler(uow(export.choose_annex), r"^exp:annex:(13|11|12|all)$"))
    app.add_handler(CallbackQueryHandler(uow(export.choose_year), r"^exp:year:\d{4}$"))
    app.add_handler(CallbackQueryHandler(uow(export.choose_where), r"^exp:where:(\d+|city)$"))
    app.add_handler(CallbackQueryHandler(uow(export.cancel_button), r"^exp:cancel$"))

    # 6. Scheduler commands (issue: reminders).
    # /plan (handlers/plan.py, plan.mmd) and /settings (handlers/settings.py, settings.mmd);
    # the buttons of the scheduler's messages; the tick and the sender (scheduler/jobs.py).
    router.register_flow(plan.FLOW, plan.receive_message, plan.cancel_plan_flow, plan.ask_again)
    app.add_handler(CommandHandler("plan", uow(plan.start_plan), PRIVATE))
    app.add_handler(CallbackQueryHandler(uow(plan.choose_org), r"^plan:org:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(plan.pick_date), r"^plan:date:\d{4}-\d\d-\d\d$"))
    app.add_handler(CallbackQueryHandler(uow(plan.cancel_plan), r"^plan:cancel:\d+$"))
    app.add_handler(CallbackQueryHandler(uow(plan.resume_reminded_draft), r"^sched:\d+:resume$"))
    app.add_handler(CallbackQueryHandler(uow(plan.report_planned_activity), r"^sched:\d+:plan$"))
    app.add_handler(CommandHandler("settings", uow(settings_panel.show_settings), PRIVATE))
    app.add_handler(
        CallbackQueryHandler(
            uow(settings_panel.change_setting),
            r"^settings:(lang:(zh|en)|(nudges|summary|delivery):(on|off))$",
        )
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
    """Log the failure and tell the user in one calm sentence; their answers are stored."""
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(
                update.effective_chat.id, t("zh", "error_generic"), parse_mode=ParseMode.HTML
            )
        except TelegramError:
            log.warning("could not tell the user about the error: %s", html.escape(str(update)))
