"""Transaction-level advisory locks: how several kexie processes on one PostgreSQL take turns.

Each lock is held until the surrounding transaction commits or rolls back, so nothing has to
release it and a killed process releases it with its connection. SQLite needs none of this (one
process writes at a time through ``storage.db``'s writer lock), so there these are no-ops.

Keys: a chat's lock is the single 64-bit key, a hash of its address (channel and the channel's
id of the chat, :func:`chat_key`), so chats of every channel share one key space without a
table of their own; other locks use the two-32-bit-key form, whose key space PostgreSQL keeps
apart from the 64-bit one, with the first key naming the kind of lock.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.address import Address

EXPORT_JOBS = 1  # first key of the per-member export-claim lock
REPORT = 2  # first key of the per-report lock of a review decision or resubmission
CHASE = 3  # first key of the per-association lock of a nudge (提醒, 全部提醒)
ORG = 4  # first key of the per-association lock of an edit of its fields
DISTRICT = 5  # first key of the per-district lock: new associations, figures, a registry import

_INT32 = 2**31


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def chat_key(address: Address) -> int:
    """The chat's 64-bit lock key: the first 8 bytes of a BLAKE2b hash of ``channel:id``, as a
    signed integer (PostgreSQL's bigint). Computed here rather than with ``hashtext`` (32 bits):
    two chats sharing a key would only wait for each other, but 64 bits make that practically
    never happen, and every process computes the same key."""
    digest = hashlib.blake2b(f"{address.channel}:{address.external_id}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


# Built once: every update takes the chat's lock (text() parses its statement when built).
_LOCK_ONE = text("SELECT pg_advisory_xact_lock(:key)")
_LOCK_TWO = text("SELECT pg_advisory_xact_lock(:kind, :key)")


async def lock_chat(session: AsyncSession, address: Address) -> None:
    """Wait until no other transaction handles an update of the chat at ``address``, then hold
    the chat until this transaction ends (PostgreSQL; nothing elsewhere)."""
    if _is_postgres(session):
        await session.execute(_LOCK_ONE, {"key": chat_key(address)})


async def lock_pair(session: AsyncSession, kind: int, key: int) -> None:
    """The two-key form: lock ``(kind, key)`` until this transaction ends (PostgreSQL only);
    ``key`` is folded into 32 bits (two keys sharing a lock only ever wait for each other)."""
    if _is_postgres(session):
        folded = (key + _INT32) % (2 * _INT32) - _INT32
        await session.execute(_LOCK_TWO, {"kind": kind, "key": folded})


async def lock_report(session: AsyncSession, report_id: int) -> None:
    """Hold one report until this transaction ends, so its review decisions and resubmissions
    take turns, whichever front they come from (PostgreSQL; on SQLite the writer lock of
    :mod:`storage.db` already makes writers take turns)."""
    await lock_pair(session, REPORT, report_id)
