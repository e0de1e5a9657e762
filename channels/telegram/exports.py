"""The background exports (``handlers/export_run.py``) on a Telegram application: told after a
restart, and the console's files sent to the admin's chat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from telegram.ext import Application

from channels.telegram.front import TelegramFront, chat_of
from core.address import Address
from core.texts import t
from handlers import export_run
from storage.db import Database


async def after_restart(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """On start: tell admins whose export a shutdown interrupted to ask again (in the
    background, so polling starts at once)."""
    db: Database = app.bot_data["db"]
    await export_run.after_restart(TelegramFront(app), db)


async def send_export(
    app: Application[Any, Any, Any, Any, Any, Any],
    chat: Address,
    lang: str,
    heading: str,
    files: list[Path],
    job_id: int,
) -> None:
    """The console's export in the admin's chat: a heading, then each file as a document, the
    way ``/export`` sends them (same retries, same size limit)."""
    front = TelegramFront(app)
    await app.bot.send_message(chat_of(chat), t(lang, "web_export_chat_heading", heading=heading))
    for number, path in enumerate(files, start=1):
        # One over a bot's limit is skipped: the browser download has it.
        what = f"console export file {number}/{len(files)} of job {job_id}"
        await export_run.send_file(front, chat, path, what)
