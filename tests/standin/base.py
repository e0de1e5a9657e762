"""The state every part of the stand-in shares, and the checks every sending method makes."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from typing import TYPE_CHECKING

from tests.standin.constants import (
    _DEFAULT_ALLOWED_UPDATES,
    BLOCKED_DESCRIPTION,
    BOT_FIRST_NAME,
    BOT_ID,
    BOT_USERNAME,
    DEFAULT_TOKEN,
)
from tests.standin.types import ApiError, JSONDict, StoredFile, _bad

if TYPE_CHECKING:
    from tests.standin.users import FakeUser


class _Signal:
    """Wake every current waiter; lost wake-ups are impossible within one event loop."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()

    async def wait(self, timeout: float) -> bool:
        if timeout <= 0:
            return False
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        try:
            await asyncio.wait_for(fut, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(fut)


class StandInBase:
    """What the Bot API methods share: users, files, updates, commands, limits.

    The server (:class:`tests.standin.server.StandIn`) adds the HTTP side; the method groups
    (``methods_bot``, ``methods_messages``, ``media``) are mixins over this base.
    """

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        self.token = token
        self.commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.menu_buttons: dict[int | None, JSONDict] = {}
        self.bot_info: dict[str, str] = {}
        self.enforce_limits = False
        self.limit_per_chat = 1.0
        self.limit_burst = 3
        self.limit_global = 30
        self.strict_html = True
        self.callback_query_ttl = 15.0
        self.users: dict[int, FakeUser] = {}
        self.files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = 0
        self._updates: list[JSONDict] = []
        self._allowed_updates: frozenset[str] = _DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._update_signal = _Signal()
        self._output_signal = _Signal()
        self._blocked: set[int] = set()
        self._queries: dict[str, tuple[FakeUser, float, str | None]] = {}
        self._query_counter = 0
        self._media_group_counter = 0
        self._buckets: dict[int, tuple[float, float]] = {}
        self._global_window: deque[float] = deque()
        self._closing = False

    def _new_media_group_id(self) -> str:
        self._media_group_counter += 1
        return str(13_600_000_000_000_000 + self._media_group_counter)

    def _new_query_id(self, u: FakeUser, data: str | None = None) -> str:
        self._query_counter += 1
        query_id = str(4_100_000_000_000_000_000 + self._query_counter * 7)
        # The pressed data is kept here because the update itself is gone once the bot
        # confirms it, which may happen before the bot answers the query.
        self._queries[query_id] = (u, time.monotonic(), data)
        return query_id

    def _bot_user(self) -> JSONDict:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
        }

    def _chat(self, params: JSONDict) -> FakeUser:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        u = self.users.get(chat_id) if isinstance(chat_id, int) else None
        if u is None or not u.opened:
            raise _bad("chat not found")
        if u.user_id in self._blocked:
            raise ApiError(403, BLOCKED_DESCRIPTION, category="blocked")
        return u

    def _rate_check(self, chat_id: int, count: int = 1) -> None:
        if not self.enforce_limits:
            return
        now = time.monotonic()
        window = self._global_window
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) + count > self.limit_global:
            wait = 1.0 - (now - window[0]) if window else 1.0
            self._raise_429(wait)
        tokens, last = self._buckets.get(chat_id, (float(self.limit_burst), now))
        tokens = min(float(self.limit_burst), tokens + (now - last) * self.limit_per_chat)
        if tokens < 1.0:
            self._buckets[chat_id] = (tokens, now)
            self._raise_429((1.0 - tokens) / self.limit_per_chat)
        self._buckets[chat_id] = (tokens - 1.0, now)
        window.extend([now] * count)

    @staticmethod
    def _raise_429(wait: float) -> None:
        retry = max(1, math.ceil(wait))
        raise ApiError(
            429,
            f"Too Many Requests: retry after {retry}",
            {"retry_after": retry},
            category="rate_limited",
        )
