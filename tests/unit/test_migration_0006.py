"""Migration 0006 (neutral outbox) keeps every outbox row of a database at revision 0005.

Each row's Telegram chat id becomes the address ``("telegram", "<chat id>")`` and its Telegram
message id the text ``message_ref``; every other column is untouched; the sender reads the rows
as addresses; and the downgrade gives back exactly the database it started from. A row of
another channel cannot go back to 0005: the downgrade refuses instead of losing it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from scheduler import outbox
from storage.db import Database
from storage.migrate import alembic_config, upgrade
from tests.accounts import tg

T0 = datetime(2021, 11, 3, 2, 30)  # naive UTC, as stored
BIG = 7_123_456_789  # Telegram ids no longer fit in 32 bits
LATER = datetime(2030, 1, 1, tzinfo=UTC)

MEMBER = {
    "id": 1,
    "first_name": "陈静",
    "language": "zh",
    "unreachable": False,
    "mute_nudges": False,
    "mute_city_summary": False,
    "city_delivery_opt_in": False,
    "daily_digest": False,
    "created_at": T0,
}
ACCOUNT = {
    "id": 1,
    "member_id": 1,
    "channel": "telegram",
    "external_id": str(BIG),
    "username": "chenjing",
    "last_update_id": 555,
    "created_at": T0,
}
OUTBOX = [
    {
        "id": 1,
        "key": "report:1:submitted:1",
        "member_id": 1,
        "chat_id": BIG,
        "kind": "report_submitted",
        "payload": {"message": "report_submitted", "params": {"activity": 1}},
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
        "member_id": 1,
        "chat_id": BIG,
        "kind": "quiet_nudge",
        "payload": {},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": T0,
        "created_at": T0,
        "sent_at": None,
        "telegram_message_id": None,
        "last_error": None,
    },
    {  # an album's acknowledgement: recorded as sent, no member
        "id": 3,
        "key": "album_ack:42:g:3",
        "member_id": None,
        "chat_id": 42,
        "kind": "album_ack",
        "payload": {},
        "status": "sent",
        "attempts": 0,
        "next_attempt_at": T0,
        "created_at": T0,
        "sent_at": T0,
        "telegram_message_id": None,
        "last_error": None,
    },
]
MOVED = {"chat_id", "telegram_message_id"}


async def _rows(url: str, table: str) -> list[dict[str, Any]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            meta = sa.MetaData()
            await conn.run_sync(meta.reflect, only=[table])
            found = meta.tables[table]
            rows = await conn.execute(sa.select(found).order_by(*found.primary_key.columns))
            return [dict(row._mapping) for row in rows]
    finally:
        await engine.dispose()


async def _fill(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            meta = sa.MetaData()
            await conn.run_sync(meta.reflect)
            await conn.execute(meta.tables["members"].insert(), [MEMBER])
            await conn.execute(meta.tables["channel_accounts"].insert(), [ACCOUNT])
            await conn.execute(meta.tables["outbox"].insert(), OUTBOX)
    finally:
        await engine.dispose()


async def _execute(url: str, sql: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(sql))
    finally:
        await engine.dispose()


async def _downgrade(url: str, revision: str) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_chat_ids_become_addresses_and_come_back(backend: str | None, tmp_path: Path) -> None:
    url = backend or f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(upgrade, url, "0005")  # Alembic runs its own event loop
    await _fill(url)
    before = await _rows(url, "outbox")
    assert before == OUTBOX  # what went in is what 0005 holds (types round-trip)

    await asyncio.to_thread(upgrade, url, "0006")
    after = await _rows(url, "outbox")
    assert [{k: v for k, v in row.items() if k not in MOVED} for row in before] == [
        {k: v for k, v in row.items() if k not in {"channel", "address", "message_ref"}}
        for row in after
    ]
    assert [(r["channel"], r["address"], r["message_ref"]) for r in after] == [
        ("telegram", str(BIG), "9000000001"),
        ("telegram", str(BIG), None),
        ("telegram", "42", None),
    ]
    assert not MOVED & set(after[0])

    # The sender reads the pending row as an address on the Telegram channel.
    db = Database(url)
    try:
        async with db.session() as session:
            (due,) = await outbox.due_rows(session, LATER, 10)
            assert (due.key, due.to) == ("nudge:1:2021-11", tg(BIG))
            assert await outbox.due_rows(session, LATER, 10, channels=[]) == []
    finally:
        await db.dispose()

    # And back: the downgrade restores exactly the rows it started from.
    await _downgrade(url, "0005")
    assert await _rows(url, "outbox") == before


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_a_row_of_another_channel_refuses_the_downgrade(
    backend: str | None, tmp_path: Path
) -> None:
    url = backend or f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    await asyncio.to_thread(upgrade, url, "0005")
    await _fill(url)
    await asyncio.to_thread(upgrade, url, "0006")
    await _execute(url, "UPDATE outbox SET channel = 'wecom', address = 'wx-Zhang' WHERE id = 2")
    with pytest.raises(RuntimeError, match="1 outbox row"):
        await _downgrade(url, "0005")
    rows = await _rows(url, "outbox")  # nothing lost: still at 0006
    assert [(r["channel"], r["address"]) for r in rows][1] == ("wecom", "wx-Zhang")
