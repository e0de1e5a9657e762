"""Command menus per role: everyone gets the reporting commands, admins get theirs on top.
District and city admins also get the 控制台 (the console, web/) as their chat's menu button when
the console is published (``KEXIE_WEB_URL``)."""

from __future__ import annotations

import logging

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButton,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)
from telegram.error import TelegramError

from core.enums import Role
from core.policy import Actor, may_open_console
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


def console_app(web_url: str | None, actor: Actor) -> WebAppInfo | None:
    """The console's Mini App for a district or city admin; None for everyone else, or when
    the console is not published (no ``KEXIE_WEB_URL``, or not over https: Telegram refuses a
    message or menu carrying such a button, and the card under it would be lost)."""
    if not web_url or not web_url.startswith("https://") or not may_open_console(actor):
        return None
    return WebAppInfo(f"{web_url.rstrip('/')}/")


def console_keyboard(web_url: str | None, actor: Actor, lang: str) -> InlineKeyboardMarkup | None:
    """The 控制台 button under a card (a ``web_app`` button: it opens the console signed in)."""
    app = console_app(web_url, actor)
    if app is None:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(plain(lang, "btn_console"), web_app=app)]])


def menu_button(web_url: str | None, actor: Actor, lang: str) -> MenuButton:
    """The chat's menu button: the console for its admins, Telegram's default for the rest."""
    app = console_app(web_url, actor)
    if app is None:
        return MenuButtonDefault()
    return MenuButtonWebApp(plain(lang, "btn_console"), app)


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
