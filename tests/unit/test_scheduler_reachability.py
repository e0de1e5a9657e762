"""Blocking and unblocking the bot (``scheduler.reachability``), and the amendment card's
rules (``scheduler.render``): one change per field, within Telegram's limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.cards import MAX_MESSAGE, cut_visible, visible_length
from scheduler import outbox
from scheduler.delivery import Change, evidence_count_before, net_changes
from scheduler.outbox import OutRow
from scheduler.reachability import chat_status_changed, reachable_after
from scheduler.rows import Kind, Timing
from storage.db import Database
from storage.models import Member, OutboxMessage
from tests.accounts import telegram_member, tg
from tests.standin import HtmlParseError, parse_html, utf16_len

TZ = ZoneInfo("Asia/Shanghai")
TIMING = Timing(tz=TZ)
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_one_change_per_field_from_first_old_to_last_new() -> None:
    edits = [
        ("headcount", "40", "50"),
        ("name", "交流会", "技术交流会"),
        ("headcount", "50", "60"),
        ("outcome", "甲", "乙"),
        ("outcome", "乙", "甲"),  # changed back: not a change
    ]
    assert net_changes(edits) == [
        Change("headcount", "40", "60"),
        Change("name", "交流会", "技术交流会"),
    ]
    assert net_changes([]) == []


def test_evidence_count_before_walks_adds_and_clears_backwards() -> None:
    assert evidence_count_before(3, []) == 3
    assert evidence_count_before(3, [(None, "a.jpg")]) == 2
    # 5 files cleared ("5" → "0"), then two added: 2 now, 5 before.
    assert evidence_count_before(2, [("5", "0"), (None, "a.jpg"), (None, "b.jpg")]) == 5


@pytest.mark.parametrize(
    ("text", "units"),
    [("<b>报送</b>", 2), ("&lt;&amp;&gt;", 3), ("😀a", 3), ("<i>✅</i>\n", 2)],
)
def test_visible_length_counts_as_telegram_does(text: str, units: int) -> None:
    assert visible_length(text) == units
    shown, _ = parse_html(text)
    assert utf16_len(shown) == units


def test_cut_visible_is_valid_html_under_the_limit() -> None:
    long = "<b>标题</b>\n" + "😀&amp;&lt;" * 3000
    cut = cut_visible(long)
    try:
        shown, _ = parse_html(cut)
    except HtmlParseError as exc:  # pragma: no cover - the assertion says it
        pytest.fail(f"not valid HTML: {exc}")
    assert utf16_len(shown) <= MAX_MESSAGE and shown.startswith("标题\n😀&<")


@pytest.mark.parametrize(
    ("status", "reachable"),
    [("member", True), ("kicked", False), ("left", False), ("restricted", None)],
)
def test_which_statuses_say_what(status: str, reachable: bool | None) -> None:
    assert reachable_after(status) is reachable


async def _rows(db: Database) -> dict[str, str]:
    async with db.session() as session:
        rows = await session.execute(select(OutboxMessage.key, OutboxMessage.status))
        return dict(rows.all())


async def test_unblocking_requeues_only_missed_recent_deliveries(db: Database) -> None:
    async with db.session() as session:
        member = telegram_member(701, first_name="陈静", unreachable=True)
        other = telegram_member(702, first_name="刘洋")
        session.add_all([member, other])
        await session.flush()
        ids = (member.id, other.id)

    def row(key: str, kind: str, member_id: int) -> OutRow:
        return OutRow(key, tg(700 + member_id), kind, {"text": key}, member_id)

    old = NOW - TIMING.delivery_valid - timedelta(hours=1)
    async with db.session() as session:
        await outbox.enqueue(session, [row("old", Kind.REPORT_SUBMITTED, ids[0])], old)
        await outbox.enqueue(
            session,
            [
                row("card", Kind.REPORT_SUBMITTED, ids[0]),
                row("card#album1", Kind.REPORT_SUBMITTED, ids[0]),
                row("edit", Kind.REPORT_EDITED, ids[0]),
                row("sent", Kind.REPORT_WITHDRAWN, ids[0]),
                row("nudge", Kind.QUIET_NUDGE, ids[0]),
                row("theirs", Kind.REPORT_SUBMITTED, ids[1]),
            ],
            NOW - timedelta(days=2),
        )
        final = {
            "old": outbox.BLOCKED,
            "card": outbox.BLOCKED,
            "card#album1": outbox.SKIPPED,
            "edit": outbox.SKIPPED,
            "sent": outbox.SENT,
            "nudge": outbox.SKIPPED,
            "theirs": outbox.BLOCKED,
        }
        for key, status in final.items():
            found = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
            assert found is not None
            found.status = status

    async with db.session() as session:
        result = await chat_status_changed(session, tg(701), "member", NOW, TIMING)
    assert result.reachable is True and result.requeued == 3
    after = await _rows(db)
    assert {k for k, v in after.items() if v == outbox.PENDING} == {"card", "card#album1", "edit"}
    assert after["old"] == outbox.BLOCKED and after["sent"] == outbox.SENT
    assert after["nudge"] == outbox.SKIPPED and after["theirs"] == outbox.BLOCKED
    async with db.session() as session:
        assert (await session.get(Member, ids[0])).unreachable is False  # type: ignore[union-attr]
        # Told again: nothing more to do, nothing doubled.
        again = await chat_status_changed(session, tg(701), "member", NOW, TIMING)
    assert again.requeued == 0 and len(await _rows(db)) == len(final)

    async with db.session() as session:
        blocked = await chat_status_changed(session, tg(701), "kicked", NOW, TIMING)
        assert blocked.reachable is False
        assert (await session.get(Member, ids[0])).unreachable is True  # type: ignore[union-attr]
        stranger = await chat_status_changed(session, tg(999), "member", NOW, TIMING)
    assert stranger.member_id is None
