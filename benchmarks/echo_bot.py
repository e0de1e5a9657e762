"""The benchmarks' yardstick: a bare python-telegram-bot bot that echoes, nothing of kexie's.

It answers every message with one message (with two buttons, so the load driver can press them)
and every button with a toast and one message: the same kinds of update as kexie's report path,
parsed by the same library, with none of kexie's work behind them. ``benchmarks/conversation.py``
runs it in its own process space (:func:`build_echo`); ``benchmarks/processes.py`` runs this file
as a separate process, as ``kexie run`` is::

    python benchmarks/echo_bot.py TOKEN BASE_URL BASE_FILE_URL

It polls with python-telegram-bot's defaults (its Updater, no rate limiter) until SIGINT/SIGTERM.
Nothing of kexie is imported here, so the process holds only what an echo bot needs.
"""

from __future__ import annotations

import sys

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

BUTTONS = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("✅ 完成", callback_data="done"),
            InlineKeyboardButton("提交", callback_data="submit"),
        ]
    ]
)


async def _echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    await message.reply_text(message.text or "photo", reply_markup=BUTTONS)


async def _pressed(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    await query.get_bot().send_message(query.message.chat.id, f"pressed {query.data}")


def build_echo(token: str, base_url: str, base_file_url: str) -> Application:
    """The echo bot's application (not yet initialised) against a Bot API at ``base_url``."""
    app = Application.builder().token(token).base_url(base_url).base_file_url(base_file_url).build()
    app.add_handler(MessageHandler(filters.ALL, _echo))
    app.add_handler(CallbackQueryHandler(_pressed))
    return app


def main() -> None:
    """Poll until SIGINT/SIGTERM (python-telegram-bot's ``run_polling`` stops on either)."""
    token, base_url, base_file_url = sys.argv[1:4]
    build_echo(token, base_url, base_file_url).run_polling(poll_interval=0.0, timeout=1)


if __name__ == "__main__":
    main()
