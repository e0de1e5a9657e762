"""/plan: note an upcoming activity, so the scheduler can ask for its report afterwards.

Flow ``plan`` (drawn in ``plan.mmd``): pick the association (when there are several) → the
activity's name → its date (today or later). The plan is a row of ``plans``; the reminders
themselves are derived by ``scheduler.reminders``.

Also here, the buttons of the scheduler's messages that start reporting:
``sched:<activity id>:resume`` (继续 on a draft reminder) and ``sched:<plan id>:plan`` (报送这项
活动: a new report with the plan's name and date filled in), and ``plan:cancel:<plan id>`` — their
codecs are in ``core.schedule_buttons``, shared with the scheduler that draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from core.callbacks import Codec, Id, id_codec
from core.enums import ActivityStatus
from core.rules import (
    NAME_MAX,
    check_plan_date,
    check_text,
    format_date,
    format_month_day,
    parse_plan_date,
    window_closes_at,
)
from core.schedule_buttons import CANCEL_PLAN, REPORT_PLAN, RESUME_DRAFT
from core.texts import Raw
from handlers import report
from handlers.common import Turn
from services import plan as planning
from storage import chat_state, reports
from storage.members import reporting_orgs_of_loaded
from storage.models import Activity, ChatState
from storage.plans import upcoming_plans

FLOW = "plan"
LISTED_PLANS = 5


class PlanStep(StrEnum):
    """The stored steps of flow ``plan`` (the states of ``plan.mmd``)."""

    ORG = "org"
    NAME = "name"  # data: org_id
    DATE = "date"  # data: org_id, name


@dataclass(frozen=True)
class Day:
    """今天 / 明天 / 后天 pressed."""

    day: date


PLAN_ORG = id_codec("plan:org")
PLAN_DATE = Codec("plan:date:{day:date}", Day)


# ---------------------------------------------------------------------------------------------
# /plan


async def start_plan(turn: Turn) -> None:
    """/plan: list the member's upcoming plans, then ask for a new one."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    orgs = reporting_orgs_of_loaded(turn.member)
    if not orgs:
        turn.reply(turn.t("report_no_org"))
        return
    upcoming = await upcoming_plans(turn.session, turn.member.id, turn.today, LISTED_PLANS)
    intro = turn.t("plan_intro")
    buttons = []
    if upcoming:
        items = "\n".join(
            turn.t("plan_item", date=format_date(p.planned_date, turn.lang), name=p.name)
            for p in upcoming
        )
        intro = Raw(intro + "\n\n" + turn.t("plan_upcoming", items=Raw(items)))
        buttons = [
            [(turn.label("plan_btn_cancel", name=p.name[:40]), CANCEL_PLAN.pack(id=p.id))]
            for p in upcoming
        ]
    turn.reply(intro, buttons)
    if len(orgs) > 1:
        await chat_state.set_state(turn.session, turn.member.id, FLOW, PlanStep.ORG)
        buttons = [[(o.name[:60], PLAN_ORG.pack(id=o.id))] for o in orgs]
        turn.reply(turn.t("plan_pick_org"), buttons)
        return
    await _ask_name(turn, orgs[0].id)


async def choose_org(turn: Turn) -> None:
    """An association from the picker."""
    if turn.member is None:
        turn.notice(turn.t("stranger"), alert=True)
        return
    state = await chat_state.get_state(turn.session, turn.member.id)
    if state is None or state.flow != FLOW or state.step != PlanStep.ORG:
        turn.notice(turn.t("button_expired"))
        return
    pressed = turn.button(PLAN_ORG)
    if pressed is None:
        return
    org_id = pressed.id
    if not await planning.may_report(turn.session, turn.actor, org_id):
        turn.notice(turn.t("not_allowed"), alert=True)
        return
    turn.close_buttons()
    await _ask_name(turn, org_id)


async def _ask_name(turn: Turn, org_id: int) -> None:
    assert turn.member is not None
    data = {"org_id": org_id}
    await chat_state.set_state(turn.session, turn.member.id, FLOW, PlanStep.NAME, data=data)
    turn.reply(turn.t("plan_ask_name", limit=NAME_MAX))


async def receive_message(turn: Turn, state: ChatState) -> None:
    """A typed answer: the activity's name, or its date."""
    assert turn.member is not None
    text = turn.text
    if text is None:
        turn.reply(turn.t("expect_text"))
        return
    if state.step == PlanStep.NAME:
        value, error = check_text(text, NAME_MAX)
        if error:
            turn.reply(turn.t(error, length=len(text.strip()), limit=NAME_MAX))
            return
        data = {**state.data, "name": value}
        await chat_state.set_state(turn.session, turn.member.id, FLOW, PlanStep.DATE, data=data)
        _ask_date(turn)
    elif state.step == PlanStep.DATE:
        day, error = parse_plan_date(text, turn.today)
        if error:
            turn.reply(turn.t(error))
            return
        assert day is not None
        await _save(turn, state, day)
    else:
        turn.reply(turn.t("expect_button_or_text"))


async def ask_again(turn: Turn, state: ChatState) -> None:
    """Repeat the current question (after a crash re-delivered an update)."""
    if state.step == PlanStep.NAME:
        turn.reply(turn.t("plan_ask_name", limit=NAME_MAX))
    elif state.step == PlanStep.DATE:
        _ask_date(turn)
    else:
        await start_plan(turn)


