"""The review's use cases (services/review.py) on a real db, SQLite and PostgreSQL: a
refusal is a result with a catalog key, a report decided first answers who decided it and when,
and the decision, its audit entry and the outbox rows of its notice commit or roll back
together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.enums import ActivityStatus, OrgKind, Role
from core.policy import Actor, Grant
from core.review_rules import ReviewState
from scheduler.rows import Timing
from services import review as decide
from storage.db import Database
from storage.models import Activity, AuditEntry, Membership, OutboxMessage, utcnow
from storage.registry import create_organisation, district_by_name
from tests.accounts import telegram_member

TIMING = Timing(tz=ZoneInfo("Asia/Shanghai"))

# Each test runs on SQLite and on PostgreSQL (the conftest's db on its backend).
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@dataclass(frozen=True)
class World:
    """A 锦江区 association's pending report, its author, two 锦江区 admins and one of 武侯区."""

    report: int
    author: Actor
    chen: Actor  # 陈静, 锦江区
    liu: Actor  # 刘洋, 锦江区
    zhao: Actor  # 赵磊, 武侯区


async def _world(db: Database) -> World:
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        wuhou = await district_by_name(session, "武侯区")
        assert jinjiang is not None and wuhou is not None
        org = await create_organisation(session, jinjiang, OrgKind.ENTERPRISE, "锦江光电科技科协")
        people = [
            telegram_member(8100 + n, first_name=name)
            for n, name in enumerate(("王芳", "陈静", "刘洋", "赵磊"))
        ]
        session.add_all(people)
        await session.flush()
        author, chen, liu, zhao = (p.id for p in people)
        grants = {
            author: Grant(Role.REPORTER, org.id, jinjiang.id),
            chen: Grant(Role.DISTRICT_ADMIN, None, jinjiang.id),
            liu: Grant(Role.DISTRICT_ADMIN, None, jinjiang.id),
            zhao: Grant(Role.DISTRICT_ADMIN, None, wuhou.id),
        }
        session.add_all(
            Membership(member_id=m, role=g.role, org_id=g.org_id, district_id=g.district_id)
            for m, g in grants.items()
        )
        now = utcnow()
        activity = Activity(
            org_id=org.id, author_id=author, status=ActivityStatus.SUBMITTED,
            activity_date=date(2026, 6, 8), name="技术交流会", content="面向园区企业。",
            role="主办", headcount=40, outcome="8家企业提出合作需求。", ref_no="SVC-0001",
            submitted_at=now, first_submitted_at=now, on_time=True,
            review_state=ReviewState.PENDING,
        )  # fmt: skip
        session.add(activity)
        await session.flush()
        actors = [Actor(m, (g,)) for m, g in grants.items()]
        return World(activity.id, *actors)


