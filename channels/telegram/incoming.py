"""A Telegram update as the port's :class:`~handlers.port.Incoming` event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from telegram import Bot, InlineKeyboardButton, Message, MessageEntity, Update
from telegram.error import BadRequest, TelegramError

from core.address import Address
from core.enums import Channel
from handlers.port import (
    AppButton,
    Button,
    Card,
    FetchFailed,
    Incoming,
    IncomingFile,
    Kind,
)

# What can never be evidence, by the message attribute that carries it (catalog keys).
_UNSUPPORTED = (
    ("sticker", "kind_sticker"),
    ("voice", "kind_voice"),
    ("video_note", "kind_video"),
    ("video", "kind_video"),
    ("animation", "kind_video"),
    ("audio", "kind_audio"),
    ("location", "kind_location"),
    ("contact", "kind_contact"),
)


def incoming_of(update: Update, bot: Bot, args: list[str] | None = None) -> Incoming:
    """The event ``update`` carries (a private chat's: its chat is the sender's address).
    ``args``: the command's words, as the command handler split them."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    base = Incoming(
        kind="other",
        key=str(update.update_id),
        sender=address_of(chat.id),
        sender_name=user.first_name,
        sender_handle=user.username,
    )
    query = update.callback_query
    if query is not None:
        message = query.message
        card = card_of(message) if isinstance(message, Message) else None
        return replace(base, kind="button", pressed=query.data, card=card)
    if update.edited_message is not None:
        return replace(base, kind="edited", text=update.edited_message.text)
    message = update.message
    if message is None:
        return base
    kind: Kind = "text" if message.text is not None else "other"
    if message.text is not None and any(
        entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0
        for entity in message.entities
    ):
        kind = "command"
    files = _files(message, bot)
    if files:
        kind = "photo" if message.photo else "file"
    unsupported = next((key for attr, key in _UNSUPPORTED if getattr(message, attr, None)), None)
    return replace(
        base,
        kind=kind,
        time=message.date,
        text=message.text,
        command=_command(message.text) if kind == "command" else None,
        args=tuple(args or ()),
        files=files,
        unsupported=unsupported,
    )


def address_of(chat_id: int) -> Address:
    """The port's address of a Telegram chat."""
    return Address(Channel.TELEGRAM, str(chat_id))


def _command(text: str | None) -> str | None:
    if not text:
        return None
    return text.split()[0].lstrip("/").split("@")[0]


def card_of(message: Message) -> Card:
    """The pressed message as it reads now."""
    markup = message.reply_markup
    buttons = (
        None
        if markup is None
        else tuple(tuple(_button(b) for b in row) for row in markup.inline_keyboard)
    )
    return Card(
        ref=str(message.message_id),
        text=message.text if message.text is not None else message.caption,
        text_html=message.text_html if message.text is not None else None,
        buttons=buttons,
    )


def _button(button: InlineKeyboardButton) -> Button:
    if button.web_app is not None:
        return AppButton(button.text, button.web_app.url)
    if button.url is not None:
        return AppButton(button.text, button.url)
    data = button.callback_data
    return (button.text, data if isinstance(data, str) else "")


def _files(message: Message, bot: Bot) -> tuple[IncomingFile, ...]:
    """The photo (its largest size) or the document the message carries."""
    if message.photo:
        photo = message.photo[-1]
        return (
            IncomingFile(
                kind="photo",
                unique_id=photo.file_unique_id,
                ref=photo.file_id,
                fetch=_fetcher(bot, photo.file_id),
                save=_saver(bot, photo.file_id),
                size=photo.file_size,
                mime="image/jpeg",
                album=message.media_group_id,
            ),
        )
    doc = message.document
    if doc is None:
        return ()
    return (
        IncomingFile(
            kind="document",
            unique_id=doc.file_unique_id,
            ref=doc.file_id,
            fetch=_fetcher(bot, doc.file_id),
            save=_saver(bot, doc.file_id),
            name=doc.file_name,
            size=doc.file_size,
            mime=doc.mime_type,
            album=message.media_group_id,
        ),
    )


def _failed(exc: TelegramError) -> FetchFailed:
    # getFile knows a file over the Bot API's 20 MB download limit even when the update did not
    # say its size.
    too_big = isinstance(exc, BadRequest) and "too big" in str(exc).lower()
    return FetchFailed(type(exc).__name__, too_big=too_big)


def _fetcher(bot: Bot, file_id: str) -> Callable[[], Awaitable[bytes]]:
    async def fetch() -> bytes:
        try:
            tg_file = await bot.get_file(file_id)
            return bytes(await tg_file.download_as_bytearray())
        except TelegramError as exc:
            raise _failed(exc) from exc

    return fetch


def _saver(bot: Bot, file_id: str) -> Callable[[Path], Awaitable[None]]:
    async def save(path: Path) -> None:
        try:
            tg_file = await bot.get_file(file_id)
            await tg_file.download_to_drive(path)
        except TelegramError as exc:
            raise _failed(exc) from exc

    return save
