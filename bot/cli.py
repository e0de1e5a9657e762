"""The ``kexie`` command line: run the bot, migrate, seed districts, add associations, invite.

The CLI acts as the operator of the installation (it holds the database), which the permission
policy models as :data:`core.policy.OPERATOR`, a city-wide actor.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from core.policy import OPERATOR
from core.settings import Settings, SettingsError, load_settings
from storage.db import Database
from storage.migrate import upgrade

if TYPE_CHECKING:
    from telegram.ext import Application

Command = Callable[[argparse.Namespace, Settings], int]


def _fail(lines: list[str]) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    return 2


def _run_async(coro: Coroutine[Any, Any, int]) -> int:
    return asyncio.run(coro)


async def _with_db(settings: Settings, work: Callable[[Database], Coroutine[Any, Any, int]]) -> int:
    db = Database(settings.db_url)
    try:
        return await work(db)
    finally:
        await db.dispose()


# --- run / db --------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate the database, then serve every configured channel until interrupted: Telegram
    (long polling, or with ``--webhook`` an HTTP server Telegram posts updates to,
    bot/webhook.py) when ``KEXIE_BOT_TOKEN`` is set, DingTalk's Stream connection
    (bot/dingtalk.py) when its app is; either alone, or both in one process.

    Exit code 0 after SIGINT/SIGTERM; 1 when the database file was deleted or replaced while
    running (a supervisor should restart the bot once the file is back); 2 when webhook mode
    lacks its settings."""
    from bot.app import build_application
    from bot.console import serve_console
    from bot.polling import serve
    from bot.startup import ListenError
    from bot.webhook import serve_webhook
    from channels.telegram.exports import after_restart
    from core.enums import Channel
    from scheduler.notices import WAKE

    if args.webhook:
        if not settings.webhook_secret:
            return _fail(
                [
                    "webhook 模式需要 KEXIE_WEBHOOK_SECRET（1-256 个字符 A-Z a-z 0-9 _ -） / "
                    "webhook mode needs KEXIE_WEBHOOK_SECRET"
                ]
            )
        if not settings.webhook_url:
            return _fail(
                [
                    "webhook 模式需要 KEXIE_WEBHOOK_URL（Telegram 访问的 https 地址） / "
                    "webhook mode needs KEXIE_WEBHOOK_URL"
                ]
            )
    upgrade(settings.db_url)
    db = Database(settings.db_url)
    if not settings.bot_token:
        return _run_dingtalk_alone(settings, db)

    def wake() -> None:
        event = app.bot_data.get(WAKE)
        if isinstance(event, asyncio.Event):
            event.set()

    dingtalk = None
    if settings.dingtalk:  # imported only then: the SDK sets up its own loggers at import
        from bot.dingtalk import build_dingtalk, close_dingtalk, serve_dingtalk

        dingtalk = build_dingtalk(settings, db, wake)
    others = {Channel.DINGTALK: dingtalk.messenger} if dingtalk else None
    app = build_application(settings, db, others)
    if dingtalk is not None:
        from bot.console import DINGTALK_FRONT, RESOLVE_CODE

        app.bot_data[RESOLVE_CODE] = dingtalk.api.user_of_code
        app.bot_data[DINGTALK_FRONT] = dingtalk.front

    async def started(app: Application) -> None:
        # Said once the Bot API answered (bot/startup.py logs "connecting to …" before).
        logging.getLogger(__name__).info(
            "kexie is running (%s%s; database: %s)",
            "webhook" if args.webhook else "long polling",
            " and DingTalk" if dingtalk else "",
            settings.db_url,
        )
        await after_restart(app)

    async def main() -> int:
        stop = asyncio.Event()
        db.on_lost = lambda _what: stop.set()
        watchdog = asyncio.create_task(db.watch_file(stop, settings.db_check_interval))
        beside = asyncio.create_task(serve_dingtalk(dingtalk, db, stop)) if dingtalk else None
        try:
            if args.webhook:
                await serve_webhook(app, settings, db, stop=stop, on_start=started)
            else:
                # The console (web/) on its own small server beside long polling.
                console = asyncio.create_task(serve_console(app, stop))
                try:
                    await serve(app, timeout=settings.poll_timeout, stop=stop, on_start=started)
                finally:
                    stop.set()
                    await console
        finally:
            stop.set()
            if beside is not None and dingtalk is not None:
                await beside
                await close_dingtalk(dingtalk)
            watchdog.cancel()
            await db.dispose()
        return 1 if db.lost else 0

    try:
        return _run_async(main())
    except ListenError as exc:
        return _fail([str(exc)])


