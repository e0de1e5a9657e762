"""Command menus per role: everyone gets the reporting commands, admins get theirs on top."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from core.enums import Role
from core.policy import Actor
from core.texts import plain

log = logging.getLogger(__name__)

BASE_COMMANDS = ("report", "mine", "help", "cancel")
REPORTER_EXTRA = ("plan", "settings")
ORG_ADMIN_EXTRA = ("invite", "invites", "members", "org")
DISTRICT_ADMIN_EXTRA = (
    "invite",
    "invites",
    "members",
    "org",
    "district",
    "status",
    "review",
    "chase",
    "export",
)
CITY_ADMIN_EXTRA = ("invite", "invites", "members", "org", "status", "review", "chase", "export")


def commands_for(actor: Actor) -> list[str]:
    """The command names a member should see, in menu order, without repeats."""
    names: list[str] = ["start", *BASE_COMMANDS]
    if actor.grants:
        names += REPORTER_EXTRA
    if actor.has(Role.ORG_ADMIN):
        names += ORG_ADMIN_EXTRA
    if actor.has(Role.DISTRICT_ADMIN):
        names += DISTRICT_ADMIN_EXTRA
    if actor.is_city:
        names += CITY_ADMIN_EXTRA
    return list(dict.fromkeys(names))


def bot_commands(names: list[str], lang: str) -> list[BotCommand]:
    """BotCommand objects with descriptions from the catalog."""
    return [BotCommand(name, plain(lang, f"cmd_{name}")) for name in names]


async def set_default_menus(bot: Bot) -> None:
    """The menu before joining: Chinese, whatever the client's language (members choose theirs
    in /settings; their own menu is then set per chat)."""
    names = ["start", *BASE_COMMANDS]
    await bot.set_my_commands(bot_commands(names, "zh"), scope=BotCommandScopeDefault())


async def set_member_menu(bot: Bot, chat_id: int, actor: Actor, lang: str) -> None:
    """Give one member the menu of their roles (BotCommandScopeChat)."""
    try:
        await bot.set_my_commands(
            bot_commands(commands_for(actor), lang), scope=BotCommandScopeChat(chat_id)
        )
    except TelegramError as exc:  # a menu is a convenience; never fail the update for it
        log.warning("could not set the command menu for %s: %s", chat_id, exc)
