"""A report's announcement leaves with the update that caused it: queued in the update's own
transaction (:func:`scheduler.immediate.enqueue_deliveries`), and the sender woken once that
transaction has committed, so the district admins get the card within seconds, not at the next
minute's tick.
"""

from __future__ import annotations

from handlers.common import Turn
from scheduler.immediate import enqueue_deliveries
from scheduler.rows import Timing


async def announce(turn: Turn, activity_id: int) -> int:
    """Queue the report's due announcements with this update and wake the sender after the
    commit; returns how many outbox rows were queued."""
    queued = await enqueue_deliveries(
        turn.session, activity_id, Timing.from_settings(turn.settings)
    )
    if queued:
        wake_sender(turn)
    return queued


def wake_sender(turn: Turn) -> None:
    """Wake the outbox sender once this update's transaction has committed (what it queued is
    then visible to it), instead of at its next run."""
    front = turn.front

    async def _wake() -> None:
        front.wake_sender()

    # Queued before the replies, so it runs first once the transaction has committed.
    turn.later(_wake)
