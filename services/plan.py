"""Planned activities (/plan) as use cases: note a plan, cancel it, and start its report from
the scheduler's 报送这项活动 button. The chat renders the :class:`PlanResult`; the reminders
that chase a plan are derived from the ``plans`` rows by :mod:`scheduler.reminders`.

Each use case works in the session its front opened (it flushes, never commits) and asks the
policy (``Action.REPORT`` on the plan's association) itself: a missing, inactive or forbidden
association reads the same, :data:`NOT_ALLOWED`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from core.enums import ActivityStatus
from core.policy import Actor
from core.rules import check_plan_date
from services.report import may_start
from storage import reports
from storage.db import AsyncSession
from storage.models import Activity, Plan
from storage.plans import plan_reports

__all__ = [
    "ALREADY_REPORTED",
    "GONE",
    "NOT_ALLOWED",
    "NOT_YET",
    "Outcome",
    "PlanResult",
    "cancel",
    "may_report",
    "note",
    "report_plan",
]

#: Catalog keys of the refusals.
NOT_ALLOWED = "not_allowed"
GONE = "plan_gone"
ALREADY_REPORTED = "plan_already_reported"
NOT_YET = "plan_not_yet"


class Outcome(enum.StrEnum):
    """What became of the request."""

    DONE = "done"
    REFUSED = "refused"  # ``key`` says why


@dataclass(frozen=True)
class PlanResult:
    """A use case's answer: the plan it acted on and, for :func:`report_plan`, the report."""

    outcome: Outcome
    key: str | None = None
    plan: Plan | None = None
    activity: Activity | None = None


def _refused(key: str, plan: Plan | None = None) -> PlanResult:
    return PlanResult(Outcome.REFUSED, key, plan)


async def may_report(session: AsyncSession, actor: Actor, org_id: int) -> bool:
    """Whether ``actor`` may report (and so plan) for the association: it exists and
    :func:`services.report.may_start` allows it."""
    org = await reports.org_of(session, org_id)
    return org is not None and may_start(actor, org)


async def note(
    session: AsyncSession,
    actor: Actor,
    member_id: int,
    org_id: int,
    name: str,
    day: date,
    today: date,
) -> PlanResult:
    """Note a planned activity (its name is already checked by the flow): refused when the
    member may not report for the association or the day has passed."""
    if not name or not await may_report(session, actor, org_id):
        return _refused(NOT_ALLOWED)
    error = check_plan_date(day, today)
    if error:
        return _refused(error)
    plan = Plan(org_id=org_id, member_id=member_id, name=name, planned_date=day)
    session.add(plan)
    return PlanResult(Outcome.DONE, plan=plan)


async def _usable(session: AsyncSession, actor: Actor, plan_id: int) -> PlanResult:
    plan = await session.get(Plan, plan_id)
    if plan is None or plan.cancelled:
        return _refused(GONE)
    if not await may_report(session, actor, plan.org_id):
        return _refused(NOT_ALLOWED, plan)
    return PlanResult(Outcome.DONE, plan=plan)


async def cancel(session: AsyncSession, actor: Actor, plan_id: int) -> PlanResult:
    """取消 / 没有举办: the plan is marked cancelled and no longer chased."""
    found = await _usable(session, actor, plan_id)
    if found.plan is None or found.outcome != Outcome.DONE:
        return found
    found.plan.cancelled = True
    return found


async def report_plan(
    session: AsyncSession,
    actor: Actor,
    member_id: int,
    plan_id: int,
    today: date,
    tz: ZoneInfo,
) -> PlanResult:
    """报送这项活动: the member's report of the plan — their draft of it if they began one,
    else a new draft with the plan's name and date. Refused when the plan was reported already
    (a report beyond a draft) or lies in the future."""
    found = await _usable(session, actor, plan_id)
    plan = found.plan
    if plan is None or found.outcome != Outcome.DONE:
        return found
    linked = await plan_reports(session, plan.id)
    if any(a.status != ActivityStatus.DRAFT for a in linked):
        return _refused(ALREADY_REPORTED, plan)
    if plan.planned_date > today:
        return _refused(NOT_YET, plan)
    mine = [a for a in linked if a.author_id == member_id]
    if mine:
        return PlanResult(Outcome.DONE, plan=plan, activity=mine[0])
    activity = await reports.start_draft(session, member_id, plan.org_id)
    activity.plan_id = plan.id
    reports.set_field(session, activity, "activity_date", plan.planned_date, member_id, tz)
    reports.set_field(session, activity, "name", plan.name, member_id, tz)
    await session.flush()
    return PlanResult(Outcome.DONE, plan=plan, activity=activity)
