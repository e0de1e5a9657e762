"""The port's :class:`~handlers.port.Front` for Telegram: keyboards, messages, photos, files,
menus, the /start link, background work, with Telegram's errors as the port's
:class:`~handlers.port.ChannelFailure`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import Application

from channels.telegram import retries
from channels.telegram.menus import set_member_menu
from channels.telegram.tasks import interrupt_on_stop
from core.address import Address
from core.enums import Channel
from core.policy import Actor
from core.settings import Settings
from handlers.port import AppButton, Buttons, Capabilities, ChannelFailure, Deferred
from scheduler.notices import WAKE

T = TypeVar("T")

MAX_TEXT = 4096  # characters of one message
MAX_CALLBACK_BYTES = 64  # bytes of a button's callback data
MAX_CAPTION = 1024  # characters of a caption
ALBUM_MAX = 10  # files in one media group
SEND_LIMIT = 50 * 1024 * 1024  # what a bot may send as one document

CAPABILITIES = Capabilities(
    max_text=MAX_TEXT,
    max_button_data=MAX_CALLBACK_BYTES,
    max_album=ALBUM_MAX,
    max_file_bytes=SEND_LIMIT,
    max_caption=MAX_CAPTION,
)


def keyboard(rows: Buttons | None) -> InlineKeyboardMarkup | None:
    """Inline keyboard from rows of (label, callback data) or app buttons; data is checked
    against the limit."""
    if not rows:
        return None
    built = []
    for row in rows:
        buttons = []
        for button in row:
            if isinstance(button, AppButton):
                buttons.append(InlineKeyboardButton(button.label, web_app=WebAppInfo(button.url)))
                continue
            label, data = button
            if len(data.encode()) > MAX_CALLBACK_BYTES:
                raise ValueError(f"callback data over 64 bytes: {data!r}")
            buttons.append(InlineKeyboardButton(label, callback_data=data))
        built.append(buttons)
    return InlineKeyboardMarkup(built)


def chat_of(to: Address) -> int:
    """Telegram's chat id of an address (of this channel)."""
    if to.channel != Channel.TELEGRAM:
        raise ChannelFailure(f"not a Telegram address: {to.channel}")
    return int(to.external_id)


async def _mapped(call: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call()
    except BadRequest as exc:
        raise ChannelFailure(str(exc)) from exc
    except NetworkError as exc:  # 5xx, timeouts, dropped connections (TimedOut is one)
        raise ChannelFailure(str(exc), transient=True) from exc
    except TelegramError as exc:
        raise ChannelFailure(str(exc)) from exc


class TelegramFront:
    """One bot's :class:`~handlers.port.Front` (``application``: its tasks, jobs, settings)."""

    channel = Channel.TELEGRAM
    caps = CAPABILITIES

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self.application = application
        self.bot: Bot = application.bot

    @property
    def settings(self) -> Settings:
        """The application's settings."""
        settings: Settings = self.application.bot_data["settings"]
        return settings

    async def send(self, to: Address, text: str, buttons: Buttons | None = None) -> str | None:
        """See :meth:`handlers.port.Front.send`."""
        markup = keyboard(buttons)
        sent = await _mapped(
            lambda: self.bot.send_message(
                chat_of(to), text, reply_markup=markup, disable_web_page_preview=True
            )
        )
        return str(sent.message_id)

    async def edit(self, to: Address, ref: str, text: str, buttons: Buttons | None = None) -> None:
        """See :meth:`handlers.port.Front.edit`."""
        try:
            await self.bot.edit_message_text(
                text, chat_id=chat_of(to), message_id=int(ref), reply_markup=keyboard(buttons)
            )
        except BadRequest as exc:
            if "not modified" not in str(exc):
                raise ChannelFailure(str(exc)) from exc
        except NetworkError as exc:
            raise ChannelFailure(str(exc), transient=True) from exc
        except TelegramError as exc:
            raise ChannelFailure(str(exc)) from exc

    async def send_photo(
        self, to: Address, png: bytes, caption: str | None, *, html: bool = True
    ) -> None:
        """See :meth:`handlers.port.Front.send_photo`."""
        await _mapped(lambda: self.photo(to, png, caption, html=html))

    async def photo(
        self,
        to: Address,
        png: bytes,
        caption: str | None,
        *,
        html: bool = True,
        filename: str | None = None,
    ) -> None:
        """A photo, Telegram's errors as they are (the reply path retries them)."""
        if html:  # the application's default parse mode
            await self.bot.send_photo(chat_of(to), png, caption=caption, filename=filename)
        else:
            await self.bot.send_photo(
                chat_of(to), png, caption=caption, parse_mode=None, filename=filename
            )

    async def send_file(self, to: Address, path: Path) -> None:
        """See :meth:`handlers.port.Front.send_file`."""

        async def upload() -> None:
            # Opened per attempt: a failed upload has consumed the file handle.
            with path.open("rb") as fh:
                await self.bot.send_document(
                    chat_of(to), fh, filename=path.name, read_timeout=120, write_timeout=120
                )

        await _mapped(upload)

    async def set_menu(self, to: Address, actor: Actor, lang: str) -> None:
        """See :meth:`handlers.port.Front.set_menu`."""
        if to.channel != Channel.TELEGRAM:
            return  # a member of another channel has no Telegram menu
        await set_member_menu(self.bot, chat_of(to), actor, lang, web_url=self.settings.web_url)

    def start_link(self, token: str) -> str:
        """See :meth:`handlers.port.Front.start_link`."""
        return f"https://t.me/{self.bot.username}?start={token}"

    def wake_sender(self) -> None:
        """See :meth:`handlers.port.Front.wake_sender`."""
        wake = self.application.bot_data.get(WAKE)
        if isinstance(wake, asyncio.Event):
            wake.set()

    def debounce(self, name: str, delay: float, job: Deferred) -> None:
        """See :meth:`handlers.port.Front.debounce` (on the application's job queue)."""
        queue = self.application.job_queue
        if queue is None:
            return
        for queued in queue.get_jobs_by_name(name):
            queued.schedule_removal()

        async def run(_context: object) -> None:
            await job()

        queue.run_once(run, delay, name=name)

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """See :meth:`handlers.port.Front.spawn`."""
        interrupt_on_stop(self.application, self.application.create_task(work, name=name))

    async def retrying(self, call: Callable[[], Awaitable[T]], *, what: str) -> T:
        """See :meth:`handlers.port.Front.retrying`."""
        deadline = asyncio.get_running_loop().time() + retries.RETRY_BUDGET
        return await retries.with_retries(call, deadline=deadline, what=what)