def _run_dingtalk_alone(settings: Settings, db: Database) -> int:
    """``kexie run`` with DingTalk only: the Stream connection, the scheduler on its own clock,
    the console; until SIGINT/SIGTERM (0) or the database file is lost (1)."""
    import signal

    from bot.console import serve_console_alone
    from bot.dingtalk import build_dingtalk, close_dingtalk, run_scheduler, serve_dingtalk
    from core.enums import Channel
    from scheduler.jobs import Scheduler

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        db.on_lost = lambda _what: stop.set()
        wake = asyncio.Event()
        dingtalk = build_dingtalk(settings, db, wake.set)
        scheduler = Scheduler(db, settings)
        # rate=None: DingTalk's client paces every call (KEXIE_DINGTALK_RATE), replies first.
        sender = scheduler.sender({Channel.DINGTALK: dingtalk.messenger}, rate=None)
        logging.getLogger(__name__).info(
            "kexie is running (DingTalk; database: %s)", settings.db_url
        )
        tasks = [
            asyncio.create_task(db.watch_file(stop, settings.db_check_interval)),
            asyncio.create_task(run_scheduler(scheduler, sender, wake, stop)),
            asyncio.create_task(
                serve_console_alone(
                    settings, db, dingtalk.front, wake.set, dingtalk.api.user_of_code, stop
                )
            ),
        ]
        try:
            await serve_dingtalk(dingtalk, db, stop)
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            await close_dingtalk(dingtalk)
            await db.dispose()
        return 1 if db.lost else 0

    return _run_async(main())


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Apply all migrations."""
    upgrade(settings.db_url)
    print("数据库已是最新结构 / database is up to date")
    return 0


# --- registry --------------------------------------------------------------------------------


def cmd_districts_seed(args: argparse.Namespace, settings: Settings) -> int:
    """Load Chengdu's 23 county-level units."""
    from storage.registry import seed_districts

    async def work(db: Database) -> int:
        async with db.session() as session:
            added, total = await seed_districts(session)
        print(f"已添加 {added} 个区（市）县，共 {total} 个 / added {added}, {total} in all")
        return 0

    upgrade(settings.db_url)
    return _run_async(_with_db(settings, work))


def cmd_org_add(args: argparse.Namespace, settings: Settings) -> int:
    """Create an association and print its id."""
    from core.enums import OrgKind
    from services import organisations
    from storage.registry import find_district

    async def work(db: Database) -> int:
        async with db.session() as session:
            district, match = await find_district(session, args.district)
            if district is None:
                return _fail([match.problem() or ""])
            created = await organisations.create(
                session, OPERATOR, district.id, OrgKind(args.kind), args.name
            )
            org = created.org
            if created.outcome == organisations.Outcome.REFUSED:
                return _fail(["无权在该区（市）县新建科协。"])
            if org is None:
                if created.key == "org_exists":
                    return _fail(
                        [
                            f"{district.name}已有名为“{args.name}”的科协（编号 "
                            f"{created.params['org_id']}）。"
                        ]
                    )
                return _fail([f"名称不合法：{args.name!r}"])
        print(org.id)
        return 0

    upgrade(settings.db_url)
    return _run_async(_with_db(settings, work))


def cmd_invite(args: argparse.Namespace, settings: Settings) -> int:
    """Create an invitation and print how to use it on each configured channel: the Telegram
    deep link (with a bot token), and with DingTalk what its user sends the robot and, when
    ``KEXIE_WEB_URL`` is set, the page that joins inside DingTalk (:func:`invite_lines`)."""
    from core.enums import Role
    from services import members
    from storage.models import Organisation
    from storage.registry import find_district

    async def work(db: Database) -> int:
        # Asked first: without the bot's name there is no Telegram link. With DingTalk too the
        # invite still works there (Telegram may be out of reach in mainland China): a warning.
        username: str | None = None
        if settings.bot_token:
            username = settings.bot_username or await _bot_username(settings)
            if username is None:
                problem = [
                    f"无法向 Bot API（{settings.telegram_api_url}）查询机器人的用户名，"
                    + ("不打印 Telegram 链接。" if settings.dingtalk else "没有生成邀请。")
                    + "离线、在中国大陆或令牌有误时，请设置 KEXIE_BOT_USERNAME（机器人的用户名，"
                    "例如 my_kexie_bot）后重试。 / The bot's username could not be asked from "
                    "the Bot API"
                    + (
                        ": no Telegram link printed."
                        if settings.dingtalk
                        else ", no invite was made: set KEXIE_BOT_USERNAME to invite offline."
                    )
                ]
                if not settings.dingtalk:
                    return _fail(problem)
                print(problem[0], file=sys.stderr)
        async with db.session() as session:
            org_id = district_id = None
            if args.city:
                role = Role.CITY_ADMIN
            elif args.org is not None:
                role = Role(args.role or "reporter")
                if role not in (Role.REPORTER, Role.ORG_ADMIN):
                    return _fail(["--org 只能配合 --role reporter 或 org_admin 使用。"])
                org = await session.get(Organisation, args.org)
                if org is None:
                    return _fail([f"找不到编号为 {args.org} 的科协。用 kexie org add 创建。"])
                org_id = org.id
            elif args.district:
                role = Role(args.role or "district_admin")
                if role != Role.DISTRICT_ADMIN:
                    return _fail(["--district 只能配合 --role district_admin 使用。"])
                district, match = await find_district(session, args.district)
                if district is None:
                    return _fail([match.problem() or ""])
                district_id = district.id
            else:
                return _fail(["请指定 --org ID、--district NAME 或 --city。"])
            made = await members.invite(
                session,
                OPERATOR,
                role,
                org_id=org_id,
                district_id=district_id,
                uses=args.uses,
                days=args.days,
            )
            invite = made.invite
            if invite is None:
                return _fail(["无权生成这种邀请。"])
            token = invite.token
        for line in invite_lines(settings, username, token):
            print(line)
        return 0

    upgrade(settings.db_url)
    return _run_async(_with_db(settings, work))


