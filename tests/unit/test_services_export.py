"""services/export.py: the places an actor may export and starting a run, as the chat and the
console both ask for them (one district, several, the city, a reporter)."""

from __future__ import annotations

from sqlalchemy import func, select

from core.enums import Role
from core.policy import Actor, Grant
from core.years import ReportingYears
from exports import runs
from services import export as exporting
from storage.db import Database
from storage.models import District, ExportJob, Member
from storage.registry import district_by_name


async def _setup(db: Database) -> tuple[int, int, int]:
    """(a member's id, 锦江区, 青羊区)."""
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        qingyang = await district_by_name(session, "青羊区")
        assert jinjiang and qingyang
        member = Member(first_name="管理员")
        session.add(member)
        await session.flush()
        return member.id, jinjiang.id, qingyang.id


def _admin(member_id: int, *district_ids: int) -> Actor:
    return Actor(member_id, tuple(Grant(Role.DISTRICT_ADMIN, district_id=d) for d in district_ids))


async def _names(db: Database, actor: Actor) -> tuple[list[str], bool, str | None]:
    async with db.session() as session:
        places = await exporting.places(session, actor)
        single = places.single.name if places.single else None
        return [d.name for d in places.districts], places.city, single


async def _start(db: Database, actor: Actor, district_id: int | None) -> object:
    async with db.session() as session:
        return await exporting.start_run(
            session,
            actor,
            annex="all",
            year=2026,
            district_id=district_id,
            approved_only=False,
            years=ReportingYears(),
        )


async def _jobs(db: Database) -> list[str]:
    async with db.session() as session:
        return list(await session.scalars(select(ExportJob.scope).order_by(ExportJob.id)))


async def test_a_district_admin_exports_their_district_without_choosing(db: Database) -> None:
    member, jinjiang, _ = await _setup(db)
    assert await _names(db, _admin(member, jinjiang)) == (["锦江区"], False, "锦江区")


async def test_an_admin_of_two_districts_chooses_between_them_in_the_guides_order(
    db: Database,
) -> None:
    member, jinjiang, qingyang = await _setup(db)
    names, city, single = await _names(db, _admin(member, qingyang, jinjiang))
    assert (names, city, single) == (["锦江区", "青羊区"], False, None)


async def test_a_city_admin_may_export_every_district_and_the_city(db: Database) -> None:
    member, _, _ = await _setup(db)
    async with db.session() as session:
        every = list(
            await session.scalars(select(District.name).order_by(District.sort_order, District.id))
        )
    names, city, single = await _names(db, Actor(member, (Grant(Role.CITY_ADMIN),)))
    assert len(every) > 2
    assert (names, city, single) == (every, True, None)


async def test_a_reporter_may_export_nowhere_and_is_refused(db: Database) -> None:
    member, jinjiang, _ = await _setup(db)
    reporter = Actor(member, (Grant(Role.REPORTER, org_id=1, district_id=jinjiang),))
    async with db.session() as session:
        assert (await exporting.places(session, reporter)).empty
    assert await _start(db, reporter, jinjiang) is exporting.Refusal.NOT_ALLOWED
    assert await _jobs(db) == []


async def test_a_run_outside_the_scope_is_refused_and_records_nothing(db: Database) -> None:
    member, jinjiang, qingyang = await _setup(db)
    admin = _admin(member, jinjiang)
    assert await _start(db, admin, qingyang) is exporting.Refusal.NOT_ALLOWED
    assert await _start(db, admin, None) is exporting.Refusal.NOT_ALLOWED  # the whole city
    assert await _start(db, admin, 999_999) is exporting.Refusal.NOT_ALLOWED  # no such district
    assert await _jobs(db) == []


async def test_a_run_in_scope_is_recorded_once_and_a_second_is_busy(db: Database) -> None:
    member, jinjiang, _ = await _setup(db)
    admin = _admin(member, jinjiang)
    started = await _start(db, admin, jinjiang)
    assert isinstance(started, exporting.Started)
    assert started.district is not None and started.district.name == "锦江区"
    assert await _start(db, admin, jinjiang) is exporting.Refusal.BUSY
    scopes = await _jobs(db)
    assert scopes == [exporting.run_key("all", started.scope)]
    key = exporting.parse_run_key(scopes[0])
    assert key == exporting.RunKey("all", jinjiang, 2026, approved_only=False, bundle=True)
    async with db.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(ExportJob).where(ExportJob.status == runs.RUNNING)
        )
        assert count == 1
