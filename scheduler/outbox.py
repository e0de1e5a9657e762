"""The outbox: every scheduled message is a row with a unique key, inserted at most once.

:func:`enqueue` is a portable insert-or-ignore: ``INSERT … ON CONFLICT (key) DO NOTHING`` on
SQLite and PostgreSQL (chosen at runtime from the session's dialect), and an insert per row
inside a SAVEPOINT that swallows the unique-key violation on any other database. Two ticks,
a restart or two processes deriving the same message therefore store one row.

The sender's side (claiming due rows, recording the outcome) lives here too, so every SQL
statement about the outbox is in one module. A row is claimed by a compare-and-swap on its
``attempts`` counter (on PostgreSQL through ``FOR UPDATE SKIP LOCKED``, so senders of several
instances never wait for each other's claims), so two senders never both send it; a claim
is a lease that runs out, so a sender killed mid-send does not lose the row (it may, in that
one case, be sent twice).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, OutboxMessage

PENDING = "pending"
SENDING = "sending"  # claimed by a sender; reclaimable once next_attempt_at (the lease) passed
SENT = "sent"
FAILED = "failed"  # permanent error or too many attempts
BLOCKED = "blocked"  # the member blocked the bot (403)
EXPIRED = "expired"  # its moment passed before it could be sent; a follow-up took over
SKIPPED = "skipped"  # the member became unreachable, or the message it follows failed
FINAL = frozenset({SENT, FAILED, BLOCKED, EXPIRED, SKIPPED})

LEASE = timedelta(minutes=5)
CHUNK = 100  # rows per INSERT: 9 parameters each stays under every driver's limit


@dataclass(frozen=True)
class OutRow:
    """A message to store: what the tick decided, as a message kind and its parameters."""

    key: str
    chat_id: int
    kind: str
    payload: dict[str, Any]
    member_id: int | None = None
    not_before: datetime | None = None


@dataclass(frozen=True)
class Claimable:
    """An outbox row as the sender sees it (a plain copy, detached from any session)."""

    id: int
    key: str
    chat_id: int
    member_id: int | None
    kind: str
    payload: dict[str, Any] = field(hash=False)
    attempts: int
    unreachable: bool
    language: str = "zh"  # the recipient's, now: the row is rendered in it when sent


async def existing_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are already in the outbox (saves rendering what is already queued)."""
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = list(keys[i : i + 500])
        rows = await session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(chunk)))
        found.update(rows.all())
    return found


