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

from tests.standin.constants import (
    BLOCKED_DESCRIPTION,
    BOT_FIRST_NAME,
    BOT_ID,
    BOT_USERNAME,
    CONFLICT_DESCRIPTION,
    DEFAULT_TOKEN,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_DOWNLOAD_SIZE,
    MAX_MESSAGE_LENGTH,
    MAX_PHOTO_UPLOAD_SIZE,
    MAX_UPLOAD_SIZE,
    NOT_MODIFIED_DESCRIPTION,
    QUERY_TOO_OLD_DESCRIPTION,
)
from tests.standin.html import HtmlParseError, html_to_text, parse_html, utf16_len
from tests.standin.media import make_jpeg
from tests.standin.server import DOWNLOAD, FAULT_KINDS, Handler, StandIn
from tests.standin.types import (
    ApiError,
    BotMessage,
    Button,
    Call,
    CallbackAnswer,
    ErrorRecord,
    JSONDict,
    StoredFile,
    Upload,
)
from tests.standin.users import FakeUser

__all__ = [
    "BLOCKED_DESCRIPTION",
    "BOT_FIRST_NAME",
    "BOT_ID",
    "BOT_USERNAME",
    "CONFLICT_DESCRIPTION",
    "DEFAULT_TOKEN",
    "DOWNLOAD",
    "FAULT_KINDS",
    "MAX_CALLBACK_ANSWER_LENGTH",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_DOWNLOAD_SIZE",
    "MAX_MESSAGE_LENGTH",
    "MAX_PHOTO_UPLOAD_SIZE",
    "MAX_UPLOAD_SIZE",
    "NOT_MODIFIED_DESCRIPTION",
    "QUERY_TOO_OLD_DESCRIPTION",
    "ApiError",
    "BotMessage",
    "Button",
    "Call",
    "CallbackAnswer",
    "ErrorRecord",
    "FakeUser",
    "Handler",
    "HtmlParseError",
    "JSONDict",
    "StandIn",
    "StoredFile",
    "Upload",
    "html_to_text",
    "make_jpeg",
    "parse_html",
    "utf16_len",
]
