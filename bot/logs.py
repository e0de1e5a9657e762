"""Log levels of the libraries under the bot, whichever channels it serves."""

from __future__ import annotations

import logging


def quiet_library_loggers() -> None:
    """Cap the libraries whose chattier levels would log what users wrote or the token:
    httpx logs every request URL (with the bot token) at INFO (python-telegram-bot's own
    getUpdates still goes through it; aiohttp carries the rest), python-telegram-bot every
    request's parameters and every update at DEBUG, aiosqlite and SQLAlchemy SQL parameters,
    websockets every DingTalk frame (messages included) at DEBUG."""
    for name, level in (
        ("httpx", logging.WARNING),
        ("aiohttp", logging.WARNING),
        ("httpcore", logging.WARNING),
        ("telegram", logging.INFO),
        ("aiosqlite", logging.INFO),
        ("sqlalchemy.engine", logging.WARNING),
        ("apscheduler", logging.WARNING),
        ("websockets", logging.INFO),
        ("dingtalk_stream", logging.INFO),
    ):
        logger = logging.getLogger(name)
        if logger.level < level:  # NOTSET (0) too: an explicit level survives a DEBUG root
            logger.setLevel(level)
