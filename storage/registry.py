"""Districts and associations: seeding, lookup and creation."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import District, Organisation, OrgKind

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
    """Find a district by its exact name, or by a unique prefix (``锦江`` → ``锦江区``)."""
    name = name.strip()
    found = await session.scalar(select(District).where(District.name == name))
    if found:
        return found
    candidates = (
        await session.scalars(select(District).where(District.name.startswith(name)))
    ).all()
    return candidates[0] if len(candidates) == 1 else None


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
    org = Organisation(district_id=district.id, kind=kind.value, name=name)
    session.add(org)
    await session.flush()
    return org
