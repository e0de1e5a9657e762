"""A local stand-in for the Telegram Bot API, for offline end-to-end tests.

The :class:`StandIn` is an aiohttp server on ``127.0.0.1`` (random free port) that speaks
enough of the Bot API for a real python-telegram-bot ``Application`` (HTTPXRequest, long
polling) to run against it unchanged::

    app = (
        Application.builder()
        .token(standin.token)
        .base_url(standin.base_url)
        .base_file_url(standin.base_file_url)
        .build()
    )

Simulated Telegram users (:class:`FakeUser`, from :meth:`StandIn.user`) inject updates
(messages, photos, albums, documents, button presses) and observe what the bot sent them
(:meth:`FakeUser.expect`).  Requests that Telegram would reject are rejected the same way
(HTTP 400 with Telegram's ``Bad Request: ...`` wording) and recorded in
:attr:`StandIn.errors`; the ``standin`` pytest fixture fails a test that left any there.

State (pending updates, confirmed offsets, messages, files) lives in the :class:`StandIn`
object, so a bot process can be killed and restarted against the same stand-in.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import math
import mimetypes
import re
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, NamedTuple

from aiohttp import web

JSONDict = dict[str, Any]

BOT_ID = 7000001
BOT_USERNAME = "kexie_test_bot"
BOT_FIRST_NAME = "科协报送"
DEFAULT_TOKEN = f"{BOT_ID}:AAH-kexie-standin-test-token"

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024
MAX_PHOTO_UPLOAD_SIZE = 10 * 1024 * 1024

BLOCKED_DESCRIPTION = "Forbidden: bot was blocked by the user"
NOT_MODIFIED_DESCRIPTION = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD_DESCRIPTION = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
CONFLICT_DESCRIPTION = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "web_app",
    "copy_text",
)

# How form/query-string parameters are decoded (JSON bodies are already typed).
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "media",
        "allowed_updates",
        "commands",
        "scope",
        "menu_button",
        "reply_parameters",
        "link_preview_options",
        "message_ids",
    }
)
_INT_FIELDS = frozenset(
    {
        "offset",
        "limit",
        "timeout",
        "message_id",
        "reply_to_message_id",
        "cache_time",
        "user_id",
        "message_thread_id",
        "from_chat_id",
    }
)
_BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "disable_content_type_detection",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)


# --------------------------------------------------------------------------------------
# Small public value types
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Text helpers: UTF-16 lengths and Telegram-like HTML parsing
# --------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (how Telegram counts offsets and lengths)."""
    return len(text.encode("utf-16-le")) // 2


class HtmlParseError(ValueError):
    """Raised by :func:`parse_html` with Telegram's wording of the problem."""


_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_HTML_SPACES = " \t\r\n\v\f"
_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
}


def _decode_html_entity(text: str, pos: int) -> tuple[str | None, int]:
    """Decode the HTML entity starting at ``text[pos] == '&'`` the way Telegram does.

    Returns ``(character, position after the entity)`` or ``(None, pos)``.
    """
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        value = 0
        digits = 0
        if end < n and text[end] in "xX":
            end += 1
            while end < n and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
                digits += 1
                if value >= 0x10FFFF:
                    return None, pos
        else:
            while end < n and text[end].isascii() and text[end].isdigit():
                value = value * 10 + int(text[end])
                end += 1
                digits += 1
                if value >= 0x10FFFF:
                    return None, pos
        if digits == 0 or value == 0 or 0xD800 <= value <= 0xDFFF:
            return None, pos
        char = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        name = text[pos + 1 : end]
        named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
        if name not in named:
            return None, pos
        char = named[name]
    if end < n and text[end] == ";":
        end += 1
    return char, end


