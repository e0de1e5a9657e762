"""Migration 0004 (review): submitted reports become pending with their first submission
remembered; drafts and withdrawn reports get no review state; the downgrade drops the columns."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from storage.migrate import alembic_config, upgrade


async def test_submitted_reports_become_pending(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    await asyncio.to_thread(upgrade, url, "0003")
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("INSERT INTO districts (id, name, sort_order) VALUES (1, '锦江区', 1);")
        )
        await conn.execute(
            sa.text(
                "INSERT INTO organisations (id, district_id, kind, name, active, created_at) "
                "VALUES (1, 1, 'enterprise', '甲科协', 1, '2026-11-01 00:00:00')"
            )
        )
        await conn.execute(
            sa.text(
                "INSERT INTO members (id, first_name, language, unreachable, mute_nudges, "
                "mute_city_summary, city_delivery_opt_in, created_at) "
                "VALUES (1, '王', 'zh', 0, 0, 0, 0, '2026-11-01 00:00:00')"
            )
        )
        for activity_id, status, submitted in (
            (1, "submitted", "'2026-11-02 06:00:00'"),
            (2, "draft", "NULL"),
            (3, "withdrawn", "'2026-11-03 06:00:00'"),
        ):
            await conn.execute(
                sa.text(
                    "INSERT INTO activities (id, org_id, author_id, status, submitted_at, "
                    "late_days, version, created_at, updated_at) VALUES "
                    f"({activity_id}, 1, 1, '{status}', {submitted}, 0, 1, "
                    "'2026-11-01 00:00:00', '2026-11-01 00:00:00')"
                )
            )
    await asyncio.to_thread(upgrade, url, "0004")
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.text("SELECT id, review_state, first_submitted_at FROM activities ORDER BY id")
            )
        ).all()
    assert [(r[0], r[1]) for r in rows] == [(1, "pending"), (2, None), (3, None)]
    assert str(rows[0][2]).startswith("2026-11-02 06:00:00") and rows[1][2] is None
    assert str(rows[2][2]).startswith("2026-11-03 06:00:00")
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0003")
    async with engine.connect() as conn:
        columns = (await conn.execute(sa.text("PRAGMA table_info(activities)"))).all()
    assert "review_state" not in {c[1] for c in columns}
    await engine.dispose()
