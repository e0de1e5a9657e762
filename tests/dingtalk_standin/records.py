"""What the DingTalk stand-in records, and the limits and error codes it answers with.

The error codes follow DingTalk's published shapes: the v1.0 API (``api.dingtalk.com/v1.0/…``)
answers an HTTP error status with ``{"code": "...", "message": "..."}``; the old API
(``oapi.dingtalk.com``: media upload, user info) and the session webhook answer HTTP 200 with
``{"errcode": N, "errmsg": "..."}`` where any non-zero ``errcode`` is a refusal. Where DingTalk's
documentation names no code for a case, the string chosen here is marked "(chosen)".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]

# Limits DingTalk enforces, which the stand-in enforces the same way.
MAX_TEXT_CHARS = 5000  # text and markdown content (global error code 34016's limit)
MAX_CARD_DATA_CHARS = 20_000  # a card's cardData JSON string
MAX_ACTION_ID_BYTES = 64  # a card button's id (kexie puts its 64-byte codecs there)
MAX_MEDIA_BYTES = 20 * 1024 * 1024  # media/upload: image and file alike
MAX_BATCH_USERS = 20  # robot/oToMessages/batchSend: userIds per call
TOKEN_TTL = 7200  # seconds an access token lives (accessToken's expireIn)
TICKET_TTL = 90  # seconds a Stream ticket can open its (one) connection
SESSION_TTL = 5400  # seconds a message's sessionWebhook takes replies
AUTH_CODE_TTL = 300  # seconds a 免登 code (dd.getAuthCode) can be resolved
ACK_TIMEOUT = 5.0  # seconds within which a CALLBACK frame must be acked

# v1.0 API error codes (HTTP status, code).
BAD_CREDENTIALS = (400, "invalidClientIdOrSecret")  # accessToken, gateway/connections/open
BAD_TOKEN = (401, "InvalidAuthentication")  # missing, unknown or expired access token
TOO_LONG = (400, "param.tooLong")  # (chosen) text/markdown/card over a limit
BAD_PARAMETER = (400, "InvalidParameter")  # a missing or malformed field
UNKNOWN_ROBOT = (400, "robot.notExist")  # (chosen) robotCode is not this app's robot
UNKNOWN_STAFF = (400, "staffId.notExisted")  # a card to a user outside the organisation
UNKNOWN_CARD = (400, "card.notExist")  # a card update of a cardBizId never sent
UNKNOWN_MEDIA = (400, "invalidParameter.mediaId")  # (chosen) sampleFile of a media never uploaded
BAD_DOWNLOAD_CODE = (400, "invalidParameter.downloadCode")  # (chosen) unknown downloadCode
TOO_MANY_USERS = (400, "invalidParameter.userIds")  # (chosen) more than 20 userIds
INJECTED = "ServiceUnavailable"  # the code of a fault injected with fail_next

# Old-API and session-webhook errcodes (HTTP 200).
ERR_TOKEN = 40014  # 不合法的access_token
ERR_MEDIA_TYPE = 40004  # 无效的媒体文件类型
ERR_MEDIA_SIZE = 40006  # 不合法的文件大小
ERR_AUTH_CODE = 40078  # 不存在的临时授权码
ERR_TOO_LONG = 34016  # 消息内容长度超过限制
ERR_MSGTYPE = 34004  # 无效的会话消息的类型
ERR_SESSION = 300001  # (chosen) the session webhook is unknown or expired
ERR_BUSY = -1  # 系统繁忙 (an injected fault)

ROBOT_TOPIC = "/v1.0/im/bot/messages/get"
CARD_TOPIC = "/v1.0/card/instances/callback"

SENT_KINDS = ("webhook", "otm", "card", "card_update", "upload", "download", "userinfo", "token")
ENDPOINTS = (
    "accessToken",
    "connectionsOpen",
    "batchSend",
    "cardSend",
    "cardUpdate",
    "download",
    "upload",
    "userinfo",
    "webhook",
)


@dataclass
class Sent:
    """One accepted API call that sent or fetched something: ``kind`` is one of
    :data:`SENT_KINDS`; ``user_id`` the staff id it concerns (None for token and upload);
    ``body`` the request with its JSON-in-a-string fields (msgParam, cardData) parsed; ``at``
    the stand-in clock's time."""

    kind: str
    user_id: str | None
    body: JSONDict
    at: float


