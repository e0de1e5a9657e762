"""Numbers from a console URL or form, read one way for every page.

``str.isdigit()`` accepts ``²`` (which ``int()`` refuses: a 500) and ``int()`` reads ``٣`` and
numbers no database integer holds (an overflow inside the query: a 500). Here a number is
1 to 18 ASCII digits within the range the caller gives; anything else is no number: a path id
answers 404 as a missing one, a query filter is ignored.
"""

from __future__ import annotations

import re
from typing import Any

from web.page import not_found

MAX_ID = 2**63 - 1  # SQLite's and PostgreSQL's largest integer
_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only; 18 digits always fit MAX_ID


def number(value: Any, low: int = 1, high: int = MAX_ID) -> int | None:
    """``value`` (a query or form string, or a path's already converted int) as a whole number
    in ``low``…``high``; None for anything else (``²``, ``-1``, ``1e3``, 20 digits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        found = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        found = int(value)
    else:
        return None
    return found if low <= found <= high else None


def path_id(value: Any) -> int:
    """A path's id; one that cannot be an id (0, too large for the database) is not found."""
    found = number(value)
    if found is None:
        raise not_found()
    return found
