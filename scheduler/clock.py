"""The scheduler's notion of "now", injectable so tests can walk simulated days minute by minute.

Everything in ``scheduler/`` asks a :class:`Clock` instead of calling ``datetime.now`` itself.
Production uses :class:`SystemClock`; tests use :class:`ManualClock` (or ``time-machine``, which
``SystemClock`` follows because it reads ``datetime.now``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that can tell the current moment as an aware UTC datetime."""

    def now(self) -> datetime:
        """The current moment (aware, UTC)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current moment (aware, UTC)."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: ``set`` or ``advance``."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The moment the clock was last set to."""
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (aware)."""
        if moment.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new moment."""
        self._now += delta
        return self._now


class ShiftedClock:
    """Real time, moved to another starting moment (benchmarks: "10:00 on a weekday", ticking)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self._offset = start.astimezone(UTC) - datetime.now(UTC)

    def now(self) -> datetime:
        """The real current moment plus the fixed offset."""
        return datetime.now(UTC) + self._offset
