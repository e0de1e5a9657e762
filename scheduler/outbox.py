"""The outbox: every scheduled message is a row with a unique key, inserted at most once.

:func:`enqueue` is a portable insert-or-ignore: ``INSERT … ON CONFLICT (key) DO NOTHING`` on
SQLite and PostgreSQL (chosen at runtime from the session's dialect), and an insert per row
inside a SAVEPOINT that swallows the unique-key violation on any other database. Two ticks,
a restart or two processes deriving the same message therefore store one row.

The sender's side (claiming due rows, recording the outcome) lives here too, so every SQL
statement about the outbox is in one module. Several senders (processes, instances) may drain one
database, each from its own, possibly stale, read of the due rows (a :class:`Claimable`), so every
write a sender makes to a row is one conditional ``UPDATE`` whose row count says whether it
happened:

* :func:`claim` is a compare-and-swap on the row as read: same ``attempts``, still pending (or
  sending with its lease run out) and due (``next_attempt_at <= now``); it counts the attempt and
  sets the lease. On PostgreSQL it goes through ``FOR UPDATE SKIP LOCKED``, so senders of several
  instances never wait for each other's claims. Two senders therefore never both take a row.
* before its claim a sender may hold (:func:`postpone`) or drop (:func:`finish`) a row only if
  the row is still exactly as it read it (the same condition as the claim's, ``claimed=False``):
  a stale copy cannot put back in the queue a row another sender has claimed, or has sent.
* after its claim it records the outcome (:func:`mark_sent`, :func:`postpone`, :func:`finish`,
  ``claimed=True``) only while it still owns the row: status sending and ``attempts`` one more
  than it read. A sender whose lease ran out and was taken over, or that handed the row back,
  writes nothing.

A claim is a lease that runs out, so a sender killed mid-send does not lose the row (it may, in
that one case, be sent twice: the lease is the only way to tell a dead sender from a slow one).
``attempts`` only grows, except when the owner hands the row back without counting the attempt
(a 429: ``postpone(..., refund=True)``); a stale copy then has the row's ``attempts`` again, but
the row is due only at the retry, so the copy cannot take or change it before then, and from
then on it is an ordinary due row.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.address import Address
from core.enums import Channel
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
CHUNK = 90  # rows per INSERT: 10 parameters each stays under every driver's limit


@dataclass(frozen=True)
class OutRow:
    """A message to store: what the tick decided, as a message kind and its parameters."""

    key: str
    to: Address  # the chat it goes to
    kind: str
    payload: dict[str, Any]
    member_id: int | None = None
    not_before: datetime | None = None


@dataclass(frozen=True)
class Claimable:
    """An outbox row as the sender sees it (a plain copy, detached from any session)."""

    id: int
    key: str
    to: Address
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


async def statuses_under(session: AsyncSession, prefix: str) -> dict[str, str]:
    """The status of every row whose key starts with ``prefix`` (a few: one member's rows)."""
    rows = await session.execute(
        select(OutboxMessage.key, OutboxMessage.status).where(
            OutboxMessage.key.startswith(prefix, autoescape=True)
        )
    )
    return {key: status for key, status in rows.all()}


async def enqueue(
    session: AsyncSession, rows: Sequence[OutRow], now: datetime, *, sent: bool = False
) -> int:
    """Insert each row whose key is new; return how many were inserted.

    ``sent``: the rows record messages their caller sends itself (no sender ever takes them);
    the unique key still lets exactly one of several processes deciding the same one store it
    and so know that it is the one to send it."""
    if not rows:
        return 0
    values = [
        {
            "key": r.key,
            "member_id": r.member_id,
            "channel": r.to.channel,
            "address": r.to.external_id,
            "kind": r.kind,
            "payload": r.payload,
            "status": SENT if sent else PENDING,
            "attempts": 0,
            "next_attempt_at": r.not_before or now,
            "created_at": now,
        }
        # Only sent rows take an 11th parameter: 90 rows of 10 stay under old SQLite's 999.
        | ({"sent_at": now} if sent else {})
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
    session: AsyncSession,
    now: datetime,
    limit: int,
    exclude_chats: Collection[Address] = (),
    channels: Collection[str] | None = None,
) -> list[Claimable]:
    """Rows ready to send (pending and due, or claimed by a sender whose lease ran out), of
    ``channels`` (the ones the sender has a messenger for; None: any)."""
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
    if channels is not None:
        query = query.where(OutboxMessage.channel.in_(list(channels)))
    if exclude_chats:
        query = query.where(
            tuple_(OutboxMessage.channel, OutboxMessage.address).not_in(
                [(a.channel.value, a.external_id) for a in exclude_chats]
            )
        )
    rows = await session.execute(query)
    return [
        Claimable(
            id=m.id,
            key=m.key,
            to=Address(Channel(m.channel), m.address),
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


def _as_read(row: Claimable, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The row is still as the sender read it: nobody claimed it (or, the lease having run out,
    claimed it again), handed it back or decided its fate since, and it is due.

    ``attempts`` grows with every claim; ``due`` keeps out a row that was handed back with the
    ``attempts`` of an older read (a refund) or held until later: both are not due yet."""
    return (
        OutboxMessage.id == row.id,
        OutboxMessage.attempts == row.attempts,
        OutboxMessage.status.in_([PENDING, SENDING]),
        OutboxMessage.next_attempt_at <= now,
    )


def _owned(row: Claimable) -> tuple[ColumnElement[bool], ...]:
    """The sender that claimed ``row`` (as read) still holds it: nobody took it over after the
    lease ran out (that claim counts another attempt) and it was not handed back."""
    return (
        OutboxMessage.id == row.id,
        OutboxMessage.attempts == row.attempts + 1,
        OutboxMessage.status == SENDING,
    )


def _guard(row: Claimable, now: datetime | None, claimed: bool) -> tuple[ColumnElement[bool], ...]:
    if claimed:
        return _owned(row)
    if now is None:
        raise ValueError("a write before the claim needs the sender's now (the row must be due)")
    return _as_read(row, now)


def _count(result: Any) -> int:
    """Rows a write changed (drivers that cannot tell say -1 or nothing: counted as none)."""
    return max(getattr(result, "rowcount", 0) or 0, 0)


async def claim(session: AsyncSession, row: Claimable, now: datetime) -> bool:
    """Take the row for this sender until ``now + LEASE``; False when it is no longer as read
    (another sender got there first, or it is not due)."""
    still_claimable = _as_read(row, now)
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
    return _count(result) == 1


async def status_of(session: AsyncSession, key: str) -> str | None:
    """The status of the row with ``key`` (None when there is none)."""
    return await session.scalar(select(OutboxMessage.status).where(OutboxMessage.key == key))


async def mark_sent(
    session: AsyncSession, row: Claimable, now: datetime, message_ref: str | None
) -> bool:
    """Record the delivery of the row this sender claimed and the channel's id of the (first)
    message; False when the sender no longer owned it (its lease ran out and another sender
    took it over)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(*_owned(row))
        .values(status=SENT, sent_at=now, message_ref=message_ref, last_error=None)
    )
    return _count(result) == 1


async def postpone(
    session: AsyncSession,
    row: Claimable,
    when: datetime,
    error: str | None = None,
    *,
    claimed: bool,
    now: datetime | None = None,
    refund: bool = False,
) -> bool:
    """Put the row back in the queue until ``when``; False when it was not this sender's to.

    ``claimed``: the sender claimed the row and still owns it; otherwise (a hold before any
    claim: quiet hours, the message it follows is not sent yet) the row must still be as read
    and due at ``now``. ``refund`` (owner only) does not count the attempt.
    """
    values: dict[str, Any] = {"status": PENDING, "next_attempt_at": when, "last_error": error}
    if refund:
        if not claimed:
            raise ValueError("only the sender that claimed a row can refund its attempt")
        values["attempts"] = row.attempts
    result = await session.execute(
        update(OutboxMessage).where(*_guard(row, now, claimed)).values(**values)
    )
    return _count(result) == 1


async def finish(
    session: AsyncSession,
    row: Claimable,
    status: str,
    error: str | None,
    *,
    claimed: bool,
    now: datetime | None = None,
) -> bool:
    """Give up on a row for good (failed, blocked, expired, skipped); False when it was not
    this sender's to (``claimed`` and ``now`` as for :func:`postpone`)."""
    assert status in FINAL
    result = await session.execute(
        update(OutboxMessage)
        .where(*_guard(row, now, claimed))
        .values(status=status, last_error=error)
    )
    return _count(result) == 1


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
    ``attempts`` is left alone: a copy read before the row was given up (older ``attempts``)
    still cannot take it, and the sender that gave it up no longer owns it (it is pending).
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
    return _count(result)
