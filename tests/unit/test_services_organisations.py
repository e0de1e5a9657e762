"""The registry's use cases (services/organisations.py) on a real db, SQLite and PostgreSQL:
a refused actor gets the refusal key and nothing changes; an allowed one creates the
association, stores the field or the district's figure; an answer that breaks a rule answers its
key and changes nothing; two admins naming one association at once (PostgreSQL, where the
district's lock makes them take turns): one creates it, the other is told it exists."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from core.enums import OrgKind, Role
from core.policy import Actor, Grant
from services import organisations as registry
from storage.db import AsyncSession, Database
from storage.models import District, DistrictFigures, Organisation
from storage.officers import people_of
from storage.registry import (
    create_organisation,
    district_by_name,
    district_of,
    load_organisation,
)

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

TODAY = date(2026, 6, 8)


@dataclass(frozen=True)
class World:
    """A 锦江区 enterprise association; its reporter and org admin, a 锦江区 and a 武侯区 admin."""

    org: int
    jinjiang: int
    reporter: Actor
    org_admin: Actor
    district: Actor
    other: Actor


async def _world(db: Database) -> World:
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        wuhou = await district_by_name(session, "武侯区")
        assert jinjiang is not None and wuhou is not None
        org = await create_organisation(session, jinjiang, OrgKind.ENTERPRISE, "锦江光电科技科协")
        # The use cases read only the actor's grants: no member rows are needed.
        return World(
            org.id,
            jinjiang.id,
            Actor(1, (Grant(Role.REPORTER, org.id, jinjiang.id),)),
            Actor(2, (Grant(Role.ORG_ADMIN, org.id, jinjiang.id),)),
            Actor(3, (Grant(Role.DISTRICT_ADMIN, None, jinjiang.id),)),
            Actor(4, (Grant(Role.DISTRICT_ADMIN, None, wuhou.id),)),
        )


async def _count(db: Database, model: type, *where: object) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def _org(db: Database, org_id: int) -> Organisation:
    async with db.session() as session:
        org = await load_organisation(session, org_id)
        assert org is not None
        return org


async def test_creating_an_association_is_the_districts(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        refused = [
            await registry.create(session, w.org_admin, w.jinjiang, OrgKind.ENTERPRISE, "新科协"),
            await registry.create(session, w.other, w.jinjiang, OrgKind.ZONE, "新科协"),
            await registry.create(session, w.district, 99999, OrgKind.ZONE, "新科协"),
        ]
    for result in refused:
        assert (result.outcome, result.key, result.org) == (
            registry.Outcome.REFUSED,
            registry.DENIED,
            None,
        )
    assert await _count(db, Organisation) == 1

    async with db.session() as session:
        made = await registry.create(
            session, w.district, w.jinjiang, OrgKind.ZONE, "  锦江 产业园区科协 "
        )
        short = await registry.create(session, w.district, w.jinjiang, OrgKind.ZONE, "科")
        twice = await registry.create(
            session, w.district, w.jinjiang, OrgKind.ENTERPRISE, "锦江光电科技科协"
        )
    assert made.done and made.org is not None
    assert (made.org.name, made.org.kind, made.org.district_id) == (
        "锦江 产业园区科协",  # one line, spaces folded: the name rule of every front
        OrgKind.ZONE,
        w.jinjiang,
    )
    assert (short.outcome, short.key) == (registry.Outcome.INVALID, "reg_err_org_name")
    assert (twice.outcome, twice.key, twice.params["org_id"]) == (
        registry.Outcome.INVALID,
        "org_exists",
        w.org,
    )
    assert await _count(db, Organisation) == 2


async def test_two_admins_naming_one_association_at_once(
    db: Database, backend: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if backend is None:
        # SQLite: each reads "no such name" before either writes, and the second insert then
        # meets the unique index (the writer lock orders writes, not the reads before them).
        pytest.skip("the district's lock is PostgreSQL's")
    w = await _world(db)
    arrived = 0
    both = asyncio.Event()

    async def district_then_wait(session: AsyncSession, district_id: int) -> District | None:
        # Both reach the name check together (or after a second, should one be held up).
        nonlocal arrived
        found = await district_of(session, district_id)
        arrived += 1
        if arrived == 2:
            both.set()
        with suppress(TimeoutError):
            await asyncio.wait_for(both.wait(), 1.0)
        return found

    monkeypatch.setattr(registry, "district_of", district_then_wait)

    async def name_it(actor: Actor) -> registry.Created:
        async with db.session() as session:
            return await registry.create(session, actor, w.jinjiang, OrgKind.ZONE, "锦江园区科协")

    second = Actor(5, w.district.grants)
    results = await asyncio.gather(name_it(w.district), name_it(second))
    assert sorted(str(r.key) for r in results) == ["None", "org_exists"]
    assert await _count(db, Organisation, Organisation.name == "锦江园区科协") == 1


async def test_a_field_is_its_association_admins_and_its_districts(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        refused = [
            await registry.answer_field(
                session, w.reporter, w.org, "employees", "120", today=TODAY
            ),
            await registry.answer_field(session, w.other, w.org, "employees", "120", today=TODAY),
            await registry.answer_field(session, w.district, 99999, "employees", "1", today=TODAY),
            # A field its kind does not have was never a question to answer.
            await registry.answer_field(
                session, w.district, w.org, "zone_form", "内设", today=TODAY
            ),
            await registry.choose_field(session, w.reporter, w.org, "ownership", 0),
            await registry.choose_field(session, w.other, w.org, "ownership", 0),
        ]
    for result in refused:
        assert (result.outcome, result.key) == (registry.Outcome.REFUSED, registry.DENIED)
    org = await _org(db, w.org)
    assert (org.employees, org.ownership) == (None, None)

    async with db.session() as session:
        staff = await registry.answer_field(
            session, w.org_admin, w.org, "employees", "120人", today=TODAY
        )
        chair = await registry.answer_field(
            session, w.district, w.org, "chair", "张三/主席/13800000000", today=TODAY
        )
        owned = await registry.choose_field(session, w.org_admin, w.org, "ownership", 1)
    assert staff.done and chair.done and owned.done
    assert staff.spec is not None and staff.spec.key == "employees"
    org = await _org(db, w.org)
    assert (org.employees, org.ownership) == (120, "民企")
    assert [p.cell() for p in people_of(org, "chair")] == ["张三/主席/13800000000"]


async def test_an_answer_that_breaks_a_rule_changes_nothing(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        assert (
            await registry.answer_field(session, w.org_admin, w.org, "employees", "50", today=TODAY)
        ).done
    async with db.session() as session:
        unparsed = await registry.answer_field(
            session, w.org_admin, w.org, "tech_staff", "很多", today=TODAY
        )
        too_many = await registry.answer_field(
            session, w.org_admin, w.org, "tech_staff", "80", today=TODAY
        )
        no_option = await registry.choose_field(session, w.org_admin, w.org, "ownership", 7)
        no_choice = await registry.choose_field(session, w.org_admin, w.org, "employees", 0)
    assert (unparsed.outcome, unparsed.key) == (registry.Outcome.INVALID, "reg_err_count")
    assert (too_many.outcome, too_many.key) == (registry.Outcome.INVALID, "reg_err_tech_exceeds")
    for expired in (no_option, no_choice):
        assert (expired.outcome, expired.key) == (registry.Outcome.EXPIRED, registry.EXPIRED)
    org = await _org(db, w.org)
    assert (org.employees, org.tech_staff, org.ownership) == (50, None, None)


async def test_a_districts_figures_are_its_admins(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        refused = [
            await registry.set_figure(session, w.org_admin, w.jinjiang, 2026, "zones", "3"),
            await registry.set_figure(session, w.other, w.jinjiang, 2026, "zones", "3"),
            await registry.set_figure(session, w.district, 99999, 2026, "zones", "3"),
            await registry.set_figure(session, w.district, w.jinjiang, 2026, "name", "3"),
        ]
        unparsed = await registry.set_figure(session, w.district, w.jinjiang, 2026, "zones", "三")
    for result in refused:
        assert (result.outcome, result.key) == (registry.Outcome.REFUSED, registry.DENIED)
    assert (unparsed.outcome, unparsed.key) == (registry.Outcome.INVALID, "reg_err_count")
    assert await _count(db, DistrictFigures) == 0

    async with db.session() as session:
        zones = await registry.set_figure(session, w.district, w.jinjiang, 2026, "zones", "3个")
        local = await registry.set_figure(
            session, w.district, w.jinjiang, 2026, "local_enterprises", "1,200"
        )
    assert zones.done and local.done and (zones.value, local.value) == (3, 1200)
    async with db.session() as session:
        row = await session.scalar(select(DistrictFigures))
    assert row is not None
    assert (row.district_id, row.year, row.zones, row.local_enterprises, row.tech_enterprises) == (
        w.jinjiang,
        2026,
        3,
        1200,
        None,
    )
