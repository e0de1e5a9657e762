"""The buttons of review (审核), as :mod:`core.callbacks` codecs: on the delivery card and in
/review (通过, 退回, 本页全部通过, pages; 确认全部通过 under the page's photos), on a return
(去修改, 重新提交), and at 提交 when a report looks like a duplicate (仍然提交, 查看那条).

The scheduler packs the card's, the return's and 确认全部通过's buttons (``scheduler/delivery.py``,
``scheduler/render.py``, ``scheduler/review_look.py``); ``handlers/review.py`` and
``handlers/review_queue.py`` answer them with the same codecs.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.callbacks import Codec, id_codec


@dataclass(frozen=True)
class QueuePage:
    """A page of /review; ``seen`` is a short fingerprint of the reports shown on it, so
    本页全部通过 shows the photos of exactly those and 确认全部通过 approves exactly those (a page
    that changed meanwhile is shown again)."""

    page: int
    seen: str


@dataclass(frozen=True)
class QueuedReport:
    """通过 / 退回 on a page of /review: the report, and the page it was shown on (shown again
    after 通过; a press there edits no delivery card)."""

    id: int
    page: int


@dataclass(frozen=True)
class OnDraft:
    """A button on a draft's card (the report flow reads ``activity``)."""

    activity: int


APPROVE = id_codec("rev:ok")  # 通过 on a delivery card (or a digest)
RETURN = id_codec("rev:back")  # 退回 there: asks for the reason
APPROVE_QUEUED = Codec("rev:okq:{id:id}:{page:int}", QueuedReport)  # 通过 on a /review page
RETURN_QUEUED = Codec("rev:backq:{id:id}:{page:int}", QueuedReport)  # 退回 on a /review page
AMEND = id_codec("rev:amend")  # 去修改 on a returned report
RESUBMIT = id_codec("rev:again")  # 重新提交 a corrected report
QUEUE_PAGE = Codec("rev:page:{page:int}:{seen:word}", QueuePage)
APPROVE_PAGE = Codec("rev:okall:{page:int}:{seen:word}", QueuePage)  # 本页全部通过: the photos
CONFIRM_PAGE = Codec("rev:sure:{page:int}:{seen:word}", QueuePage)  # 确认全部通过, after them
DUPLICATE_SUBMIT = Codec("dup:{activity:id}:submit", OnDraft)  # 仍然提交
DUPLICATE_VIEW = id_codec("dup:view")  # 查看那条 (the earlier report's id)
