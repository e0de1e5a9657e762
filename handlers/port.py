"""The conversation port: what a flow receives and what it answers, in no channel's terms.

A front (``channels/telegram/`` today) turns what its channel delivers into one
:class:`Incoming` event, runs the flow's handler with a :class:`handlers.common.Turn` built on
it, and then performs the :data:`Output` items the handler queued, with its own API. The flows
below never see a channel's objects: they read the event (text, command arguments, the pressed
button's data, the files with a channel-free ``fetch``), answer with text and rows of buttons,
and reach beyond their own reply (another member's menu, a photo, a background task) through
the :class:`Front` the adapter hands them, within its :class:`Capabilities`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from core.address import Address
from core.enums import Channel
from core.policy import Actor

T = TypeVar("T")


@dataclass(frozen=True)
class AppButton:
    """A button that opens a web app (the console) instead of sending data back."""

    label: str
    url: str


Button = tuple[str, str] | AppButton  # (label, data sent back when pressed), or an app
Buttons = Sequence[Sequence[Button]]
Deferred = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class Capabilities:
    """What the channel accepts (the adapter's; flows shorten and check against these)."""

    max_text: int  # characters of one message
    max_button_data: int  # bytes of one button's data
    max_album: int  # files in one album
    max_file_bytes: int  # one file the bot may send
    max_caption: int  # characters under a photo or file
    max_notice: int = 200  # characters of a toast
    can_edit: bool = True  # whether a sent message can be replaced
    # Whether the channel shows the commands in a menu of its own (Telegram's); without one
    # (DingTalk) /help carries them as buttons (``handlers.start.help_command``).
    has_menu: bool = True


class FetchFailed(Exception):
    """A received file could not be fetched; ``too_big`` when the channel refuses its size."""

    def __init__(self, reason: str, *, too_big: bool = False) -> None:
        super().__init__(reason)
        self.too_big = too_big


class ChannelFailure(Exception):
    """The channel refused or failed a call made through :class:`Front`; ``transient`` when
    the same call may succeed later (server error, timeout, dropped connection)."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient


@dataclass(frozen=True)
class IncomingFile:
    """A file that came with the event: described, and fetched only when the flow asks."""

    kind: Literal["photo", "document"]
    unique_id: str  # the same file sent twice has the same one
    ref: str  # the channel's id to send it again without uploading
    fetch: Callable[[], Awaitable[bytes]]  # raises FetchFailed
    save: Callable[[Path], Awaitable[None]]  # the same, written to a file; raises FetchFailed
    name: str | None = None
    size: int | None = None  # as announced (None: unknown)
    mime: str | None = None
    album: str | None = None  # files sent together as one album share it


@dataclass(frozen=True)
class Card:
    """The message whose button was pressed, as it reads now."""

    ref: str  # the channel's id of the message
    text: str | None  # plain text (or caption) as shown
    text_html: str | None  # the same in the catalog's HTML subset (None when no text)
    buttons: tuple[tuple[Button, ...], ...] | None  # None: no keyboard at all


Kind = Literal["text", "command", "button", "photo", "file", "edited", "other"]


@dataclass(frozen=True)
class Incoming:
    """One event from a person, as a flow reads it."""

    kind: Kind
    key: str  # the channel's idempotency key of the event
    sender: Address
    sender_name: str  # the display name (first name)
    sender_handle: str | None = None  # the channel's user name, if any
    time: datetime | None = None  # when the message was sent
    text: str | None = None
    command: str | None = None
    args: tuple[str, ...] = ()
    pressed: str | None = None  # the pressed button's raw data (codecs parse it)
    card: Card | None = None  # the pressed message (None: not a button, or inaccessible)
    files: tuple[IncomingFile, ...] = ()
    unsupported: str | None = None  # catalog key of what came when it can never be evidence


# --- what a handler queues; the adapter performs them in order, after the commit ----------------


@dataclass(frozen=True)
class Reply:
    """A new message to this chat (the catalog's HTML)."""

    text: str
    buttons: Buttons | None = None


@dataclass(frozen=True)
class EditCard:
    """Replace the pressed card's text and buttons. ``resend_if_gone``: a card that is gone or
    can no longer be edited gets the text as a new message; otherwise it is left as it is."""

    text: str
    buttons: Buttons | None = None
    resend_if_gone: bool = True


@dataclass(frozen=True)
class CloseButtons:
    """Remove the pressed card's buttons, so a button works only once."""


@dataclass(frozen=True)
class SendPhoto:
    """A picture (a chart, a QR code) to this chat; ``html``: the caption is catalog HTML."""

    png: bytes
    caption: str | None = None
    html: bool = True
    filename: str | None = None


@dataclass(frozen=True)
class Later:
    """Anything else to run after the commit (through the :class:`Front`)."""

    action: Deferred


Output = Reply | EditCard | CloseButtons | SendPhoto | Later


@dataclass
class Notice:
    """The answer to the pressed button: a short toast, or an alert to confirm."""

    text: str
    alert: bool = False


class Front(Protocol):
    """What a channel adapter offers beyond the current reply."""

    channel: Channel
    caps: Capabilities

    async def send(self, to: Address, text: str, buttons: Buttons | None = None) -> str | None:
        """A message to ``to`` (catalog HTML); the channel's id of it. Raises ChannelFailure."""
        ...

    async def edit(self, to: Address, ref: str, text: str, buttons: Buttons | None = None) -> None:
        """Replace message ``ref``'s text ("not modified" is success). Raises ChannelFailure."""
        ...

    async def send_photo(
        self, to: Address, png: bytes, caption: str | None, *, html: bool = True
    ) -> None:
        """A picture with a caption. Raises ChannelFailure."""
        ...

    async def send_file(self, to: Address, path: Path) -> None:
        """A file as a document under its own name. Raises ChannelFailure."""
        ...

    async def set_menu(self, to: Address, actor: Actor, lang: str) -> None:
        """The member's command menu for their roles (a convenience: never raises)."""
        ...

    def start_link(self, token: str) -> str:
        """A link that opens the chat with the bot and sends /start ``token``."""
        ...

    def wake_sender(self) -> None:
        """Have the outbox sender look at once (after a commit that queued rows)."""
        ...

    def debounce(self, name: str, delay: float, job: Deferred) -> None:
        """Run ``job`` after ``delay`` seconds of quiet: a later call with ``name`` replaces it."""
        ...

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` in the background; it is cancelled when the bot stops."""
        ...

    async def retrying(self, call: Callable[[], Awaitable[T]], *, what: str) -> T:
        """Await ``call()``, repeated on transient failures as a reply is."""
        ...


_TAG = re.compile(r"<[^>]+>")


def html_to_plain(text: str) -> str:
    """Catalog HTML as plain text, for places that take no markup (toasts)."""
    return html.unescape(_TAG.sub("", text))


def fit(text: str, limit: int) -> str:
    """Last guard: never send more than the channel accepts (callers shorten user text first)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def normal_rows(rows: Buttons | None) -> tuple[tuple[Button, ...], ...]:
    """Rows of buttons as comparable tuples (a card's and a wanted keyboard alike)."""
    return tuple(tuple(row) for row in rows or ())
