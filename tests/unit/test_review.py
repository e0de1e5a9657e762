"""Review (审核): the rules (reason, duplicate names) and the service's state machine, audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.enums import ActivityStatus, OrgKind
from core.review_rules import ReviewState, check_reason, name_key, similar_names
from core.years import ReportingYears
from storage import reports, review
from storage.db import Database
from storage.models import Activity, AuditEntry, Evidence
from storage.registry import create_organisation, district_by_name
from tests.accounts import telegram_member
from tests.steps import stored_answers

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("a", "b", "similar"),
    [
        ("科技政策解读会", "科技政策 解读会", True),  # spaces
        ("科技政策解读会", "科技政策解读会！", True),  # punctuation
        ("“科普日”活动", "科普日活动", True),  # quotes
        ("AI Workshop", "ai-workshop", True),  # case and hyphen
        ("2021年科技政策解读会", "2021年科技政策解读会（第二场）", True),  # ratio 0.88
        ("科技政策解读会", "科技政策宣讲会", False),  # ratio 0.71
        ("科技政策解读会第一期", "科技政策解读会第二期", True),  # ratio 0.9
        ("科技政策解读会", "青少年编程夏令营", False),
        ("！！", "？？", False),  # nothing left to compare
    ],
)
def test_similar_names(a: str, b: str, similar: bool) -> None:
    assert similar_names(a, b) is similar


def test_name_key_removes_spaces_and_punctuation() -> None:
    assert name_key(" 科技，政策 解读会。") == "科技政策解读会"


@pytest.mark.parametrize(
    ("text", "reason", "error"),
    [
        ("不行", None, "review_reason_short"),
        ("  人 数 ", None, "review_reason_short"),
        ("人数有误，请核对", "人数有误，请核对", None),
        ("  照片不清楚  ", "照片不清楚", None),
        ("长" * 501, None, "review_reason_long"),
        # Counted in visible characters (issue 19): invisible and space characters say nothing.
        ("\u200b\u200b\u200b\u200b", None, "review_reason_short"),  # zero-width spaces
        ("\u2060\ufeff\u200d\u00ad", None, "review_reason_short"),  # format characters (Cf)
        ("a\u3000\u3000\u3000b", None, "review_reason_short"),  # ideographic spaces
        ("人\u200b数\u200b", None, "review_reason_short"),
        ("\u3164\u3164\u3164\u3164", None, "review_reason_short"),  # Hangul fillers
        ("👍👍👍👍", None, "review_reason_words"),  # four emoji: no word among them
        ("！！？？。。", None, "review_reason_words"),
        ("1234", None, "review_reason_words"),
        ("人数 1234", "人数 1234", None),
        ("\u200b 照片不清楚 \u3000", "照片不清楚", None),  # the ends trimmed of invisibles too
        ("Please re-check the headcount", "Please re-check the headcount", None),
    ],
)
def test_check_reason(text: str, reason: str | None, error: str | None) -> None:
    assert check_reason(text) == (reason, error)


async def _report(db: Database) -> tuple[int, int, int]:
    """A complete draft of an activity on 1 June 2021: (activity, author, reviewer) ids."""
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        assert jinjiang is not None
        org = await create_organisation(session, jinjiang, OrgKind.ENTERPRISE, "甲科协")
        author = telegram_member(1, first_name="王")
        reviewer = telegram_member(2, first_name="李审核")
        session.add_all([author, reviewer])
        await session.flush()
        # Every question of the table answered (tests/steps.stored_answers).
        answers = stored_answers(
            date(2021, 6, 2), activity_date=date(2021, 6, 1), name="科技政策解读会",
            content="内容", role="主办", headcount=30, outcome="成效",
        )  # fmt: skip
        activity = Activity(
            org_id=org.id, author_id=author.id, status=ActivityStatus.DRAFT, **dict(answers)
        )
        session.add(activity)
        await session.flush()
        session.add(Evidence(activity_id=activity.id, sha256="a" * 64, kind="photo"))
        await session.commit()
        return activity.id, author.id, reviewer.id


async def test_return_correct_approve_reopen_each_audited(db: Database) -> None:
    activity_id, author_id, reviewer_id = await _report(db)
    first = datetime(2021, 6, 2, 2, tzinfo=UTC)  # on time
    async with db.session() as session:
        activity = await reports.load_activity(session, activity_id)
        assert activity is not None
        await reports.submit(session, activity, author_id, TZ, now=first)
        assert activity.review_state == ReviewState.PENDING
        assert activity.first_submitted_at == first
        # Nothing changed since the return: 重新提交 is refused.
        returned = await review.return_report(session, activity, reviewer_id, "人数有误，请核对")
        assert returned.done and returned.by == "李审核"
        assert not await review.resubmit_corrected(session, activity, author_id)
        # A second reviewer pressing an outdated 通过 is told who decided.
        late = await review.approve(session, activity, reviewer_id + 99)
        assert (late.done, late.state, late.by) == (False, ReviewState.RETURNED, "李审核")
        # Corrected a week later: pending again, still on time (judged on the first submission).
        reports.set_field(session, activity, "headcount", 45, author_id, TZ)
        assert await review.resubmit_corrected(
            session, activity, author_id, now=first + timedelta(days=7)
        )
        assert activity.review_state == ReviewState.PENDING and activity.on_time is True
        assert (await review.approve(session, activity, reviewer_id)).done
        # Amending an approved report makes it pending again.
        reports.set_field(session, activity, "outcome", "新的成效", author_id, TZ)
        assert activity.review_state == ReviewState.PENDING
        await session.commit()
        entries = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.member_id, AuditEntry.new_value)
                .where(AuditEntry.activity_id == activity_id)
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [tuple(e) for e in entries] == [
        ("submit", author_id, activity.ref_no),
        ("return", reviewer_id, "人数有误，请核对"),
        ("edit", author_id, "45"),
        ("correct", author_id, "pending"),
        ("approve", reviewer_id, "approved"),
        ("reopen", author_id, "pending"),
        ("edit", author_id, "新的成效"),
    ]


async def test_queue_is_the_districts_pending_reports_oldest_first(db: Database) -> None:
    activity_id, author_id, reviewer_id = await _report(db)
    async with db.session() as session:
        activity = await reports.load_activity(session, activity_id)
        assert activity is not None
        await reports.submit(session, activity, author_id, TZ)
        jinjiang = await district_by_name(session, "锦江区")
        qingyang = await district_by_name(session, "青羊区")
        assert jinjiang and qingyang
        rows, total = await review.queue(session, [jinjiang.id])
        assert ([a.id for a in rows], total) == ([activity_id], 1)
        assert (await review.queue(session, [qingyang.id]))[1] == 0
        assert await review.pending_count(session, jinjiang.id, ReportingYears().span(2021)) == 1
        assert await review.pending_count(session, jinjiang.id, ReportingYears().span(2022)) == 0
        await review.approve(session, activity, reviewer_id)
        assert (await review.queue(session, None))[1] == 0
