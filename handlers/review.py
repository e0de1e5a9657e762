"""Review (审核): 通过 / 退回 on a delivery card and in /review, the reason of a return (flow
``review``, step ``reason``), and on the author's side 去修改 / 重新提交 of a returned report.

Buttons are the codecs of :mod:`core.review_buttons`; the state machine and its audit entries
are :mod:`storage.review`; who may review is the policy's ``REVIEW_REPORT``. The flow is drawn
in ``review.mmd``.
"""

from __future__ import annotations

import enum
import logging
import math
import zlib

from telegram import Message
from telegram.error import TelegramError

from core import review_buttons as rv
from core.callbacks import Codec, Id
from core.enums import ActivityStatus
from core.policy import Action, allowed
from core.report_steps import ReportData, Step
from core.rules import check_reason, format_date, format_datetime, shorten
from core.texts import Raw
from handlers.common import Buttons, Turn, fit
from handlers.deliveries import announce
from handlers.mine import pressed_report
from handlers.report import FLOW as REPORT_FLOW
from handlers.report import field_buttons, render_card, report_target
from storage import chat_state, reports, review
from storage.models import Activity, ChatState

log = logging.getLogger(__name__)

FLOW = "review"
PAGE_SIZE = 5
NAME_CHARS = 40


class ReviewStep(enum.StrEnum):
    """The stored steps of the ``review`` flow (drawn in review.mmd)."""

    REASON = "reason"  # 退回 pressed: the reason is being typed


# ---------------------------------------------------------------------------------------------
# the reviewer: 通过 / 退回


async def _reviewable(turn: Turn, codec: Codec[Id]) -> Activity | None:
    """The report a review button names, if the presser may review it (a refusal reads the
    same as a report that does not exist)."""
    if turn.member is None:
        turn.notice(turn.t("stranger"), alert=True)
        return None
    pressed = turn.button(codec)
    if pressed is None:
        return None
    activity = await reports.load_activity(turn.session, pressed.id)
    if (
        activity is None
        or activity.status in (ActivityStatus.DRAFT, ActivityStatus.CANCELLED)
        or not allowed(turn.actor, Action.REVIEW_REPORT, report_target(activity))
    ):
        turn.notice(turn.t("not_found_or_denied"), alert=True)
        return None
    return activity


def _outcome(turn: Turn, decided: review.Decided, reason: str | None) -> Raw:
    when = format_datetime(decided.at, turn.settings.tz) if decided.at else ""
    if decided.state == review.ReviewState.RETURNED:
        return turn.t(
            "review_outcome_returned", by=decided.by or "", when=when, reason=reason or ""
        )
    return turn.t("review_outcome_approved", by=decided.by or "", when=when)


def _queue_page(turn: Turn) -> int | None:
    """The /review page the button was pressed on (None: a delivery card)."""
    message = turn.query.message if turn.query is not None else None
    if not isinstance(message, Message) or message.reply_markup is None:
        return None
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            data = button.callback_data
            page = rv.APPROVE_PAGE.parse(data if isinstance(data, str) else None)
            if page is not None:
                return page.page
    return None


def _card_html(turn: Turn) -> str | None:
    """The delivery card the button was pressed on, as it reads now (None from /review)."""
    message = turn.query.message if turn.query is not None else None
    if not isinstance(message, Message) or message.text is None or _queue_page(turn):
        return None
    return message.text_html


def _already(turn: Turn, activity: Activity, by: str | None) -> Raw:
    """Decided (or withdrawn) before this press: who decided, when, and what."""
    state = turn.label(f"review_state_{activity.review_state or 'pending'}")
    if activity.status != ActivityStatus.SUBMITTED:
        state = turn.label(f"status_{activity.status}")
    if by is not None and activity.reviewed_at is not None:
        when = format_datetime(activity.reviewed_at, turn.settings.tz)
        return turn.t("review_already", by=by, when=when, state=state)
    return turn.t("review_already_state", state=state)


async def _told_already(turn: Turn, activity: Activity) -> None:
    """An outdated button: who decided, when, and what (the card shows it too)."""
    turn.notice(
        _already(turn, activity, await review.decided_by(turn.session, activity)), alert=True
    )


async def approve_pressed(turn: Turn) -> None:
    """通过 on a delivery card: approved, and the card says by whom."""
    activity = await _reviewable(turn, rv.APPROVE)
    if activity is None or turn.member is None:
        return
    decided = await review.approve(turn.session, activity, turn.member.id)
    if not decided.done:  # decided first by someone else (the activity now says how)
        turn.notice(_already(turn, activity, decided.by), alert=True)
        return
    turn.notice(turn.t("review_approved_toast", ref=activity.ref_no or ""))
    page = _queue_page(turn)
    if page is not None:
        await show_queue(turn, page)
        return
    card = _card_html(turn)
    if card is not None:
        turn.edit(Raw(card + "\n\n" + _outcome(turn, decided, None)))


async def ask_reason(turn: Turn) -> None:
    """退回 on a card or in /review: ask for the reason (stored: a restart keeps the step)."""
    activity = await _reviewable(turn, rv.RETURN)
    if activity is None or turn.member is None:
        return
    if activity.review_state != review.ReviewState.PENDING:
        await _told_already(turn, activity)
        return
    data: dict[str, object] = {}
    card = _card_html(turn)
    message = turn.query.message if turn.query is not None else None
    if card is not None and isinstance(message, Message):
        data = {"chat": message.chat.id, "message": message.message_id, "card": card}
    await chat_state.set_state(
        turn.session, turn.member.id, FLOW, ReviewStep.REASON, activity.id, data
    )
    turn.reply(turn.t("review_ask_reason", ref=activity.ref_no or ""))