async def enqueue(session: AsyncSession, rows: Sequence[OutRow], now: datetime) -> int:
    """Insert each row whose key is new; return how many were inserted."""
    if not rows:
        return 0
    values = [
        {
            "key": r.key,
            "member_id": r.member_id,
            "chat_id": r.chat_id,
            "kind": r.kind,
            "payload": r.payload,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": r.not_before or now,
            "created_at": now,
        }
        for r in rows
    ]
    dialect = session.get_bind().dialect.name
    inserted = 0
    if dialect in ("sqlite", "postgresql"):
        make = sqlite.insert if dialect == "sqlite" else postgresql.insert
        for i in range(0, len(values), CHUNK):
            stmt = make(OutboxMessage).values(values[i : i + CHUNK])
            result = await session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
            inserted += max(getattr(result, "rowcount", 0) or 0, 0)
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
    session: AsyncSession, now: datetime, limit: int, exclude_chats: Collection[int] = ()
) -> list[Claimable]:
    """Rows ready to send (pending and due, or claimed by a sender whose lease ran out)."""
    query = (
        select(OutboxMessage, Member.unreachable, Member.language)
        .outerjoin(Member, Member.id == OutboxMessage.member_id)
        .where(
            or_(OutboxMessage.status == PENDING, OutboxMessage.status == SENDING),
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if exclude_chats:
        query = query.where(OutboxMessage.chat_id.not_in(list(exclude_chats)))
    rows = await session.execute(query)
    return [
        Claimable(
            id=m.id,
            key=m.key,
            chat_id=m.chat_id,
            member_id=m.member_id,
            kind=m.kind,
            payload=dict(m.payload or {}),
            attempts=m.attempts,
            unreachable=bool(unreachable),
            language=language or "zh",
        )
        for m, unreachable, language in rows.all()
    ]


async def next_pending_at(session: AsyncSession) -> datetime | None:
    """When the earliest unsent row becomes due (None when nothing is waiting)."""
    return await session.scalar(
        select(OutboxMessage.next_attempt_at)
        .where(or_(OutboxMessage.status == PENDING, OutboxMessage.status == SENDING))
        .order_by(OutboxMessage.next_attempt_at)
        .limit(1)
    )


async def claim(session: AsyncSession, row: Claimable, now: datetime) -> bool:
    """Take the row for this sender; False when another sender got there first."""
    still_claimable = (
        OutboxMessage.id == row.id,
        OutboxMessage.attempts == row.attempts,
        OutboxMessage.status.in_([PENDING, SENDING]),
    )
    stmt = update(OutboxMessage)
    if session.get_bind().dialect.name == "postgresql":
        # Senders of several instances: a row another transaction is claiming right now is
        # skipped at once instead of waited for (its claim wins; the compare-and-swap stays).
        stmt = stmt.where(
            OutboxMessage.id.in_(
                select(OutboxMessage.id).where(*still_claimable).with_for_update(skip_locked=True)
            )
        )
    else:
        stmt = stmt.where(*still_claimable)
    result = await session.execute(
        stmt.values(status=SENDING, attempts=row.attempts + 1, next_attempt_at=now + LEASE)
    )
    return getattr(result, "rowcount", 0) == 1


async def status_of(session: AsyncSession, key: str) -> str | None:
    """The status of the row with ``key`` (None when there is none)."""
    return await session.scalar(select(OutboxMessage.status).where(OutboxMessage.key == key))


async def mark_sent(
    session: AsyncSession, row_id: int, now: datetime, message_id: int | None
) -> None:
    """Record the delivery and the channel's message id."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(status=SENT, sent_at=now, telegram_message_id=message_id, last_error=None)
    )


async def postpone(
    session: AsyncSession,
    row_id: int,
    when: datetime,
    error: str | None = None,
    *,
    refund: bool = False,
) -> None:
    """Put the row back in the queue until ``when``; ``refund`` does not count the attempt."""
    values: dict[str, Any] = {"status": PENDING, "next_attempt_at": when, "last_error": error}
    if refund:
        values["attempts"] = OutboxMessage.attempts - 1
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))


async def finish(session: AsyncSession, row_id: int, status: str, error: str | None) -> None:
    """Give up on a row for good (failed, blocked, expired, skipped)."""
    assert status in FINAL
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(status=status, last_error=error)
    )


async def mark_unreachable(session: AsyncSession, member_id: int) -> None:
    """The member blocked the bot: stop sending until they talk to it again."""
    await session.execute(update(Member).where(Member.id == member_id).values(unreachable=True))


async def requeue_missed(
    session: AsyncSession, member_id: int, kinds: Collection[str], since: datetime, now: datetime
) -> int:
    """Put back in the queue the member's rows of ``kinds`` queued since ``since`` that were
    never delivered because they had blocked the bot (blocked, or skipped as unreachable).

    The rows keep their keys, so a message is still stored once however often this runs; sent
    rows are never touched, and a row whose moment passed meanwhile expires at the sender.
    ``attempts`` is left alone: it only grows, which keeps :func:`claim`'s compare-and-swap safe.
    """
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.member_id == member_id,
            OutboxMessage.kind.in_(list(kinds)),
            OutboxMessage.status.in_([BLOCKED, SKIPPED]),
            OutboxMessage.created_at >= since,
        )
        .values(status=PENDING, next_attempt_at=now, last_error=None)
    )
    return max(getattr(result, "rowcount", 0) or 0, 0)
