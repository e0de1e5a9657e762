"""The sender through the :class:`~scheduler.messenger.Messenger` protocol, without Telegram.

A fake messenger answers each call with a scripted outcome (sent, rate limited, blocked, gone,
a transient or a permanent failure) and the outbox must end as it does with the real Bot API.
The Telegram messenger's mapping of Telegram's errors to those outcomes is checked on a fake
``Bot``. Rows hold a message kind and its parameters, rendered when sent in the recipient's
language of that moment; rows queued in the earlier, pre-rendered format are sent as they are.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from telegram import InlineKeyboardMarkup, InputMediaPhoto
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from channels.telegram.messenger import TelegramMessenger
from core.address import Address
from core.enums import Channel, OrgKind, Role
from scheduler import outbox
from scheduler.clock import ManualClock
from scheduler.messages import rows_for
from scheduler.messenger import (
    Album,
    Attachment,
    Blocked,
    Button,
    DeliveryError,
    Outgoing,
    PermanentFailure,
    RateLimited,
    TransientFailure,
    Unreachable,
)
from scheduler.outbox import OutRow
from scheduler.render import compose
from scheduler.rows import Due, Kind, Recipient, Timing
from scheduler.sender import Sender
from storage.db import Database
from storage.models import Member, Membership, OutboxMessage, Plan
from storage.registry import create_organisation, district_by_name
from tests.accounts import tg

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)


class FakeMessenger:
    """Answers each call with the next scripted outcome (None: sent) and records what it got."""

    def __init__(self, *outcomes: DeliveryError | Exception | None) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[tuple[Address, Outgoing | Album]] = []
        self.calls = 0

    async def _answer(self, address: Address, message: Outgoing | Album) -> str:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.sent.append((address, message))
        return str(1000 + len(self.sent))

    async def send_message(self, address: Address, message: Outgoing) -> str | None:
        return await self._answer(address, message)

    async def send_album(self, address: Address, album: Album) -> str | None:
        return await self._answer(address, album)


async def add_member(db: Database, language: str = "zh") -> int:
    async with db.session() as session:
        member = Member(first_name="陈静", language=language)
        session.add(member)
        await session.flush()
        return member.id


async def enqueue(db: Database, *rows: OutRow) -> None:
    async with db.session() as session:
        await outbox.enqueue(session, list(rows), NOW)


async def row(db: Database, key: str) -> OutboxMessage:
    async with db.session() as session:
        found = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
        assert found is not None
        return found


async def unreachable(db: Database, member_id: int) -> bool:
    async with db.session() as session:
        member = await session.get(Member, member_id)
        assert member is not None
        return member.unreachable


def text_row(key: str, member_id: int, text: str = "提醒", chat_id: int = 501) -> OutRow:
    return OutRow(key, tg(chat_id), "test", {"text": text}, member_id)


def sender(db: Database, messenger: FakeMessenger, clock: ManualClock, **kwargs: Any) -> Sender:
    return Sender(db, {Channel.TELEGRAM: messenger}, clock=clock, per_chat_interval=0.0, **kwargs)


# ---------------------------------------------------------------------------------------------
# the sender's decisions on each outcome


async def test_sent_records_the_channels_message_id(db: Database) -> None:
    member = await add_member(db)
    await enqueue(db, text_row("a", member, "你好"))
    messenger = FakeMessenger(None)
    stats = await sender(db, messenger, ManualClock(NOW)).drain()
    assert stats.sent == 1 and stats.api_messages == 1
    assert messenger.sent == [(tg(501), Outgoing("test", "你好"))]
    sent = await row(db, "a")
    assert sent.status == outbox.SENT and sent.message_ref == "1001"


async def test_rate_limited_waits_without_counting_the_attempt(db: Database) -> None:
    member = await add_member(db)
    await enqueue(db, text_row("r", member))
    clock = ManualClock(NOW)
    messenger = FakeMessenger(RateLimited(0.5))
    the_sender = sender(db, messenger, clock)
    stats = await the_sender.drain()
    assert stats.retried_429 == 1 and stats.sent == 0
    waiting = await row(db, "r")
    assert waiting.status == outbox.PENDING and waiting.attempts == 0
    assert waiting.next_attempt_at == NOW + timedelta(seconds=0.5)
    assert (await the_sender.drain()).sent == 0  # not before retry_after
    assert messenger.calls == 1
    clock.set(NOW + timedelta(seconds=1))
    assert (await the_sender.drain()).sent == 1
    done = await row(db, "r")
    assert done.status == outbox.SENT and done.attempts == 1


async def test_blocked_marks_the_member_and_skips_their_other_rows(db: Database) -> None:
    member = await add_member(db)
    other = await add_member(db)
    await enqueue(
        db, text_row("x1", member), text_row("x2", member), text_row("y", other, chat_id=502)
    )
    messenger = FakeMessenger(Blocked("Forbidden: bot was blocked by the user"), None)
    stats = await sender(db, messenger, ManualClock(NOW)).drain()
    assert stats.blocked == 1 and stats.skipped == 1 and stats.sent == 1
    assert (await row(db, "x1")).status == outbox.BLOCKED
    assert (await row(db, "x2")).status == outbox.SKIPPED
    assert (await row(db, "y")).status == outbox.SENT
    assert await unreachable(db, member) and not await unreachable(db, other)


async def test_an_address_that_is_gone_fails_and_marks_the_member(db: Database) -> None:
    member = await add_member(db)
    await enqueue(db, text_row("g", member))
    stats = await sender(db, FakeMessenger(Unreachable("chat not found")), ManualClock(NOW)).drain()
    assert stats.failed == 1
    assert (await row(db, "g")).status == outbox.FAILED
    assert await unreachable(db, member)


async def test_transient_failures_back_off_then_send(db: Database) -> None:
    member = await add_member(db)
    await enqueue(db, text_row("t", member))
    clock = ManualClock(NOW)
    messenger = FakeMessenger(TransientFailure("Bad Gateway"))
    the_sender = sender(db, messenger, clock)
    stats = await the_sender.drain()
    assert stats.retried_other == 1 and stats.sent == 0
    waiting = await row(db, "t")
    assert waiting.status == outbox.PENDING and waiting.attempts == 1
    assert waiting.last_error == "Bad Gateway"
    # 2 s (±20 %) after the first failure; not the 429's pause, and the attempt counts.
    assert NOW + timedelta(seconds=1.5) <= waiting.next_attempt_at <= NOW + timedelta(seconds=2.5)
    clock.set(NOW + timedelta(seconds=3))
    assert (await the_sender.drain()).sent == 1
    assert not await unreachable(db, member)


async def test_transient_failures_give_up_after_max_attempts(db: Database) -> None:
    member = await add_member(db)
    await enqueue(db, text_row("m", member))
    messenger = FakeMessenger(TransientFailure("timed out"))
    stats = await sender(db, messenger, ManualClock(NOW), max_attempts=1).drain()
    assert stats.failed == 1 and (await row(db, "m")).status == outbox.FAILED
    assert not await unreachable(db, member)


async def test_a_permanent_failure_fails_the_row_only(db: Database) -> None:
    member = await add_member(db)
    await enqueue(db, text_row("p", member), text_row("q", member))
    messenger = FakeMessenger(PermanentFailure("Bad Request: can't parse entities"), None)
    stats = await sender(db, messenger, ManualClock(NOW)).drain()
    assert stats.failed == 1 and stats.sent == 1
    assert (await row(db, "p")).status == outbox.FAILED
    assert (await row(db, "q")).status == outbox.SENT
    assert not await unreachable(db, member)


async def test_an_unexpected_error_postpones_the_row(db: Database) -> None:
    member = await add_member(db)
    await enqueue(db, text_row("u", member))
    stats = await sender(db, FakeMessenger(RuntimeError("bug")), ManualClock(NOW)).drain()
    assert stats.sent == stats.failed == 0
    waiting = await row(db, "u")
    assert waiting.status == outbox.PENDING and waiting.last_error == "internal error"
    assert waiting.next_attempt_at == NOW + timedelta(minutes=1)


async def test_an_album_in_the_earlier_format_is_sent_as_stored(db: Database) -> None:
    """A row queued before this change: Telegram file ids and a rendered caption."""
    member = await add_member(db)
    media = [{"file_id": "AgAD1", "sha256": "a" * 64, "file_name": None}, {"sha256": "b" * 64}]
    payload = {"media": media, "documents": False, "caption": "<b>KX26-0001</b>"}
    await enqueue(db, OutRow("old#album1", tg(501), "report_submitted", payload, member))
    messenger = FakeMessenger(None)
    stats = await sender(db, messenger, ManualClock(NOW)).drain()
    assert stats.sent == 1 and stats.api_messages == 2
    ((address, album),) = messenger.sent
    assert isinstance(album, Album) and address == tg(501)
    assert album.caption == "<b>KX26-0001</b>" and not album.documents
    assert [f.file_ids for f in album.files] == [{Channel.TELEGRAM: "AgAD1"}, {}]
    assert album.files[1].read is None  # no evidence store given: nothing to upload from


# ---------------------------------------------------------------------------------------------
# rows hold a kind and parameters, rendered when sent


async def plan_world(db: Database, language: str) -> tuple[int, int]:
    """A reporter (speaking ``language``) of one association, with one plan for yesterday."""
    async with db.session() as session:  # the districts come seeded (tests/conftest.py)
        district = await district_by_name(session, "锦江区")
        assert district is not None
        org = await create_organisation(session, district, OrgKind.ENTERPRISE, "锦江光电科技科协")
        member = Member(first_name="王芳", language=language)
        session.add(member)
        await session.flush()
        session.add(Membership(member_id=member.id, role=Role.REPORTER, org_id=org.id))
        plan = Plan(
            org_id=org.id,
            member_id=member.id,
            name="光电技术交流会",
            planned_date=date(2026, 11, 19),
        )
        session.add(plan)
        await session.flush()
        return member.id, plan.id


async def test_a_row_holds_the_kind_and_ids_and_is_rendered_in_todays_language(
    db: Database,
) -> None:
    member, plan = await plan_world(db, "zh")
    timing = Timing(tz=TZ)
    due = Due(Kind.PLAN_ASK, member, plan, "2026-11-19", NOW, NOW + timedelta(days=2))
    async with db.session() as session:
        rows = await rows_for(session, due, Recipient(member, tg(601), "zh"), timing, NOW)
        await outbox.enqueue(session, rows, NOW)
    (stored,) = rows
    assert stored.payload == {
        "message": "plan_ask",
        "params": {"plan": plan},
        "expires_at": due.expires_at.isoformat(),
        "quiet": True,
    }
    async with db.session() as session:
        zh = await compose(session, stored.kind, stored.payload, "zh", timing)
    assert isinstance(zh, Outgoing)
    assert "光电技术交流会" in zh.text and "2026年11月19日" in zh.text
    assert zh.buttons == (
        (Button("📝 报送这项活动", f"sched:{plan}:plan"),),
        (Button("没有举办，取消计划", f"plan:cancel:{plan}"),),
    )
    # The reporter switches to English before the row is sent: it is rendered in English.
    async with db.session() as session:
        person = await session.get(Member, member)
        assert person is not None
        person.language = "en"
    messenger = FakeMessenger(None)
    assert (await sender(db, messenger, ManualClock(NOW), timing=timing).drain()).sent == 1
    ((address, sent),) = messenger.sent
    assert address == tg(601) and isinstance(sent, Outgoing)
    assert "Did your planned activity" in sent.text and "光电技术交流会" in sent.text
    assert [b.label for row_ in sent.buttons for b in row_] == [
        "📝 Report this activity",
        "Did not happen, cancel the plan",
    ]


async def test_a_row_whose_subject_is_gone_is_skipped(db: Database) -> None:
    member, plan = await plan_world(db, "zh")
    payload = {"message": "plan_ask", "params": {"plan": plan + 100}}
    await enqueue(db, OutRow("gone", tg(601), "plan_ask", payload, member))
    messenger = FakeMessenger()
    stats = await sender(db, messenger, ManualClock(NOW)).drain()
    assert stats.skipped == 1 and messenger.calls == 0
    assert (await row(db, "gone")).status == outbox.SKIPPED


# ---------------------------------------------------------------------------------------------
# the Telegram messenger: Telegram's errors as the protocol's outcomes


class RaisingBot:
    """A ``Bot`` whose every call raises ``error`` (or succeeds when it is None)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((method, args, kwargs))
        if self.error is not None:
            raise self.error

        class Message:
            message_id = 77

        return [Message()] if method == "send_media_group" else Message()

    async def send_message(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("send_message", *args, **kwargs)

    async def send_photo(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("send_photo", *args, **kwargs)

    async def send_document(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("send_document", *args, **kwargs)

    async def send_media_group(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("send_media_group", *args, **kwargs)


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (RetryAfter(3), RateLimited),
        (Forbidden("Forbidden: bot was blocked by the user"), Blocked),
        (BadRequest("Chat not found"), Unreachable),
        (BadRequest("Message is too long"), PermanentFailure),
        (NetworkError("Bad Gateway"), TransientFailure),
        (TimedOut(), TransientFailure),
    ],
)
async def test_telegram_errors_map_to_the_protocols_outcomes(
    error: Exception, outcome: type[DeliveryError]
) -> None:
    messenger = TelegramMessenger(RaisingBot(error))  # type: ignore[arg-type]
    with pytest.raises(outcome) as raised:
        await messenger.send_message(tg(5), Outgoing("test", "hi"))
    assert type(raised.value) is outcome  # "chat not found" is not reported as blocked
    if outcome is RateLimited:
        assert isinstance(raised.value, RateLimited) and raised.value.retry_after == 3


async def test_telegram_messenger_sends_html_buttons_and_files() -> None:
    bot = RaisingBot()
    messenger = TelegramMessenger(bot)  # type: ignore[arg-type]
    button = Button("继续填写", "sched:9:resume")
    assert await messenger.send_message(tg(5), Outgoing("t", "<b>草稿</b>", ((button,),))) == "77"
    method, args, kwargs = bot.calls[0]
    assert (method, args) == ("send_message", (5, "<b>草稿</b>"))
    assert kwargs["parse_mode"] == "HTML"
    markup = kwargs["reply_markup"]
    assert isinstance(markup, InlineKeyboardMarkup)
    assert [(b.text, b.callback_data) for b in markup.inline_keyboard[0]] == [
        ("继续填写", "sched:9:resume")
    ]
    files = (
        Attachment("a" * 64, None, {Channel.TELEGRAM: "AgAD1"}),
        Attachment("b" * 64, None, {}, read=lambda: b"\xff\xd8jpeg"),
    )
    assert await messenger.send_album(tg(5), Album("album", files, "x" * 2000)) == "77"
    method, args, _ = bot.calls[1]
    assert method == "send_media_group"
    group = args[1]
    assert all(isinstance(m, InputMediaPhoto) for m in group)
    assert group[0].media == "AgAD1" and len(group[0].caption) == 1024
    assert group[1].caption is None
    with pytest.raises(PermanentFailure):  # neither a file id nor the bytes
        await messenger.send_album(tg(5), Album("album", (Attachment("c" * 64, None),)))
