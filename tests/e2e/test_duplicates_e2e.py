"""End-to-end: at 提交, a report of the same association, date and a similar name is shown as a
possible duplicate, with 仍然提交 and 查看那条."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from core.enums import ActivityStatus
from storage.models import Activity
from tests.harness import Kexie
from tests.journeys import complete_and_open_card, reporter


async def _submitted(kexie: Kexie) -> int:
    async with kexie.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Activity)
            .where(Activity.status == ActivityStatus.SUBMITTED)
        )
    return int(count or 0)


async def test_similar_name_same_day_is_flagged_then_submitted_anyway(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await complete_and_open_card(user, name="科技政策解读会")
    await user.press("提交")
    first = await user.expect_any("🎉 已提交")
    found = re.search(r"KX\d{2}-\d{4}", first.text)
    assert found is not None
    ref = found.group()

    await complete_and_open_card(user, name="科技政策 解读会！")
    await user.press("提交")
    warning = await user.expect_any("可能与")
    assert f"可能与 {ref} 重复" in warning.text
    assert await _submitted(kexie) == 1  # nothing submitted yet
    await user.press("查看那条", warning)
    shown = await user.expect_any(ref)
    assert "科技政策解读会" in shown.text
    await user.press("仍然提交", warning)
    await user.expect_any("🎉 已提交")
    assert await _submitted(kexie) == 2


async def test_a_different_name_is_not_flagged(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await complete_and_open_card(user, name="科技政策解读会")
    await user.press("提交")
    await user.expect_any("🎉 已提交")
    await complete_and_open_card(user, name="青少年编程夏令营")
    await user.press("提交")
    done = await user.expect_any("🎉 已提交")
    assert "可能与" not in done.text
    assert await _submitted(kexie) == 2
