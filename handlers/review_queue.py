"""/review: the district's queue of pending reports, oldest first, five to a page, each with
通过 and 退回 (answered by :mod:`handlers.review`), and 本页全部通过 for exactly the reports a page
showed (a fingerprint of them rides on the button). 本页全部通过 approves nothing by itself: it
sends the photos and files of those reports, and under them 确认全部通过, which approves them
if the page still shows exactly them. Nobody approves five reports unseen.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

from core import review_buttons as rv
from core.callbacks import Codec
from core.policy import Action, allowed
from core.rules import format_date, format_datetime, shorten
from core.texts import Raw
from handlers.common import Handler, Turn
from handlers.deliveries import wake_sender
from handlers.port import Buttons
from scheduler.review_look import look_prefix, looks_on_the_way, queue_look
from services import review as decide
from storage import review
from storage.models import Activity
from storage.reports import report_target

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
        # The page rides on the button: 通过 shows this page again, and neither edits a card.
        on_page = rv.QueuedReport(a.id, page)
        buttons.append(
            [
                (turn.label("review_btn_item_approve", ref=ref), rv.APPROVE_QUEUED.pack(on_page)),
                (turn.label("review_btn_item_return", ref=ref), rv.RETURN_QUEUED.pack(on_page)),
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


def _reviewer(turn: Turn) -> bool:
    """Whether the member reviews some district (told otherwise)."""
    if turn.member is None or not (turn.actor.is_city or turn.actor.district_ids()):
        turn.notice(turn.t("not_allowed"), alert=True)
        return False
    return True


async def _page_as_seen(turn: Turn, pressed: rv.QueuePage) -> list[Activity] | None:
    """The reports the pressed page showed, if it still shows exactly them; otherwise None,
    the member told and the page shown again."""
    page = max(1, pressed.page)
    rows, _total = await review.queue(
        turn.session, _districts(turn), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    if not rows or _fingerprint(rows) != pressed.seen:
        turn.notice(turn.t("review_queue_changed"), alert=True)
        await show_queue(turn, page)
        return None
    return [a for a in rows if allowed(turn.actor, Action.REVIEW_REPORT, report_target(a))]


async def show_page_files(turn: Turn) -> None:
    """本页全部通过: approves nothing yet. The photos and files of the reports the page shows
    are sent (each report's albums captioned with its 编号 and name), and after them the
    confirmation with 确认全部通过 (:func:`approve_page`). They are queued with this update in
    the outbox (``scheduler.review_look``); a second press while they are on their way queues
    nothing, a press after they arrived sends them again."""
    if not _reviewer(turn):
        return
    pressed = turn.button(rv.APPROVE_PAGE)
    if pressed is None:
        return
    rows = await _page_as_seen(turn, pressed)
    if rows is None:
        return
    assert turn.member is not None
    page = max(1, pressed.page)
    prefix = look_prefix(turn.member.id, page, pressed.seen)
    looks, on_the_way = await looks_on_the_way(turn.session, prefix)
    if on_the_way:
        turn.notice(turn.t("review_look_on_way"))
        return
    await queue_look(
        turn.session,
        [a.id for a in rows],
        page=page,
        seen=pressed.seen,
        key=prefix + str(looks + 1),
        to=turn.address,
        member_id=turn.member.id,
        now=turn.now,
    )
    wake_sender(turn)
    turn.notice(turn.t("review_look_sending", n=len(rows)))


async def approve_page(turn: Turn) -> None:
    """确认全部通过 (under the page's photos): the reports the page showed, if it still shows
    them."""
    if not _reviewer(turn):
        return
    pressed = turn.button(rv.CONFIRM_PAGE)
    if pressed is None:
        return
    rows = await _page_as_seen(turn, pressed)
    if rows is None:
        return
    done = 0
    for activity in rows:  # each through the use case: a report decided meanwhile is skipped
        done += (await decide.approve(turn.session, turn.actor, activity.id)).done
    turn.notice(turn.t("review_page_approved", n=done))
    await show_queue(turn, max(1, pressed.page), note=turn.t("review_page_approved", n=done))


#: The queue's buttons, for the one assembly (``bot/app.py``): its pages, 本页全部通过 (the
#: photos first) and 确认全部通过 under them.
BUTTONS: list[tuple[Handler, Codec[Any]]] = [
    (show_queue, rv.QUEUE_PAGE),
    (show_page_files, rv.APPROVE_PAGE),
    (approve_page, rv.CONFIRM_PAGE),
]
