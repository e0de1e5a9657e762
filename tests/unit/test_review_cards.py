"""通过 / 退回 show the outcome on the delivery card the outbox sent, read from the database, not
from the pressed message as the channel hands it over (issue 21, item 2): walked through the
in-memory channel with presses that carry the button's data only."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core import review_buttons as rv
from core.callbacks import MAX_ID, Id
from core.enums import Role
from core.review_rules import ReviewState
from core.settings import Settings, load_settings
from storage.db import Database
from storage.models import Activity
from tests.memory_channel import CAPS, MemoryChannel, MemoryUser
from tests.unit.test_memory_walks import ADMIN, REPORTER, join, ref_of_only_report, report

REASON = "参与人数与签到表不符"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path, database_url="sqlite+aiosqlite://")


async def _carded(channel: MemoryChannel) -> tuple[MemoryUser, str]:
    """A submitted report, its card delivered to the district admin: the admin and its 编号."""
    reporter = await join(channel, REPORTER, "王芳", Role.REPORTER, org="蓉城科技科协")
    admin = await join(channel, ADMIN, "陈静", Role.DISTRICT_ADMIN)
    await report(reporter)
    await channel.deliver()
    return admin, await ref_of_only_report(channel.db)


async def _state(db: Database) -> str | None:
    async with db.session() as session:
        activity = await session.get(Activity, 1)
        assert activity is not None
        return activity.review_state


async def test_a_return_pressed_without_the_message_still_edits_the_card(
    db: Database, settings: Settings
) -> None:
    channel = MemoryChannel(db, settings)
    admin, ref = await _carded(channel)
    card = admin.find(f"新报送 {ref}")
    assert "待审核" in card.plain and card.labels == ["✅ 通过", "↩️ 退回"]

    await admin.press("↩️ 退回", card, shown=False)
    await admin.send_text(REASON)
    assert f"已退回 {ref}" in admin.last().plain, admin.last().plain
    # The card (as delivered) now says who returned it and why, without its buttons.
    assert card.edits == 1, card.plain
    assert f"新报送 {ref}" in card.plain and "已退回" in card.plain and REASON in card.plain
    assert "陈静" in card.plain and not card.buttons
    assert await _state(db) == ReviewState.RETURNED


async def test_an_approval_pressed_without_the_message_still_edits_the_card(
    db: Database, settings: Settings
) -> None:
    channel = MemoryChannel(db, settings)
    admin, ref = await _carded(channel)
    card = admin.find(f"新报送 {ref}")

    await admin.press("✅ 通过", card, shown=False)
    assert card.edits == 1 and "已通过 · 陈静" in card.plain and not card.buttons
    assert f"新报送 {ref}" in card.plain
    assert await _state(db) == ReviewState.APPROVED


async def test_on_a_review_page_the_page_comes_from_the_button(
    db: Database, settings: Settings
) -> None:
    """通过 in /review shows the page again and leaves the delivery card alone; the page is
    the button's own (its data names it), whether or not the pressed message came along."""
    channel = MemoryChannel(db, settings)
    admin, ref = await _carded(channel)
    card = admin.find(f"新报送 {ref}")
    await admin.send_text("/review")
    queue = admin.last()
    assert f"通过 {ref}" in str(queue.labels)

    await admin.press(f"✅ 通过 {ref}", queue)
    assert "没有待审核的报送" in queue.plain, queue.plain  # the page, shown again in place
    assert card.edits == 0 and card.labels == ["✅ 通过", "↩️ 退回"]
    assert await _state(db) == ReviewState.APPROVED


async def test_a_return_from_a_review_page_leaves_the_card_alone(
    db: Database, settings: Settings
) -> None:
    channel = MemoryChannel(db, settings)
    admin, ref = await _carded(channel)
    card = admin.find(f"新报送 {ref}")
    await admin.send_text("/review")
    await admin.press(f"↩️ 退回 {ref}", admin.last(), shown=False)
    await admin.send_text(REASON)
    assert f"已退回 {ref}" in admin.last().plain, admin.last().plain
    assert card.edits == 0 and card.labels == ["✅ 通过", "↩️ 退回"]
    assert await _state(db) == ReviewState.RETURNED


async def test_a_channel_that_cannot_edit_gets_the_outcome_as_a_new_message(
    db: Database, settings: Settings
) -> None:
    channel = MemoryChannel(db, settings, caps=replace(CAPS, can_edit=False))
    admin, ref = await _carded(channel)
    card = admin.find(f"新报送 {ref}")
    before = len(admin.messages)

    await admin.press("↩️ 退回", card, shown=False)
    await admin.send_text(REASON)
    assert card.edits == 0
    sent = admin.messages[before:]
    outcome = next(m for m in sent if "已退回 ·" in m.plain)
    assert f"新报送 {ref}" in outcome.plain and REASON in outcome.plain and not outcome.buttons
    # The card first, then the confirmation: the last thing the reviewer sees.
    assert f"已退回 {ref}" in admin.last().plain


def test_the_page_buttons_fit_and_are_not_the_cards() -> None:
    """The largest id and page still fit a button's data on the channel, and a card's 通过 /
    退回 never parses as a page's (nor the other way round)."""
    widest = rv.QueuedReport(MAX_ID, 999_999_999)
    for on_page, on_card in ((rv.APPROVE_QUEUED, rv.APPROVE), (rv.RETURN_QUEUED, rv.RETURN)):
        data = on_page.pack(widest)
        assert len(data.encode()) <= CAPS.max_button_data, data
        assert on_page.parse(data) == widest and on_card.parse(data) is None
        assert on_page.parse(on_card.pack(Id(7))) is None
