"""Sending again after a transient failure: 5xx, a timeout, a dropped connection.

Replies that fail so are sent again with backoff (:func:`with_retries`) within
:data:`RETRY_BUDGET`; the update is confirmed to Telegram only after that, so the user gets
every reply once the API recovers and the answer is applied once. 429 "retry after" is not
retried here: the Bot API rate limiter (``bot/lanes.py``) honours it, so each kind of failure
has exactly one layer that retries it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram.error import BadRequest, NetworkError

from handlers.port import ChannelFailure

log = logging.getLogger(__name__)

T = TypeVar("T")

# The Bot API is down for a while: keep trying this long per update (the polling loop waits,
# which is right: nothing else could be answered either), then give up; a redelivered update
# asks its question again anyway.
RETRY_BUDGET = 120.0
RETRY_FIRST_DELAY = 0.5
RETRY_MAX_DELAY = 20.0


def is_transient(exc: BaseException) -> bool:
    """A failure worth repeating the same request for: 5xx, a timeout, a dropped connection.

    python-telegram-bot raises ``NetworkError`` for all three (``TimedOut`` is one), but
    ``BadRequest`` is a ``NetworkError`` too, and a 400 stays a 400 however often it is sent.
    The port's :class:`~handlers.port.ChannelFailure` says so itself.
    """
    if isinstance(exc, ChannelFailure):
        return exc.transient
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


async def with_retries(call: Callable[[], Awaitable[T]], *, deadline: float, what: str) -> T:
    """Await ``call()``, repeating it on transient failures with backoff until ``deadline``
    (event-loop time); then the last failure is raised. ``what`` names it in the log (ids only).
    """
    loop = asyncio.get_running_loop()
    delay = RETRY_FIRST_DELAY
    attempt = 1
    while True:
        try:
            return await call()
        except Exception as exc:
            if not is_transient(exc):
                raise
            wait = delay * random.uniform(0.8, 1.2)  # jitter: many chats recover at once
            if loop.time() + wait >= deadline:
                log.warning(
                    "gave up on %s after %d attempts (%s)", what, attempt, type(exc).__name__
                )
                raise
            name = type(exc).__name__
            log.info("%s failed (%s, attempt %d); retrying in %.1fs", what, name, attempt, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, RETRY_MAX_DELAY)
            attempt += 1


async def deliver(action: Callable[[], Awaitable[Any]], *, deadline: float, what: str) -> bool:
    """Run one queued Telegram call with :func:`with_retries`; False if it gave up (failures
    that are not transient, 400, 403..., propagate to the caller)."""
    try:
        await with_retries(action, deadline=deadline, what=what)
    except Exception as exc:
        if is_transient(exc):
            return False
        raise
    return True
