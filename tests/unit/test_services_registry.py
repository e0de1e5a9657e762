"""The registry import as a use case (services/registry.py), SQLite and PostgreSQL: only an
admin of the district (or the operator) imports into it; anyone else is refused with one catalog
key and no association is written; a sheet with problems imports nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.enums import Role
from core.policy import OPERATOR, Actor, Grant
from services import registry
from storage.db import Database
from storage.import_sheet import read_sheet
from storage.models import Organisation
from storage.registry import district_by_name

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TODAY = date(2021, 11, 5)

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


async def _orgs(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Organisation)) or 0)


async def test_only_the_districts_admin_imports(db: Database) -> None:
    sheet = read_sheet((FIXTURES / "annex_1_1_merged.xlsx").read_bytes(), "1-1", TODAY)
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        wuhou = await district_by_name(session, "武侯区")
        assert jinjiang is not None and wuhou is not None
        others = Actor(1, (Grant(Role.DISTRICT_ADMIN, None, wuhou.id),))
        reporter = Actor(2, (Grant(Role.REPORTER, 7, jinjiang.id),))
        for actor in (others, reporter):
            refused = await registry.import_sheet(session, actor, jinjiang, sheet, "1-1", TODAY)
            assert (refused.outcome, refused.key, refused.result) == (
                registry.Outcome.REFUSED,
                "not_allowed",
                None,
            )
        await session.commit()
    assert await _orgs(db) == 0
    own = Actor(3, (Grant(Role.DISTRICT_ADMIN, None, jinjiang.id),))
    async with db.session() as session:
        done = await registry.import_sheet(session, own, jinjiang, sheet, "1-1", TODAY)
        assert done.outcome == registry.Outcome.DONE and done.result is not None
        await session.commit()
    assert await _orgs(db) == len(done.result.created) > 0


async def test_a_sheet_with_problems_imports_nothing(db: Database) -> None:
    sheet = read_sheet((FIXTURES / "annex_1_1_errors.xlsx").read_bytes(), "1-1", TODAY)
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        assert jinjiang is not None
        result = await registry.import_sheet(session, OPERATOR, jinjiang, sheet, "1-1", TODAY)
        assert result.outcome == registry.Outcome.INVALID
        assert result.result is not None and result.result.errors
        await session.commit()
    assert await _orgs(db) == 0