async def receive_reason(turn: Turn, state: ChatState) -> None:
    """The typed reason: at least 4 characters, then the report is returned."""
    assert turn.member is not None and turn.message is not None
    text = turn.message.text
    if text is None:
        turn.reply(turn.t("expect_text"))
        return
    reason, error = check_reason(text)
    if error is not None or reason is None:
        turn.reply(turn.t(error or "review_reason_short"))
        return
    activity = await reports.load_activity(turn.session, state.activity_id or 0)
    await chat_state.clear_state(turn.session, turn.member.id)
    if activity is None or not allowed(turn.actor, Action.REVIEW_REPORT, report_target(activity)):
        turn.reply(turn.t("not_found_or_denied"))
        return
    decided = await review.return_report(turn.session, activity, turn.member.id, reason)
    if not decided.done:  # decided meanwhile (the activity now says how): no return, no notice
        turn.reply(_already(turn, activity, decided.by))
        return
    # The reporter's 退回 message leaves with this transaction, not at the next tick.
    await announce(turn, activity.id)
    data = state.data or {}
    if data.get("card") and data.get("message"):
        # The card first: the confirmation below is the last thing the reviewer sees.
        _edit_card(
            turn, int(data["chat"]), int(data["message"]), str(data["card"]), decided, reason
        )
    turn.reply(turn.t("review_returned_done", ref=activity.ref_no or ""))


def _edit_card(
    turn: Turn, chat_id: int, message_id: int, card: str, decided: review.Decided, reason: str
) -> None:
    """The card the reviewer pressed 退回 on now shows the outcome (without its buttons)."""
    text = fit(card + "\n\n" + _outcome(turn, decided, reason))
    bot, update_id = turn.context.bot, turn.update.update_id

    async def _edit() -> None:
        try:
            await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
        except TelegramError as exc:  # the card is a convenience; the return is committed
            log.info("update %s: card not edited (%s)", update_id, type(exc).__name__)

    turn.later(_edit)


async def cancel_reason(turn: Turn, state: ChatState) -> None:
    """/cancel while typing a reason: nothing returned, the report stays pending."""
    assert turn.member is not None
    await chat_state.clear_state(turn.session, turn.member.id)
    activity = await reports.load_activity(turn.session, state.activity_id or 0)
    turn.reply(turn.t("review_return_cancelled", ref=activity.ref_no if activity else ""))


async def ask_again(turn: Turn, state: ChatState) -> None:
    """Ask for the reason again (after a crash re-delivered an update)."""
    activity = await reports.load_activity(turn.session, state.activity_id or 0)
    turn.reply(turn.t("review_ask_reason", ref=activity.ref_no if activity else ""))


# ---------------------------------------------------------------------------------------------
# /review: the district's queue


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
    paged = rv.QUEUE_PAGE.parse(turn.query.data) if turn.query else None
    if paged is not None:
        page = max(1, paged.page)
    # The reminder's 打开待审核列表 sends the list anew; the queue's own buttons edit it.
    in_place = turn.query is not None and (paged is None or paged.seen == "p")
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
                date=format_date(a.activity_date) if a.activity_date else "",
                name=shorten(a.name or "", NAME_CHARS),
                org=a.organisation.name,
                submitted=format_datetime(a.submitted_at, turn.settings.tz)
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


# ---------------------------------------------------------------------------------------------
# the author and the org admins: 去修改 / 重新提交


async def amend_returned(turn: Turn) -> None:
    """去修改 on a return: the report's card in amend mode, as a new message (the return, with
    its 重新提交, stays above it)."""
    activity = await pressed_report(turn, rv.AMEND, Action.EDIT_REPORT, ActivityStatus.SUBMITTED)
    if activity is None or turn.member is None:
        return
    data = ReportData(amend=True, version=activity.version)
    await chat_state.set_state(
        turn.session, turn.member.id, REPORT_FLOW, Step.REVIEW, activity.id, data.to_json()
    )
    turn.reply(
        render_card(turn, activity) + "\n\n" + turn.t("edit_pick"), field_buttons(turn, activity)
    )


async def resubmit_returned(turn: Turn) -> None:
    """重新提交 a returned report after at least one change: pending again, the district gets
    the changes."""
    activity = await pressed_report(turn, rv.RESUBMIT, Action.EDIT_REPORT, ActivityStatus.SUBMITTED)
    if activity is None or turn.member is None:
        return
    if activity.review_state != review.ReviewState.RETURNED:
        turn.notice(turn.t("review_not_returned"), alert=True)
        return
    if not await review.resubmit_corrected(turn.session, activity, turn.member.id):
        turn.notice(turn.t("review_resubmit_needs_change"), alert=True)
        return
    await announce(turn, activity.id)  # the correction's card, queued with it
    state = await chat_state.get_state(turn.session, turn.member.id)
    if state is not None and state.flow == REPORT_FLOW and state.activity_id == activity.id:
        await chat_state.clear_state(turn.session, turn.member.id)  # the amendment is over
    turn.close_buttons()
    turn.reply(
        turn.t(
            "review_resubmitted",
            ref=activity.ref_no or "",
            district=activity.organisation.district.name,
        )
    )


async def view_duplicate(turn: Turn) -> None:
    """查看那条 at 提交: the earlier report that the draft may repeat."""
    activity = await pressed_report(turn, rv.DUPLICATE_VIEW, Action.VIEW_REPORTS)
    if activity is None:
        return
    turn.reply(render_card(turn, activity))
