"""Two lanes for the Bot API: replies to the update being handled, and scheduled messages.

* **Interactive** (the default): answers to an update. Paced per chat only — a token bucket of
  :attr:`LaneRateLimiter.burst` requests refilled at :attr:`LaneRateLimiter.per_chat_rate` per
  second (Telegram: about one message per second in a chat, short bursts allowed) — and by
  Telegram's own 429: the chat it names waits ``retry_after`` and the request is sent once more.
  Interactive requests never wait for the broadcast budget.
* **Broadcast**: the scheduler's messages (``channels.telegram.messenger`` sends them inside
  :data:`~channels.telegram.messenger.BROADCAST`). At most ``rate`` messages per second (an
  album counts one per file), and only while the bot's overall ceiling (:data:`OVERALL`,
  Telegram's ~30/s) has room left after the interactive requests of the last second:
  broadcasts always yield.

A 429 pauses the chat it names (the whole lane when it names none) for ``retry_after``; the
request is sent once more after that, and a second 429 is raised: for a scheduled message the
sender then postpones the row (``scheduler.sender``) — it never retries what this layer is
still retrying.

429 is handled here and only here; 5xx, timeouts and dropped connections are retried by
``channels.telegram.unit`` (replies), ``bot.app.RetryingReads`` (downloads) and the sender
(scheduled messages). Every wait goes through an injectable clock, so tests need no real time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from channels.telegram.messenger import BROADCAST

log = logging.getLogger(__name__)

OVERALL = 30.0  # Telegram's ceiling for one bot, messages per second, both lanes together
MAX_CHATS = 10_000  # per-chat buckets kept; full ones are dropped beyond this


@dataclass
class _Bucket:
    tokens: float
    at: float
    paused_until: float = 0.0


class LaneRateLimiter(BaseRateLimiter[int]):
    """python-telegram-bot's rate limiter with an interactive and a broadcast lane.

    ``rate_limit_args`` (an ``int``) overrides how often an interactive request is re-sent
    after a 429 (default :attr:`interactive_retries`).
    """

    def __init__(
        self,
        broadcast_rate: float = 25.0,
        *,
        per_chat_rate: float = 1.0,
        burst: int = 20,
        overall: float = OVERALL,
        interactive_retries: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.broadcast_rate = broadcast_rate
        self.per_chat_rate = per_chat_rate
        self.burst = burst
        self.overall = max(int(overall), 1)
        self.interactive_retries = interactive_retries
        self.clock = clock
        self.sleep = sleep
        self._chats: dict[int, _Bucket] = {}
        self._recent: deque[float] = deque()  # every request of the last second, both lanes
        self._broadcast_next = 0.0
        self._broadcasts: deque[float] = deque()  # broadcast messages of the last second
        self._broadcast_paused_until = 0.0
        self._interactive_paused_until = 0.0  # a 429 that named no chat

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Pace one request in its lane, then run it (see the module's docstring)."""
        if endpoint == "getUpdates":
            return await callback(*args, **kwargs)
        chat = _chat_of(data)
        broadcast = BROADCAST.get()
        retries = self.interactive_retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            if broadcast:
                await self.acquire_paused_chat(chat)
                await self.acquire_broadcast(_messages_in(data))
            else:
                await self.acquire_interactive(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                # The chat it names waits (a scheduled message to a chat in conversation);
                # a 429 that names no chat stops that whole lane.
                if chat is not None:
                    self.pause_chat(chat, _seconds(exc))
                elif broadcast:
                    self.pause_broadcast(_seconds(exc))
                else:
                    self.pause_chat(None, _seconds(exc))
                if attempt == retries:
                    raise
                log.info("429: waiting %.1fs, then once more", _seconds(exc))
        raise AssertionError("unreachable")

    async def acquire_paused_chat(self, chat: int | None) -> None:
        """Wait while Telegram's 429 holds this chat (broadcasts use no per-chat budget: the
        sender sends one row per chat at a time)."""
        if chat is None:
            return
        while (wait := self._bucket(chat, self.clock()).paused_until - self.clock()) > 0:
            await self.sleep(wait)

    # --- the interactive lane ------------------------------------------------------------

    async def acquire_interactive(self, chat: int | None) -> None:
        """Wait for the chat's bucket (and any 429 pause), then count the request."""
        while True:
            now = self.clock()
            wait = self._interactive_paused_until - now
            bucket = self._bucket(chat, now) if chat is not None else None
            if bucket is not None:
                wait = max(wait, bucket.paused_until - now)
                if bucket.tokens < 1.0:
                    wait = max(wait, (1.0 - bucket.tokens) / self.per_chat_rate)
            if wait <= 0:
                if bucket is not None:
                    bucket.tokens -= 1.0
                self._count(now, 1)
                return
            await self.sleep(wait)

    def pause_chat(self, chat: int | None, seconds: float) -> None:
        """Telegram said "retry after" for an interactive request: that chat waits (all
        interactive requests, when the request named no chat)."""
        until = self.clock() + seconds
        if chat is None:
            self._interactive_paused_until = max(self._interactive_paused_until, until)
            return
        bucket = self._bucket(chat, self.clock())
        bucket.paused_until = max(bucket.paused_until, until)

    def _bucket(self, chat: int, now: float) -> _Bucket:
        bucket = self._chats.get(chat)
        if bucket is None:
            if len(self._chats) >= MAX_CHATS:
                self._forget_idle(now)
            bucket = self._chats[chat] = _Bucket(float(self.burst), now)
            return bucket
        bucket.tokens = min(
            float(self.burst), bucket.tokens + (now - bucket.at) * self.per_chat_rate
        )
        bucket.at = now
        return bucket

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets that have refilled and are not paused: they hold nothing."""
        idle = [
            chat
            for chat, b in self._chats.items()
            if b.paused_until <= now and b.tokens + (now - b.at) * self.per_chat_rate >= self.burst
        ]
        for chat in idle:
            del self._chats[chat]

    # --- the broadcast lane --------------------------------------------------------------

    async def acquire_broadcast(self, count: int = 1) -> None:
        """Wait for the broadcast budget, a 429 pause and room under the overall ceiling left
        by interactive requests; then count ``count`` messages."""
        interval = 1.0 / self.broadcast_rate
        count = max(1, min(count, self.overall))
        cap = max(int(self.broadcast_rate), count)
        while True:
            now = self.clock()
            self._expire(now)
            while self._broadcasts and now - self._broadcasts[0] >= 1.0:
                self._broadcasts.popleft()
            wait = max(self._broadcast_paused_until - now, self._broadcast_next - now)
            if len(self._recent) + count > self.overall:
                wait = max(wait, self._recent[0] + 1.0 - now)
            if len(self._broadcasts) + count > cap:
                wait = max(wait, self._broadcasts[0] + 1.0 - now)
            if wait <= 0:
                self._count(now, count)
                self._broadcasts.extend([now] * count)
                # Paced from the previous slot, not from now: requests that were late (a slow
                # commit) catch up, within the budget of any one second (the window above);
                # after an idle second the schedule starts again from now.
                late = now - self._broadcast_next
                base = self._broadcast_next if 0 <= late < 1.0 else now
                self._broadcast_next = base + interval * count
                return
            await self.sleep(wait)

    def pause_broadcast(self, seconds: float) -> None:
        """Telegram said "retry after" to a scheduled message: the broadcast lane waits."""
        self._broadcast_paused_until = max(self._broadcast_paused_until, self.clock() + seconds)

    # --- shared --------------------------------------------------------------------------

    def _count(self, now: float, count: int) -> None:
        self._expire(now)
        self._recent.extend([now] * count)

    def _expire(self, now: float) -> None:
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()


def _chat_of(data: dict[str, Any]) -> int | None:
    try:
        return int(data["chat_id"])
    except (KeyError, TypeError, ValueError):
        return None


def _messages_in(data: dict[str, Any]) -> int:
    """Telegram counts an album as one message per item."""
    media = data.get("media")
    return len(media) if isinstance(media, list) else 1


def _seconds(exc: RetryAfter) -> float:
    value: Any = getattr(exc, "_retry_after", None)
    if isinstance(value, timedelta):
        return max(value.total_seconds(), 0.5)
    return max(float(value or 1), 0.5)
