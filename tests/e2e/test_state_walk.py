"""Every state a report can be in has a way forward, on the days around the annual deadline.

A report in each state (draft, submitted, returned, approved, withdrawn), of an activity in the
statistical year still open and of one in the year just closed, opened from /mine on 30 November
(the deadline), 1 December (the day after), 5 December and 15 June: each card offers what may
still be done or says in one sentence why nothing can — and a returned report can always be
corrected and sent back, also once its year is closed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.enums import ActivityStatus
from core.review_rules import ReviewState
from core.years import ReportingYears
from storage.models import Activity, AuditEntry, Member
from tests.accounts import at_telegram
from tests.harness import Kexie

YEARS = ReportingYears()
DAYS = [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 5), date(2026, 6, 15)]  # the issue's

EDIT, WITHDRAW, RESUBMIT = "✏️ 修改", "↩️ 撤回", "📤 重新提交"
# (status, review state) → the buttons while the year is open, and once it is closed.
STATES: dict[str, tuple[str, str | None, list[str], list[str]]] = {
    "pending": (ActivityStatus.SUBMITTED, ReviewState.PENDING, [EDIT, WITHDRAW], []),
    "approved": (ActivityStatus.SUBMITTED, ReviewState.APPROVED, [EDIT, WITHDRAW], []),
    "returned": (
        ActivityStatus.SUBMITTED,
        ReviewState.RETURNED,
        [EDIT, WITHDRAW, RESUBMIT],
        [EDIT, RESUBMIT],  # a return is never a dead end
    ),
    "withdrawn": (ActivityStatus.WITHDRAWN, ReviewState.PENDING, [RESUBMIT], []),
}


def _closed_day(today: date) -> date:
    """A day of the statistical year before today's, its 3-day window long over: closed."""
    return YEARS.deadline(YEARS.year_of(today) - 1) - timedelta(days=10)


async def _seed(kexie: Kexie, org: int, user_id: int, today: date) -> dict[tuple[str, bool], int]:
    """One report per state and year (open: dated today; closed: in the last year)."""
    ids: dict[tuple[str, bool], int] = {}
    async with kexie.session() as session:
        author = await session.scalar(select(Member).where(at_telegram(user_id)))
        assert author is not None
        for key, (status, review, _, _) in STATES.items():
            for closed in (False, True):
                day = _closed_day(today) if closed else today
                submitted = datetime(day.year, day.month, day.day, 4, tzinfo=UTC)
                activity = Activity(
                    org_id=org, author_id=author.id, status=status, activity_date=day,
                    name=f"{key}{'旧' if closed else '新'}", content="内容", role="主办",
                    headcount=10, outcome="成效", submitted_at=submitted, on_time=True,
                    late_days=0, review_state=review, first_submitted_at=submitted,
                    ref_no=f"KX{YEARS.year_of(day)}-{key}-{int(closed)}",
                    review_reason="人数有误" if review == ReviewState.RETURNED else None,
                )  # fmt: skip
                session.add(activity)
                await session.flush()
                ids[key, closed] = activity.id
                if review == ReviewState.RETURNED:  # as storage.review.return_report leaves it
                    session.add(
                        AuditEntry(
                            activity_id=activity.id, action="return", field="review_state",
                            old_value=ReviewState.PENDING, new_value=ReviewState.RETURNED,
                        )
                    )  # fmt: skip
        draft = Activity(
            org_id=org, author_id=author.id, status=ActivityStatus.DRAFT,
            activity_date=today - timedelta(days=2), name="草稿活动",
        )  # fmt: skip
        session.add(draft)
        await session.commit()
    return ids


@pytest.mark.parametrize("today", DAYS, ids=str)
async def test_every_state_has_a_way_forward(kexie: Kexie, today: date) -> None:
    org = await kexie.org("锦江文创科协")
    user = await kexie.member(7101, "reporter", org=org, first_name="作者")
    ids = await _seed(kexie, org, 7101, today)

    await user.send("/mine")
    await user.expect_any("本单位的报送")
    for (key, closed), activity_id in ids.items():
        expected = STATES[key][3 if closed else 2]
        await user.press_data(f"mine:open:{activity_id}")
        card = await user.expect_any(f"{key}{'旧' if closed else '新'}")
        assert card.button_texts == expected, (key, closed)
        if not expected:  # final: one sentence says why
            year = YEARS.year_of(_closed_day(today))
            assert f"{year}年度的报送已于 {year}年11月30日 截止" in card.text, card.text

    # The returned report of the closed year can be corrected and sent back to the district.
    await user.press_data(f"mine:open:{ids['returned', True]}")
    await user.expect_any("returned旧")
    await user.press(EDIT)
    await user.expect_any("要修改哪一项")
    await user.press("参与人数")
    await user.expect_any("参与人数")
    await user.send("12")
    await user.expect_any("修改已保存")
    await user.expect_any("参与人数：12人")
    await user.press("修改完成")
    await user.expect_any("修改完成")
    await user.press_data(f"mine:open:{ids['returned', True]}")
    await user.expect_any("returned旧")
    await user.press(RESUBMIT)
    await user.expect_any("已重新提交")
    async with kexie.session() as session:
        corrected = await session.get(Activity, ids["returned", True])
        assert corrected is not None
        assert (corrected.review_state, corrected.headcount) == (ReviewState.PENDING, 12)

    # The draft (two days old) is continued from /report.
    await user.send("/report")
    await user.expect_any("未完成的报送草稿")
    await user.press("继续填写")
    await user.expect_any("第")
