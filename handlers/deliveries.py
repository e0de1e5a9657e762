"""A report's announcement leaves with the update that caused it: the use case queues it in the
update's own transaction (:func:`services.notices.queue_event_notices`, called by
``services.report`` and ``services.review``), and the chat wakes the sender once that
transaction has committed, so the district admins get the card within seconds, not at the next
minute's tick.
"""

from __future__ import annotations

from handlers.common import Turn


def wake_sender(turn: Turn) -> None:
    """Wake the outbox sender once this update's transaction has committed (what it queued is
    then visible to it), instead of at its next run."""
    front = turn.front

    async def _wake() -> None:
        front.wake_sender()

    # Queued before the replies, so it runs first once the transaction has committed.
    turn.later(_wake)
