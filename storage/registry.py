"""Districts and associations: seeding, lookup, creation, annex fields and district figures."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.district_match import DistrictMatch, match_district
from core.enums import OrgKind
from core.policy import Action, Actor, allowed, district_target, org_target
from core.registry_rules import FieldSpec, check_tech_staff, fields_for
from core.rules import format_date
from storage.models import District, DistrictFigures, Organisation
from storage.officers import people_of, replace_officers

# Chengdu's county-level units (2021), in the order of the work guide (annex-spec.md).
CHENGDU_DISTRICTS: tuple[str, ...] = (
    "锦江区", "青羊区", "金牛区", "武侯区", "成华区", "龙泉驿区", "青白江区", "新都区", "温江区",
    "双流区", "郫都区", "新津区", "简阳市", "都江堰市", "彭州市", "邛崃市", "崇州市", "金堂县",
    "大邑县", "蒲江县", "四川天府新区成都直管区", "成都高新区", "成都东部新区",
)  # fmt: skip


class RegistryError(Exception):
    """A registry operation was refused; ``key`` names the sentence in the text catalog."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


async def seed_districts(session: AsyncSession) -> tuple[int, int]:
    """Insert the missing Chengdu districts; return (added, total). Safe to run again."""
    existing = set((await session.scalars(select(District.name))).all())
    added = 0
    for order, name in enumerate(CHENGDU_DISTRICTS, start=1):
        if name not in existing:
            session.add(District(name=name, sort_order=order))
            added += 1
    await session.flush()
    total = await session.scalar(select(func.count()).select_from(District))
    return added, int(total or 0)


async def district_by_name(session: AsyncSession, name: str) -> District | None:
    """The district a name means, by the one matching rule of :func:`find_district` (``锦江`` →
    锦江区, ``高新区`` → 成都高新区); None when it names none or several."""
    return (await find_district(session, name))[0]


async def district_of(session: AsyncSession, district_id: int) -> District | None:
    """A district by id (from the session's identity map when it is loaded already)."""
    return await session.get(District, district_id)


async def find_district(session: AsyncSession, typed: str) -> tuple[District | None, DistrictMatch]:
    """The district a typed name means (``高新区`` → 成都高新区, core/district_match.py), with the
    match itself to explain a miss (``match.problem()``: unknown, or the candidates)."""
    districts = (await session.scalars(select(District).order_by(District.sort_order))).all()
    match = match_district(typed, [d.name for d in districts])
    found = next((d for d in districts if d.name == match.name), None)
    return found, match


async def create_organisation(
    session: AsyncSession, district: District, kind: OrgKind, name: str
) -> Organisation:
    """Create an association; names are unique within a district."""
    name = name.strip()
    if not name:
        raise RegistryError("org_name_empty")
    if len(name) > 200:
        raise RegistryError("org_name_too_long")
    clash = await session.scalar(
        select(Organisation).where(
            Organisation.district_id == district.id, Organisation.name == name
        )
    )
    if clash:
        raise RegistryError("org_exists", name=name, org_id=clash.id)
    org = Organisation(district_id=district.id, kind=kind.value, name=name, officers=[])
    session.add(org)
    await session.flush()
    return org


# --- the registry's fields (annexes 1-1 / 1-2), district figures ------------------------------


async def load_organisation(session: AsyncSession, org_id: int) -> Organisation | None:
    """An association with its district and officers (fresh from the database)."""
    return await session.scalar(
        select(Organisation)
        .where(Organisation.id == org_id)
        .options(selectinload(Organisation.officers), selectinload(Organisation.district))
        .execution_options(populate_existing=True)
    )


async def district_orgs(
    session: AsyncSession, district_id: int, *, with_officers: bool = False
) -> list[Organisation]:
    """The active associations of a district, by name."""
    query = (
        select(Organisation)
        .where(Organisation.district_id == district_id, Organisation.active.is_(True))
        .order_by(Organisation.kind, Organisation.name)
    )
    if with_officers:
        query = query.options(selectinload(Organisation.officers))
    return list((await session.scalars(query)).all())


async def districts_by_id(session: AsyncSession, ids: list[int]) -> list[District]:
    """Districts with these ids, in the work guide's order."""
    if not ids:
        return []
    rows = await session.scalars(
        select(District).where(District.id.in_(ids)).order_by(District.sort_order, District.id)
    )
    return list(rows.all())


async def all_districts(session: AsyncSession, limit: int | None = None) -> list[District]:
    """Every district (the first ``limit`` of them), in the work guide's order."""
    query = select(District).order_by(District.sort_order, District.id)
    if limit is not None:
        query = query.limit(limit)
    return list((await session.scalars(query)).all())


def field_value(org: Organisation, spec: FieldSpec) -> Any:
    """The stored value of one field: a scalar, or a list of :class:`Person` (empty = missing)."""
    if spec.kind == "person":
        return people_of(org, spec.key)
    return getattr(org, spec.key)


