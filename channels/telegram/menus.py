"""The roles' commands (``handlers.menus``) as Telegram's command menus and menu button:
Chinese before joining, each member's own menu per chat, and the 控制台 (the console's Mini
App) as the menu button of district and city admins when the console is published."""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    MenuButton,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)
from telegram.error import TelegramError

from core.policy import Actor
from core.texts import plain
from handlers.menus import STRANGER_COMMANDS, commands_for, console_url

log = logging.getLogger(__name__)


def bot_commands(names: list[str], lang: str) -> list[BotCommand]:
    """BotCommand objects with descriptions from the catalog."""
    return [BotCommand(name, plain(lang, f"cmd_{name}")) for name in names]


async def set_default_menus(bot: Bot) -> None:
    """The menu before joining: Chinese, whatever the client's language (members choose theirs
    in /settings; their own menu is then set per chat)."""
    await bot.set_my_commands(bot_commands(STRANGER_COMMANDS, "zh"), scope=BotCommandScopeDefault())


def menu_button(web_url: str | None, actor: Actor, lang: str) -> MenuButton:
    """The chat's menu button: the console for its admins, Telegram's default for the rest."""
    url = console_url(web_url, actor)
    if url is None:
        return MenuButtonDefault()
    return MenuButtonWebApp(plain(lang, "btn_console"), WebAppInfo(url))


async def set_member_menu(
    bot: Bot, chat_id: int, actor: Actor, lang: str, *, web_url: str | None
) -> None:
    """Give one member the menu of their roles (BotCommandScopeChat) and, when the console is
    published (``web_url``), the menu button that goes with them: the console for district and
    city admins, the default again for anyone else (who may just have lost the role)."""
    try:
        await bot.set_my_commands(
            bot_commands(commands_for(actor), lang), scope=BotCommandScopeChat(chat_id)
        )
    except TelegramError as exc:  # a menu is a convenience; never fail the update for it
        log.warning("could not set the command menu for %s: %s", chat_id, exc)
    if not web_url:
        return  # no console: the menu button stays whatever Telegram shows by default
    try:
        await bot.set_chat_menu_button(
            chat_id=chat_id, menu_button=menu_button(web_url, actor, lang)
        )
    except TelegramError as exc:
        log.warning("could not set the menu button for %s: %s", chat_id, type(exc).__name__)
