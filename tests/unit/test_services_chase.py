"""The chase's use cases (services/chase.py) on a real db, SQLite and PostgreSQL: an
association or district outside the actor's scope is refused with one catalog key and nothing
queued, and an association is nudged at most once in 24 hours, by 提醒 or by 全部提醒."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.enums import OrgKind, Role
from core.policy import Actor, Grant
from services import chase
from storage.chase import CHASE_KIND
from storage.db import Database
from storage.models import Membership, OutboxMessage, utcnow
from storage.registry import create_organisation, district_by_name
from tests.accounts import telegram_member

QUIET_DAYS = 30

# Each test runs on SQLite and on PostgreSQL (the conftest's db on its backend).
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@dataclass(frozen=True)
class World:
    """A 锦江区 association that never reported, with two reporters; admins of 锦江区 and
    武侯区, and the association's own admin."""

    org: int
    district: int
    chen: Actor  # 陈静, 锦江区
    zhao: Actor  # 赵磊, 武侯区
    org_admin: Actor  # 李娜, the association's admin


async def _world(db: Database) -> World:
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        wuhou = await district_by_name(session, "武侯区")
        assert jinjiang is not None and wuhou is not None
        org = await create_organisation(session, jinjiang, OrgKind.ENTERPRISE, "锦江光电科技科协")
        people = [
            telegram_member(8200 + n, first_name=name)
            for n, name in enumerate(("王芳", "张伟", "陈静", "赵磊", "李娜"))
        ]
        session.add_all(people)
        await session.flush()
        wang, zhang, chen, zhao, li = (p.id for p in people)
        grants = {
            wang: Grant(Role.REPORTER, org.id, jinjiang.id),
            zhang: Grant(Role.REPORTER, org.id, jinjiang.id),
            chen: Grant(Role.DISTRICT_ADMIN, None, jinjiang.id),
            zhao: Grant(Role.DISTRICT_ADMIN, None, wuhou.id),
            li: Grant(Role.ORG_ADMIN, org.id, jinjiang.id),
        }
        session.add_all(
            Membership(member_id=m, role=g.role, org_id=g.org_id, district_id=g.district_id)
            for m, g in grants.items()
        )
        await session.flush()
        return World(
            org.id,
            jinjiang.id,
            Actor(chen, (grants[chen],)),
            Actor(zhao, (grants[zhao],)),
            Actor(li, (grants[li],)),
        )


async def _nudges(db: Database) -> int:
    async with db.session() as session:
        query = select(func.count()).select_from(OutboxMessage)
        return int(await session.scalar(query.where(OutboxMessage.kind == CHASE_KIND)) or 0)


async def test_an_association_outside_the_scope_is_refused(db: Database) -> None:
    w = await _world(db)
    now = utcnow()
    async with db.session() as session:
        other = await chase.nudge(session, w.zhao, w.org, now=now)
        # Chasing is the district's job: the association's own admin may not nudge it.
        own = await chase.nudge(session, w.org_admin, w.org, now=now)
        missing = await chase.nudge(session, w.chen, w.org + 999, now=now)
        everyone = await chase.nudge_all(
            session, w.zhao, w.district, now=now, today=now.date(), quiet_days=QUIET_DAYS
        )
        asked = await chase.quiet_orgs(
            session, w.zhao, w.district, now=now, today=now.date(), quiet_days=QUIET_DAYS
        )
    for refused in (other, own, missing):
        assert (refused.outcome, refused.key) == (chase.Outcome.REFUSED, chase.DENIED)
        assert refused.org is None and refused.queued == 0
    assert everyone.refused and everyone.key == chase.DENIED
    assert asked is None
    assert await _nudges(db) == 0


async def test_one_nudge_a_day_from_any_front(db: Database) -> None:
    w = await _world(db)
    now = utcnow()
    async with db.session() as session:
        first = await chase.nudge(session, w.chen, w.org, now=now)
    assert (first.outcome, first.key, first.queued) == (chase.Outcome.SENT, "chase_sent", 3)
    async with db.session() as session:
        again = await chase.nudge(session, w.chen, w.org, now=now + timedelta(hours=23))
        # 全部提醒 skips it too: it was nudged within the day.
        everyone = await chase.nudge_all(
            session,
            w.chen,
            w.district,
            now=now + timedelta(hours=23),
            today=now.date(),
            quiet_days=QUIET_DAYS,
        )
    assert (again.outcome, again.key, again.queued) == (chase.Outcome.TOO_SOON, "chase_too_soon", 0)
    assert again.previous is not None and abs(again.previous - now) < timedelta(seconds=5)
    assert (everyone.orgs, everyone.people) == (0, 0)
    assert await _nudges(db) == 3
    async with db.session() as session:
        later = await chase.nudge_all(
            session,
            w.chen,
            w.district,
            now=now + timedelta(hours=25),
            today=now.date(),
            quiet_days=QUIET_DAYS,
        )
    assert (later.orgs, later.people) == (1, 3)
    assert await _nudges(db) == 6
