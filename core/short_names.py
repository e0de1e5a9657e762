"""Names short enough for a chart's labels, cut where they say least.

Chengdu's associations are named place first and kind last (``成都市锦江区`` … ``科协``): when
every name on a chart shares those, they tell the reader nothing the chart's title does not,
and cutting the end of the name (``成都市锦江区电子信息产业功…``) throws away the one part that
tells the bars apart. So the shared place prefix and the shared kind suffix go first; a name
still too long is cut in the middle, keeping its beginning and its end.

Widths are counted in half-width units (a Chinese character is two, a Latin letter one), as
they take room on a chart.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

ELLIPSIS = "…"
# A place name ends with one of these (四川省, 成都市, 锦江区, 成都高新区, 大邑县): a shared
# prefix is dropped only up to one of them, so a shared "成都" of 成都市… and 成都高新区… stays.
PLACE_ENDS = "省市区县"
# The kind at the end of an association's name, longest first.
KIND_SUFFIXES = ("科学技术协会", "科协")
MIN_LEFT = 2  # characters a name keeps after its shared prefix and suffix are dropped


def text_width(text: str) -> int:
    """The width of ``text`` in half-width units: wide and full-width characters count two,
    and so do ambiguous ones (…, ·), which a Chinese font draws wide."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def cut_middle(text: str, limit: int) -> str:
    """``text`` within ``limit`` half-width units: its beginning and end kept around an
    ellipsis, the end given no less room than the beginning (where a name differs most, once
    its shared prefix is gone). Unchanged when it fits."""
    if text_width(text) <= limit:
        return text
    room = max(limit - text_width(ELLIPSIS), 0)
    head_room, tail_room = room - room // 2, room // 2
    head = _take(text, head_room).rstrip()
    tail = _take(text[::-1], tail_room)[::-1].lstrip()
    if len(head) + len(tail) >= len(text):  # cannot happen for a text wider than limit
        return text
    return head + ELLIPSIS + tail


def _take(text: str, room: int) -> str:
    """The longest beginning of ``text`` at most ``room`` wide."""
    used = 0
    for i, ch in enumerate(text):
        used += text_width(ch)
        if used > room:
            return text[:i]
    return text


def shared_affixes(names: Sequence[str]) -> tuple[int, int]:
    """How many characters to drop from the start and the end of every name: the longest
    shared prefix ending a place name (:data:`PLACE_ENDS`) and a shared kind suffix
    (:data:`KIND_SUFFIXES`), so long as every name keeps :data:`MIN_LEFT` characters. Nothing is
    shared by fewer than two different names."""
    if len(set(names)) < 2:
        return 0, 0
    common = _common_prefix(names)
    prefixes = [*(i + 1 for i, ch in reversed(list(enumerate(common))) if ch in PLACE_ENDS), 0]
    suffixes = [*(len(s) for s in KIND_SUFFIXES if all(n.endswith(s) for n in names)), 0]
    shortest = min(len(n) for n in names)
    for prefix in prefixes:
        for suffix in suffixes:
            if shortest - prefix - suffix >= MIN_LEFT:
                return prefix, suffix
    return 0, 0  # unreachable: (0, 0) leaves every name whole


def _common_prefix(names: Sequence[str]) -> str:
    """The characters every name starts with."""
    first = min(names)
    last = max(names)  # the two most different in order bound every other name's prefix
    for i, ch in enumerate(first):
        if i >= len(last) or last[i] != ch:
            return first[:i]
    return first


def short_names(names: Sequence[str], limit: int) -> list[str]:
    """``names`` as labels at most ``limit`` half-width units wide: their shared place prefix
    and kind suffix dropped (:func:`shared_affixes`), then each still too long cut in the
    middle (:func:`cut_middle`). In the order given."""
    prefix, suffix = shared_affixes(names)
    return [cut_middle(name[prefix : len(name) - suffix], limit) for name in names]