def _ask_date(turn: Turn) -> None:
    today = turn.today
    days = [today + timedelta(days=n) for n in range(3)]
    keys = ("plan_btn_today", "plan_btn_tomorrow", "plan_btn_after")
    turn.reply(
        turn.t("plan_ask_date"),
        [
            [
                (
                    turn.label(key, md=format_month_day(d.month, d.day, turn.lang)),
                    PLAN_DATE.pack(Day(d)),
                )
                for key, d in zip(keys, days, strict=True)
            ]
        ],
    )


async def pick_date(turn: Turn) -> None:
    """今天 / 明天 / 后天."""
    if turn.member is None:
        turn.notice(turn.t("stranger"), alert=True)
        return
    state = await chat_state.get_state(turn.session, turn.member.id)
    if state is None or state.flow != FLOW or state.step != PlanStep.DATE:
        turn.notice(turn.t("button_expired"))
        return
    pressed = turn.button(PLAN_DATE)  # None: not a day, so not a button this bot drew
    if pressed is None:
        return
    day = pressed.day
    error = check_plan_date(day, turn.today)  # yesterday's keyboard
    if error:
        turn.notice(turn.t(error), alert=True)
        return
    turn.close_buttons()
    await _save(turn, state, day)


async def _save(turn: Turn, state: ChatState, day: date) -> None:
    assert turn.member is not None
    org_id = int(state.data.get("org_id", 0))
    name = str(state.data.get("name", ""))
    result = await planning.note(
        turn.session, turn.actor, turn.member.id, org_id, name, day, turn.today
    )
    if result.outcome != planning.Outcome.DONE:
        if result.key == planning.NOT_ALLOWED:
            await chat_state.clear_state(turn.session, turn.member.id)
        turn.reply(turn.t(result.key or planning.NOT_ALLOWED))
        return
    await chat_state.clear_state(turn.session, turn.member.id)
    turn.reply(turn.t("plan_saved", name=name, date=format_date(day, turn.lang)))


async def cancel_plan_flow(turn: Turn, state: ChatState) -> None:
    """/cancel while noting a plan: nothing was stored yet."""
    assert turn.member is not None
    await chat_state.clear_state(turn.session, turn.member.id)
    turn.reply(turn.t("flow_left"))


async def cancel_plan(turn: Turn) -> None:
    """取消 / 没有举办: the plan is marked cancelled and no longer chased."""
    plan_id = _pressed_id(turn, CANCEL_PLAN)
    if plan_id is None:
        return
    result = await planning.cancel(turn.session, turn.actor, plan_id)
    if result.outcome != planning.Outcome.DONE or result.plan is None:
        turn.notice(turn.t(result.key or planning.GONE), alert=True)
        return
    turn.close_buttons()
    turn.reply(turn.t("plan_cancelled", name=result.plan.name))


# ---------------------------------------------------------------------------------------------
# buttons on the scheduler's messages


async def resume_reminded_draft(turn: Turn) -> None:
    """继续 on a draft reminder: back into the report flow at the first unanswered question."""
    draft_id = _pressed_id(turn, RESUME_DRAFT)
    if draft_id is None or turn.member is None:
        return
    activity = await turn.session.get(Activity, draft_id)
    if (
        activity is None
        or activity.author_id != turn.member.id
        or activity.status != ActivityStatus.DRAFT
    ):
        turn.notice(turn.t("button_expired"))
        return
    # The report flow's own 继续 expects the "resume?" question to have been asked.
    await chat_state.set_state(turn.session, turn.member.id, report.FLOW, "resume?", activity.id)
    await report.resume_draft(turn, activity.id)


async def report_planned_activity(turn: Turn) -> None:
    """报送这项活动: a new report with the plan's name and date, at the first open question."""
    plan_id = _pressed_id(turn, REPORT_PLAN)
    if plan_id is None or turn.member is None:
        return
    result = await planning.report_plan(
        turn.session, turn.actor, turn.member.id, plan_id, turn.today, turn.settings.tz
    )
    plan, activity = result.plan, result.activity
    if result.outcome != planning.Outcome.DONE or plan is None or activity is None:
        key = result.key or planning.GONE
        if key == planning.NOT_YET and plan is not None:
            text = turn.t(key, date=format_date(plan.planned_date, turn.lang))
        else:
            text = turn.t(key)
        turn.notice(text, alert=True)
        return
    turn.close_buttons()
    text = turn.t(
        "report_prefilled", name=plan.name, date=format_date(plan.planned_date, turn.lang)
    )
    if turn.now >= window_closes_at(plan.planned_date, turn.settings.tz):
        closed = format_date(plan.planned_date + timedelta(days=3), turn.lang)
        text = Raw(text + "\n" + turn.t("date_late_warning", closed=closed))
    turn.reply(text)
    await chat_state.set_state(turn.session, turn.member.id, report.FLOW, "resume?", activity.id)
    loaded = await reports.load_activity(turn.session, activity.id)
    assert loaded is not None
    step = reports.first_missing_step(loaded, len(loaded.evidence))
    await report.go(turn, loaded, step)


def _pressed_id(turn: Turn, codec: Codec[Id]) -> int | None:
    """The id a button of ``codec`` carries, pressed by a member (a stranger is told so)."""
    if turn.member is None:
        turn.notice(turn.t("stranger"), alert=True)
        return None
    pressed = turn.button(codec)
    return None if pressed is None else pressed.id
