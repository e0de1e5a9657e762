"""The stand-in's small public value types, and the error a method raises."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

JSONDict = dict[str, Any]


class Call(NamedTuple):
    """One request received by the stand-in: ``(time, method, params)``."""

    time: float
    method: str
    params: JSONDict


@dataclass(frozen=True)
class ErrorRecord:
    """A 4xx answer the stand-in gave (see :attr:`StandIn.errors`)."""

    method: str
    params: JSONDict
    description: str
    status: int = 400


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request, as received."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Upload({self.name!r}, {self.filename!r}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class Button:
    """An inline keyboard button of a bot message."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    web_app: str | None = None  # the Mini App's url of a ``web_app`` button


@dataclass(frozen=True)
class CallbackAnswer:
    """What the bot answered to a callback query (``answerCallbackQuery``)."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None = None
    cache_time: int = 0
    data: str | None = None


@dataclass
class StoredFile:
    """A file known to the stand-in (sent by a user or uploaded by the bot)."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes = field(repr=False)
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int = 0
    width: int | None = None
    height: int | None = None
    file_path: str | None = None
    photo_set: tuple[str, ...] = ()


@dataclass(frozen=True)
class BotMessage:
    """A message the bot sent (a snapshot: edits create new snapshots with ``edited=True``).

    ``text`` is the plain text as a Telegram client shows it (tags stripped, entities
    unescaped); for media messages it is the plain caption (``""`` without one), so that
    ``expect(contains=...)`` works for every kind.  ``html`` is the raw text/caption as sent.
    """

    message_id: int
    chat_id: int
    kind: str
    media_type: str
    text: str
    html: str | None = None
    caption: str | None = None
    parse_mode: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    file_bytes: bytes | None = field(default=None, repr=False)
    file_name: str | None = None
    mime_type: str | None = None
    file_id: str | None = None
    media_group_id: str | None = None
    reply_to_message_id: int | None = None
    reply_keyboard: list[list[str]] | None = None
    edited: bool = False
    deleted: bool = False
    raw: JSONDict = field(default_factory=dict, repr=False, compare=False)

    @property
    def button_texts(self) -> list[str]:
        """All inline button texts, row by row, flattened."""
        return [b.text for row in self.buttons for b in row]

    @property
    def callback_datas(self) -> list[str | None]:
        """All inline buttons' callback data, flattened."""
        return [b.callback_data for row in self.buttons for b in row]

    def button(self, text: str) -> Button:
        """Return the button with exactly this text (AssertionError if absent)."""
        for row in self.buttons:
            for b in row:
                if b.text == text:
                    return b
        raise AssertionError(f"no button {text!r} in {self.describe()}")

    def describe(self) -> str:
        """One-line human description, used in assertion messages."""
        extra = " (edited)" if self.edited else ""
        extra += " (deleted)" if self.deleted else ""
        s = f"#{self.message_id} {self.kind}{extra}: {self.text!r}"
        if self.file_name:
            s += f" file={self.file_name!r}"
        if self.buttons:
            s += f" buttons={self.button_texts}"
        return s


class ApiError(Exception):
    """Raised inside method handlers to answer with a Telegram error."""

    def __init__(
        self,
        status: int,
        description: str,
        parameters: JSONDict | None = None,
        *,
        category: str = "error",
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters
        self.category = category

    def payload(self) -> JSONDict:
        """The JSON body Telegram would answer with."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def web_app_url_ok(url: str) -> bool:
    """Telegram opens Mini Apps over https only (a 400 for anything else)."""
    return re.match(r"^https://[^\s/]+[^\s]*$", url) is not None
