"""Migration 0003 (channel identity) keeps every row of a database filled at revision 0002.

Members' Telegram ids, usernames and last update ids become ``channel_accounts`` rows; evidence
file ids become ``evidence_channel_files`` rows; every other row and column is untouched; the
application finds the members and files through the new tables; and the downgrade gives back
exactly the database it started from.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.orm import selectinload

from core.enums import Channel
from storage.db import Database
from storage.members import member_by_address
from storage.migrate import alembic_config, upgrade
from storage.models import Activity, Evidence, Member
from storage.reports import has_evidence_unique
from tests.accounts import at_telegram, tg

T0 = datetime(2021, 11, 3, 2, 30)  # naive UTC, as stored
BIG = 7_123_456_789  # Telegram ids no longer fit in 32 bits

ROWS: dict[str, list[dict[str, Any]]] = {
    "districts": [
        {"id": 1, "name": "锦江区", "sort_order": 1},
        {"id": 2, "name": "青羊区", "sort_order": 2},
    ],
    "district_figures": [
        {
            "id": 1,
            "district_id": 1,
            "year": 2021,
            "local_enterprises": 120,
            "tech_enterprises": 30,
            "zones": 2,
            "updated_at": T0,
        }
    ],
    "organisations": [
        {
            "id": 1,
            "district_id": 1,
            "kind": "enterprise",
            "name": "成都某某科技有限公司科协",
            "approval_no": "锦科协〔2020〕1号",
            "approval_date": date(2020, 5, 6),
            "address": "成都市锦江区某路1号",
            "employees": 300,
            "tech_staff": 80,
            "association_members": 60,
            "ownership": "民企",
            "unit_members": None,
            "individual_members": None,
            "secretariat_unit": None,
            "zone_form": None,
            "active": True,
            "created_at": T0,
        }
    ],
    "officers": [
        {
            "id": 1,
            "org_id": 1,
            "role": "chair",
            "name": "张伟",
            "title": "主席",
            "phone": "13800000000",
            "position": 0,
        }
    ],
    "members": [
        {
            "id": 1,
            "telegram_id": 1001,
            "first_name": "王芳",
            "username": "wangfang",
            "language": "zh",
            "unreachable": False,
            "mute_nudges": False,
            "mute_city_summary": False,
            "city_delivery_opt_in": False,
            "last_update_id": 555,
            "created_at": T0,
        },
        {
            "id": 2,
            "telegram_id": BIG,
            "first_name": "Li",
            "username": None,
            "language": "en",
            "unreachable": True,
            "mute_nudges": True,
            "mute_city_summary": True,
            "city_delivery_opt_in": True,
            "last_update_id": None,
            "created_at": T0,
        },
        {
            "id": 3,
            "telegram_id": 1003,
            "first_name": "",
            "username": "admin_3",
            "language": "zh",
            "unreachable": False,
            "mute_nudges": False,
            "mute_city_summary": False,
            "city_delivery_opt_in": False,
            "last_update_id": 2**40,
            "created_at": T0,
        },
    ],
    "invites": [
        {
            "id": 1,
            "token": "tok-reporter",
            "role": "reporter",
            "org_id": 1,
            "district_id": None,
            "max_uses": 20,
            "uses": 1,
            "expires_at": T0,
            "revoked_at": None,
            "created_by": 3,
            "created_at": T0,
        }
    ],
    "memberships": [
        {
            "id": 1,
            "member_id": 1,
            "role": "reporter",
            "org_id": 1,
            "district_id": None,
            "active": True,
            "invite_id": 1,
            "created_at": T0,
            "revoked_at": None,
        },
        {
            "id": 2,
            "member_id": 2,
            "role": "reporter",
            "org_id": 1,
            "district_id": None,
            "active": False,
            "invite_id": None,
            "created_at": T0,
            "revoked_at": T0,
        },
        {
            "id": 3,
            "member_id": 3,
            "role": "district_admin",
            "org_id": None,
            "district_id": 1,
            "active": True,
            "invite_id": None,
            "created_at": T0,
            "revoked_at": None,
        },
    ],
    "plans": [
        {
            "id": 1,
            "org_id": 1,
            "member_id": 1,
            "name": "科普讲座",
            "planned_date": date(2021, 11, 10),
            "cancelled": False,
            "created_at": T0,
        }
    ],
    "activities": [
        {
            "id": 1,
            "org_id": 1,
            "author_id": 1,
            "status": "submitted",
            "activity_date": date(2021, 11, 1),
            "name": "科技工作者日座谈会",
            "content": "座谈交流",
            "role": "主办",
            "headcount": 40,
            "outcome": "形成建议3条",
            "category": None,
            "ref_no": "JJ-2021-0001",
            "submitted_at": T0,
            "on_time": True,
            "late_days": 0,
            "plan_id": 1,
            "version": 3,
            "created_at": T0,
            "updated_at": T0,
        },
        {
            "id": 2,
            "org_id": 1,
            "author_id": 2,
            "status": "draft",
            "activity_date": None,
            "name": None,
            "content": None,
            "role": None,
            "headcount": None,
            "outcome": None,
            "category": None,
            "ref_no": None,
            "submitted_at": None,
            "on_time": None,
            "late_days": 0,
            "plan_id": None,
            "version": 1,
            "created_at": T0,
            "updated_at": T0,
        },
    ],
    "evidence": [
        {
            "id": 1,
            "activity_id": 1,
            "sha256": "a" * 64,
            "kind": "photo",
            "file_name": None,
            "mime_type": "image/jpeg",
            "size": 123456,
            "telegram_file_id": "AgACAgUAAxkBAAIBZ2F",
            "telegram_unique_id": "AQADxyz1",
            "media_group_id": "13572468",
            "position": 0,
            "created_at": T0,
        },
        {
            "id": 2,
            "activity_id": 1,
            "sha256": "b" * 64,
            "kind": "document",
            "file_name": "签到表.pdf",
            "mime_type": "application/pdf",
            "size": 2048,
            "telegram_file_id": "BQACAgUAAxkBAAIBaGF",
            "telegram_unique_id": "AgADabc2",
            "media_group_id": None,
            "position": 1,
            "created_at": T0,
        },
        {  # imported without a Telegram file (no file ids): no side row
            "id": 3,
            "activity_id": 2,
            "sha256": "c" * 64,
            "kind": "photo",
            "file_name": None,
            "mime_type": "image/png",
            "size": 10,
            "telegram_file_id": None,
            "telegram_unique_id": None,
            "media_group_id": None,
            "position": 0,
            "created_at": T0,
        },
    ],
    "audit_log": [
        {
            "id": 1,
            "activity_id": 1,
            "member_id": 1,
            "action": "edit",
            "field": "headcount",
            "old_value": "30",
            "new_value": "40",
            "at": T0,
        }
    ],
    "chat_states": [
        {
            "member_id": 2,
            "flow": "report",
            "step": "name",
            "activity_id": 2,
            "data": {"editing": False, "split_until": None},
            "updated_at": T0,
        }
    ],
    "annual_deadlines": [{"year": 2021, "deadline": date(2021, 11, 30)}],
    "outbox": [
        {
            "id": 1,
            "key": "report:1:submitted:3",
            "member_id": 3,
            "chat_id": 1003,
            "kind": "report_submitted",
            "payload": {"text": "<b>科技工作者日座谈会</b>", "buttons": [["查看", "rep:1"]]},
            "status": "sent",
            "attempts": 1,
            "next_attempt_at": T0,
            "created_at": T0,
            "sent_at": T0,
            "telegram_message_id": 9_000_000_001,
            "last_error": None,
        },
        {
            "id": 2,
            "key": "nudge:1:2021-11",
            "member_id": 2,
            "chat_id": BIG,
            "kind": "nudge",
            "payload": {},
            "status": "blocked",
            "attempts": 2,
            "next_attempt_at": T0,
            "created_at": T0,
            "sent_at": None,
            "telegram_message_id": None,
            "last_error": "Forbidden: bot was blocked by the user",
        },
    ],
    "export_jobs": [
        {
            "id": 1,
            "member_id": 3,
            "scope": "district:1:2021",
            "status": "done",
            "started_at": T0,
            "finished_at": T0,
        }
    ],
}

DROPPED = {
    "members": {"telegram_id", "username", "last_update_id"},
    "evidence": {"telegram_file_id", "telegram_unique_id"},
}
NEW_TABLES = {"channel_accounts", "evidence_channel_files"}


async def _tables(conn: AsyncConnection) -> dict[str, sa.Table]:
    meta = sa.MetaData()
    await conn.run_sync(meta.reflect)
    return {name: table for name, table in meta.tables.items() if name != "alembic_version"}


async def _dump(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, ordered by primary key, as plain dicts."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            out = {}
            for name, table in (await _tables(conn)).items():
                rows = await conn.execute(sa.select(table).order_by(*table.primary_key.columns))
                out[name] = [dict(row._mapping) for row in rows]
            return out
    finally:
        await engine.dispose()


async def _fill(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            tables = await _tables(conn)
            assert set(ROWS) == set(tables), "the fixture must cover every table of 0002"
            for name, rows in ROWS.items():  # in foreign-key order
                await conn.execute(tables[name].insert(), rows)
    finally:
        await engine.dispose()


async def _downgrade(url: str, revision: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)


async def _current(url: str) -> str | None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_upgrade_keeps_every_row(backend: str | None, tmp_path: Path) -> None:
    url = backend or f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(upgrade, url, "0002")  # Alembic runs its own event loop
    await _fill(url)
    before = await _dump(url)
    assert before == ROWS  # what went in is what 0002 holds (types round-trip)

    await asyncio.to_thread(upgrade, url, "0003")
    assert await _current(url) == "0003"
    after = await _dump(url)

    assert set(after) == set(before) | NEW_TABLES
    for name, rows in before.items():
        dropped = DROPPED.get(name, set())
        expected = [{k: v for k, v in row.items() if k not in dropped} for row in rows]
        assert after[name] == expected, name

    accounts = {
        (a["member_id"], a["channel"], a["external_id"], a["username"], a["last_update_id"])
        for a in after["channel_accounts"]
    }
    assert accounts == {
        (m["id"], "telegram", str(m["telegram_id"]), m["username"], m["last_update_id"])
        for m in ROWS["members"]
    }
    assert all(a["created_at"] == T0 for a in after["channel_accounts"])
    assert after["evidence_channel_files"] == [
        {
            "evidence_id": e["id"],
            "channel": "telegram",
            "file_id": e["telegram_file_id"],
            "file_unique_id": e["telegram_unique_id"],
        }
        for e in ROWS["evidence"]
        if e["telegram_file_id"] is not None
    ]

    # The application reaches the same people and files through the new tables. The models are
    # the latest ones, so the later migrations (0004 review, …) run first; they add columns, and
    # 0006 turns the outbox's chat ids into addresses (its own test: test_migration_0006.py).
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        async with db.session() as session:
            big = await member_by_address(session, tg(BIG))
            assert big is not None and big.id == 2 and big.language == "en"
            account = big.account(Channel.TELEGRAM)
            assert big.address() == tg(BIG) and account is not None
            assert account.username is None
            first = await member_by_address(session, tg(1001))
            first_account = first.account(Channel.TELEGRAM) if first is not None else None
            assert first is not None and first_account is not None
            assert (first.id, first_account.last_update_id) == (1, 555)
            assert await member_by_address(session, tg(1002)) is None
            by_query = await session.scalar(sa.select(Member.id).where(at_telegram(1003)))
            assert by_query == 3
            activity = await session.get(
                Activity,
                1,
                options=[selectinload(Activity.evidence).selectinload(Evidence.channel_files)],
            )
            assert activity is not None
            assert [e.file_id_for(Channel.TELEGRAM) for e in activity.evidence] == [
                "AgACAgUAAxkBAAIBZ2F",
                "BQACAgUAAxkBAAIBaGF",
            ]
            assert await has_evidence_unique(session, 1, "AgADabc2")
            assert not await has_evidence_unique(session, 2, "AgADabc2")
    finally:
        await db.dispose()

    # And back: the downgrade restores exactly the database it started from.
    await _downgrade(url, "0002")
    assert await _current(url) == "0002"
    assert await _dump(url) == before
