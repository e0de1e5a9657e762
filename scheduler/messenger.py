"""What the sender needs from a chat channel: the :class:`Messenger` protocol.

The sender (:mod:`scheduler.sender`) knows nothing of Telegram. It renders an outbox row into
an :class:`Outgoing` message (text in the catalog's small HTML subset, buttons as label +
callback data packed with a ``core`` codec) or an :class:`Album` of evidence files, and hands
it to the Messenger of the row's channel with the chat's :class:`~core.address.Address`. A
channel (``channels/telegram/messenger.py`` for Telegram) turns those into its own calls and
reports how it went: its id of the message (as text) when it was sent, or one of the
:class:`DeliveryError` outcomes below, on which the sender decides to wait, retry or give up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from core.address import Address


@dataclass(frozen=True)
class Button:
    """One button: its label in the recipient's language and its callback data."""

    label: str
    data: str


@dataclass(frozen=True)
class Outgoing:
    """A text message: ``text`` in the catalog's HTML subset (``<b>``, ``<i>``, escaped text)."""

    kind: str  # the message kind (what it is about), for the channel's logs
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class Attachment:
    """An evidence file: content-addressed, possibly already known to a channel."""

    sha256: str
    file_name: str | None
    # channel name → that channel's id for these bytes (re-sending by id uploads nothing)
    file_ids: Mapping[str, str] = field(default_factory=dict)
    # the stored bytes, when the evidence store is at hand
    read: Callable[[], bytes] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Album:
    """Evidence files sent together: photos, or documents (``documents``)."""

    kind: str
    files: tuple[Attachment, ...]
    caption: str | None = None  # in the catalog's HTML subset, shown with the first file
    documents: bool = False


@dataclass(frozen=True)
class Picture:
    """An image (a chart's PNG) with its caption (the catalog's HTML subset) and buttons."""

    kind: str
    png: bytes = field(repr=False)
    caption: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()


class DeliveryError(Exception):
    """The channel did not deliver; the subclass says what the sender should do."""


class RateLimited(DeliveryError):
    """The channel asked everybody to wait ``retry_after`` seconds (the row is not at fault)."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(detail or f"rate limited, retry after {retry_after:g}s")
        self.retry_after = retry_after


class Unreachable(DeliveryError):
    """The address is gone (no such chat): nothing more is sent to this member."""


class Blocked(Unreachable):
    """The member blocked the bot: nothing more is sent until they talk to it again."""


class TransientFailure(DeliveryError):
    """A server error, a timeout, a lost connection: worth trying again later."""


class PermanentFailure(DeliveryError):
    """The channel refused this message for good (trying again would fail the same way)."""


class Messenger(Protocol):
    """A chat channel as the sender sees it. Both calls return the channel's id of the (first)
    message sent, as text, or raise a :class:`DeliveryError`."""

    async def send_message(self, address: Address, message: Outgoing) -> str | None:
        """Send one text message with its buttons to ``address``."""
        ...

    async def send_album(self, address: Address, album: Album) -> str | None:
        """Send evidence files (one call: a single file or a group) to ``address``."""
        ...


class PictureMessenger(Messenger, Protocol):
    """A channel that can also send a picture (Telegram can). Optional: for a channel without
    ``send_photo`` the sender sends the picture's caption as a text message instead."""

    async def send_photo(self, address: Address, picture: Picture) -> str | None:
        """Send one image with its caption and buttons to ``address``."""
        ...


async def send_picture(messenger: Messenger, address: Address, picture: Picture) -> str | None:
    """``messenger.send_photo`` when the channel has it, else the caption as text."""
    send_photo = getattr(messenger, "send_photo", None)
    if send_photo is not None:
        sent: str | None = await send_photo(address, picture)
        return sent
    return await messenger.send_message(
        address, Outgoing(picture.kind, picture.caption, picture.buttons)
    )
