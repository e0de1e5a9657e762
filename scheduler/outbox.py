"""The outbox: every scheduled message is a row with a unique key, inserted at most once.

:func:`enqueue` is a portable insert-or-ignore: ``INSERT … ON CONFLICT (key) DO NOTHING`` on
SQLite and PostgreSQL (chosen at runtime from the session's dialect), and an insert per row
inside a SAVEPOINT that swallows the unique-key violation on any other database. Two ticks,
a restart or two processes deriving the same message therefore store one row.

The sender's side (claiming due rows, recording the outcome) lives here too, so the whole
protocol is in one module; its statements are in :mod:`storage.outbox`. Several senders
(processes, instances) may drain one database, each from its own, possibly stale, read of the
due rows (a :class:`Claimable`), so every write a sender makes to a row is one conditional
``UPDATE`` whose row count says whether it happened:

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

from core.address import Address
from core.enums import Channel
from storage import outbox as stored
from storage.db import AsyncSession

PENDING = "pending"
SENDING = "sending"  # claimed by a sender; reclaimable once next_attempt_at (the lease) passed
SENT = "sent"
FAILED = "failed"  # permanent error or too many attempts
BLOCKED = "blocked"  # the member blocked the bot (403)
EXPIRED = "expired"  # its moment passed before it could be sent; a follow-up took over
SKIPPED = "skipped"  # the member became unreachable, or the message it follows failed
FINAL = frozenset({SENT, FAILED, BLOCKED, EXPIRED, SKIPPED})
WAITING = (PENDING, SENDING)  # a sender may take it (a sending row once its lease ran out)

LEASE = timedelta(minutes=5)


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
        # Only sent rows take an 11th parameter: storage.outbox.CHUNK rows of 10 stay under old
        # SQLite's 999.
        | ({"sent_at": now} if sent else {})
        for r in rows
    ]
    return await stored.insert_new(session, values)


async def due_rows(
    session: AsyncSession,
    now: datetime,
    limit: int,
    exclude_chats: Collection[Address] = (),
    channels: Collection[str] | None = None,
) -> list[Claimable]:
    """Rows ready to send (pending and due, or claimed by a sender whose lease ran out), of
    ``channels`` (the ones the sender has a messenger for; None: any)."""
    excluded = [(a.channel.value, a.external_id) for a in exclude_chats]
    rows = await stored.due_rows(session, now, limit, WAITING, excluded, channels)
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
        for m, unreachable, language in rows
    ]


async def next_pending_at(session: AsyncSession) -> datetime | None:
    """When the earliest unsent row becomes due (None when nothing is waiting)."""
    return await stored.earliest_due(session, WAITING)


async def _write(
    session: AsyncSession,
    row: Claimable,
    values: dict[str, Any],
    *,
    claimed: bool,
    now: datetime | None,
) -> bool:
    """Write ``values`` to the row if this sender may (see the module doc).

    Before the claim, the row must still be as the sender read it: nobody claimed it (or, the
    lease having run out, claimed it again), handed it back or decided its fate since, and it
    is due. ``attempts`` grows with every claim; ``due`` keeps out a row that was handed back
    with the ``attempts`` of an older read (a refund) or held until later: both are not due
    yet. After the claim, the sender must still own it: nobody took it over after the lease
    ran out (that claim counts another attempt) and it was not handed back."""
    if claimed:
        return await stored.update_if_held(session, row.id, row.attempts + 1, SENDING, values)
    if now is None:
        raise ValueError("a write before the claim needs the sender's now (the row must be due)")
    return await stored.update_if_as_read(session, row.id, row.attempts, WAITING, now, values)


async def claim(session: AsyncSession, row: Claimable, now: datetime) -> bool:
    """Take the row for this sender until ``now + LEASE``; False when it is no longer as read
    (another sender got there first, or it is not due)."""
    # Senders of several instances (PostgreSQL): a row another transaction is claiming right
    # now is skipped at once instead of waited for (its claim wins; the compare-and-swap stays).
    return await stored.update_if_as_read(
        session,
        row.id,
        row.attempts,
        WAITING,
        now,
        {"status": SENDING, "attempts": row.attempts + 1, "next_attempt_at": now + LEASE},
        skip_locked=True,
    )


async def mark_sent(
    session: AsyncSession, row: Claimable, now: datetime, message_ref: str | None
) -> bool:
    """Record the delivery of the row this sender claimed and the channel's id of the (first)
    message; False when the sender no longer owned it (its lease ran out and another sender
    took it over)."""
    values = {"status": SENT, "sent_at": now, "message_ref": message_ref, "last_error": None}
    return await _write(session, row, values, claimed=True, now=None)


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
    return await _write(session, row, values, claimed=claimed, now=now)


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
    values = {"status": status, "last_error": error}
    return await _write(session, row, values, claimed=claimed, now=now)


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
    values = {"status": PENDING, "next_attempt_at": now, "last_error": None}
    return await stored.requeue(session, member_id, kinds, (BLOCKED, SKIPPED), since, values)
