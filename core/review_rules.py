"""Review (审核) and duplicate rules, pure: the review states, a return's reason, and whether
two activity names probably name the same activity."""

from __future__ import annotations

import difflib
import enum
import re
import unicodedata


class ReviewState(enum.StrEnum):
    """Where a submitted report stands with its district (``activities.review_state``)."""

    PENDING = "pending"  # 待审核: on submission, on resubmission, on amending an approved one
    APPROVED = "approved"  # 已通过
    RETURNED = "returned"  # 已退回: with a reason, waiting for a correction


REASON_MIN_CHARS = 4  # a return's reason, in visible characters: "不行" tells the reporter nothing
REASON_MIN_WORDS = 2  # of which CJK characters or letters: "👍👍👍👍" or "1234" says nothing either
REASON_MAX = 500
PENDING_REMIND_DAYS = 2  # pending longer than this: the district admins are reminded daily
# Which review states the annexes include: approved and pending, never returned.
EXPORTED_STATES = (ReviewState.APPROVED, ReviewState.PENDING)
# Letters (category Lo) that render as nothing: the Hangul fillers.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def _invisible(char: str) -> bool:
    """Whether a character shows nothing by itself: whitespace of every kind (U+3000 too),
    control and format characters (Cf: zero-width spaces and joiners, BOM, soft hyphen),
    combining marks (variation selectors) and the blank letters."""
    category = unicodedata.category(char)
    return (
        char.isspace() or category[0] in "CZ" or category in ("Mn", "Me") or char in _BLANK_LETTERS
    )


def _trim(text: str) -> str:
    """``text`` without invisible characters at either end (inside, it stays as typed)."""
    chars = list(text)
    while chars and _invisible(chars[-1]):
        chars.pop()
    start = 0
    while start < len(chars) and _invisible(chars[start]):
        start += 1
    return "".join(chars[start:])


def check_reason(text: str) -> tuple[str | None, str | None]:
    """A return's reason, trimmed (kept as typed: full-width punctuation is Chinese, not
    noise), or the catalog key of why it is refused. One rule for the chat and the console.

    Counted in visible characters (:data:`REASON_MIN_CHARS`): invisible ones and spaces of
    every kind do not count, and at least :data:`REASON_MIN_WORDS` of them must be CJK
    characters or letters, so emoji, punctuation or digits alone are refused."""
    reason = _trim(text)
    visible = [c for c in reason if not _invisible(c)]
    if len(visible) < REASON_MIN_CHARS:
        return None, "review_reason_short"
    if sum(1 for c in visible if unicodedata.category(c)[0] == "L") < REASON_MIN_WORDS:
        return None, "review_reason_words"
    if len(reason) > REASON_MAX:
        return None, "review_reason_long"
    return reason, None


DUPLICATE_SIMILARITY = 0.8
_NAME_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def name_key(name: str) -> str:
    """An activity name with spaces and punctuation removed and letters folded, for comparing."""
    return _NAME_NOISE.sub("", unicodedata.normalize("NFKC", name)).casefold()


def similar_names(a: str, b: str) -> bool:
    """Whether two activity names probably name the same activity: equal once spaces and
    punctuation are removed, or ``difflib`` similarity at least :data:`DUPLICATE_SIMILARITY`."""
    ka, kb = name_key(a), name_key(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    return difflib.SequenceMatcher(None, ka, kb).ratio() >= DUPLICATE_SIMILARITY
