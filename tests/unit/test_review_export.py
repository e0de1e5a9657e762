"""Exports and review: approved and pending reports by default, never returned ones;
``approved_only`` (CLI ``--approved-only``, a choice in /export); the 明细 sheet's 审核状态."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from core.review_rules import ReviewState
from exports import details
from exports.scope import Level, Scope
from exports.service import gather, write_exports
from storage.db import Database
from storage.evidence import EvidenceStore
from storage.migrate import upgrade
from storage.models import Activity
from tests.export_data import YEAR, Seeded, seed_export_data

TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class Env:
    db: Database
    store: EvidenceStore
    seeded: Seeded
    out: Path


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kexie.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    store = EvidenceStore(tmp_path / "evidence")
    async with db.session() as session:
        seeded = await seed_export_data(session, store)
        a1, a2, a3, a4 = seeded.submitted  # by date
        for activity_id, state in (
            (a1, ReviewState.APPROVED),
            (a2, ReviewState.PENDING),
            (a3, ReviewState.RETURNED),
            (a4, ReviewState.APPROVED),
        ):
            activity = await session.get(Activity, activity_id)
            assert activity is not None
            activity.review_state = state
        await session.commit()
    yield Env(db, store, seeded, tmp_path / "out")
    await db.dispose()


async def _details(env: Env, approved_only: bool) -> list[tuple[object, ...]]:
    scope = Scope(
        Level.DISTRICT, YEAR, district_id=env.seeded.district_id, approved_only=approved_only
    )
    async with env.db.session() as session:
        data = await gather(session, scope, ("1-3",))
    result = write_exports(data, env.out, env.store, TZ, thumbnails=False)
    ws = load_workbook(result.files[0])["明细"]
    # Headers are written with their line breaks (exports/headers.py), read here without them.
    assert [(c.value or "").replace("\n", "") for c in ws[2]] == list(details.HEADERS)
    column = details.HEADERS.index("审核状态")
    return [(ws.cell(r, 2).value, ws.cell(r, column + 1).value) for r in range(3, ws.max_row + 1)]


async def test_default_export_has_approved_and_pending_never_returned(env: Env) -> None:
    rows = await _details(env, approved_only=False)
    assert [state for _, state in rows] == ["已通过", "待审核", "已通过"]
    assert "科技政策解读会" not in {name for name, _ in rows}  # the returned one


async def test_approved_only(env: Env) -> None:
    rows = await _details(env, approved_only=True)
    assert [state for _, state in rows] == ["已通过", "已通过"]


def test_scope_key_names_approved_only() -> None:
    plain = Scope(Level.CITY, 2021)
    assert Scope(Level.CITY, 2021, approved_only=True).key() == plain.key() + ":approved"
