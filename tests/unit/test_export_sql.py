"""What an export reads costs the same statements after its queries moved to storage/ (issue 21):
one per query of :mod:`storage.export_data`, counted per scope on the seeded district. The
counts are those of the queries when they were still in exports/scope.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from exports import runs
from exports.scope import Level, Scope
from exports.service import ANNEXES, gather
from storage.db import Database
from storage.evidence import EvidenceStore
from storage.migrate import upgrade
from tests.export_data import YEAR, Seeded, seed_export_data
from tests.sql import statements


@pytest.fixture
async def seeded_db(tmp_path: Path) -> AsyncIterator[tuple[Database, Seeded]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kexie.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    async with db.session() as session:
        seeded = await seed_export_data(session, EvidenceStore(tmp_path / "evidence"))
        await session.commit()
    yield db, seeded
    await db.dispose()


def _verbs(seen: list[str]) -> list[str]:
    return [statement.split()[0] for statement in seen]


async def test_gather_runs_as_many_statements_as_before(
    seeded_db: tuple[Database, Seeded],
) -> None:
    db, seeded = seeded_db
    enterprise, zone = seeded.enterprise_ids[0], seeded.zone_ids[0]
    expected = [
        # districts, counts, figures, districts by id, activities, evidence, 2 × (orgs, officers)
        (Scope(Level.CITY, YEAR), 10, 5),
        (Scope(Level.DISTRICT, YEAR, district_id=seeded.district_id), 11, 4),
        (Scope(Level.ORG, YEAR, org_id=enterprise, approved_only=True), 12, 0),
        (Scope(Level.ORG, YEAR, org_id=zone), 13, 1),
    ]
    counted = []
    with statements(db) as seen:
        for scope, _, _ in expected:
            before = len(seen)
            async with db.session() as session:
                data = await gather(session, scope, ANNEXES)
            counted.append((scope, len(seen) - before, len(data.activities)))
    assert counted == expected
    assert set(_verbs(seen)) == {"SELECT"}


async def test_an_interrupted_export_is_told_once(seeded_db: tuple[Database, Seeded]) -> None:
    db, _ = seeded_db
    async with db.session() as session:
        job = await runs.open_job(session, 1, "city")
        job_id = job.id
        await session.commit()
    async with db.session() as session:
        assert await runs.confirm_job(session, job_id)
        await runs.finish_job(session, job_id, runs.INTERRUPTED)
        await session.commit()
    with statements(db) as seen:
        async with db.session() as session:
            taken = await runs.take_interrupted(session)
            await session.commit()
    assert [(j.id, j.status) for j, _ in taken] == [(job_id, runs.INTERRUPTED_TOLD)]
    # The jobs with their members, the claim (one conditional UPDATE), and the commit's flush
    # of the status the claim set on the loaded row.
    assert _verbs(seen) == ["SELECT", "UPDATE", "UPDATE"]
    async with db.session() as session:
        assert await runs.take_interrupted(session) == []
