"""What ``kexie run`` says while it starts: the Bot API it connects to, a hint when that stays
out of reach (mainland China cannot reach api.telegram.org), and which setting names a port
that cannot be had, with the system's reason ("address already in use")."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

log = logging.getLogger(__name__)

# Failures in a row to reach the Bot API before the hint is logged (once per process).
HINT_AFTER = 3
_REACH = "bot_api_reach"


def api_url(bot: Bot) -> str:
    """The Bot API base URL as configured (``KEXIE_TELEGRAM_API_URL``), without the token."""
    return bot.base_url.removesuffix(bot.token)


class BotApiReach:
    """Counts failed attempts in a row to reach the Bot API, at start and while polling, and
    logs one hint after :data:`HINT_AFTER` of them: the likely cause and the setting to change."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.failures = 0
        self.hinted = False

    @classmethod
    def of(cls, app: Application) -> BotApiReach:
        """The application's counter (one per process: the hint is logged once)."""
        reach = app.bot_data.get(_REACH)
        if not isinstance(reach, BotApiReach):
            reach = app.bot_data[_REACH] = cls(api_url(app.bot))
        return reach

    def connecting(self) -> None:
        """Log where the bot is about to connect."""
        log.info("connecting to the Bot API at %s …", self.url)

    def reached(self) -> None:
        """The Bot API answered: the count starts again."""
        self.failures = 0

    def failed(self) -> None:
        """One more failure; the hint once the failures in a row reach :data:`HINT_AFTER`."""
        self.failures += 1
        if self.failures < HINT_AFTER or self.hinted:
            return
        self.hinted = True
        # A URL of one's own (a local server, a proxy) may simply not be running yet.
        own = "" if "//api.telegram.org" in self.url else " 如果这是自己的服务器，请确认它已启动。"
        own_en = "" if not own else " If that is your own server, check that it is running."
        log.warning(
            "连续 %d 次连不上 Bot API（%s）。%s中国大陆无法直接访问 api.telegram.org：请把 "
            "KEXIE_TELEGRAM_API_URL 设为可访问的 Bot API 反向代理，或本地 Bot API 服务器"
            "（https://github.com/tdlib/telegram-bot-api，例如 http://127.0.0.1:8081/bot）；"
            "仍在重试。 / The Bot API at %s could not be reached %d times in a row.%s "
            "api.telegram.org cannot be reached from mainland China: set KEXIE_TELEGRAM_API_URL "
            "to a reachable reverse proxy of the Bot API or a local Bot API server "
            "(github.com/tdlib/telegram-bot-api, e.g. http://127.0.0.1:8081/bot); still retrying.",
            self.failures,
            self.url,
            own.strip(),
            self.url,
            self.failures,
            own_en,
        )


class ListenError(Exception):
    """A server's address could not be had; the message names the setting and the reason."""


def reason(exc: OSError) -> str:
    """The system's reason in plain words: ``address already in use``."""
    if exc.errno == errno.EADDRINUSE:
        return "address already in use"
    return (exc.strerror or type(exc).__name__).lower()


def bind(setting: str, host: str, port: int) -> socket.socket:
    """A listening-ready socket bound to ``host:port``; :class:`ListenError` naming ``setting``
    (``KEXIE_WEB_LISTEN``) and the reason when the address cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        taken = "端口已被占用" if exc.errno == errno.EADDRINUSE else "无法监听"
        raise ListenError(
            f"{setting}={host}:{port}：{taken}（{reason(exc)}），请换一个空闲端口 / "
            f"{host}:{port} cannot be listened on: {reason(exc)}; set {setting} to a free "
            "host:port"
        ) from exc
    return sock


MAX_BACKOFF = 30.0  # seconds between attempts, at most


async def until_connected(
    stop: asyncio.Event, call: Callable[[], Awaitable[Any]], reach: BotApiReach
) -> bool:
    """Await ``call()`` (a Bot API request), retrying with back-off while the Bot API is
    unreachable, the hint logged after a few failures; False when ``stop`` was set first."""
    backoff = 1.0
    while not stop.is_set():
        try:
            await call()
            reach.reached()
            return True
        except InvalidToken:
            raise
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
            await _pause(stop, float(seconds))
        except (NetworkError, TimedOut) as exc:
            log.warning("the Bot API is unreachable (%s); retrying", type(exc).__name__)
            reach.failed()
            await _pause(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
    return False


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``stop`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