@dataclass
class Card:
    """An interactive card as the user sees it now: ``data`` is the parsed StandardCard
    cardData of the last send or update, ``updates`` how many updates it had."""

    card_biz_id: str
    user_id: str
    data: JSONDict
    updates: int = 0
    history: list[JSONDict] = field(default_factory=list)  # every cardData, oldest first

    def text(self) -> str:
        """The header title and every markdown block, one per line."""
        return card_text(self.data)

    def buttons(self) -> list[list[tuple[str, str]]]:
        """Rows of (label, id): one row per action block."""
        return card_buttons(self.data)


@dataclass
class Rejected:
    """A refused call: the endpoint, the HTTP status and the error body answered."""

    endpoint: str
    status: int
    answer: JSONDict
    request: JSONDict


@dataclass
class Media:
    """An uploaded media file (media/upload) or a user's file behind a downloadCode."""

    name: str
    data: bytes
    type: str


class CardDataError(ValueError):
    """A cardData that DingTalk would refuse: ``error`` is its (status, code)."""

    def __init__(self, error: tuple[int, str], message: str) -> None:
        super().__init__(message)
        self.error = error


def card_text(data: JSONDict) -> str:
    """A StandardCard's header title and markdown blocks, one per line."""
    lines: list[str] = []
    title = (data.get("header") or {}).get("title") or {}
    if isinstance(title, dict) and title.get("text"):
        lines.append(str(title["text"]))
    for block in data.get("contents") or []:
        if isinstance(block, dict) and block.get("type") in ("markdown", "text"):
            lines.append(str(block.get("text", "")))
    return "\n".join(lines)


def card_buttons(data: JSONDict) -> list[list[tuple[str, str]]]:
    """A StandardCard's buttons: one row of (label, id) per action block."""
    rows: list[list[tuple[str, str]]] = []
    for block in data.get("contents") or []:
        if isinstance(block, dict) and block.get("type") == "action":
            rows.append(
                [
                    (str((button.get("label") or {}).get("text", "")), str(button.get("id", "")))
                    for button in block.get("actions") or []
                ]
            )
    return rows


def parse_card_data(raw: object) -> JSONDict:
    """Parse and check a cardData string the way DingTalk would; raise :class:`CardDataError`."""
    if not isinstance(raw, str):
        raise CardDataError(BAD_PARAMETER, "cardData must be a JSON string")
    if len(raw) > MAX_CARD_DATA_CHARS:
        raise CardDataError(TOO_LONG, f"cardData is {len(raw)} > {MAX_CARD_DATA_CHARS} chars")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise CardDataError(BAD_PARAMETER, f"cardData is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("contents"), list):
        raise CardDataError(BAD_PARAMETER, "cardData has no contents list")
    for block in data["contents"]:
        if not isinstance(block, dict) or "type" not in block:
            raise CardDataError(BAD_PARAMETER, f"a content block without a type: {block!r}")
        if block["type"] == "markdown" and len(str(block.get("text", ""))) > MAX_TEXT_CHARS:
            raise CardDataError(TOO_LONG, f"markdown over {MAX_TEXT_CHARS} chars")
        if block["type"] != "action":
            continue
        actions = block.get("actions")
        if not isinstance(actions, list) or not actions:
            raise CardDataError(BAD_PARAMETER, "an action block without actions")
        for button in actions:
            if not isinstance(button, dict) or button.get("type") != "button":
                raise CardDataError(BAD_PARAMETER, f"not a button: {button!r}")
            if not isinstance((button.get("label") or {}).get("text"), str):
                raise CardDataError(BAD_PARAMETER, f"a button without a label: {button!r}")
            button_id = button.get("id")
            if not isinstance(button_id, str) or not button_id:
                raise CardDataError(BAD_PARAMETER, f"a button without an id: {button!r}")
            if len(button_id.encode()) > MAX_ACTION_ID_BYTES:
                raise CardDataError(TOO_LONG, f"button id over {MAX_ACTION_ID_BYTES} bytes")
            link = (button.get("url") or {}).get("all")
            if button.get("actionType") == "openLink" and not link:
                raise CardDataError(BAD_PARAMETER, f"an openLink button without url: {button!r}")
    return data
