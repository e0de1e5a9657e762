"""Asking: record the step and send its question, with the buttons the question table names;
the summary card and its buttons."""

from __future__ import annotations

from datetime import timedelta

from core import report_buttons as rb
from core.cards import answer_lines, card_line, year_notes
from core.enums import ActivityStatus
from core.report_steps import (
    NUMBER,
    QUESTIONS,
    TOTAL,
    ButtonsKind,
    Question,
    ReportData,
    Shown,
    Step,
    question,
)
from core.review_rules import ReviewState
from core.rules import format_month_day, timeliness
from core.texts import Raw, plain
from handlers.common import Turn
from handlers.port import Buttons
from handlers.report.access import FLOW, data_of
from storage import chat_state, reports
from storage.models import Activity, ChatState

CARD_CONTENT_CHARS = 500  # long content is stored whole but shortened on the card


async def go(
    turn: Turn,
    activity: Activity,
    step: Step | str,
    data: ReportData | None = None,
    *,
    lead: Raw | None = None,
) -> None:
    """Record the new step (keeping what it keeps of ``data``) and ask its question (or show
    the card), with ``lead`` (what the previous step has to say) above it in the same message."""
    assert turn.member is not None
    kept = (data or ReportData()).entering(step)
    state = await chat_state.set_state(
        turn.session, turn.member.id, FLOW, step, activity.id, kept.to_json()
    )
    # Activities come with their evidence (storage.reports.load_activity); one whose files were
    # just cleared has it expired, and this reads it again (no query when it is loaded).
    await reports.ensure_evidence_loaded(turn.session, activity)
    await ask(turn, activity, step, state, lead=lead)


async def ask(
    turn: Turn, activity: Activity, step: str, state: ChatState, *, lead: Raw | None = None
) -> None:
    """Send the question of ``step`` (or the card) again or for the first time; ``lead`` goes
    above it in the same message (one Bot API call per step, issue 10)."""

    def led(text: str) -> Raw:
        return Raw(f"{lead}\n\n{text}") if lead else Raw(text)

    q = question(step)
    if q is not None:
        turn.reply(led(prompt(turn, q, activity)), _question_buttons(turn, q, activity))
    elif step == Step.CONFIRM_HEADCOUNT:
        turn.reply(
            led(turn.t("headcount_confirm", n=data_of(state).headcount)),
            [
                [
                    (
                        turn.label("btn_headcount_yes"),
                        rb.HEADCOUNT.pack(activity=activity.id, answer="yes"),
                    ),
                    (
                        turn.label("btn_headcount_redo"),
                        rb.HEADCOUNT.pack(activity=activity.id, answer="no"),
                    ),
                ]
            ],
        )
    elif step == Step.REVIEW:
        turn.reply(led(render_card(turn, activity)), card_buttons(turn, activity))


def prompt(turn: Turn, q: Question, activity: Activity) -> Raw:
    """The question, numbered (第2步/共7步); at the evidence question, how many files there are."""
    text = turn.t(q.prompt, step=NUMBER[q.step], total=TOTAL, limit=q.limit or "")
    if q.shown is Shown.FILES and activity.evidence:
        text = Raw(text + "\n" + turn.t("ask_evidence_more", count=len(activity.evidence)))
    return text


# The button for each of core.rules.ROLES, in order: the annex's word, glossed in English.
ROLE_BUTTONS = ("btn_role_host", "btn_role_co", "btn_role_undertake")


def _question_buttons(turn: Turn, q: Question, activity: Activity) -> Buttons | None:
    match q.buttons:
        case ButtonsKind.DATES:
            today = turn.today
            days = (
                ("btn_today", today),
                ("btn_yesterday", today - timedelta(1)),
                ("btn_day_before", today - timedelta(2)),
            )
            return [
                [
                    (
                        turn.label(key, md=format_month_day(d.month, d.day, turn.lang)),
                        rb.DATE.pack(activity=activity.id, day=d),
                    )
                    for key, d in days
                ]
            ]
        case ButtonsKind.ROLES:
            return [
                [
                    (turn.label(key), rb.ROLE.pack(activity=activity.id, index=i))
                    for i, key in enumerate(ROLE_BUTTONS)
                ]
            ]
        case ButtonsKind.EVIDENCE:
            return evidence_buttons(turn, activity)
    return None


