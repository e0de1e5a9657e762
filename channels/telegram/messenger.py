"""The scheduler's :class:`~scheduler.messenger.Messenger` for Telegram.

The sender hands over a rendered message (the catalog's HTML subset, which Telegram's HTML
parse mode reads as it is, and buttons as label + callback data) or an album of evidence files;
this turns them into Bot API calls and Telegram's errors into the protocol's outcomes:
429 → :class:`RateLimited`, 403 → :class:`Blocked`, "chat not found" → :class:`Unreachable`,
5xx / timeouts / lost connections → :class:`TransientFailure`, any other refusal →
:class:`PermanentFailure`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, TypeVar

from telegram import Bot, InputMediaDocument, InputMediaPhoto
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from channels.telegram.front import keyboard
from core.address import Address
from core.enums import Channel
from scheduler.messenger import (
    Album,
    Attachment,
    Blocked,
    Outgoing,
    PermanentFailure,
    Picture,
    RateLimited,
    TransientFailure,
    Unreachable,
)

MAX_CAPTION = 1024  # Telegram's caption limit

#: True while a scheduled message is being sent: the Bot API rate limiter (``bot.lanes``) puts
#: the request in the broadcast lane, which yields to replies and has its own budget.
BROADCAST: ContextVar[bool] = ContextVar("kexie_broadcast", default=False)

T = TypeVar("T")


class TelegramMessenger:
    """Sends the scheduler's messages through one ``telegram.Bot`` (or anything with its
    ``send_message``, ``send_photo``, ``send_document`` and ``send_media_group``)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_message(self, address: Address, message: Outgoing) -> str | None:
        """One text message with its inline keyboard."""
        rows = [[(b.label, b.data) for b in row] for row in message.buttons]
        sent = await _mapped(
            lambda: self.bot.send_message(
                _chat(address),
                message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(rows or None),
                disable_web_page_preview=True,
            )
        )
        return str(sent.message_id)

    async def send_album(self, address: Address, album: Album) -> str | None:
        """A photo, a document, or a media group of either, captioned on the first file."""
        caption = (album.caption or "")[:MAX_CAPTION] or None
        # Stored bytes come from disk or object storage: read them off the event loop.
        files = [await asyncio.to_thread(_file, item) for item in album.files]
        names = [item.file_name for item in album.files]
        if album.documents:
            if len(files) == 1:
                sent = await _mapped(
                    lambda: self.bot.send_document(
                        _chat(address),
                        files[0],
                        caption=caption,
                        parse_mode=ParseMode.HTML,
                        filename=names[0],
                    )
                )
                return str(sent.message_id)
            docs = [
                InputMediaDocument(
                    f,
                    caption=caption if i == 0 else None,
                    parse_mode=ParseMode.HTML,
                    filename=name,
                )
                for i, (f, name) in enumerate(zip(files, names, strict=True))
            ]
            group = await _mapped(lambda: self.bot.send_media_group(_chat(address), docs))
            return str(group[0].message_id) if group else None
        if len(files) == 1:
            sent = await _mapped(
                lambda: self.bot.send_photo(
                    _chat(address), files[0], caption=caption, parse_mode=ParseMode.HTML
                )
            )
            return str(sent.message_id)
        photos = [
            InputMediaPhoto(f, caption=caption if i == 0 else None, parse_mode=ParseMode.HTML)
            for i, f in enumerate(files)
        ]
        group = await _mapped(lambda: self.bot.send_media_group(_chat(address), photos))
        return str(group[0].message_id) if group else None

    async def send_photo(self, address: Address, picture: Picture) -> str | None:
        """A picture (a chart) with its caption and buttons."""
        return await _send_photo(self, address, picture)


async def _send_photo(
    messenger: TelegramMessenger, address: Address, picture: Picture
) -> str | None:
    """A chart with its caption and buttons; a caption over Telegram's limit follows as text."""
    rows = [[(b.label, b.data) for b in row] for row in picture.buttons]
    if len(picture.caption) <= MAX_CAPTION:
        sent = await _mapped(
            lambda: messenger.bot.send_photo(
                _chat(address),
                picture.png,
                caption=picture.caption or None,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(rows or None),
            )
        )
        return str(sent.message_id)
    sent = await _mapped(lambda: messenger.bot.send_photo(_chat(address), picture.png))
    await messenger.send_message(address, Outgoing(picture.kind, picture.caption, picture.buttons))
    return str(sent.message_id)


def _chat(address: Address) -> int:
    """Telegram's chat id of an address; another channel's is refused for good (the sender
    hands each messenger only its own channel's rows)."""
    if address.channel != Channel.TELEGRAM:
        raise PermanentFailure(f"not a Telegram address: {address.channel}")
    return int(address.external_id)


def _file(item: Attachment) -> str | bytes:
    """A file by Telegram file id (nothing uploaded), else its stored bytes."""
    file_id = item.file_ids.get(Channel.TELEGRAM)
    if file_id:
        return file_id
    if item.read is None:
        raise PermanentFailure("no file id and no evidence store for a file")
    return item.read()


async def _mapped(call: Callable[[], Awaitable[T]]) -> T:
    """Run one Bot API call in the broadcast lane, with Telegram's errors turned into the
    protocol's outcomes. A 429 is not retried below this: the sender postpones the row."""
    token = BROADCAST.set(True)
    try:
        return await call()
    except RetryAfter as exc:
        raise RateLimited(retry_seconds(exc), str(exc)) from exc
    except Forbidden as exc:
        raise Blocked(str(exc)) from exc
    except BadRequest as exc:
        if "chat not found" in str(exc).lower():
            raise Unreachable(str(exc)) from exc
        raise PermanentFailure(str(exc)) from exc
    except NetworkError as exc:  # 5xx, timeouts, connection errors (TimedOut is one)
        raise TransientFailure(str(exc)) from exc
    except TelegramError as exc:
        raise PermanentFailure(str(exc)) from exc
    finally:
        BROADCAST.reset(token)


def retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked us to wait, in seconds (at least half a second)."""
    value: Any = getattr(exc, "_retry_after", None)
    if isinstance(value, timedelta):
        return max(value.total_seconds(), 0.5)
    return max(float(value or 1), 0.5)
