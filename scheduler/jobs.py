"""The tick and the sender, as plain objects on a database, settings, a clock and a messenger.

Each tick derives from the database what is due now (:mod:`scheduler.reminders`), turns it into
a message kind and its parameters (:mod:`scheduler.messages`) and stores it in the outbox under
its unique key (:mod:`scheduler.outbox`); the sender (:mod:`scheduler.sender`) renders and sends
what is due through each channel's :class:`~scheduler.messenger.Messenger` within its limits. Both
are safe to run in several processes at once. What runs them periodically (python-telegram-bot's
JobQueue) is wired in ``bot/jobs.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.enums import Channel
from core.settings import Settings
from scheduler import outbox
from scheduler.clock import Clock, SystemClock
from scheduler.messages import rows_for
from scheduler.messenger import Messenger
from scheduler.reminders import due_now, is_quiet
from scheduler.rows import Timing
from scheduler.sender import Sender
from scheduler.snapshot import load_snapshot
from storage import outbox as stored_outbox
from storage.db import Database
from storage.evidence import open_evidence_store


@dataclass
class TickResult:
    """What one tick found and stored."""

    due: int = 0  # items due now (already queued ones included)
    enqueued: int = 0  # outbox rows inserted by this tick


class Scheduler:
    """Derives due messages from the database and stores them in the outbox."""

    def __init__(self, db: Database, settings: Settings, clock: Clock | None = None) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock or SystemClock()
        self.timing = Timing.from_settings(settings)

    async def tick(self, now: datetime | None = None) -> TickResult:
        """One pass: everything due at ``now`` (default: the clock) ends up in the outbox once."""
        now = now or self.clock.now()
        if is_quiet(now, self.timing):
            return TickResult()  # nothing is emitted at night: skip the queries
        async with self.db.session() as session:
            snap = await load_snapshot(session, now, self.timing)
            due = due_now(snap, now, self.timing)
            if not due:
                return TickResult()
            queued = await stored_outbox.existing_keys(session, [d.key for d in due])
            rows = []
            for item in due:
                if item.key not in queued:
                    rows += await rows_for(
                        session, item, snap.people[item.member_id], self.timing, now
                    )
            inserted = await outbox.enqueue(session, rows, now)
        return TickResult(due=len(due), enqueued=inserted)

    def sender(self, messengers: Mapping[Channel, Messenger], **kwargs: Any) -> Sender:
        """A sender through ``messengers`` (one per channel) for this scheduler's database,
        clock and quiet hours."""
        return Sender(
            self.db,
            messengers,
            clock=self.clock,
            timing=self.timing,
            evidence=open_evidence_store(self.settings),
            **kwargs,
        )
