"""/review: the district's queue of pending reports, oldest first, five to a page, each with
通过 and 退回 (answered by :mod:`handlers.review`), and 本页全部通过 for exactly the reports a page
showed (a fingerprint of them rides on the button).
"""

from __future__ import annotations

import math
import zlib

from core import review_buttons as rv
from core.callbacks import Id
from core.policy import Action, allowed
from core.rules import format_date, format_datetime, shorten
from core.texts import Raw
from handlers.common import Buttons, Turn
from handlers.report import report_target
from storage import review
from storage.models import Activity

PAGE_SIZE = 5
NAME_CHARS = 40


def _fingerprint(rows: list[Activity]) -> str:
    return format(zlib.crc32(",".join(str(a.id) for a in rows).encode()), "x")


def _districts(turn: Turn) -> list[int] | None:
    """The districts whose reports the member reviews (None: every district, the city)."""
    return None if turn.actor.is_city else turn.actor.district_ids()


async def show_queue(turn: Turn, page: int = 1, *, note: str = "") -> None:
    """/review (or a page button): pending reports, oldest first, 5 per page."""
    if turn.member is None or not (turn.actor.is_city or turn.actor.district_ids()):
        turn.reply(turn.t("not_allowed"))
        return
    paged = rv.QUEUE_PAGE.parse(turn.pressed) if turn.is_button else None
    if paged is not None:
        page = max(1, paged.page)
    # The reminder's 打开待审核列表 sends the list anew; the queue's own buttons edit it.
    in_place = turn.is_button and (paged is None or paged.seen == "p")
    districts = _districts(turn)
    rows, total = await review.queue(
        turn.session, districts, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    if not rows and page > 1 and total:
        page = max(1, math.ceil(total / PAGE_SIZE))
        rows, total = await review.queue(
            turn.session, districts, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
    text, buttons = _page(turn, rows, total, page)
    if note:
        text = Raw(note + "\n\n" + text)
    if in_place:
        turn.edit(text, buttons)
    else:
        turn.reply(text, buttons)


def _page(turn: Turn, rows: list[Activity], total: int, page: int) -> tuple[Raw, Buttons]:
    if not rows:
        return turn.t("review_queue_empty"), []
    pages = max(1, math.ceil(total / PAGE_SIZE))
    lines = [turn.t("review_queue_title", total=total, page=page, pages=pages)]
    buttons: list[list[tuple[str, str]]] = []
    start = (page - 1) * PAGE_SIZE
    for n, a in enumerate(rows, start=start + 1):
        lines.append(
            turn.t(
                "review_queue_item",
                n=n,
                ref=a.ref_no or "",
                date=format_date(a.activity_date, turn.lang) if a.activity_date else "",
                name=shorten(a.name or "", NAME_CHARS),
                org=a.organisation.name,
                submitted=format_datetime(a.submitted_at, turn.settings.tz, turn.lang)
                if a.submitted_at
                else "",
            )
        )
        ref = a.ref_no or ""
        buttons.append(
            [
                (turn.label("review_btn_item_approve", ref=ref), rv.APPROVE.pack(Id(a.id))),
                (turn.label("review_btn_item_return", ref=ref), rv.RETURN.pack(Id(a.id))),
            ]
        )
    seen = _fingerprint(rows)
    buttons.append(
        [(turn.label("review_btn_approve_page"), rv.APPROVE_PAGE.pack(rv.QueuePage(page, seen)))]
    )
    nav = []
    if page > 1:
        nav.append((turn.label("btn_prev"), rv.QUEUE_PAGE.pack(rv.QueuePage(page - 1, "p"))))
    if page < pages:
        nav.append((turn.label("btn_next"), rv.QUEUE_PAGE.pack(rv.QueuePage(page + 1, "p"))))
    if nav:
        buttons.append(nav)
    return Raw("\n\n".join(lines)), buttons


async def approve_page(turn: Turn) -> None:
    """本页全部通过: the reports shown on the page, if the page still shows them."""
    if turn.member is None or not (turn.actor.is_city or turn.actor.district_ids()):
        turn.notice(turn.t("not_allowed"), alert=True)
        return
    pressed = turn.button(rv.APPROVE_PAGE)
    if pressed is None:
        return
    page = max(1, pressed.page)
    rows, _total = await review.queue(
        turn.session, _districts(turn), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    if _fingerprint(rows) != pressed.seen:
        turn.notice(turn.t("review_queue_changed"), alert=True)
        await show_queue(turn, page)
        return
    done = 0
    for activity in rows:
        if allowed(turn.actor, Action.REVIEW_REPORT, report_target(activity)):
            done += (await review.approve(turn.session, activity, turn.member.id)).done
    turn.notice(turn.t("review_page_approved", n=done))
    await show_queue(turn, page, note=turn.t("review_page_approved", n=done))
