"""Whether a member can be written to: Telegram tells us when they block or unblock the bot.

A ``my_chat_member`` update in the private chat says the user blocked the bot (new status
``kicked``) or unblocked it (``member``). Blocking marks the member unreachable, so nothing is
queued for or sent to them; unblocking clears the mark and puts the report deliveries of the
last days they missed back in the queue, in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.address import Address
from scheduler import outbox
from scheduler.rows import DELIVERY_KINDS, Timing
from storage.db import AsyncSession
from storage.members import member_by_address

REACHABLE = frozenset({"member", "administrator", "creator"})
UNREACHABLE = frozenset({"kicked", "left"})


@dataclass(frozen=True)
class Reachability:
    """What one status change did."""

    member_id: int | None  # None: not one of our members (nothing to do)
    reachable: bool | None  # None: a status that says nothing about reachability
    requeued: int = 0  # missed deliveries put back in the queue


def reachable_after(new_status: str) -> bool | None:
    """Whether the bot can write to the user once their chat status is ``new_status``."""
    if new_status in REACHABLE:
        return True
    if new_status in UNREACHABLE:
        return False
    return None


async def chat_status_changed(
    session: AsyncSession, address: Address, new_status: str, now: datetime, timing: Timing
) -> Reachability:
    """Record that the person at ``address`` blocked or unblocked the bot (see module doc)."""
    reachable = reachable_after(new_status)
    member = await member_by_address(session, address)
    if member is None or reachable is None:
        return Reachability(member.id if member else None, reachable)
    member.unreachable = not reachable
    requeued = 0
    if reachable:
        # A delivery is valid for timing.delivery_valid after its event; older rows would only
        # expire at the sender, so they are not even touched.
        since = now - timing.delivery_valid
        requeued = await outbox.requeue_missed(session, member.id, DELIVERY_KINDS, since, now)
    await session.flush()
    return Reachability(member.id, reachable, requeued)