def is_filled(org: Organisation, spec: FieldSpec) -> bool:
    """Whether the field has a value (a person column needs at least one person)."""
    value = field_value(org, spec)
    return bool(value) if spec.kind == "person" else value is not None


def missing_fields(org: Organisation) -> list[FieldSpec]:
    """The annex fields of ``org`` still empty, in the annex's order (officers loaded)."""
    return [spec for spec in fields_for(org.kind) if not is_filled(org, spec)]


def set_field(org: Organisation, spec: FieldSpec, value: Any) -> None:
    """Store one parsed value, checking 科技人员数 ≤ 员工总数 against the other stored value."""
    if spec.key in ("employees", "tech_staff"):
        employees = value if spec.key == "employees" else org.employees
        tech_staff = value if spec.key == "tech_staff" else org.tech_staff
        error = check_tech_staff(employees, tech_staff)
        if error:
            raise RegistryError(error, employees=employees, tech_staff=tech_staff)
    if spec.kind == "person":
        replace_officers(org, spec.key, list(value))
    else:
        setattr(org, spec.key, value)


def display_value(value: Any) -> str | None:
    """A field value as the card shows it (``None`` when missing)."""
    if value is None or value == []:
        return None
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, list):
        return "；".join(p.cell() for p in value)
    return str(value)


FIGURE_KEYS: tuple[str, ...] = ("local_enterprises", "tech_enterprises", "zones")


async def figures_of(session: AsyncSession, district_id: int, year: int) -> DistrictFigures | None:
    """The district's figures for ``year`` as entered, None when none were (a read: nothing
    is created)."""
    return await session.scalar(
        select(DistrictFigures).where(
            DistrictFigures.district_id == district_id, DistrictFigures.year == year
        )
    )


async def district_figures(session: AsyncSession, district_id: int, year: int) -> DistrictFigures:
    """The district's figures for ``year`` (a new empty row when none were entered yet)."""
    row = await figures_of(session, district_id, year)
    if row is None:
        row = DistrictFigures(district_id=district_id, year=year)
        session.add(row)
        await session.flush()
    return row


async def set_district_figure(
    session: AsyncSession, district_id: int, year: int, key: str, value: int
) -> DistrictFigures:
    """Store one of 属地企业数量 / 科技企业数量 / 产业功能区数量 for a year."""
    if key not in FIGURE_KEYS:
        raise ValueError(key)
    row = await district_figures(session, district_id, year)
    setattr(row, key, value)
    await session.flush()
    return row


async def orgs_for_actor(session: AsyncSession, actor: Actor, action: Action) -> list[Organisation]:
    """The active associations on which ``actor`` may perform ``action`` (policy-filtered).

    Candidates are the actor's own associations and those of the districts they administer
    (every association for a city admin); the policy has the last word on each.
    """
    query = select(Organisation).where(Organisation.active.is_(True))
    if not actor.is_city:
        org_ids = [g.org_id for g in actor.grants if g.org_id is not None]
        query = query.where(
            or_(
                Organisation.id.in_(org_ids or [-1]),
                Organisation.district_id.in_(actor.district_ids() or [-1]),
            )
        )
    rows = await session.scalars(query.order_by(Organisation.district_id, Organisation.name))
    return [
        org for org in rows.all() if allowed(actor, action, org_target(org.id, org.district_id))
    ]


async def districts_for_actor(
    session: AsyncSession, actor: Actor, action: Action
) -> list[District]:
    """The districts on which ``actor`` may perform ``action`` (every one for a city admin)."""
    candidates = (
        await all_districts(session)
        if actor.is_city
        else await districts_by_id(session, actor.district_ids())
    )
    return [d for d in candidates if allowed(actor, action, district_target(d.id))]


async def active_org_counts(session: AsyncSession) -> dict[tuple[int, str], int]:
    """How many active associations each district has of each kind: (district id, kind) → n
    (pairs with none are absent)."""
    counted = await session.execute(
        select(Organisation.district_id, Organisation.kind, func.count())
        .where(Organisation.active.is_(True))
        .group_by(Organisation.district_id, Organisation.kind)
    )
    return {(d, k): n for d, k, n in counted.all()}


async def org_listing(
    session: AsyncSession,
    *,
    district_id: int | None,
    kind: str | None,
    name: str | None,
    offset: int,
    limit: int,
) -> tuple[int, list[tuple[Organisation, str]]]:
    """The active associations (of one district, one kind, with ``name`` in their name, when
    given), in the work guide's district order: how many there are in all, and (association,
    district name) for the ``limit`` from ``offset`` on — ``kexie org list``'s page."""
    query = select(Organisation, District.name).join(
        District, District.id == Organisation.district_id
    )
    query = query.where(Organisation.active.is_(True))
    if district_id is not None:
        query = query.where(Organisation.district_id == district_id)
    if kind:
        query = query.where(Organisation.kind == kind)
    if name:
        query = query.where(Organisation.name.contains(name))
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.execute(
        query.order_by(District.sort_order, Organisation.id).offset(offset).limit(limit)
    )
    return total, [(org, district_name) for org, district_name in rows.all()]
