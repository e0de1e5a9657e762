"""A DingTalk robot message or card press as the port's :class:`~handlers.port.Incoming` event.

The robot's messages (topic ``/v1.0/im/bot/messages/get``) and the presses on its cards (topic
``/v1.0/card/instances/callback``) come over the Stream connection as JSON; this reads the
fields the flows need. Files are described here and fetched only when a flow asks
(``messageFiles/download`` through :class:`channels.dingtalk.api.DingTalkApi`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.address import Address
from core.enums import Channel
from handlers.port import Card, FetchFailed, Incoming, IncomingFile

#: What can never be evidence, by the message's ``msgtype`` (catalog keys, as Telegram's).
_UNSUPPORTED = {
    "audio": "kind_voice",
    "video": "kind_video",
}

Download = Callable[[str], Awaitable[bytes]]  # a download code → the bytes (raises FetchFailed)


def address_of(user_id: str) -> Address:
    """The port's address of a DingTalk user (their staff id in the organisation)."""
    return Address(Channel.DINGTALK, user_id)


def message_event(data: Mapping[str, Any], download: Download) -> Incoming | None:
    """The event a robot message carries; None for what the bot does not serve (group chats,
    a message without a sender)."""
    user = str(data.get("senderStaffId") or "")
    if not user or str(data.get("conversationType", "1")) != "1":
        return None  # the bot works in one-to-one chats only, as on Telegram
    base = Incoming(
        kind="other",
        key=str(data.get("msgId") or ""),
        sender=address_of(user),
        sender_name=str(data.get("senderNick") or "")[:64],
        time=_time(data.get("createAt")),
    )
    msgtype = str(data.get("msgtype") or "")
    content = data.get("content")
    content = content if isinstance(content, Mapping) else {}
    if msgtype == "text":
        text_field = data.get("text")
        text = str(text_field.get("content", "")) if isinstance(text_field, Mapping) else ""
        # A command typed by name (with or without "/", or in Chinese) is read by the router
        # (handlers.routes.route_text): a bare name is the answer while a question waits.
        return replace(base, kind="text", text=text.strip())
    if msgtype == "picture":
        code = str(content.get("downloadCode") or "")
        return replace(base, kind="photo", files=(_file("photo", code, None, download),))
    if msgtype == "file":
        code = str(content.get("downloadCode") or "")
        name = str(content.get("fileName") or "") or None
        return replace(base, kind="file", files=(_file("document", code, name, download),))
    if msgtype == "richText":
        return _rich_text(base, content, download)
    return replace(base, unsupported=_UNSUPPORTED.get(msgtype))


def _rich_text(base: Incoming, content: Mapping[str, Any], download: Download) -> Incoming:
    """Text and pictures mixed: the pictures are evidence, as an album; text alone is text."""
    parts = content.get("richText")
    parts = parts if isinstance(parts, list) else []
    codes = [str(p["downloadCode"]) for p in parts if isinstance(p, dict) and p.get("downloadCode")]
    if codes:
        album = base.key or None
        files = tuple(_file("photo", code, None, download, album=album) for code in codes)
        return replace(base, kind="photo", files=files)
    text = "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict)).strip()
    return replace(base, kind="text", text=text)


def press_event(
    data: Mapping[str, Any], key: str, remembered: Callable[[str], Card | None]
) -> Incoming | None:
    """The event a card press carries: the pressed button's id is the codec's data. ``key``:
    the frame's id (each press is its own event: the same button pressed twice is two);
    ``remembered``: the card as the front sent it, by its id (None: not known here)."""
    user = str(data.get("userId") or "")
    if not user:
        return None
    try:
        content = json.loads(str(data.get("content") or "{}"))
        private = content.get("cardPrivateData") or {}
        actions = private.get("actionIds") or []
    except (ValueError, AttributeError):
        actions = []
    pressed = str(actions[0]) if actions else ""
    ref = str(data.get("outTrackId") or "")
    card = remembered(ref) if ref else None
    return Incoming(
        kind="button",
        key=key,
        sender=address_of(user),
        sender_name="",
        time=datetime.now(UTC),
        pressed=pressed,
        card=card if card is not None else (Card(ref, None, None, None) if ref else None),
    )


def _time(millis: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(millis)) / 1000, UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _file(
    kind: str, code: str, name: str | None, download: Download, *, album: str | None = None
) -> IncomingFile:
    """A file known by its download code (DingTalk gives no size or type before the download:
    the store checks both on the bytes)."""

    async def fetch() -> bytes:
        if not code:
            raise FetchFailed("no download code")
        return await download(code)

    async def save(path: Path) -> None:
        path.write_bytes(await fetch())

    return IncomingFile(
        kind="photo" if kind == "photo" else "document",
        unique_id=code[:128],
        ref=code,
        fetch=fetch,
        save=save,
        name=name,
        size=None,
        mime="image/jpeg" if kind == "photo" else None,
        album=album,
    )
