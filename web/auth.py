"""Who is asking: the Mini App's ``initData`` checked as Telegram documents it, then a short
signed session cookie and a CSRF token.

Telegram signs ``initData`` with a key only it and the bot know
(https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):
``secret = HMAC_SHA256(key="WebAppData", msg=bot_token)`` and
``hash = hex(HMAC_SHA256(key=secret, msg=data_check_string))``, where the data-check-string is
every received field but ``hash``, as ``key=value``, sorted by key, joined by line feeds.
``auth_date`` older than :data:`MAX_AGE` is refused, so a copied link does not work for long.

The session cookie holds the member's id, the address they signed in from (a channel and that
channel's id of them, :class:`core.address.Address`) and a random CSRF nonce, signed
(itsdangerous) with a key derived from the bot token: no server-side session table, and a new
token invalidates every session. Every request still loads the member and their roles afresh,
so a removed admin loses access at once. A cookie of the earlier shape (a Telegram id where the
address is) reads as no session: the console asks to sign in again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from core.address import Address
from core.enums import Channel

MAX_AGE = 3600  # seconds an initData stays usable (the issue: "not older than 1 hour")
MAX_INIT_DATA = 4096  # Telegram's initData is a few hundred bytes; refuse anything huge
COOKIE = "kexie_console"
_SALT = "kexie-console-session"


class InitDataError(ValueError):
    """initData that does not prove who sent it; ``reason`` is a short code for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class WebAppUser:
    """The Telegram user the checked initData names."""

    id: int
    first_name: str
    language_code: str | None
    auth_date: int


def _secret(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _check_string(fields: Mapping[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign_init_data(fields: Mapping[str, Any], bot_token: str) -> str:
    """initData as Telegram would hand it to the page for ``fields`` (``user`` may be a dict).

    Used by tests and benchmarks to play Telegram's part; production only validates."""
    plain = {
        key: json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if isinstance(value, dict)
        else str(value)
        for key, value in fields.items()
    }
    digest = hmac.new(_secret(bot_token), _check_string(plain).encode(), hashlib.sha256)
    return urlencode({**plain, "hash": digest.hexdigest()})


def validate_init_data(
    init_data: str, bot_token: str, *, now: float | None = None, max_age: int = MAX_AGE
) -> WebAppUser:
    """The user ``init_data`` was signed for; :class:`InitDataError` when it is not Telegram's,
    was signed for another bot, is older than ``max_age`` seconds or names no user."""
    if not init_data or len(init_data) > MAX_INIT_DATA:
        raise InitDataError("empty" if not init_data else "too long")
    pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=False)
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:  # a field given twice could be read differently by two parsers
            raise InitDataError("duplicate field")
        fields[key] = value
    given = fields.get("hash")
    if not given:
        raise InitDataError("no hash")
    expected = hmac.new(
        _secret(bot_token), _check_string(fields).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise InitDataError("bad hash")
    try:
        auth_date = int(fields.get("auth_date", ""))
    except ValueError:
        raise InitDataError("no auth_date") from None
    age = (time.time() if now is None else now) - auth_date
    if age > max_age:
        raise InitDataError("expired")
    if age < -300:  # signed in the future: a clock far off, or not Telegram's
        raise InitDataError("from the future")
    try:
        user = json.loads(fields.get("user", ""))
        user_id = int(user["id"])
    except (ValueError, KeyError, TypeError):
        raise InitDataError("no user") from None
    return WebAppUser(
        id=user_id,
        first_name=str(user.get("first_name", "")),
        language_code=user.get("language_code"),
        auth_date=auth_date,
    )


@dataclass(frozen=True)
class Session:
    """What the console's cookie says: who, and the CSRF nonce their forms carry."""

    member_id: int
    address: Address  # where they signed in from: the channel and its id of them
    csrf: str


class SessionSigner:
    """Signs and reads the session cookie (valid ``minutes`` after it was issued)."""

    def __init__(self, bot_token: str, minutes: int) -> None:
        key = hmac.new(b"kexie-console", bot_token.encode(), hashlib.sha256).hexdigest()
        self._serializer = URLSafeTimedSerializer(key, salt=_SALT)
        self.max_age = minutes * 60

    def issue(self, member_id: int, address: Address) -> tuple[str, Session]:
        """A new cookie value for this member signed in from ``address``, with a fresh CSRF
        nonce."""
        session = Session(member_id, address, secrets.token_urlsafe(18))
        value = self._serializer.dumps(
            [member_id, address.channel.value, address.external_id, session.csrf]
        )
        return value, session

    def read(self, value: str | None) -> Session | None:
        """The session a cookie value carries; None when absent, forged or expired."""
        if not value or len(value) > 512:
            return None
        try:
            # The earlier cookie, [member, Telegram id, csrf], has three parts: ValueError.
            member_id, channel, external_id, csrf = self._serializer.loads(
                value, max_age=self.max_age
            )
            address = Address(Channel(channel), str(external_id))
            return Session(int(member_id), address, str(csrf))
        except (BadSignature, SignatureExpired, ValueError, TypeError):
            return None


def csrf_ok(session: Session, given: str | None) -> bool:
    """Whether a POST carries the session's CSRF token."""
    return bool(given) and hmac.compare_digest(session.csrf, given or "")