async def _count(db: Database, model: type, *where: object) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_a_reviewer_of_another_district_is_refused(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        approved = await decide.approve(session, w.zhao, w.report)
        returned = await decide.return_report(
            session, w.zhao, w.report, "参与人数与签到表不符", timing=TIMING
        )
        missing = await decide.approve(session, w.chen, w.report + 999)
        # A reporter may not decide their own report either.
        own = await decide.approve(session, w.author, w.report)
    for refused in (approved, returned, missing, own):
        assert (refused.outcome, refused.key) == (decide.Outcome.REFUSED, "not_found_or_denied")
        assert refused.activity is None and not refused.done
    row = await _get(db, w.report)
    assert (row.review_state, row.reviewed_by) == (ReviewState.PENDING, None)
    assert await _count(db, AuditEntry, AuditEntry.activity_id == w.report) == 0
    assert await _count(db, OutboxMessage) == 0


async def _get(db: Database, report_id: int) -> Activity:
    async with db.session() as session:
        row = await session.get(Activity, report_id)
        assert row is not None
        return row


async def test_a_report_decided_first_names_who_decided_it_and_when(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        first = await decide.approve(session, w.chen, w.report)
    assert first.done and (first.state, first.by) == (ReviewState.APPROVED, "陈静")
    async with db.session() as session:
        late = await decide.return_report(
            session, w.liu, w.report, "照片不清楚，请补充", timing=TIMING
        )
    row = await _get(db, w.report)
    assert late.outcome == decide.Outcome.ALREADY and not late.done
    assert (late.key, late.by, late.at) == ("review_already", "陈静", row.reviewed_at)
    assert (late.state, late.standing) == (ReviewState.APPROVED, "review_state_approved")
    assert (row.review_state, row.reviewed_by, row.review_reason) == (
        ReviewState.APPROVED,
        w.chen.member_id,
        None,
    )
    decisions = await _count(
        db, AuditEntry, AuditEntry.action.in_(("approve", "return"))
    )  # one decision
    assert decisions == 1
    assert await _count(db, OutboxMessage, OutboxMessage.kind == "report_returned") == 0


async def test_a_withdrawn_report_is_not_said_to_be_decided_by_anyone(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        assert (
            await decide.return_report(session, w.chen, w.report, "人数有误", timing=TIMING)
        ).done
        activity = await session.get(Activity, w.report)
        assert activity is not None
        activity.status = ActivityStatus.WITHDRAWN
    async with db.session() as session:
        late = await decide.approve(session, w.liu, w.report)
    # Its last reviewer returned it; it was withdrawn since: "已撤回", nobody named.
    assert (late.outcome, late.key) == (decide.Outcome.ALREADY, "review_already_state")
    assert late.standing == "status_withdrawn"


async def test_the_return_its_audit_and_its_notice_commit_or_roll_back_together(
    db: Database,
) -> None:
    w = await _world(db)
    returned_rows = (OutboxMessage.kind == "report_returned",)

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        async with db.session() as session:
            result = await decide.return_report(
                session, w.chen, w.report, "参与人数与签到表不符", timing=TIMING
            )
            assert result.done and result.queued == 1  # the author's 退回 message
            # Written in this transaction, all three, before anything commits.
            audit = await session.scalar(
                select(AuditEntry).where(
                    AuditEntry.activity_id == w.report, AuditEntry.action == "return"
                )
            )
            assert audit is not None and audit.member_id == w.chen.member_id
            queued = await session.scalar(select(OutboxMessage).where(*returned_rows))
            assert queued is not None and queued.member_id == w.author.member_id
            raise Crash  # the front fails after the use case: nothing of it may remain
    row = await _get(db, w.report)
    assert (row.review_state, row.reviewed_by) == (ReviewState.PENDING, None)
    assert await _count(db, AuditEntry, AuditEntry.activity_id == w.report) == 0
    assert await _count(db, OutboxMessage, *returned_rows) == 0

    async with db.session() as session:
        again = await decide.return_report(
            session, w.chen, w.report, "参与人数与签到表不符", timing=TIMING
        )
    assert again.done and again.queued == 1
    assert (await _get(db, w.report)).review_state == ReviewState.RETURNED
    assert await _count(db, AuditEntry, AuditEntry.action == "return") == 1
    assert await _count(db, OutboxMessage, *returned_rows) == 1


async def test_resubmit_needs_a_correction_and_announces_it_to_the_district(
    db: Database,
) -> None:
    w = await _world(db)
    async with db.session() as session:
        assert (
            await decide.return_report(session, w.chen, w.report, "人数有误", timing=TIMING)
        ).done
    async with db.session() as session:
        unchanged = await decide.resubmit(session, w.author, w.report, timing=TIMING)
        foreign = await decide.resubmit(session, w.zhao, w.report, timing=TIMING)
    assert (unchanged.outcome, unchanged.key) == (
        decide.Outcome.UNCHANGED,
        "review_resubmit_needs_change",
    )
    assert (foreign.outcome, foreign.key) == (decide.Outcome.REFUSED, "not_found_or_denied")
    async with db.session() as session:
        session.add(
            AuditEntry(
                activity_id=w.report, member_id=w.author.member_id, action="edit",
                field="headcount", old_value="40", new_value="45", at=utcnow(),
            )
        )  # fmt: skip
    async with db.session() as session:
        done = await decide.resubmit(session, w.author, w.report, timing=TIMING)
        twice = await decide.resubmit(session, w.author, w.report, timing=TIMING)
    assert done.done and done.state == ReviewState.PENDING
    assert done.queued == 2  # the correction's card to 陈静 and 刘洋
    assert (twice.outcome, twice.key) == (decide.Outcome.NOT_RETURNED, "review_not_returned")
    corrected = await _count(db, OutboxMessage, OutboxMessage.kind == "report_corrected")
    assert corrected == 2
    assert await _count(db, AuditEntry, AuditEntry.action == "correct") == 1
