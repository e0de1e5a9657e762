"""The scheduler's :class:`~scheduler.messenger.Messenger` for DingTalk.

Scheduled messages (deliveries with 通过/退回, reminders, nudges, digests) go through the
robot's one-to-one API in the rate limiter's scheduled lane, behind replies. Every text is a
card, so that a delivery's card can be updated in place after a press, whatever the message
(one API call either way). Evidence files are uploaded (``media/upload``) and sent one message
each, after the caption. DingTalk's refusals become the protocol's outcomes: flow control →
:class:`RateLimited`, a user not in the organisation → :class:`Unreachable`, 5xx / timeouts →
:class:`TransientFailure`, anything else → :class:`PermanentFailure`.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import TypeVar

from channels.dingtalk.api import DingTalkError
from channels.dingtalk.front import DingTalkFront
from core.address import Address
from core.enums import Channel
from scheduler.messenger import (
    Album,
    Attachment,
    Outgoing,
    PermanentFailure,
    Picture,
    RateLimited,
    TransientFailure,
    Unreachable,
)

T = TypeVar("T")

RATE_LIMIT_WAIT = 1.0  # seconds to wait after DingTalk's flow control


class DingTalkMessenger:
    """Sends the scheduler's messages through one app's robot (``front``: its cards)."""

    def __init__(self, front: DingTalkFront) -> None:
        self.front = front
        self.api = front.api

    async def send_message(self, address: Address, message: Outgoing) -> str | None:
        """One card with the message's text and buttons."""
        rows = [[(b.label, b.data) for b in row] for row in message.buttons]
        _user(address)
        return await _mapped(
            lambda: self.front.send_card(address, message.text, rows or None, urgent=False)
        )

    async def send_album(self, address: Address, album: Album) -> str | None:
        """The caption, then each file as a message of its own."""
        ref = None
        if album.caption:
            ref = await self.send_message(address, Outgoing(album.kind, album.caption))
        user = _user(address)
        for item in album.files:
            data = await asyncio.to_thread(_bytes, item)
            name = item.file_name or f"{item.sha256[:12]}.jpg"
            send = self._file if album.documents else self._image
            await _mapped(functools.partial(send, user, data, name))
        return ref

    async def send_photo(self, address: Address, picture: Picture) -> str | None:
        """A chart, then its caption and buttons as a card."""
        user = _user(address)
        await _mapped(lambda: self._image(user, picture.png, f"{picture.kind}.png"))
        if not picture.caption and not picture.buttons:
            return None
        return await self.send_message(
            address, Outgoing(picture.kind, picture.caption, picture.buttons)
        )

    async def _image(self, user: str, data: bytes, name: str) -> None:
        media = await self.api.upload(data, name, "image")
        await self.api.send_image(user, media)

    async def _file(self, user: str, data: bytes, name: str) -> None:
        media = await self.api.upload(data, name, "file")
        await self.api.send_file(user, media, name)


def _user(address: Address) -> str:
    """DingTalk's user id of an address; another channel's is refused for good."""
    if address.channel != Channel.DINGTALK:
        raise PermanentFailure(f"not a DingTalk address: {address.channel}")
    return address.external_id


def _bytes(item: Attachment) -> bytes:
    if item.read is None:
        raise PermanentFailure("no evidence store for a file")
    return item.read()


async def _mapped(call: Callable[[], Awaitable[T]]) -> T:
    """One call, DingTalk's refusals as the protocol's outcomes."""
    try:
        return await call()
    except DingTalkError as exc:
        raise _outcome(exc) from exc


def _outcome(exc: DingTalkError) -> Exception:
    if exc.unreachable:
        return Unreachable(str(exc))
    if exc.status == 429:  # DingTalk's flow control: everybody waits, the row is not at fault
        return RateLimited(RATE_LIMIT_WAIT, str(exc))
    if exc.transient:
        return TransientFailure(str(exc))
    return PermanentFailure(str(exc))