def invite_lines(settings: Settings, username: str | None, token: str) -> list[str]:
    """What ``kexie invite`` prints for the invite ``token``: the Telegram deep link first (when
    the bot's ``username`` is known: a script reading the first line keeps working), then for
    DingTalk what its user sends the robot, and the page that joins inside DingTalk (H5, 免登)
    when the console has a public address (``KEXIE_WEB_URL`` is the console's own, …/console)."""
    lines = []
    if username:
        lines.append(f"https://t.me/{username.lstrip('@')}?start={token}")
    if settings.dingtalk:
        lines.append(
            f"钉钉：在钉钉里打开与本应用机器人的单聊，发送：/start {token}（或只发 {token}）"
        )
        if settings.web_url:
            lines.append(f"钉钉内打开即加入：{settings.web_url}/dingtalk/join/{token}")
    return lines


async def _bot_username(settings: Settings) -> str | None:
    """The Telegram bot's @username asked from the Bot API; None without a bot token (DingTalk
    alone) or when the Bot API cannot be reached."""
    from telegram import Bot
    from telegram.error import TelegramError

    if not settings.bot_token:
        return None
    try:
        async with Bot(
            settings.bot_token,
            base_url=settings.telegram_api_url,
            base_file_url=settings.file_api_url,
        ) as bot:
            return bot.username
    except TelegramError:
        return None


# --- parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; each sub-command names the function that runs it."""
    parser = argparse.ArgumentParser(
        prog="kexie", description="科协活动报送机器人 / activity reporting bot for S&T associations"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="迁移数据库并启动机器人 / migrate and run the bot")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="接收 Telegram 的 webhook 推送而不是长轮询 / serve a webhook instead of polling",
    )
    run.set_defaults(func=cmd_run, needs_token=True)

    db = sub.add_parser("db", help="数据库 / database").add_subparsers(dest="db_cmd", required=True)
    db.add_parser("upgrade", help="执行迁移 / run migrations").set_defaults(func=cmd_db_upgrade)

    districts = sub.add_parser("districts", help="区（市）县").add_subparsers(
        dest="districts_cmd", required=True
    )
    districts.add_parser("seed", help="载入成都市23个区（市）县").set_defaults(
        func=cmd_districts_seed
    )

    org = sub.add_parser("org", help="科协 / associations").add_subparsers(
        dest="org_cmd", required=True
    )
    org_add = org.add_parser("add", help="新建科协，输出编号 / create, print id")
    org_add.add_argument("--district", required=True, help="区（市）县名称，例如 锦江区")
    org_add.add_argument(
        "--kind",
        required=True,
        choices=["enterprise", "zone"],
        help="enterprise=企业科协, zone=产业功能区科协",
    )
    org_add.add_argument("--name", required=True, help="科协名称")
    org_add.set_defaults(func=cmd_org_add)

    invite = sub.add_parser("invite", help="生成邀请链接 / make an invite link")
    scope = invite.add_mutually_exclusive_group(required=True)
    scope.add_argument("--org", type=int, help="科协编号")
    scope.add_argument("--district", help="区（市）县名称")
    scope.add_argument("--city", action="store_true", help="市科协管理员")
    invite.add_argument("--role", choices=["reporter", "org_admin", "district_admin"])
    invite.add_argument("--uses", type=int, default=1, help="可用次数（默认1）")
    invite.add_argument("--days", type=int, default=7, help="有效天数（默认7）")
    invite.set_defaults(func=cmd_invite)

    # Later sub-commands (lists, template, import, export) register here too.
    from bot.cli_registry import register as register_registry

    register_registry(sub, districts, org)
    from bot.cli_import import register as register_import

    register_import(sub)
    from bot.cli_export import register as register_export

    register_export(sub)
    from bot.cli_backup import register as register_backup

    register_backup(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``kexie`` console script."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # A job every second would bury everything else in the log.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(require_token=getattr(args, "needs_token", False))
    except SettingsError as exc:
        return _fail(exc.problems)
    if getattr(args, "uses", 1) < 1 or getattr(args, "days", 1) < 1:
        return _fail(["--uses 和 --days 必须是正整数。"])
    result: int = args.func(args, settings)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
