"""The report cards the outbox delivered: which message in whose chat carries a report's card.

A reviewer's 通过 / 退回 on a delivery card edits that card with the outcome. Which message it is
(the channel's id of it) and what it said (its kind and parameters, rendered again by the
scheduler) are read here from the outbox row that delivered it, not from the pressed message as
a channel hands it over: a channel may not show the pressed message at all, and a 退回 edits the
card only after its reason arrives, in a later update.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.address import Address
from storage.models import OutboxMessage

PART = "#"  # an outbox key with a part suffix (``#album1``) is one of the card's albums


@dataclass(frozen=True)
class DeliveredCard:
    """An outbox row that put a report's card into a chat: where, the channel's id of the
    message, and the message kind and parameters it was rendered from."""

    to: Address
    message_ref: str
    kind: str
    payload: dict[str, Any] = field(hash=False)


async def delivered_card(
    session: AsyncSession,
    to: Address,
    activity_id: int,
    kinds: Collection[str],
    sent: str,
) -> DeliveredCard | None:
    """The latest card of report ``activity_id`` sent to ``to`` as one of the message
    ``kinds`` (the scheduler's delivery kinds; its keys are ``{kind}:{activity}:…``), or None
    when none was sent there (a digest listed it, or the channel gave no id of the message).
    ``sent`` is the outbox's status of a sent row (the scheduler owns the statuses, as for the
    statements of :mod:`storage.outbox`): only a sent row names a message in the chat."""
    if not kinds:
        return None
    row = await session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == to.channel.value,
            OutboxMessage.address == to.external_id,
            OutboxMessage.kind.in_(list(kinds)),
            or_(
                *(
                    OutboxMessage.key.startswith(f"{kind}:{activity_id}:", autoescape=True)
                    for kind in kinds
                )
            ),
            OutboxMessage.key.not_like(f"%{PART}%"),
            OutboxMessage.status == sent,
            OutboxMessage.message_ref.is_not(None),
        )
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(1)
    )
    if row is None or row.message_ref is None:
        return None
    return DeliveredCard(to, row.message_ref, row.kind, dict(row.payload or {}))