def parse_html(source: str, *, strict: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-flavoured HTML into ``(plain_text, entities)``.

    Follows the Bot API server's parser (tdlib ``parse_html``): the supported tags, their
    attributes, ``&lt; &gt; &amp; &quot;`` and numeric entities, with Telegram's error
    messages (raised as :class:`HtmlParseError`).  Entity offsets/lengths are in UTF-16
    code units.  With ``strict`` (the default) an ``&`` that does not start an entity is
    an error, as the Bot API documentation demands; the real server lets it through.
    """
    out: list[str] = []
    u16 = 0
    entities: list[JSONDict] = []
    stack: list[tuple[str, str, int]] = []
    n = len(source)

    def boff(pos: int) -> int:
        return len(source[:pos].encode("utf-8"))

    i = 0
    while i < n:
        c = source[i]
        if c == "&":
            char, nxt = _decode_html_entity(source, i)
            if char is not None:
                out.append(char)
                u16 += utf16_len(char)
                i = nxt
                continue
            if strict:
                raise HtmlParseError(
                    f'Character "&" at byte offset {boff(i)} is not a part of an entity; '
                    'it must be escaped as "&amp;"'
                )
        if c != "<":
            out.append(c)
            u16 += utf16_len(c)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and source[i] == "/":
            # End tag.
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {boff(begin)}")
            i += 1
            name_start = i
            while i < n and source[i] not in _HTML_SPACES and source[i] != ">":
                i += 1
            end_name = source[name_start:i].lower()
            while i < n and source[i] in _HTML_SPACES:
                i += 1
            if i >= n or source[i] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {boff(begin)}")
            i += 1
            tag, argument, start = stack[-1]
            if end_name and end_name != tag:
                raise HtmlParseError(
                    f"Unmatched end tag at byte offset {boff(begin)}, "
                    f'expected "</{tag}>", found "</{end_name}>"'
                )
            stack.pop()
            length = u16 - start
            if length > 0:
                _add_html_entity(entities, tag, argument, start, length)
            continue
        # Start tag.
        name_start = i
        while i < n and source[i] not in _HTML_SPACES and source[i] != ">":
            i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {boff(begin)}")
        tag = source[name_start:i].lower()
        if tag not in _HTML_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {boff(begin)}')
        argument = ""
        while True:
            while i < n and source[i] in _HTML_SPACES:
                i += 1
            if i >= n:
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {boff(begin)}')
            if source[i] == ">":
                break
            attr_start = i
            while i < n and source[i] not in _HTML_SPACES and source[i] not in "=>":
                i += 1
            attr_name = source[attr_start:i].lower()
            if not attr_name:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {boff(begin)}'
                )
            while i < n and source[i] in _HTML_SPACES:
                i += 1
            if i >= n or source[i] != "=":
                if tag == "blockquote" and attr_name == "expandable":
                    argument = "1"
                    continue
                raise HtmlParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {boff(begin)}'
                )
            i += 1
            while i < n and source[i] in _HTML_SPACES:
                i += 1
            if i >= n:
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {boff(begin)}')
            if source[i] not in "'\"":
                token_start = i
                while i < n and (
                    (source[i].isascii() and source[i].isalnum()) or source[i] in ".-"
                ):
                    i += 1
                value = source[token_start:i].lower()
                if i < n and source[i] not in _HTML_SPACES and source[i] != ">":
                    raise HtmlParseError(
                        f"Unexpected end of name token at byte offset {boff(token_start)}"
                    )
            else:
                quote = source[i]
                i += 1
                chars: list[str] = []
                while i < n and source[i] != quote:
                    if source[i] == "&":
                        char, nxt = _decode_html_entity(source, i)
                        if char is not None:
                            chars.append(char)
                            i = nxt
                            continue
                    chars.append(source[i])
                    i += 1
                if i < n:
                    i += 1
                value = "".join(chars)
            if i >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {boff(begin)}")
            if tag == "a" and attr_name == "href":
                argument = value
            elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "tg-emoji" and attr_name == "emoji-id":
                argument = value
            elif tag == "blockquote" and attr_name == "expandable":
                argument = "1"
        i += 1  # skip '>'
        if tag == "span" and argument != "spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {boff(begin)}'
            )
        if tag == "tg-emoji" and not argument.isdigit():
            raise HtmlParseError("Custom emoji entity must contain a valid custom emoji identifier")
        stack.append((tag, argument, u16))
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _add_html_entity(
    entities: list[JSONDict], tag: str, argument: str, offset: int, length: int
) -> None:
    entity: JSONDict = {"offset": offset, "length": length}
    if tag in _SIMPLE_ENTITY_TYPES:
        entity["type"] = _SIMPLE_ENTITY_TYPES[tag]
    elif tag == "a":
        if not argument:
            return
        entity["type"] = "text_link"
        entity["url"] = argument
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
            and last.get("language")
        ):
            last["type"] = "pre"
            return
        entity["type"] = "pre"
    elif tag == "blockquote":
        entity["type"] = "expandable_blockquote" if argument else "blockquote"
    elif tag == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = argument
    else:  # pragma: no cover - all tags handled above
        return
    if tag == "code" and argument:
        entity["language"] = argument
    entities.append(entity)


def html_to_text(source: str) -> str:
    """Plain text of Telegram HTML (lenient: never raises; used for display)."""
    try:
        return parse_html(source, strict=False)[0]
    except HtmlParseError:
        return source


def _utf16_slice_len(text: str, count: int) -> int:
    """Number of UTF-16 units in the first ``count`` characters of ``text``."""
    return utf16_len(text[:count])


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip leading/trailing whitespace as Telegram does, fixing entity offsets."""
    stripped_left = text.lstrip(_HTML_SPACES)
    lead = _utf16_slice_len(text, len(text) - len(stripped_left))
    result = stripped_left.rstrip(_HTML_SPACES)
    total = utf16_len(result)
    fixed: list[JSONDict] = []
    for e in entities:
        start = max(0, e["offset"] - lead)
        end = min(total, e["offset"] + e["length"] - lead)
        if end > start:
            fixed.append({**e, "offset": start, "length": end - start})
    return result, fixed


# --------------------------------------------------------------------------------------
# Images and file ids
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def make_jpeg(
    width: int = 640,
    height: int = 480,
    color: tuple[int, int, int] = (43, 108, 176),
    seed: int = 0,
) -> bytes:
    """A small valid JPEG made with Pillow; different ``seed`` values give different bytes."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width, height), color)
    draw = ImageDraw.Draw(img)
    step = max(8, width // 10)
    for k in range(0, width, step):
        shade = (k * 7 + seed * 53) % 256
        draw.rectangle([k, 0, k + step // 2, height], fill=(shade, 255 - shade, (seed * 97) % 256))
    draw.ellipse([width // 4, height // 4, width * 3 // 4, height * 3 // 4], fill=(250, 250, 250))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\x00")
    return base64.urlsafe_b64encode(h.digest()).decode().rstrip("=")


_FILE_ID_PREFIX = {
    "photo": "AgACAgUAAxkBAA",
    "document": "BQACAgUAAxkBAA",
    "sticker": "CAACAgUAAxkBAA",
    "voice": "AwACAgUAAxkBAA",
}
_FILE_FOLDER = {"photo": "photos", "document": "documents", "sticker": "stickers", "voice": "voice"}
_KIND_TITLE = {"photo": "Photo", "document": "Document", "sticker": "Sticker", "voice": "Voice"}


# --------------------------------------------------------------------------------------
# Internal plumbing
# --------------------------------------------------------------------------------------


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


FAULT_KINDS = ("status", "timeout", "reset")
DOWNLOAD = "download"  # pseudo-method: :meth:`StandIn.fail_next` on file downloads


@dataclass
class _Fault:
    status: int
    retry_after: int
    description: str | None
    remaining: int
    kind: str = "status"


# --------------------------------------------------------------------------------------
# Simulated users
# --------------------------------------------------------------------------------------


class FakeUser:
    """A simulated Telegram user with a private chat to the bot (chat id == user id).

    Create with :meth:`StandIn.user`.  The ``send*``/``press*`` coroutines inject updates;
    :meth:`expect` and friends consume the bot's output to this chat in order.
    """

    def __init__(
        self,
        standin: StandIn,
        user_id: int,
        first_name: str,
        username: str | None,
        language_code: str | None,
        last_name: str | None,
        opened: bool,
    ) -> None:
        self.standin = standin
        self.user_id = user_id
        self.first_name = first_name
        self.username = username
        self.language_code = language_code
        self.last_name = last_name
        self.opened = opened
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[str] = []
        self.reply_keyboard: list[list[str]] | None = None
        self._next_message_id = 1
        self._raw: dict[int, JSONDict] = {}
        self._bot_messages: dict[int, BotMessage] = {}
        self._events: list[BotMessage] = []
        self._cursor = 0
        self._answer_cursor = 0

    # -- identity -------------------------------------------------------------------

    @property
    def chat_id(self) -> int:
        """The private chat id (equal to the user id)."""
        return self.user_id

    @property
    def display(self) -> str:
        """``first_name (id)``, for messages."""
        return f"{self.first_name} ({self.user_id})"

    def user_json(self) -> JSONDict:
        """The Telegram ``User`` object of this user."""
        d: JSONDict = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        return d

    def chat_json(self) -> JSONDict:
        """The Telegram ``Chat`` object of the private chat."""
        d: JSONDict = {"id": self.user_id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        return d

    def __repr__(self) -> str:
        return f"FakeUser({self.user_id}, {self.first_name!r})"

    # -- state ----------------------------------------------------------------------

    @property
    def messages(self) -> list[BotMessage]:
        """Current state of every (not deleted) bot message in this chat, oldest first."""
        return [m for _, m in sorted(self._bot_messages.items()) if not m.deleted]

    @property
    def last(self) -> BotMessage:
        """The newest bot message in this chat (AssertionError if there is none)."""
        msgs = self.messages
        if not msgs:
            raise AssertionError(f"the bot has not sent anything to {self.display}")
        return msgs[-1]

    @property
    def blocked(self) -> bool:
        """Whether this user has blocked the bot (see :meth:`StandIn.block`)."""
        return self.user_id in self.standin._blocked

    def message(self, message_id: int) -> BotMessage:
        """Current state of the bot message ``message_id`` in this chat."""
        try:
            return self._bot_messages[message_id]
        except KeyError:
            raise AssertionError(f"no bot message #{message_id} in chat {self.display}") from None

    # -- injecting updates ------------------------------------------------------------

    def _alloc_message_id(self) -> int:
        mid = self._next_message_id
        self._next_message_id += 1
        return mid

    def _new_message(self, reply_to: int | None = None, **content: Any) -> JSONDict:
        msg: JSONDict = {
            "message_id": self._alloc_message_id(),
            "from": self.user_json(),
            "chat": self.chat_json(),
            "date": int(time.time()),
        }
        if reply_to is not None:
            replied = self._raw.get(reply_to)
            if replied is None:
                raise AssertionError(f"cannot reply to unknown message #{reply_to}")
            msg["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        msg.update({k: v for k, v in content.items() if v is not None})
        self._raw[msg["message_id"]] = msg
        return msg

    async def _deliver(self, msg: JSONDict) -> int:
        self.opened = True
        self.standin.push_update("message", msg)
        await asyncio.sleep(0)
        return int(msg["message_id"])

    async def send(self, text: str, *, reply_to: int | None = None) -> int:
        """Send a text message (a ``/command`` gets a ``bot_command`` entity).

        Returns the new message's id.
        """
        entities: list[JSONDict] = []
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else text
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
        return await self._deliver(
            self._new_message(reply_to, text=text, entities=entities or None)
        )

    async def send_photo(
        self,
        data: bytes | None = None,
        media_group_id: str | None = None,
        caption: str | None = None,
        *,
        reply_to: int | None = None,
    ) -> int:
        """Send a photo (default: a small valid JPEG); returns the message id.

        The photo arrives as several ``PhotoSize`` objects, the largest holding ``data``.
        """
        sizes = self.standin._store_photo(make_jpeg() if data is None else data, strict=False)
        return await self._deliver(
            self._new_message(
                reply_to,
                photo=[self.standin._photo_size_json(f) for f in sizes],
                caption=caption,
                media_group_id=media_group_id,
            )
        )

    async def send_album(
        self, photos: Sequence[bytes] | None = None, caption: str | None = None
    ) -> list[int]:
        """Send an album: one message update per photo, all sharing a ``media_group_id``.

        ``photos`` defaults to three distinct generated JPEGs; ``caption`` goes on the first.
        Returns the message ids.
        """
        items = list(photos) if photos is not None else [make_jpeg(seed=k) for k in (1, 2, 3)]
        group_id = self.standin._new_media_group_id()
        msgs = []
        for k, data in enumerate(items):
            sizes = self.standin._store_photo(data, strict=False)
            msgs.append(
                self._new_message(
                    photo=[self.standin._photo_size_json(f) for f in sizes],
                    caption=caption if k == 0 else None,
                    media_group_id=group_id,
                )
            )
        self.opened = True
        for msg in msgs:
            self.standin.push_update("message", msg)
        await asyncio.sleep(0)
        return [int(m["message_id"]) for m in msgs]

    async def send_document(
        self,
        data: bytes = b"%PDF-1.4\n% kexie stand-in document\n%%EOF\n",
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        file_size: int | None = None,
        *,
        caption: str | None = None,
        media_group_id: str | None = None,
        reply_to: int | None = None,
    ) -> int:
        """Send a document; ``file_size`` may claim more than ``len(data)`` (e.g. 25 MB)."""
        stored = self.standin._store_file(
            "document", data, file_name=file_name, mime_type=mime_type, file_size=file_size
        )
        return await self._deliver(
            self._new_message(
                reply_to,
                document=self.standin._document_json(stored),
                caption=caption,
                media_group_id=media_group_id,
            )
        )

    async def send_sticker(self, emoji: str = "👍") -> int:
        """Send a (regular, static) sticker."""
        stored = self.standin._store_file(
            "sticker",
            b"RIFF\x00\x00\x00\x00WEBPVP8 stand-in sticker" + emoji.encode(),
            mime_type="image/webp",
            width=512,
            height=512,
        )
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.file_size,
        }
        return await self._deliver(self._new_message(sticker=sticker))

    async def send_voice(self, duration: int = 3) -> int:
        """Send a voice note of ``duration`` seconds."""
        stored = self.standin._store_file(
            "voice",
            b"OggS\x00stand-in voice " + str(duration).encode() * 32,
            mime_type="audio/ogg",
        )
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": stored.file_size,
        }
        return await self._deliver(self._new_message(voice=voice))

    async def send_location(self, latitude: float = 30.6586, longitude: float = 104.0647) -> int:
        """Send a location (default: Tianfu Square, Chengdu)."""
        return await self._deliver(
            self._new_message(location={"latitude": latitude, "longitude": longitude})
        )

    async def send_contact(self, phone_number: str = "+8613800000000") -> int:
        """Share the user's own contact (as the "share phone number" keyboard button does)."""
        contact: JSONDict = {
            "phone_number": phone_number,
            "first_name": self.first_name,
            "user_id": self.user_id,
        }
        return await self._deliver(self._new_message(contact=contact))

    async def press(self, text: str, message: BotMessage | int | None = None) -> str:
        """Press the inline button labelled ``text`` (exact match first, then substring).

        Looks in ``message`` if given, else in the newest bot message of the chat that has
        such a button.  Injects a ``callback_query`` update and returns the query id.
        """
        if message is not None:
            mid = message if isinstance(message, int) else message.message_id
            candidates = [self.message(mid)]
        else:
            candidates = list(reversed(self.messages))
        for msg in candidates:
            if msg.deleted:
                continue
            buttons = [b for row in msg.buttons for b in row]
            matches = [b for b in buttons if b.text == text]
            if not matches:
                matches = [b for b in buttons if text in b.text]
                if len(matches) > 1:
                    raise AssertionError(
                        f"button text {text!r} is ambiguous in {msg.describe()}: "
                        f"{[b.text for b in matches]}"
                    )
            if matches:
                button = matches[0]
                if button.callback_data is None:
                    raise AssertionError(
                        f"button {button.text!r} in {msg.describe()} has no callback_data "
                        f"(url={button.url!r})"
                    )
                return await self.press_data(button.callback_data, msg.message_id)
        shown = "\n  ".join(m.describe() for m in candidates if m.buttons) or "(no buttons at all)"
        raise AssertionError(
            f"no inline button matching {text!r} for {self.display}; buttons present:\n  {shown}"
        )

    async def press_data(self, callback_data: str, message_id: int | None = None) -> str:
        """Inject a callback query with arbitrary ``callback_data`` (e.g. a forged one).

        ``message_id`` defaults to the newest bot message; a missing/deleted message is sent
        as an inaccessible message (``date`` 0) like Telegram does.  Returns the query id.
        """
        if message_id is None:
            message_id = self.last.message_id
        bm = self._bot_messages.get(message_id)
        raw = self._raw.get(message_id)
        if raw is None or (bm is not None and bm.deleted):
            msg_json: JSONDict = {"chat": self.chat_json(), "message_id": message_id, "date": 0}
        else:
            msg_json = raw
        query_id = self.standin._new_query_id(self)
        self.opened = True
        self.standin.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": self.user_json(),
                "message": msg_json,
                "chat_instance": str(-(self.user_id * 7919) % 10**18),
                "data": callback_data,
            },
        )
        await asyncio.sleep(0)
        return query_id

    # -- observing the bot ------------------------------------------------------------

    def _record(self, bm: BotMessage) -> None:
        self._bot_messages[bm.message_id] = bm
        if not bm.deleted:
            self._events.append(bm)
        self.standin._output_signal.notify()

    def pending(self) -> list[BotMessage]:
        """Bot outputs that arrived but were not consumed by ``expect`` yet."""
        return self._events[self._cursor :]

    def drain(self) -> list[BotMessage]:
        """Consume and return every pending bot output without waiting."""
        out = self.pending()
        self._cursor = len(self._events)
        return out

    def _timeout_report(self, what: str, timeout: float) -> str:
        lines = [f"no {what} for {self.display} within {timeout:g}s."]
        consumed = self._events[max(0, self._cursor - 3) : self._cursor]
        if consumed:
            lines.append("Last consumed: " + "; ".join(m.describe() for m in consumed))
        if self.standin.errors:
            lines.append("Stand-in rejected requests:")
            lines += [f"  {e.method}: {e.description}" for e in self.standin.errors[-5:]]
        return "\n".join(lines)

    async def expect(self, contains: str | None = None, timeout: float = 10.0) -> BotMessage:
        """Wait for the next unconsumed bot output to this chat (new message or edit).

        If ``contains`` is given, the output's plain ``text`` must contain it; otherwise an
        AssertionError shows what arrived instead (the output is consumed either way).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._cursor < len(self._events):
                bm = self._events[self._cursor]
                self._cursor += 1
                if contains is not None and contains not in bm.text:
                    raise AssertionError(
                        f"expected a bot message to {self.display} containing {contains!r}, "
                        f"got {bm.describe()}"
                    )
                return bm
            if not await self.standin._output_signal.wait(deadline - loop.time()):
                what = "bot message" + (f" containing {contains!r}" if contains else "")
                raise AssertionError(self._timeout_report(what, timeout))

    async def expect_any(self, contains: str, timeout: float = 10.0) -> BotMessage:
        """Like :meth:`expect` but skip (consume) outputs until one contains ``contains``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        skipped: list[BotMessage] = []
        while True:
            while self._cursor < len(self._events):
                bm = self._events[self._cursor]
                self._cursor += 1
                if contains in bm.text:
                    return bm
                skipped.append(bm)
            if not await self.standin._output_signal.wait(deadline - loop.time()):
                report = self._timeout_report(f"bot message containing {contains!r}", timeout)
                if skipped:
                    report += "\nSkipped: " + "; ".join(m.describe() for m in skipped)
                raise AssertionError(report)

    async def expect_nothing(self, within: float = 1.0) -> None:
        """Assert that no new bot output to this chat arrives within ``within`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            if self._cursor < len(self._events):
                unexpected = self._events[self._cursor :]
                self._cursor = len(self._events)
                raise AssertionError(
                    f"expected no bot output to {self.display}, got: "
                    + "; ".join(m.describe() for m in unexpected)
                )
            if not await self.standin._output_signal.wait(deadline - loop.time()):
                return

    async def expect_answer(self, timeout: float = 10.0) -> CallbackAnswer:
        """Wait for the bot's next (unconsumed) ``answerCallbackQuery`` to this user."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._answer_cursor < len(self.callback_answers):
                self._answer_cursor += 1
                return self.callback_answers[self._answer_cursor - 1]
            if not await self.standin._output_signal.wait(deadline - loop.time()):
                raise AssertionError(self._timeout_report("callback query answer", timeout))


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------

