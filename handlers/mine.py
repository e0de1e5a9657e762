"""/mine: the association's reports, newest first; open one, amend, withdraw or resubmit it.

Buttons: ``menu:mine`` (``handlers.menus.MENU_OPEN``), ``mine:page:<n>``, ``mine:open:<id>``,
``mine:edit:<id>``, ``mine:withdraw:<id>``, ``mine:withdraw_yes:<id>``, ``mine:resubmit:<id>``
(the codecs below).
Ids are checked against the policy on press.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.callbacks import Codec, Id, id_codec
from core.enums import ActivityStatus, Role
from core.policy import Action, allowed
from core.review_buttons import RESUBMIT as RESUBMIT_RETURNED
from core.review_rules import ReviewState
from core.rules import format_date, format_month_day, shorten
from core.schedule_buttons import RESUME_DRAFT
from core.texts import Raw
from handlers.common import Turn
from handlers.deliveries import wake_sender
from handlers.port import Buttons
from handlers.report import begin_amend, may_amend, render_card, report_state
from scheduler.rows import Timing
from services import report as change
from storage import chat_state, reports
from storage.models import Activity
from storage.reports import report_target

PAGE_SIZE = 8
BUTTON_NAME_CHARS = 18
REASON_CHARS = 120  # the whole reason is on the card


@dataclass(frozen=True)
class Page:
    """A page of the list (上一页 / 下一页)."""

    page: int


MINE_PAGE = Codec("mine:page:{page:int}", Page)
MINE_OPEN = id_codec("mine:open")
MINE_EDIT = id_codec("mine:edit")
MINE_WITHDRAW = id_codec("mine:withdraw")
MINE_WITHDRAW_YES = id_codec("mine:withdraw_yes")
MINE_RESUBMIT = id_codec("mine:resubmit")


async def list_reports(turn: Turn) -> None:
    """/mine, 我的报送 or a page button: one button per report."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    paged = MINE_PAGE.parse(turn.pressed) if turn.is_button else None
    page = 1 if paged is None else max(1, paged.page)
    org_ids = turn.actor.org_ids(Role.REPORTER, Role.ORG_ADMIN)
    rows, total = await reports.org_reports(
        turn.session, org_ids, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    # Reports of an association the member was removed from are gone from the list: say why.
    ended = await reports.ended_orgs(turn.session, turn.member.id)
    note = turn.t("mine_membership_ended", orgs="、".join(o.name for o in ended)) if ended else ""
    # The member's own unfinished report heads the first page: 草稿, and a tap continues it.
    draft = await reports.open_draft(turn.session, turn.member.id) if page == 1 else None
    drafts: list[list[tuple[str, str]]] = []
    if draft is not None and draft.org_id in org_ids:
        drafts = [[(_item_label(turn, draft), RESUME_DRAFT.pack(Id(draft.id)))]]
    if total == 0:
        if note and not org_ids:
            turn.reply(note)
        else:
            empty = turn.t("mine_empty")
            turn.reply(Raw(note + "\n\n" + empty) if note else empty, drafts)
        return
    pages = max(1, math.ceil(total / PAGE_SIZE))
    buttons = drafts + [[(_item_label(turn, a), MINE_OPEN.pack(id=a.id))] for a in rows]
    nav = []
    if page > 1:
        nav.append((turn.label("btn_prev"), MINE_PAGE.pack(Page(page - 1))))
    if page < pages:
        nav.append((turn.label("btn_next"), MINE_PAGE.pack(Page(page + 1))))
    if nav:
        buttons.append(nav)
    text = turn.t("mine_title", total=total, page=page, pages=pages)
    returned = [a for a in rows if report_state(a) == ReviewState.RETURNED]
    if returned:  # said in words too: the reason, and what to do
        lines = [_returned_line(turn, a) for a in returned]
        text = Raw("\n\n".join([text, *lines, turn.t("mine_returned_hint")]))
    if note:
        text = Raw(note + "\n\n" + text)
    if paged is not None:
        turn.edit(text, buttons)
    else:
        turn.reply(text, buttons)


def _item_label(turn: Turn, activity: Activity) -> str:
    """``↩️ 已退回 · 6月3日 · 名称``: the state first, then which activity."""
    day = activity.activity_date
    name = shorten(activity.name or turn.label("report_untitled"), BUTTON_NAME_CHARS)
    late = turn.label("mine_item_late") if activity.on_time is False else ""
    return turn.label(
        "mine_item",
        date=format_month_day(day.month, day.day, turn.lang) if day else "—",
        name=name,
        status=turn.label(f"mine_state_{report_state(activity)}"),
        late=late,
    )


def _returned_line(turn: Turn, activity: Activity) -> Raw:
    day = activity.activity_date
    return turn.t(
        "mine_returned_line",
        date=format_month_day(day.month, day.day, turn.lang) if day else "—",
        name=shorten(activity.name or "", BUTTON_NAME_CHARS),
        reason=shorten(activity.review_reason or "", REASON_CHARS),
    )


async def open_report(turn: Turn) -> None:
    """A report from the list: its card, with what the presser may do to it."""
    activity = await pressed_report(turn, MINE_OPEN, Action.VIEW_REPORTS)
    if activity is None:
        return
    actions = _actions(turn, activity)
    card = render_card(turn, activity)
    if not actions and allowed(turn.actor, Action.EDIT_REPORT, report_target(activity)):
        card = Raw(card + "\n\n" + _locked_text(turn, activity))  # final: say so, and why
    turn.reply(card, actions)


def _actions(turn: Turn, activity: Activity) -> Buttons:
    if not may_amend(turn, activity):
        return []
    if activity.status == ActivityStatus.SUBMITTED:
        first: list[tuple[str, str]] = [(turn.label("btn_edit"), MINE_EDIT.pack(id=activity.id))]
        if may_amend(turn, activity, withdrawing=True):  # a closed year's return: correct only
            first.append((turn.label("btn_withdraw"), MINE_WITHDRAW.pack(id=activity.id)))
        rows: list[list[tuple[str, str]]] = [first]
        if activity.review_state == ReviewState.RETURNED:
            # Returned by the district: once amended, it goes back to them from here too.
            resubmit = RESUBMIT_RETURNED.pack(Id(activity.id))
            rows.append([(turn.label("review_btn_resubmit"), resubmit)])
        return rows
    if activity.status == ActivityStatus.WITHDRAWN:
        return [[(turn.label("btn_resubmit"), MINE_RESUBMIT.pack(id=activity.id))]]
    return []


def _locked_text(turn: Turn, activity: Activity) -> Raw:
    assert activity.activity_date is not None
    years = turn.settings.years
    year = years.year_of(activity.activity_date)
    return turn.t("amend_locked", year=year, deadline=format_date(years.deadline(year), turn.lang))


async def edit_report(turn: Turn) -> None:
    """修改 on a submitted report: enter the report flow's card in amend mode."""
    activity = await pressed_report(turn, MINE_EDIT, Action.EDIT_REPORT, ActivityStatus.SUBMITTED)
    if activity is None or turn.member is None:
        return
    await begin_amend(turn, activity)


async def ask_withdraw(turn: Turn) -> None:
    """撤回: confirm first."""
    activity = await pressed_report(
        turn, MINE_WITHDRAW, Action.EDIT_REPORT, ActivityStatus.SUBMITTED
    )
    if activity is None:
        return
    # Returned by the district: say that withdrawing keeps the return (storage.review).
    key = "withdraw_confirm"
    if activity.review_state == ReviewState.RETURNED:
        key = "withdraw_confirm_returned"
    turn.edit(
        render_card(turn, activity) + "\n\n" + turn.t(key, ref=activity.ref_no),
        [
            [
                (turn.label("btn_withdraw_yes"), MINE_WITHDRAW_YES.pack(id=activity.id)),
                (turn.label("btn_cancel_no"), MINE_OPEN.pack(id=activity.id)),
            ]
        ],
    )


async def withdraw_report(turn: Turn) -> None:
    """确认撤回: the report stays, marked withdrawn, audited (:func:`services.report.withdraw`)."""
    activity = await pressed_report(
        turn, MINE_WITHDRAW_YES, Action.EDIT_REPORT, ActivityStatus.SUBMITTED
    )
    if activity is None or turn.member is None:
        return
    done = await change.withdraw(
        turn.session,
        turn.actor,
        activity.id,
        today=turn.today,
        years=turn.settings.years,
        timing=Timing.from_settings(turn.settings),
    )
    if not done.done:
        tell_refusal(turn, done)
        return
    await chat_state.clear_state(turn.session, turn.member.id)
    if done.queued:
        wake_sender(turn)  # the district is told at once (issue 10)
    turn.edit(render_card(turn, activity), _actions(turn, activity))
    turn.reply(turn.t("withdrawn", ref=activity.ref_no))


async def resubmit_report(turn: Turn) -> None:
    """重新提交 a withdrawn report: pending again, or, if the district had returned it, back
    as returned with its reason (only a correction goes back to the district for review)."""
    activity = await pressed_report(
        turn, MINE_RESUBMIT, Action.EDIT_REPORT, ActivityStatus.WITHDRAWN
    )
    if activity is None or turn.member is None:
        return
    done = await change.submit(
        turn.session,
        turn.actor,
        activity.id,
        tz=turn.settings.tz,
        today=turn.today,
        years=turn.settings.years,
        timing=Timing.from_settings(turn.settings),
    )
    if not done.done:
        tell_refusal(turn, done)
        return
    if done.queued:
        wake_sender(turn)  # the district is told at once (issue 10)
    turn.edit(render_card(turn, activity), _actions(turn, activity))
    if activity.review_state == ReviewState.RETURNED:
        district = activity.organisation.district.name
        reason = activity.review_reason or ""
        turn.reply(
            turn.t("resubmitted_returned", ref=activity.ref_no, reason=reason, district=district)
        )
        return
    turn.reply(turn.t("resubmitted", ref=activity.ref_no))


def tell_refusal(turn: Turn, result: change.ReportResult) -> None:
    """The sentence of a refused 提交 / 撤回, as a notice on the pressed button (the press
    came after another one, or the rules changed since the check of the button)."""
    if result.outcome == change.Outcome.LOCKED and result.activity is not None:
        turn.notice(_locked_text(turn, result.activity), alert=True)
    elif result.outcome == change.Outcome.EXPIRED:
        turn.notice(turn.t("button_expired"))
    elif result.outcome == change.Outcome.INCOMPLETE and result.step is not None:
        turn.notice(turn.t("incomplete", fields=turn.label(f"label_{result.step}")), alert=True)
    else:
        turn.notice(turn.t(result.key or "not_found_or_denied"), alert=True)


async def pressed_report(
    turn: Turn, codec: Codec[Id], action: Action, status: ActivityStatus | None = None
) -> Activity | None:
    """The report a ``mine:…:<id>`` button names, if the presser may do ``action`` to it now
    and it is (still) in ``status`` — a second press on an old button is told it expired."""
    if turn.member is None:
        turn.notice(turn.t("stranger"), alert=True)
        return None
    pressed = turn.button(codec)
    if pressed is None:
        return None
    activity = await reports.load_activity(turn.session, pressed.id)
    if activity is None or activity.status in (ActivityStatus.DRAFT, ActivityStatus.CANCELLED):
        turn.notice(turn.t("not_found_or_denied"), alert=True)
        return None
    target = report_target(activity)
    if not allowed(turn.actor, Action.VIEW_REPORTS, target):
        ended = await reports.ended_orgs(turn.session, turn.member.id)
        org = next((o for o in ended if o.id == activity.org_id), None)
        if org is not None:
            turn.notice(turn.t("membership_ended", org=org.name), alert=True)
        else:
            turn.notice(turn.t("not_found_or_denied"), alert=True)
        return None
    withdrawing = codec in (MINE_WITHDRAW, MINE_WITHDRAW_YES)
    if action == Action.EDIT_REPORT and not may_amend(turn, activity, withdrawing=withdrawing):
        if allowed(turn.actor, Action.EDIT_REPORT, target):
            turn.notice(_locked_text(turn, activity), alert=True)
        else:
            turn.notice(turn.t("not_allowed"), alert=True)
        return None
    if status is not None and activity.status != status:
        turn.notice(turn.t("button_expired"))
        return None
    return activity
