"""The simulated bot's identity, Telegram's limits and its error wording."""

from __future__ import annotations

import re

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
