"""Days the date-sensitive tests run on (no application import: a walk in a fresh process may
use them without loading the Telegram stand-in)."""

from __future__ import annotations

from datetime import date

# The year's edges, for the date-sensitive journeys (``@pytest.mark.parametrize("today",
# EDGE_DAYS)``; the clock fixture in tests/conftest.py runs the test on that day): New Year's day,
# a working day in June, the annual deadline, the day after it, mid-December, New Year's Eve.
EDGE_DAYS = [
    date(2027, 1, 1),
    date(2026, 6, 17),
    date(2026, 11, 30),
    date(2026, 12, 1),
    date(2026, 12, 15),
    date(2026, 12, 31),
]