Handler = Callable[[JSONDict], Awaitable[Any]]


class StandIn:
    """The fake Bot API server.  Use as ``async with StandIn() as standin: ...``.

    Public attributes:

    * ``token``, ``base_url`` (``http://127.0.0.1:PORT/bot``), ``base_file_url``
    * ``calls``: every request as :class:`Call` ``(monotonic time, method, params)``
    * ``errors``: every 4xx answer as :class:`ErrorRecord` (except the deliberate ones:
      injected faults, rate limiting, blocked users, getUpdates conflicts)
    * ``allow_errors``: set True in a test that provokes errors on purpose
    * ``blocked_hits``: requests refused with 403 because the user blocked the bot
    * ``rate_limited``: number of 429s produced by ``enforce_limits``
    * ``injected``: requests answered by a :meth:`fail_next` fault
    * ``conflicts``: getUpdates requests terminated by a newer one (409)
    * ``commands``: ``{(scope_key, language_code): [(command, description), ...]}``
    * ``menu_buttons``: ``{chat_id or None: MenuButton dict}``
    * ``enforce_limits`` and ``limit_per_chat`` / ``limit_burst`` / ``limit_global``
    * ``strict_html``: reject a bare ``&`` (default True)
    * ``callback_query_ttl``: seconds after which a query can no longer be answered
    * ``timeout_hold``: seconds a ``fail_next(..., kind="timeout")`` request is held
    """

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        self.token = token
        self.host = "127.0.0.1"
        self.port = 0
        self.calls: list[Call] = []
        self.errors: list[ErrorRecord] = []
        self.allow_errors = False
        self.blocked_hits: list[Call] = []
        self.rate_limited = 0
        self.injected: list[Call] = []
        self.conflicts: list[Call] = []
        self.commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.menu_buttons: dict[int | None, JSONDict] = {}
        self.bot_info: dict[str, str] = {}
        self.enforce_limits = False
        self.limit_per_chat = 1.0
        self.limit_burst = 3
        self.limit_global = 30
        self.strict_html = True
        self.callback_query_ttl = 15.0
        # Just past python-telegram-bot's default read timeout (5 s); tests that configure a
        # shorter client timeout may lower it to stay fast.
        self.timeout_hold = 5.5
        self.users: dict[int, FakeUser] = {}
        self.files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = 0
        self._updates: list[JSONDict] = []
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] = _DEFAULT_ALLOWED_UPDATES
        self._poll_generation = 0
        self._update_signal = _Signal()
        self._output_signal = _Signal()
        self._call_signal = _Signal()
        self._blocked: set[int] = set()
        self._faults: dict[str, deque[_Fault]] = {}
        self._queries: dict[str, tuple[FakeUser, float, str | None]] = {}
        self._query_counter = 0
        self._media_group_counter = 0
        self._buckets: dict[int, tuple[float, float]] = {}
        self._global_window: deque[float] = deque()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, Handler] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._ok_true,
                "close": self._ok_true,
                "getUpdates": self._get_updates,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setChatMenuButton": self._set_chat_menu_button,
                "getChatMenuButton": self._get_chat_menu_button,
                "setMyDescription": self._set_bot_info,
                "setMyShortDescription": self._set_bot_info,
                "setMyName": self._set_bot_info,
                "getChat": self._get_chat,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendMediaGroup": self._send_media_group,
                "sendChatAction": self._send_chat_action,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "deleteMessages": self._delete_messages,
                "answerCallbackQuery": self._answer_callback_query,
                "getFile": self._get_file,
            }.items()
        }

    # -- lifecycle --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """PTB ``base_url`` (the token is appended by PTB)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB ``base_file_url``."""
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self) -> StandIn:
        """Start serving on a free loopback port."""
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 5 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        """Answer pending long polls and shut the server down."""
        self._closing = True
        self._update_signal.notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> StandIn:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def assert_no_errors(self) -> None:
        """Raise AssertionError listing the rejected requests (unless ``allow_errors``)."""
        if self.errors and not self.allow_errors:
            lines = [
                f"  {e.method} -> {e.status} {e.description}\n    params={e.params!r}"
                for e in self.errors
            ]
            raise AssertionError(
                "the Telegram stand-in rejected requests "
                "(set standin.allow_errors = True if intended):\n" + "\n".join(lines)
            )

    # -- test-facing API ----------------------------------------------------------------

    def user(
        self,
        user_id: int = 1001,
        first_name: str = "王芳",
        username: str | None = None,
        language_code: str | None = "zh-hans",
        *,
        last_name: str | None = None,
        opened: bool = True,
    ) -> FakeUser:
        """Return the simulated user ``user_id``, creating it on first use.

        The bot may message the user's private chat right away (as if they had pressed
        Start before); with ``opened=False`` only after the user sent something.
        """
        existing = self.users.get(user_id)
        if existing is not None:
            return existing
        u = FakeUser(self, user_id, first_name, username, language_code, last_name, opened)
        self.users[user_id] = u
        return u

    def block(self, user_id: int, *, notify: bool = False) -> None:
        """Make the user block the bot: sends to them answer 403.

        With ``notify`` a ``my_chat_member`` update (status ``kicked``) is queued, as
        Telegram does.
        """
        self._blocked.add(user_id)
        u = self.users.get(user_id)
        if notify and u is not None:
            self._push_member_update(u, "member", "kicked")

    def unblock(self, user_id: int, *, notify: bool = False) -> None:
        """Undo :meth:`block`."""
        self._blocked.discard(user_id)
        u = self.users.get(user_id)
        if notify and u is not None:
            self._push_member_update(u, "kicked", "member")

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 2,
        times: int = 1,
        description: str | None = None,
        *,
        kind: str = "status",
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail; the request has no effect.

        ``kind="status"`` answers with ``status``: 429 carries ``parameters.retry_after``;
        500/502 give server errors; any other status uses ``description`` or a generic text.
        ``kind="timeout"`` holds the request for :attr:`timeout_hold` seconds (longer than the
        client's read timeout) and then drops the connection unanswered; ``kind="reset"`` drops
        the connection at once without a response.  ``method`` may be :data:`DOWNLOAD` to fail
        file downloads (``/file/bot<token>/<path>``).  Every fault is counted in
        :attr:`injected`.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {FAULT_KINDS}")
        self._faults.setdefault(method.lower(), deque()).append(
            _Fault(status, retry_after, description, times, kind)
        )

    def sent_to(self, chat_id: int) -> list[BotMessage]:
        """Every bot message ever sent to ``chat_id`` (current state, deleted ones too)."""
        u = self.users.get(chat_id)
        if u is None:
            return []
        return [m for _, m in sorted(u._bot_messages.items())]

    def calls_of(self, method: str) -> list[Call]:
        """The recorded calls of one method (case-insensitive)."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def wait_for_call(self, method: str, count: int = 1, timeout: float = 10.0) -> Call:
        """Wait until ``method`` has been called ``count`` times in total; return that call."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(calls := self.calls_of(method)) < count:
            if not await self._call_signal.wait(deadline - loop.time()):
                raise AssertionError(
                    f"{method} called {len(calls)} time(s), expected {count}, within {timeout:g}s"
                )
        return calls[count - 1]

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[str]:
        """Command names set for a scope key (see :attr:`commands`) and language."""
        return [c for c, _ in self.commands.get((scope, language_code), [])]

    def push_update(self, kind: str, payload: JSONDict) -> int:
        """Queue a raw update ``{kind: payload}`` for getUpdates; returns its update_id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, kind: payload})
        self._update_signal.notify()
        return update_id

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by the bot (getUpdates ``offset``)."""
        return list(self._updates)

    async def wait_until_confirmed(self, timeout: float = 10.0) -> None:
        """Wait until the bot has confirmed (consumed) every queued update."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._updates:
            if not await self._update_signal.wait(deadline - loop.time()):
                raise AssertionError(f"updates not confirmed within {timeout:g}s: {self._updates}")

    def file_by_id(self, file_id: str) -> StoredFile:
        """The stored file for a ``file_id``."""
        return self.files[file_id]

    # -- internals used by FakeUser -------------------------------------------------------

    def _push_member_update(self, u: FakeUser, old: str, new: str) -> None:
        now = int(time.time())
        bot = self._bot_user()
        self.push_update(
            "my_chat_member",
            {
                "chat": u.chat_json(),
                "from": u.user_json(),
                "date": now,
                "old_chat_member": {"status": old, "user": bot}
                if old != "kicked"
                else {"status": "kicked", "user": bot, "until_date": 0},
                "new_chat_member": {"status": new, "user": bot}
                if new != "kicked"
                else {"status": "kicked", "user": bot, "until_date": 0},
            },
        )

    def _new_media_group_id(self) -> str:
        self._media_group_counter += 1
        return str(13_600_000_000_000_000 + self._media_group_counter)

    def _new_query_id(self, u: FakeUser) -> str:
        self._query_counter += 1
        query_id = str(4_100_000_000_000_000_000 + self._query_counter * 7)
        self._queries[query_id] = (u, time.monotonic(), None)
        return query_id

    def _store_file(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        file_size: int | None = None,
        width: int | None = None,
        height: int | None = None,
        tag: str = "",
    ) -> StoredFile:
        unique = _digest(kind, tag, data)
        claimed = len(data) if file_size is None else file_size
        file_id = (
            _FILE_ID_PREFIX[kind]
            + unique[:8]
            + _digest("id", kind, tag, data, file_name or "", mime_type or "", str(claimed))[:40]
        )
        existing = self.files.get(file_id)
        if existing is not None:
            return existing
        stored = StoredFile(
            file_id=file_id,
            file_unique_id="AQAD" + unique[:12],
            kind=kind,
            data=data,
            file_name=file_name,
            mime_type=mime_type,
            file_size=claimed,
            width=width,
            height=height,
        )
        self.files[file_id] = stored
        return stored

    def _store_photo(self, data: bytes, *, strict: bool) -> list[StoredFile]:
        """Store a photo as Telegram does: several sizes, the largest being ``data``."""
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                width, height = img.size
                sizes: list[tuple[bytes, int, int, str]] = []
                for bound, tag in ((90, "s"), (320, "m"), (800, "x")):
                    if max(width, height) > bound:
                        thumb = img.convert("RGB")
                        thumb.thumbnail((bound, bound))
                        buf = io.BytesIO()
                        thumb.save(buf, format="JPEG", quality=70)
                        sizes.append((buf.getvalue(), thumb.width, thumb.height, tag))
        except Exception as exc:
            if strict:
                raise _bad("IMAGE_PROCESS_FAILED") from exc
            width, height, sizes = 100, 100, []
        sizes.append((data, width, height, "y"))
        stored = [
            self._store_file(
                "photo", blob, width=w, height=h, tag=_digest(data) + t, mime_type="image/jpeg"
            )
            for blob, w, h, t in sizes
        ]
        ids = tuple(f.file_id for f in stored)
        for f in stored:
            f.photo_set = ids
        return stored

    @staticmethod
    def _photo_size_json(f: StoredFile) -> JSONDict:
        return {
            "file_id": f.file_id,
            "file_unique_id": f.file_unique_id,
            "width": f.width or 0,
            "height": f.height or 0,
            "file_size": f.file_size,
        }

    @staticmethod
    def _document_json(f: StoredFile) -> JSONDict:
        d: JSONDict = {"file_id": f.file_id, "file_unique_id": f.file_unique_id}
        if f.file_name:
            d["file_name"] = f.file_name
        if f.mime_type:
            d["mime_type"] = f.mime_type
        d["file_size"] = f.file_size
        return d

    def _bot_user(self) -> JSONDict:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
        }

    # -- HTTP -------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            self.calls.append(Call(time.monotonic(), DOWNLOAD, {"path": path}))
            self._call_signal.notify()
            fault = self._take_fault(DOWNLOAD)
            if fault is not None:
                return await self._fault_response(request, DOWNLOAD, {"path": path}, fault)
            return self._download(path[len("/file/bot") :])
        if not path.startswith("/bot"):
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        token, _, method = path[len("/bot") :].partition("/")
        try:
            params = await self._read_params(request)
        except ApiError as exc:
            params = {}
            self.calls.append(Call(time.monotonic(), method, params))
            return self._error_response(method, params, exc)
        self.calls.append(Call(time.monotonic(), method, params))
        self._call_signal.notify()
        if not _TOKEN_RE.match(token) or not method or "/" in method:
            return self._error_response(method, params, ApiError(404, "Not Found"))
        handler = self._methods.get(method.lower())
        if handler is None:
            return self._error_response(method, params, ApiError(404, "Not Found"))
        fault = self._take_fault(method)
        if fault is not None:
            return await self._fault_response(request, method, params, fault)
        try:
            result = await handler(params)
        except ApiError as exc:
            return self._error_response(method, params, exc)
        except Exception as exc:  # a bug in the stand-in: make it loud
            desc = f"Internal stand-in error: {exc!r}"
            self.errors.append(ErrorRecord(method, params, desc, 500))
            return web.json_response(
                {"ok": False, "error_code": 500, "description": desc}, status=500
            )
        return web.json_response({"ok": True, "result": result})

    def _error_response(self, method: str, params: JSONDict, exc: ApiError) -> web.Response:
        call = Call(time.monotonic(), method, params)
        if exc.category == "blocked":
            self.blocked_hits.append(call)
        elif exc.category == "rate_limited":
            self.rate_limited += 1
        elif exc.category == "injected":
            self.injected.append(call)
        elif exc.category == "conflict":
            self.conflicts.append(call)
        elif 400 <= exc.status < 500:
            self.errors.append(ErrorRecord(method, params, exc.description, exc.status))
        return web.json_response(exc.payload(), status=exc.status)

    async def _fault_response(
        self, request: web.Request, method: str, params: JSONDict, fault: _Fault
    ) -> web.StreamResponse:
        """Answer (or, for a timeout or a reset, do not answer) an injected fault."""
        if fault.kind == "status":
            return self._error_response(method, params, self._fault_error(fault))
        self.injected.append(Call(time.monotonic(), method, params))
        if fault.kind == "timeout":
            # The client gives up first (aiohttp then cancels this handler); if it has not,
            # the connection is dropped all the same: no answer ever comes.
            await asyncio.sleep(self.timeout_hold)
        if request.transport is not None:
            request.transport.abort()
        # Nothing reaches the client: the connection is gone before any byte is written.
        raise asyncio.CancelledError

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method.lower())
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    @staticmethod
    def _fault_error(fault: _Fault) -> ApiError:
        if fault.status == 429:
            return ApiError(
                429,
                fault.description or f"Too Many Requests: retry after {fault.retry_after}",
                {"retry_after": fault.retry_after},
                category="injected",
            )
        defaults = {
            400: "Bad Request: injected failure",
            403: BLOCKED_DESCRIPTION,
            409: CONFLICT_DESCRIPTION,
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        try:
            phrase = HTTPStatus(fault.status).phrase
        except ValueError:
            phrase = "Injected failure"
        desc = fault.description or defaults.get(fault.status, phrase)
        return ApiError(fault.status, desc, category="injected")

    async def _read_params(self, request: web.Request) -> JSONDict:
        raw: JSONDict = dict(request.query)
        if request.can_read_body:
            ctype = request.content_type
            try:
                if ctype == "application/json":
                    body = await request.json()
                    if not isinstance(body, dict):
                        raise _bad("JSON object expected")
                    raw.update(body)
                elif ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
                    form = await request.post()
                    for key, value in form.items():
                        if isinstance(value, web.FileField):
                            raw[key] = Upload(
                                key, value.filename, value.content_type, value.file.read()
                            )
                        else:
                            raw[key] = value
                else:
                    await request.read()
            except web.HTTPRequestEntityTooLarge as exc:
                raise ApiError(413, "Request Entity Too Large") from exc
            except json.JSONDecodeError as exc:
                raise _bad("can't parse JSON encoded request body") from exc
        return self._coerce(raw)

    @staticmethod
    def _coerce(raw: JSONDict) -> JSONDict:
        params: JSONDict = {}
        for key, value in raw.items():
            if isinstance(value, str):
                if key in _JSON_FIELDS:
                    try:
                        value = json.loads(value)
                    except json.JSONDecodeError as exc:
                        raise _bad(f"can't parse {key} JSON object") from exc
                elif key in _INT_FIELDS or key == "chat_id":
                    text = value.strip()
                    if re.fullmatch(r"-?\d+", text):
                        value = int(text)
                    elif re.fullmatch(r"-?\d+\.\d*", text):
                        value = int(float(text))
                    elif key != "chat_id":
                        raise _bad(f"invalid {key} specified")
                elif key in _BOOL_FIELDS:
                    value = value.strip().lower() in ("true", "1")
            params[key] = value
        return params

    def _download(self, rest: str) -> web.StreamResponse:
        token, _, file_path = rest.partition("/")
        stored = self._files_by_path.get(file_path)
        if not _TOKEN_RE.match(token) or stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # -- shared validation -------------------------------------------------------------------

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

    def _formatted(
        self,
        raw: Any,
        parse_mode: Any,
        entities: Any,
        *,
        caption: bool,
    ) -> tuple[str | None, list[JSONDict], str | None]:
        """Validate text/caption; return ``(plain or None, entities, raw)``."""
        limit = MAX_CAPTION_LENGTH if caption else MAX_MESSAGE_LENGTH
        if raw is None or raw == "":
            if caption:
                return None, [], None
            raise _bad("message text is empty")
        if not isinstance(raw, str):
            raw = str(raw)
        mode = (parse_mode or "").strip().lower() if isinstance(parse_mode, str) else ""
        if mode == "html":
            try:
                plain, ents = parse_html(raw, strict=self.strict_html)
            except HtmlParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from exc
        elif mode:
            if mode in ("markdown", "markdownv2"):
                raise _bad(
                    f"can't parse entities: the Telegram stand-in does not implement "
                    f"parse_mode {parse_mode}; use HTML"
                )
            raise _bad(f"unsupported parse_mode {parse_mode}")
        else:
            plain = raw
            ents = [dict(e) for e in entities] if isinstance(entities, list) else []
        plain, ents = _trim(plain, ents)
        if not plain:
            if caption:
                return None, [], raw
            raise _bad("message text is empty")
        if utf16_len(plain) > limit:
            raise _bad("message caption is too long" if caption else "message is too long")
        return plain, ents, raw

    def _markup(self, markup: Any) -> JSONDict | None:
        """Validate ``reply_markup``; return it normalised (or None)."""
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad(
                    'can\'t parse inline keyboard button: field "inline_keyboard" '
                    "must be an Array of Arrays"
                )
            count = 0
            for row in rows:
                for button in row:
                    count += 1
                    self._check_inline_button(button)
            if count > 100:
                raise _bad("reply markup is too long")
            return {"inline_keyboard": rows}
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad("can't parse reply keyboard markup JSON object")
            for row in rows:
                for b in row:
                    label = b.get("text") if isinstance(b, dict) else b
                    if not isinstance(label, str) or not label:
                        raise _bad(
                            'can\'t parse keyboard button: Field "text" must be of type String'
                        )
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise _bad("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        text = button.get("text")
        if not isinstance(text, str):
            raise _bad("can't parse inline keyboard button: Can't find field \"text\"")
        if not text.strip():
            raise _bad("BUTTON_TEXT_INVALID")
        actions = [k for k in _INLINE_BUTTON_ACTIONS if k in button and button[k] is not None]
        if not actions:
            raise _bad(
                "can't parse inline keyboard button: Text buttons are unallowed in the "
                "inline keyboard"
            )
        if "callback_data" in actions:
            data = button["callback_data"]
            if not isinstance(data, str) or not data or len(data.encode("utf-8")) > 64:
                raise _bad("BUTTON_DATA_INVALID")
        if "url" in actions:
            url = button["url"]
            if not isinstance(url, str) or not re.match(r"^(https?|tg)://[^\s]+$", url):
                raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")

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

    def _reply_to(self, u: FakeUser, params: JSONDict) -> int | None:
        reply = params.get("reply_parameters")
        mid: Any = None
        allow = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            mid = reply.get("message_id")
            allow = allow or bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            mid = params["reply_to_message_id"]
        if mid is None:
            return None
        bm = u._bot_messages.get(int(mid))
        if int(mid) not in u._raw or (bm is not None and bm.deleted):
            if allow:
                return None
            raise _bad("message to be replied not found")
        return int(mid)

    def _resolve_media(self, params: JSONDict, value: Any, kind: str) -> list[StoredFile]:
        """Turn an upload / attach:// / file_id into stored file(s) of ``kind``."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value[len("attach://") :])
            if value is None:
                raise _bad(f"can't parse InputMedia{_KIND_TITLE[kind]}: media not found")
        if isinstance(value, Upload):
            limit = MAX_PHOTO_UPLOAD_SIZE if kind == "photo" else MAX_UPLOAD_SIZE
            if len(value.data) > limit:
                raise ApiError(413, "Request Entity Too Large")
            if not value.data:
                raise _bad("file must be non-empty")
            if kind == "photo":
                return self._store_photo(value.data, strict=True)
            mime = value.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(value.filename or "")[0] or mime
            return [self._store_file(kind, value.data, file_name=value.filename, mime_type=mime)]
        if isinstance(value, str) and value:
            if re.match(r"^https?://", value):
                raise _bad("failed to get HTTP URL content")
            stored = self.files.get(value)
            if stored is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            if stored.kind != kind:
                raise _bad(
                    f"can't use file of type {_KIND_TITLE[stored.kind]} as {_KIND_TITLE[kind]}"
                )
            if kind == "photo":
                return [self.files[fid] for fid in stored.photo_set or (stored.file_id,)]
            return [stored]
        raise _bad(f"there is no {kind} in the request")

    # -- message bookkeeping ------------------------------------------------------------------

    def _message_json(
        self,
        u: FakeUser,
        mid: int,
        *,
        content: JSONDict,
        markup: JSONDict | None,
        reply_to: int | None,
    ) -> JSONDict:
        msg: JSONDict = {
            "message_id": mid,
            "from": self._bot_user(),
            "chat": u.chat_json(),
            "date": int(time.time()),
        }
        if reply_to is not None:
            replied = u._raw[reply_to]
            msg["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        msg.update({k: v for k, v in content.items() if v not in (None, [])})
        if markup is not None and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        return msg

    @staticmethod
    def _buttons(markup: JSONDict | None) -> list[list[Button]]:
        if not markup or "inline_keyboard" not in markup:
            return []
        return [
            [Button(b["text"], b.get("callback_data"), b.get("url")) for b in row]
            for row in markup["inline_keyboard"]
        ]

    def _apply_reply_keyboard(self, u: FakeUser, markup: JSONDict | None) -> None:
        if not markup:
            return
        if "keyboard" in markup:
            u.reply_keyboard = [
                [b if isinstance(b, str) else b["text"] for b in row] for row in markup["keyboard"]
            ]
        elif markup.get("remove_keyboard"):
            u.reply_keyboard = None

    def _emit(
        self,
        u: FakeUser,
        msg: JSONDict,
        *,
        kind: str,
        media_type: str,
        plain: str | None,
        raw_text: str | None,
        parse_mode: str | None,
        entities: list[JSONDict],
        markup: JSONDict | None,
        file: StoredFile | None = None,
        edited: bool = False,
    ) -> BotMessage:
        is_caption = media_type != "text"
        keyboard = [list(row) for row in u.reply_keyboard] if u.reply_keyboard is not None else None
        bm = BotMessage(
            message_id=msg["message_id"],
            chat_id=u.chat_id,
            kind=kind,
            media_type=media_type,
            text=plain or "",
            html=raw_text,
            caption=plain if is_caption else None,
            parse_mode=parse_mode,
            entities=list(entities),
            buttons=self._buttons(markup),
            file_bytes=file.data if file else None,
            file_name=file.file_name if file else None,
            mime_type=file.mime_type if file else None,
            file_id=file.file_id if file else None,
            media_group_id=msg.get("media_group_id"),
            reply_to_message_id=(msg.get("reply_to_message") or {}).get("message_id"),
            reply_keyboard=keyboard,
            edited=edited,
            raw=msg,
        )
        u._raw[bm.message_id] = msg
        u._record(bm)
        return bm

    def _editable(self, u: FakeUser, params: JSONDict) -> tuple[BotMessage, JSONDict]:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID (inline messages are not simulated)")
        mid = params.get("message_id")
        if not isinstance(mid, int):
            raise _bad("message identifier is not specified")
        bm = u._bot_messages.get(mid)
        if bm is None or bm.deleted:
            if mid in u._raw and bm is None:
                raise _bad("message can't be edited")
            raise _bad("message to edit not found")
        return bm, u._raw[mid]

    def _replace(self, u: FakeUser, old: BotMessage, msg: JSONDict, **changes: Any) -> BotMessage:
        bm = dataclasses.replace(old, raw=msg, edited=True, **changes)
        u._raw[bm.message_id] = msg
        u._record(bm)
        return bm

    # -- methods ------------------------------------------------------------------------------

    async def _ok_true(self, params: JSONDict) -> bool:
        return True

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if not 1 <= limit <= 100:
            limit = 100
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) or _DEFAULT_ALLOWED_UPDATES
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._updates = [
            u
            for u in self._updates
            if next(k for k in u if k != "update_id") in self._allowed_updates
        ]
        self._update_signal.notify()  # confirmation may satisfy wait_until_confirmed
        self._poll_generation += 1
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT_DESCRIPTION, category="conflict")
            if self._closing:
                return []
            ready = [
                u
                for u in self._updates
                if next(k for k in u if k != "update_id") in self._allowed_updates
            ]
            if ready:
                return ready[:limit]
            if not await self._update_signal.wait(deadline - loop.time()):
                return []

    async def _delete_webhook(self, params: JSONDict) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
            self._update_signal.notify()
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if scope is None or scope == "":
            return "default"
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return str(kind)
        if kind in ("chat", "chat_administrators"):
            return f"{kind}:{scope.get('chat_id')}"
        if kind == "chat_member":
            return f"chat_member:{scope.get('chat_id')}:{scope.get('user_id')}"
        raise _bad("wrong BotCommandScope type specified")

    async def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands")
        parsed: list[tuple[str, str]] = []
        for c in commands:
            if not isinstance(c, dict):
                raise _bad("can't parse BotCommand JSON object")
            name = str(c.get("command", "")).lstrip("/")
            desc = str(c.get("description", ""))
            if not _COMMAND_RE.match(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(desc.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            parsed.append((name, desc))
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        if parsed:
            self.commands[key] = parsed
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return [{"command": c, "description": d} for c, d in self.commands.get(key, [])]

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self.commands.pop(key, None)
        return True

    async def _set_chat_menu_button(self, params: JSONDict) -> bool:
        chat_id = params.get("chat_id")
        if chat_id is not None:
            self._chat(params)
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise _bad("can't parse menu button JSON object")
        self.menu_buttons[chat_id] = button
        return True

    async def _get_chat_menu_button(self, params: JSONDict) -> JSONDict:
        chat_id = params.get("chat_id")
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "commands"}

    async def _set_bot_info(self, params: JSONDict) -> bool:
        for key in ("description", "short_description", "name"):
            if key in params:
                self.bot_info[f"{key}:{params.get('language_code') or ''}"] = str(params[key])
        return True

    async def _get_chat(self, params: JSONDict) -> JSONDict:
        u = self._chat(params)
        return {**u.chat_json(), "accent_color_id": 0, "max_reaction_count": 11}

    async def _send_message(self, params: JSONDict) -> JSONDict:
        u = self._chat(params)
        plain, entities, raw = self._formatted(
            params.get("text"), params.get("parse_mode"), params.get("entities"), caption=False
        )
        markup = self._markup(params.get("reply_markup"))
        reply_to = self._reply_to(u, params)
        self._rate_check(u.chat_id)
        mid = u._alloc_message_id()
        msg = self._message_json(
            u,
            mid,
            content={"text": plain, "entities": entities},
            markup=markup,
            reply_to=reply_to,
        )
        self._apply_reply_keyboard(u, markup)
        self._emit(
            u,
            msg,
            kind="text",
            media_type="text",
            plain=plain,
            raw_text=raw,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            markup=markup,
        )
        return msg

    async def _send_file_message(self, params: JSONDict, kind: str) -> JSONDict:
        u = self._chat(params)
        plain, entities, raw = self._formatted(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            caption=True,
        )
        markup = self._markup(params.get("reply_markup"))
        reply_to = self._reply_to(u, params)
        files = self._resolve_media(params, params.get(kind), kind)
        self._rate_check(u.chat_id)
        mid = u._alloc_message_id()
        if kind == "photo":
            content: JSONDict = {"photo": [self._photo_size_json(f) for f in files]}
        else:
            content = {"document": self._document_json(files[0])}
        content.update(caption=plain, caption_entities=entities)
        msg = self._message_json(u, mid, content=content, markup=markup, reply_to=reply_to)
        self._apply_reply_keyboard(u, markup)
        self._emit(
            u,
            msg,
            kind=kind,
            media_type=kind,
            plain=plain,
            raw_text=raw,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            markup=markup,
            file=files[-1],
        )
        return msg

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        return await self._send_file_message(params, "photo")

    async def _send_document(self, params: JSONDict) -> JSONDict:
        return await self._send_file_message(params, "document")

    async def _send_media_group(self, params: JSONDict) -> list[JSONDict]:
        u = self._chat(params)
        media = params.get("media")
        if not isinstance(media, list):
            raise _bad("can't parse media JSON object")
        if not 2 <= len(media) <= 10:
            raise _bad("media_group must include 2-10 items")
        reply_to = self._reply_to(u, params)
        prepared = []
        types = set()
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
                raise _bad(
                    "can't parse InputMedia JSON object (the stand-in supports photo "
                    "and document albums)"
                )
            kind = item["type"]
            types.add(kind)
            plain, entities, raw = self._formatted(
                item.get("caption"),
                item.get("parse_mode"),
                item.get("caption_entities"),
                caption=True,
            )
            files = self._resolve_media(params, item.get("media"), kind)
            prepared.append((kind, files, plain, entities, raw, item.get("parse_mode")))
        if len(types) > 1:
            raise _bad("document can't be mixed with other media types")
        self._rate_check(u.chat_id, len(prepared))
        group_id = self._new_media_group_id()
        out = []
        for kind, files, plain, entities, raw, parse_mode in prepared:
            mid = u._alloc_message_id()
            if kind == "photo":
                content: JSONDict = {"photo": [self._photo_size_json(f) for f in files]}
            else:
                content = {"document": self._document_json(files[0])}
            content.update(media_group_id=group_id, caption=plain, caption_entities=entities)
            msg = self._message_json(u, mid, content=content, markup=None, reply_to=reply_to)
            self._emit(
                u,
                msg,
                kind="media_group item",
                media_type=kind,
                plain=plain,
                raw_text=raw,
                parse_mode=parse_mode,
                entities=entities,
                markup=None,
                file=files[-1],
            )
            out.append(msg)
        return out

    async def _send_chat_action(self, params: JSONDict) -> bool:
        u = self._chat(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        u.chat_actions.append(str(action))
        return True

    async def _edit_message_text(self, params: JSONDict) -> JSONDict:
        u = self._chat(params)
        old, raw_msg = self._editable(u, params)
        if old.media_type != "text":
            raise _bad("there is no text in the message to edit")
        plain, entities, raw = self._formatted(
            params.get("text"), params.get("parse_mode"), params.get("entities"), caption=False
        )
        markup = self._markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        if (plain, entities, markup) == (
            raw_msg.get("text"),
            raw_msg.get("entities", []),
            raw_msg.get("reply_markup"),
        ):
            raise _bad(NOT_MODIFIED_DESCRIPTION[len("Bad Request: ") :])
        msg = {k: v for k, v in raw_msg.items() if k not in ("entities", "reply_markup")}
        msg.update(text=plain, edit_date=int(time.time()))
        if entities:
            msg["entities"] = entities
        if markup is not None:
            msg["reply_markup"] = markup
        self._replace(
            u,
            old,
            msg,
            text=plain or "",
            html=raw,
            entities=list(entities),
            parse_mode=params.get("parse_mode"),
            buttons=self._buttons(markup),
        )
        return msg

    async def _edit_message_caption(self, params: JSONDict) -> JSONDict:
        u = self._chat(params)
        old, raw_msg = self._editable(u, params)
        if old.media_type == "text":
            raise _bad("there is no caption in the message to edit")
        plain, entities, raw = self._formatted(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            caption=True,
        )
        markup = self._markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        if (plain, entities, markup) == (
            raw_msg.get("caption"),
            raw_msg.get("caption_entities", []),
            raw_msg.get("reply_markup"),
        ):
            raise _bad(NOT_MODIFIED_DESCRIPTION[len("Bad Request: ") :])
        msg = {
            k: v
            for k, v in raw_msg.items()
            if k not in ("caption", "caption_entities", "reply_markup")
        }
        msg["edit_date"] = int(time.time())
        if plain:
            msg["caption"] = plain
        if entities:
            msg["caption_entities"] = entities
        if markup is not None:
            msg["reply_markup"] = markup
        self._replace(
            u,
            old,
            msg,
            text=plain or "",
            caption=plain,
            html=raw,
            entities=list(entities),
            parse_mode=params.get("parse_mode"),
            buttons=self._buttons(markup),
        )
        return msg

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        u = self._chat(params)
        old, raw_msg = self._editable(u, params)
        markup = self._markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        if markup == raw_msg.get("reply_markup"):
            raise _bad(NOT_MODIFIED_DESCRIPTION[len("Bad Request: ") :])
        msg = {k: v for k, v in raw_msg.items() if k != "reply_markup"}
        msg["edit_date"] = int(time.time())
        if markup is not None:
            msg["reply_markup"] = markup
        self._replace(u, old, msg, buttons=self._buttons(markup))
        return msg

    def _delete_one(self, u: FakeUser, mid: Any) -> None:
        if not isinstance(mid, int) or mid not in u._raw:
            raise _bad("message to delete not found")
        bm = u._bot_messages.get(mid)
        if bm is not None:
            if bm.deleted:
                raise _bad("message to delete not found")
            u._bot_messages[mid] = dataclasses.replace(bm, deleted=True)
        else:
            del u._raw[mid]

    async def _delete_message(self, params: JSONDict) -> bool:
        u = self._chat(params)
        self._delete_one(u, params.get("message_id"))
        return True

    async def _delete_messages(self, params: JSONDict) -> bool:
        u = self._chat(params)
        ids = params.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _bad("message_ids must contain 1-100 items")
        for mid in ids:
            with contextlib.suppress(ApiError):
                self._delete_one(u, mid)
        return True

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        entry = self._queries.get(query_id)
        if entry is None or time.monotonic() - entry[1] > self.callback_query_ttl:
            raise _bad(QUERY_TOO_OLD_DESCRIPTION[len("Bad Request: ") :])
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        u = entry[0]
        del self._queries[query_id]
        raw_update = next(
            (
                up["callback_query"]
                for up in reversed(self._updates)
                if up.get("callback_query", {}).get("id") == query_id
            ),
            None,
        )
        u.callback_answers.append(
            CallbackAnswer(
                query_id=query_id,
                text=None if text is None else str(text),
                show_alert=bool(params.get("show_alert")),
                url=params.get("url"),
                cache_time=int(params.get("cache_time") or 0),
                data=raw_update.get("data") if raw_update else None,
            )
        )
        self._output_signal.notify()
        return True

    async def _get_file(self, params: JSONDict) -> JSONDict:
        file_id = params.get("file_id")
        stored = self.files.get(file_id) if isinstance(file_id, str) else None
        if stored is None:
            raise _bad("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad("file is too big")
        if stored.file_path is None:
            self._file_counter += 1
            ext = mimetypes.guess_extension(stored.mime_type or "") or ""
            if stored.file_name and "." in stored.file_name:
                ext = "." + stored.file_name.rsplit(".", 1)[1]
            if ext == ".jpe":
                ext = ".jpg"
            stored.file_path = f"{_FILE_FOLDER[stored.kind]}/file_{self._file_counter}{ext}"
            self._files_by_path[stored.file_path] = stored
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }
