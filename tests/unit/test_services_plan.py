"""The plan's use cases (services/plan.py) on a real db, SQLite and PostgreSQL: a member who may
not report for an association can neither note, cancel nor report its plans (one catalog key,
nothing changed); 报送这项活动 starts one draft with the plan's name and date, returns the same
draft when pressed again, and is refused once the plan was reported or before its day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.enums import ActivityStatus, OrgKind, Role
from core.policy import Actor, Grant
from services import plan as planning
from storage.db import Database
from storage.models import Activity, Membership, Plan
from storage.registry import create_organisation, district_by_name
from tests.accounts import telegram_member

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 6, 10)

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@dataclass(frozen=True)
class World:
    """A 锦江区 association with its reporter 王芳, and 张伟, a reporter of another one."""

    org: int
    wang: Actor
    zhang: Actor


async def _world(db: Database) -> World:
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        assert jinjiang is not None
        org = await create_organisation(session, jinjiang, OrgKind.ENTERPRISE, "锦江光电科技科协")
        other = await create_organisation(session, jinjiang, OrgKind.ENTERPRISE, "锦江生物科协")
        wang = telegram_member(8300, first_name="王芳")
        zhang = telegram_member(8301, first_name="张伟")
        session.add_all([wang, zhang])
        await session.flush()
        grants = {
            wang.id: Grant(Role.REPORTER, org.id, jinjiang.id),
            zhang.id: Grant(Role.REPORTER, other.id, jinjiang.id),
        }
        session.add_all(
            Membership(member_id=m, role=g.role, org_id=g.org_id, district_id=g.district_id)
            for m, g in grants.items()
        )
        await session.commit()
        return World(
            org.id, Actor(wang.id, (grants[wang.id],)), Actor(zhang.id, (grants[zhang.id],))
        )


async def _count(db: Database, model: type[Plan] | type[Activity]) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_only_who_may_report_notes_cancels_and_reports_a_plan(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        refused = await planning.note(
            session, w.zhang, w.zhang.member_id, w.org, "科普讲座", TODAY, TODAY
        )
        assert (refused.outcome, refused.key) == (planning.Outcome.REFUSED, "not_allowed")
        noted = await planning.note(
            session, w.wang, w.wang.member_id, w.org, "科普讲座", TODAY, TODAY
        )
        assert noted.outcome == planning.Outcome.DONE and noted.plan is not None
        await session.commit()
        plan_id = noted.plan.id
    assert await _count(db, Plan) == 1
    async with db.session() as session:
        for result in (
            await planning.cancel(session, w.zhang, plan_id),
            await planning.report_plan(session, w.zhang, w.zhang.member_id, plan_id, TODAY, TZ),
        ):
            assert (result.outcome, result.key) == (planning.Outcome.REFUSED, "not_allowed")
        await session.commit()
    async with db.session() as session:
        plan = await session.get(Plan, plan_id)
        assert plan is not None and not plan.cancelled
    assert await _count(db, Activity) == 0


async def test_a_past_day_is_refused(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        result = await planning.note(
            session, w.wang, w.wang.member_id, w.org, "科普讲座", TODAY - timedelta(days=1), TODAY
        )
        assert result.outcome == planning.Outcome.REFUSED and result.key is not None
        await session.commit()
    assert await _count(db, Plan) == 0


async def test_reporting_a_plan_starts_one_draft_until_it_is_reported(db: Database) -> None:
    w = await _world(db)
    day = TODAY + timedelta(days=1)
    async with db.session() as session:
        noted = await planning.note(
            session, w.wang, w.wang.member_id, w.org, "科普讲座", day, TODAY
        )
        assert noted.plan is not None
        await session.commit()
        plan_id = noted.plan.id
    async with db.session() as session:
        early = await planning.report_plan(session, w.wang, w.wang.member_id, plan_id, TODAY, TZ)
        assert (early.outcome, early.key) == (planning.Outcome.REFUSED, "plan_not_yet")
    async with db.session() as session:
        first = await planning.report_plan(session, w.wang, w.wang.member_id, plan_id, day, TZ)
        assert first.activity is not None
        assert (first.activity.name, first.activity.activity_date) == ("科普讲座", day)
        await session.commit()
        draft_id = first.activity.id
    async with db.session() as session:
        again = await planning.report_plan(session, w.wang, w.wang.member_id, plan_id, day, TZ)
        assert again.activity is not None and again.activity.id == draft_id
        again.activity.status = ActivityStatus.SUBMITTED  # as if submitted meanwhile
        await session.commit()
    async with db.session() as session:
        done = await planning.report_plan(session, w.wang, w.wang.member_id, plan_id, day, TZ)
        assert (done.outcome, done.key) == (planning.Outcome.REFUSED, "plan_already_reported")
        cancelled = await planning.cancel(session, w.wang, plan_id)
        assert cancelled.outcome == planning.Outcome.DONE
        await session.commit()
    async with db.session() as session:
        gone = await planning.cancel(session, w.wang, plan_id)
        assert (gone.outcome, gone.key) == (planning.Outcome.REFUSED, "plan_gone")
    assert await _count(db, Activity) == 1
