"""The console's initData check (web/auth.py), as Telegram documents it, and its session cookie."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qsl, urlencode

import pytest

from core.address import Address
from core.enums import Channel
from web.auth import InitDataError, SessionSigner, csrf_ok, sign_init_data, validate_init_data

TOKEN = "7000001:AAHkexieStandinTestToken0123456789ab"
OTHER = "7000002:AAHanotherBotsTokenForTheTests0123456"
NOW = 1_790_000_000


def _fields(**over: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": {"id": 5001, "first_name": "李明", "language_code": "zh-hans"},
        "auth_date": NOW - 60,
    }
    fields.update(over)
    return fields


def test_valid_init_data_names_its_user() -> None:
    user = validate_init_data(sign_init_data(_fields(), TOKEN), TOKEN, now=NOW)
    assert (user.id, user.first_name, user.language_code) == (5001, "李明", "zh-hans")


def test_the_signature_is_telegrams_recipe() -> None:
    """Computed here independently, step by step from the Bot API page, not with web.auth."""
    user = json.dumps({"id": 7, "first_name": "A"}, separators=(",", ":"))
    fields = {"auth_date": str(NOW), "query_id": "Q", "user": user}
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    raw = urlencode({**fields, "hash": digest})
    assert validate_init_data(raw, TOKEN, now=NOW).id == 7


def _tamper(raw: str, key: str, value: str) -> str:
    pairs = [(k, value if k == key else v) for k, v in parse_qsl(raw)]
    return urlencode(pairs)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("user", json.dumps({"id": 5002, "first_name": "李明"})),  # someone else
        ("auth_date", str(NOW)),  # made younger
        ("query_id", "AAHother"),
    ],
)
def test_a_tampered_field_is_refused(key: str, value: str) -> None:
    raw = _tamper(sign_init_data(_fields(), TOKEN), key, value)
    with pytest.raises(InitDataError) as caught:
        validate_init_data(raw, TOKEN, now=NOW)
    assert caught.value.reason == "bad hash"


def test_an_added_field_is_refused() -> None:
    raw = sign_init_data(_fields(), TOKEN) + "&chat_type=private"
    with pytest.raises(InitDataError, match="bad hash"):
        validate_init_data(raw, TOKEN, now=NOW)


def test_another_bots_init_data_is_refused() -> None:
    with pytest.raises(InitDataError, match="bad hash"):
        validate_init_data(sign_init_data(_fields(), OTHER), TOKEN, now=NOW)


def test_older_than_an_hour_is_refused_and_just_younger_accepted() -> None:
    raw = sign_init_data(_fields(auth_date=NOW - 3601), TOKEN)
    with pytest.raises(InitDataError, match="expired"):
        validate_init_data(raw, TOKEN, now=NOW)
    fresh = sign_init_data(_fields(auth_date=NOW - 3599), TOKEN)
    assert validate_init_data(fresh, TOKEN, now=NOW).id == 5001


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "auth_date=1&user=%7B%22id%22%3A1%7D",  # no hash at all
        "hash=&auth_date=1",
        "x" * 5000,
    ],
)
def test_missing_hash_or_garbage_is_refused(raw: str) -> None:
    with pytest.raises(InitDataError):
        validate_init_data(raw, TOKEN, now=NOW)


def test_a_field_given_twice_is_refused() -> None:
    raw = sign_init_data(_fields(), TOKEN)
    with pytest.raises(InitDataError, match="duplicate"):
        validate_init_data(raw + "&auth_date=1", TOKEN, now=NOW)


def test_signed_without_a_user_is_refused() -> None:
    raw = sign_init_data({"auth_date": NOW, "query_id": "Q"}, TOKEN)
    with pytest.raises(InitDataError, match="no user"):
        validate_init_data(raw, TOKEN, now=NOW)


def test_session_cookie_round_trip_forgery_and_expiry() -> None:
    signer = SessionSigner(TOKEN, minutes=5)
    value, session = signer.issue(12, Address(Channel.TELEGRAM, "5001"))
    assert signer.read(value) == session
    assert session.address == Address(Channel.TELEGRAM, "5001") and session.member_id == 12
    assert csrf_ok(session, session.csrf) and not csrf_ok(session, "") and not csrf_ok(session, "x")
    assert signer.read(value[:-2] + "xx") is None
    assert SessionSigner(OTHER, minutes=5).read(value) is None  # a new token ends sessions
    late = SessionSigner(TOKEN, minutes=5)
    late.max_age = -1  # as if read after it lapsed
    time.sleep(0.01)
    assert late.read(value) is None


def test_a_session_names_any_channels_address() -> None:
    """The cookie carries a channel and that channel's id of the member as text, whatever
    its shape (not a Telegram number)."""
    signer = SessionSigner(TOKEN, minutes=5)
    address = Address(Channel.TELEGRAM, "chat-7f3a")
    value, session = signer.issue(3, address)
    read = signer.read(value)
    assert read is not None and read.address == address and read.csrf == session.csrf


def test_a_cookie_of_the_earlier_shape_reads_as_no_session() -> None:
    """[member, Telegram id, csrf], genuinely signed before the address replaced the Telegram
    id: no session (the console asks to sign in again), rather than a session misread."""
    signer = SessionSigner(TOKEN, minutes=5)
    earlier = signer._serializer.dumps([12, 5001, "csrf"])
    assert signer.read(earlier) is None
    unknown = signer._serializer.dumps([12, "pigeon", "5001", "csrf"])
    assert signer.read(unknown) is None  # a channel the bot does not know
