"""The membership use cases (services/members.py) on a real db, SQLite and PostgreSQL: a
refused actor gets the refusal key and nothing changes; an allowed one changes the rows, which
record who did it; a link that no longer works answers its own key and grants nothing; two
people opening a one-use link at once: exactly one joins."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core.enums import OrgKind, Role
from core.policy import Actor, Grant
from services import members
from storage.db import AsyncSession, Database
from storage.members import create_invite, invite_by_token, load_actor
from storage.models import Invite, Member, Membership, Organisation, utcnow
from storage.registry import create_organisation, district_by_name
from tests.accounts import telegram_member, tg

# Each test runs on SQLite and on PostgreSQL (the conftest's db on its backend).
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@dataclass(frozen=True)
class World:
    """A 锦江区 association with its org admin and a reporter, a 锦江区 and a 武侯区 admin."""

    org: int
    jinjiang: int
    reporter: Actor  # 王芳, reporter of the association (membership ``reporter_role``)
    org_admin: Actor  # 陈静, its org admin (membership ``admin_role``)
    district: Actor  # 刘洋, 锦江区
    other: Actor  # 赵磊, 武侯区
    reporter_role: int
    admin_role: int


async def _world(db: Database) -> World:
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        wuhou = await district_by_name(session, "武侯区")
        assert jinjiang is not None and wuhou is not None
        org = await create_organisation(session, jinjiang, OrgKind.ENTERPRISE, "锦江光电科技科协")
        people = [
            telegram_member(8200 + n, first_name=name)
            for n, name in enumerate(("王芳", "陈静", "刘洋", "赵磊"))
        ]
        session.add_all(people)
        await session.flush()
        grants = [
            Grant(Role.REPORTER, org.id, jinjiang.id),
            Grant(Role.ORG_ADMIN, org.id, jinjiang.id),
            Grant(Role.DISTRICT_ADMIN, None, jinjiang.id),
            Grant(Role.DISTRICT_ADMIN, None, wuhou.id),
        ]
        roles = [
            Membership(
                member_id=p.id,
                role=g.role,
                org_id=g.org_id,
                district_id=None if g.org_id else g.district_id,
            )
            for p, g in zip(people, grants, strict=True)
        ]
        session.add_all(roles)
        await session.flush()
        actors = [Actor(p.id, (g,)) for p, g in zip(people, grants, strict=True)]
        return World(org.id, jinjiang.id, *actors, roles[0].id, roles[1].id)


async def _count(db: Database, model: type, *where: object) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def _invite(db: Database, role: Role, org_id: int, **kwargs: Any) -> str:
    async with db.session() as session:
        made = await create_invite(session, role=role, org_id=org_id, **kwargs)
        return made.token


async def test_inviting_needs_the_permission_that_grants_the_role(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        refused = [
            await members.invite(session, w.reporter, Role.REPORTER, org_id=w.org),
            # An org admin invites reporters, never another org admin.
            await members.invite(session, w.org_admin, Role.ORG_ADMIN, org_id=w.org),
            await members.invite(session, w.other, Role.REPORTER, org_id=w.org),
            await members.invite(session, w.district, Role.REPORTER, org_id=w.org + 999),
            await members.invite(session, w.district, Role.DISTRICT_ADMIN, district_id=w.jinjiang),
        ]
    for result in refused:
        assert (result.done, result.invite, result.key) == (False, None, members.DENIED)
    assert await _count(db, Invite) == 0

    async with db.session() as session:
        reporters = await members.invite(
            session, w.org_admin, Role.REPORTER, org_id=w.org, uses=20, days=3
        )
        admin = await members.invite(session, w.district, Role.ORG_ADMIN, org_id=w.org, uses=20)
    assert reporters.done and admin.done and reporters.org is not None
    assert reporters.org.name == "锦江光电科技科协"
    async with db.session() as session:
        rows = (await session.scalars(select(Invite).order_by(Invite.id))).all()
    # Who made each one is its record; an admin's invite admits one person whatever was asked.
    assert [(i.role, i.org_id, i.max_uses, i.uses, i.created_by) for i in rows] == [
        (Role.REPORTER, w.org, 20, 0, w.org_admin.member_id),
        (Role.ORG_ADMIN, w.org, 1, 0, w.district.member_id),
    ]


async def test_revoking_needs_that_permission_too_and_stops_the_link(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        admin_link = await create_invite(session, role=Role.ORG_ADMIN, org_id=w.org)
        reporter_link = await create_invite(session, role=Role.REPORTER, org_id=w.org, uses=5)
        ids = admin_link.id, reporter_link.id
        tokens = admin_link.token, reporter_link.token
    async with db.session() as session:
        refused = [
            await members.revoke(session, w.org_admin, ids[0]),  # the district's appointment
            await members.revoke(session, w.other, ids[1]),
            await members.revoke(session, w.reporter, ids[1]),
            await members.revoke(session, w.district, ids[1] + 999),
        ]
    for result in refused:
        assert (result.done, result.key) == (False, members.DENIED)
    assert await _count(db, Invite, Invite.revoked_at.is_not(None)) == 0

    async with db.session() as session:
        done = await members.revoke(session, w.org_admin, ids[1])
    assert done.done and done.invite is not None and done.invite.revoked_at is not None
    async with db.session() as session:
        joined = [
            await members.join(session, t, address=tg(9001), first_name="某人", username=None)
            for t in tokens
        ]
    assert [j.key for j in joined] == [None, "invite_revoked"]


async def test_a_link_that_no_longer_works_answers_its_key_and_grants_nothing(
    db: Database,
) -> None:
    w = await _world(db)
    spent = await _invite(db, Role.REPORTER, w.org)
    expired = await _invite(db, Role.REPORTER, w.org, uses=5, days=1, now=utcnow() - timedelta(2))
    revoked = await _invite(db, Role.REPORTER, w.org, uses=5)
    closed = await _invite(db, Role.REPORTER, w.org, uses=5)
    async with db.session() as session:
        first = await members.join(session, spent, address=tg(9001), first_name="甲", username=None)
        assert first.outcome == members.Outcome.DONE and first.membership is not None
        again = await members.join(session, spent, address=tg(9001), first_name="甲", username="j")
        # The same person again: they hold the role, no second use is burnt.
        assert again.already and again.membership is not None
        assert again.membership.id == first.membership.id
        found = await invite_by_token(session, revoked)
        assert found is not None
        found.revoked_at = utcnow()
    before = await _count(db, Membership)
    async with db.session() as session:
        answers = {
            token: (
                await members.join(session, token, address=tg(9002), first_name="乙", username=None)
            ).key
            for token in (spent, expired, revoked, "no-such-token")
        }
    assert answers == {
        spent: "invite_used_up",
        expired: "invite_expired",
        revoked: "invite_revoked",
        "no-such-token": "invite_unknown",
    }
    async with db.session() as session:
        org = await session.get(Organisation, w.org)
        assert org is not None
        org.active = False  # the association was closed: its links no longer work
    async with db.session() as session:
        gone = await members.join(session, closed, address=tg(9003), first_name="丙", username=None)
    assert (gone.outcome, gone.key) == (members.Outcome.REFUSED, "invite_revoked")
    assert await _count(db, Membership) == before
    async with db.session() as session:
        rows = (await session.execute(select(Invite.token, Invite.uses))).all()
        uses = {token: used for token, used in rows}
    assert uses == {spent: 1, expired: 0, revoked: 0, closed: 0}


async def test_two_people_opening_a_one_use_link_at_once_one_joins(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = await _world(db)
    token = await _invite(db, Role.REPORTER, w.org)
    read = 0
    both_read = asyncio.Event()

    async def read_then_wait(session: AsyncSession, token: str) -> Invite | None:
        # Both joins read the invite (one use left) before either writes. PostgreSQL's row lock
        # keeps the second reader waiting for the first one's commit: it gives up waiting.
        nonlocal read
        found = await invite_by_token(session, token)
        read += 1
        if read == 2:
            both_read.set()
        with suppress(TimeoutError):
            await asyncio.wait_for(both_read.wait(), 1.0)
        return found

    monkeypatch.setattr(members, "invite_by_token", read_then_wait)

    async def open_link(telegram_id: int, name: str) -> members.Joined:
        async with db.session() as session:
            return await members.join(
                session, token, address=tg(telegram_id), first_name=name, username=None
            )

    results = await asyncio.gather(open_link(9101, "甲"), open_link(9102, "乙"))
    assert sorted(str(r.key) for r in results) == ["None", "invite_used_up"]
    assert await _count(db, Membership, Membership.invite_id.is_not(None)) == 1
    async with db.session() as session:
        invite = await invite_by_token(session, token)
        assert invite is not None and invite.uses == 1


async def test_removing_needs_the_permission_that_grants_the_role(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        refused = [
            # An org admin removes reporters, not the org admin the district appointed.
            await members.remove_member(session, w.org_admin, w.admin_role),
            await members.remove_member(session, w.reporter, w.reporter_role),
            await members.remove_member(session, w.other, w.reporter_role),
            await members.remove_member(session, w.district, w.reporter_role + 999),
        ]
    for result in refused:
        assert (result.outcome, result.key, result.done) == (
            members.Outcome.REFUSED,
            members.DENIED,
            False,
        )
    assert await _count(db, Membership, Membership.active.is_(False)) == 0

    async with db.session() as session:
        done = await members.remove_member(session, w.org_admin, w.reporter_role)
        assert done.done and done.membership is not None
    async with db.session() as session:
        again = await members.remove_member(session, w.district, w.reporter_role)
        removed = await session.get(Membership, w.reporter_role)
        assert removed is not None and not removed.active and removed.revoked_at is not None
        member = await session.get(Member, w.reporter.member_id)
        assert (await load_actor(session, member)).grants == ()  # access ends at once
    assert (again.outcome, again.key) == (members.Outcome.ALREADY, members.EXPIRED)
    assert await _count(db, Membership, Membership.active.is_(False)) == 1
