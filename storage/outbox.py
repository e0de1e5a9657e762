"""The outbox rows' statements: the reads and writes of :mod:`scheduler.outbox`, which owns the
protocol (the statuses, who may write a row when) and passes the statuses each statement
matches. Every write is one statement whose row count says whether it happened.

The insert is portable insert-or-ignore: ``INSERT … ON CONFLICT (key) DO NOTHING`` on SQLite
and PostgreSQL (chosen at runtime from the session's dialect), and an insert per row inside a
SAVEPOINT that swallows the unique-key violation on any other database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, OutboxMessage

CHUNK = 90  # rows per INSERT: 10 parameters each stays under every driver's limit
KEYS_CHUNK = 500  # keys per IN (…) of existing_keys


def _count(result: Any) -> int:
    """Rows a write changed (drivers that cannot tell say -1 or nothing: counted as none)."""
    return max(getattr(result, "rowcount", 0) or 0, 0)


def _any_status(statuses: Collection[str]) -> ColumnElement[bool]:
    """``status = a OR status = b …``: the waiting rows' test of the sender's reads."""
    return or_(*(OutboxMessage.status == status for status in statuses))


async def existing_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are already in the outbox."""
    found: set[str] = set()
    for i in range(0, len(keys), KEYS_CHUNK):
        chunk = list(keys[i : i + KEYS_CHUNK])
        rows = await session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(chunk)))
        found.update(rows.all())
    return found


async def statuses_under(session: AsyncSession, prefix: str) -> dict[str, str]:
    """The status of every row whose key starts with ``prefix``."""
    rows = await session.execute(
        select(OutboxMessage.key, OutboxMessage.status).where(
            OutboxMessage.key.startswith(prefix, autoescape=True)
        )
    )
    return {key: status for key, status in rows.all()}


async def status_of(session: AsyncSession, key: str) -> str | None:
    """The status of the row with ``key`` (None when there is none)."""
    return await session.scalar(select(OutboxMessage.status).where(OutboxMessage.key == key))


async def insert_new(session: AsyncSession, values: Sequence[dict[str, Any]]) -> int:
    """Insert each row (column values) whose key is not in the outbox yet; return how many
    were inserted."""
    dialect = session.get_bind().dialect.name
    inserted = 0
    if dialect in ("sqlite", "postgresql"):
        make = sqlite.insert if dialect == "sqlite" else postgresql.insert
        for i in range(0, len(values), CHUNK):
            stmt = make(OutboxMessage).values(list(values[i : i + CHUNK]))
            result = await session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
            inserted += _count(result)
        return inserted
    for value in values:  # any other database: one SAVEPOINT per row
        try:
            async with session.begin_nested():
                await session.execute(insert(OutboxMessage).values(value))
            inserted += 1
        except IntegrityError:
            pass
    return inserted


async def due_rows(
    session: AsyncSession,
    now: datetime,
    limit: int,
    statuses: Collection[str],
    exclude_chats: Collection[tuple[str, str]] = (),
    channels: Collection[str] | None = None,
) -> list[tuple[OutboxMessage, bool | None, str | None]]:
    """Rows in one of ``statuses`` due by ``now``, oldest first, of ``channels`` (None: any)
    and not to the ``(channel, address)`` chats excluded, each with its member's
    ``unreachable`` and ``language`` (None without a member)."""
    query = (
        select(OutboxMessage, Member.unreachable, Member.language)
        .outerjoin(Member, Member.id == OutboxMessage.member_id)
        .where(_any_status(statuses), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if channels is not None:
        query = query.where(OutboxMessage.channel.in_(list(channels)))
    if exclude_chats:
        query = query.where(
            tuple_(OutboxMessage.channel, OutboxMessage.address).not_in(list(exclude_chats))
        )
    rows = await session.execute(query)
    return [(m, unreachable, language) for m, unreachable, language in rows.all()]


async def earliest_due(session: AsyncSession, statuses: Collection[str]) -> datetime | None:
    """When the earliest row in one of ``statuses`` becomes due (None: there is none)."""
    return await session.scalar(
        select(OutboxMessage.next_attempt_at)
        .where(_any_status(statuses))
        .order_by(OutboxMessage.next_attempt_at)
        .limit(1)
    )


async def update_if_as_read(
    session: AsyncSession,
    row_id: int,
    attempts: int,
    statuses: Collection[str],
    now: datetime,
    values: dict[str, Any],
    *,
    skip_locked: bool = False,
) -> bool:
    """Set ``values`` on the row if it still has ``attempts``, one of ``statuses`` and is due
    by ``now`` (a compare-and-swap on the row as read); True when it did.

    ``skip_locked``: on PostgreSQL, through ``FOR UPDATE SKIP LOCKED``, so that a row another
    transaction is writing right now is skipped at once instead of waited for (the other write
    wins; the compare-and-swap stays)."""
    as_read = (
        OutboxMessage.id == row_id,
        OutboxMessage.attempts == attempts,
        OutboxMessage.status.in_(list(statuses)),
        OutboxMessage.next_attempt_at <= now,
    )
    stmt = update(OutboxMessage)
    if skip_locked and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.where(
            OutboxMessage.id.in_(
                select(OutboxMessage.id).where(*as_read).with_for_update(skip_locked=True)
            )
        )
    else:
        stmt = stmt.where(*as_read)
    return _count(await session.execute(stmt.values(**values))) == 1


async def update_if_held(
    session: AsyncSession, row_id: int, attempts: int, status: str, values: dict[str, Any]
) -> bool:
    """Set ``values`` on the row if it still has ``attempts`` and ``status`` (its claimer
    still holds it); True when it did."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row_id,
            OutboxMessage.attempts == attempts,
            OutboxMessage.status == status,
        )
        .values(**values)
    )
    return _count(result) == 1


async def mark_unreachable(session: AsyncSession, member_id: int) -> None:
    """The member blocked the bot: nothing is queued for or sent to them until they are
    reachable again."""
    await session.execute(update(Member).where(Member.id == member_id).values(unreachable=True))


async def requeue(
    session: AsyncSession,
    member_id: int,
    kinds: Collection[str],
    statuses: Collection[str],
    since: datetime,
    values: dict[str, Any],
) -> int:
    """Set ``values`` on the member's rows of ``kinds`` in one of ``statuses`` created since
    ``since``; return how many."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.member_id == member_id,
            OutboxMessage.kind.in_(list(kinds)),
            OutboxMessage.status.in_(list(statuses)),
            OutboxMessage.created_at >= since,
        )
        .values(**values)
    )
    return _count(result)
