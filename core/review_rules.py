"""Review (审核) and duplicate rules, pure: the review states, a return's reason, and whether
two activity names probably name the same activity. Re-exported by :mod:`core.rules`."""

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


REASON_MIN_CHARS = 4  # a return's reason: "不行" tells the reporter nothing
REASON_MAX = 500
PENDING_REMIND_DAYS = 2  # pending longer than this: the district admins are reminded daily
# Which review states the annexes include: approved and pending, never returned.
EXPORTED_STATES = (ReviewState.APPROVED, ReviewState.PENDING)


def check_reason(text: str) -> tuple[str | None, str | None]:
    """A return's reason, trimmed (kept as typed: full-width punctuation is Chinese, not
    noise), or the catalog key of why it is refused."""
    reason = text.strip()
    if len(reason.replace(" ", "")) < REASON_MIN_CHARS:
        return None, "review_reason_short"
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