def evidence_rows(lang: str, activity_id: int, total: int) -> Buttons:
    """完成 (and 清空重传 once there is something to clear)."""
    row = [(plain(lang, "btn_done"), rb.EVIDENCE_DONE.pack(activity=activity_id))]
    if total:
        row.append(
            (plain(lang, "btn_clear_evidence"), rb.EVIDENCE_CLEAR.pack(activity=activity_id))
        )
    return [row]


def evidence_buttons(turn: Turn, activity: Activity) -> Buttons:
    """The evidence question's buttons for this report."""
    return evidence_rows(turn.lang, activity.id, len(activity.evidence))


def card_buttons(turn: Turn, activity: Activity) -> Buttons:
    """提交 / 修改 / 取消 under a draft's card; 修改 / 修改完成 under a submitted report's."""
    if activity.status == ActivityStatus.DRAFT:
        return [
            [(turn.label("btn_submit"), rb.SUBMIT.pack(activity=activity.id))],
            [
                (turn.label("btn_edit"), rb.EDIT.pack(activity=activity.id)),
                (turn.label("btn_cancel"), rb.CANCEL.pack(activity=activity.id)),
            ],
        ]
    return [
        [
            (turn.label("btn_edit"), rb.EDIT.pack(activity=activity.id)),
            (turn.label("btn_done_editing"), rb.AMENDED.pack(activity=activity.id)),
        ]
    ]


def field_buttons(turn: Turn, activity: Activity) -> Buttons:
    """The 修改 list: one button per question, then 返回 to the card."""
    rows = [
        [(turn.label(q.label), rb.FIX.pack(activity=activity.id, step=q.step.value))]
        for q in QUESTIONS
    ]
    rows.append([(turn.label("btn_back"), rb.CARD.pack(activity=activity.id))])
    return rows


# A report's state as its reporter reads it: the lifecycle while it is not submitted, then its
# review state (a returned report is no more "submitted" than an approved one).
STATUS_STATES = (ActivityStatus.DRAFT, ActivityStatus.WITHDRAWN, ActivityStatus.CANCELLED)


def report_state(activity: Activity) -> str:
    """草稿 / 已撤回 / 已放弃 by the lifecycle, else 待审核 / 已通过 / 已退回 by the review:
    ``draft``, ``withdrawn``, ``cancelled``, ``pending``, ``approved`` or ``returned``."""
    if activity.status in STATUS_STATES:
        return str(activity.status)
    return str(activity.review_state or ReviewState.PENDING)


def render_card(turn: Turn, activity: Activity) -> Raw:
    """Every answer, the lateness and the evidence count, in one message that fits Telegram."""
    org = activity.organisation
    title = (
        turn.t("card_title_submitted", ref=activity.ref_no, org=org.name)
        if activity.ref_no and activity.status != ActivityStatus.DRAFT
        else turn.t("card_title", org=org.name)
    )
    lines = [title, "", *answer_lines(turn.lang, activity, CARD_CONTENT_CHARS)]
    if activity.status != ActivityStatus.DRAFT:
        # Where it stands with the district, not just "submitted": a returned report says so.
        state = report_state(activity)
        status = turn.label(
            f"status_{state}" if state in STATUS_STATES else f"review_state_{state}"
        )
        lines.append(card_line(turn.lang, "label_status", status))
        if state == ReviewState.RETURNED and activity.review_reason:
            lines.append(card_line(turn.lang, "label_return_reason", activity.review_reason))
    lines.append(_lateness(turn, activity))
    lines += year_notes(
        turn.lang,
        activity.activity_date,
        activity.submitted_at,
        turn.settings.tz,
        turn.settings.years,
    )
    return Raw("\n".join(lines))


def _lateness(turn: Turn, activity: Activity) -> str:
    if activity.activity_date is None:
        return ""
    if activity.submitted_at is not None:
        if activity.on_time:
            return turn.t("card_on_time")
        return turn.t("card_late", days=activity.late_days)
    judged = timeliness(activity.activity_date, turn.now, turn.settings.tz)
    return turn.t("card_on_time") if judged.on_time else turn.t("card_late_pending")
