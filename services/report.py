"""A report's own changes of state as use cases: 提交 (a complete draft, or a withdrawn report
submitted again) and 撤回. The chat (the summary card's 提交, /mine's 重新提交 and 确认撤回)
calls these and renders the :class:`ReportResult`; the conversation state (which card is on
screen, the amend mode of 修改 and its end, 修改完成) stays the chat's, since nothing of the
report changes there: each amended answer is saved as it is given.

Each use case, in the session its front opened (it flushes, never commits):

1. locks the report (:func:`storage.locks.lock_report`, the lock the review's decisions take),
   so a withdrawal and a decision or a second press take turns;
2. loads the report as committed now and asks the rules: a draft is its author's alone
   (:func:`core.rules.may_continue_draft`), a submitted or withdrawn report its author's or its
   org admin's until its year closes (:func:`may_change`); a refusal is a catalog key;
3. checks the state (a report no longer in the state the button was drawn for answers
   ``button_expired``);
4. changes it through :mod:`storage.reports`, which writes the audit entry;
5. queues the district's notice of the event (submitted, resubmitted, withdrawn) with
   :func:`services.notices.queue_event_notices` in the same transaction. The front wakes the
   sender after its commit when :attr:`ReportResult.queued` says something was queued.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.enums import ActivityStatus
from core.policy import Action, Actor, allowed
from core.report_steps import IncompleteReport, Step
from core.review_rules import ReviewState
from core.rules import may_amend, may_continue_draft
from core.years import ReportingYears
from scheduler.rows import Timing
from services.notices import queue_event_notices
from services.review import NOT_FOUND
from storage import reports
from storage.db import AsyncSession
from storage.locks import lock_report
from storage.models import Activity
from storage.reports import report_target

__all__ = [
    "EXPIRED",
    "LOCKED",
    "NOT_ALLOWED",
    "Outcome",
    "ReportResult",
    "may_change",
    "submit",
    "withdraw",
]

#: Catalog keys of the refusals (NOT_FOUND, ``not_found_or_denied``, is the review's).
NOT_ALLOWED = "not_allowed"  # may see the report, not change it
LOCKED = "amend_locked"  # may change it, but its statistical year is closed
EXPIRED = "button_expired"  # no longer in the state the button was drawn for

# The audit actions storage.reports writes for the events whose notices are queued here.
_SUBMITTED = ("submit", "resubmit")
_WITHDRAWN = ("withdraw",)


class Outcome(enum.StrEnum):
    """What became of a press."""

    DONE = "done"
    REFUSED = "refused"  # missing, a draft of someone else's, or not the actor's to change
    LOCKED = "locked"  # the report's year is closed (the front says until when it was open)
    EXPIRED = "expired"  # already submitted / withdrawn by a press that came first
    INCOMPLETE = "incomplete"  # 提交: an answer or the evidence is missing (``step``)


@dataclass(frozen=True)
class ReportResult:
    """The outcome of 提交 / 撤回, for the front to render: ``key`` is the catalog key of the
    sentence for anything but :attr:`Outcome.DONE`; ``step`` is the first unanswered question
    of an incomplete report."""

    outcome: Outcome
    activity: Activity | None = None
    key: str | None = None
    step: Step | None = None
    queued: int = 0  # outbox rows queued with the event (the front wakes the sender after commit)

    @property
    def done(self) -> bool:
        """Whether this press changed the report."""
        return self.outcome == Outcome.DONE


def may_change(
    actor: Actor,
    activity: Activity,
    *,
    today: date,
    years: ReportingYears,
    withdrawing: bool = False,
) -> bool:
    """Whether ``actor`` may change, withdraw or resubmit a submitted (or withdrawn) report
    today: its author or the org admin, until the deadline of the report's statistical year; a
    returned report may always be corrected (but no longer withdrawn once its year is closed)."""
    returned = (
        not withdrawing
        and activity.status == ActivityStatus.SUBMITTED
        and activity.review_state == ReviewState.RETURNED
    )
    return may_amend(
        actor, report_target(activity), activity.activity_date, today, years, returned=returned
    )


def _refusal(
    actor: Actor, activity: Activity, *, today: date, years: ReportingYears, withdrawing: bool
) -> ReportResult | None:
    """Why ``actor`` may not change the (submitted or withdrawn) report, or None: the same
    order of sentences as /mine's buttons."""
    target = report_target(activity)
    if not allowed(actor, Action.VIEW_REPORTS, target):
        return ReportResult(Outcome.REFUSED, key=NOT_FOUND)
    if not may_change(actor, activity, today=today, years=years, withdrawing=withdrawing):
        if allowed(actor, Action.EDIT_REPORT, target):
            return ReportResult(Outcome.LOCKED, activity, key=LOCKED)
        return ReportResult(Outcome.REFUSED, key=NOT_ALLOWED)
    return None


async def _locked(session: AsyncSession, report_id: int) -> Activity | None:
    """The report, locked and read as committed now (None: missing or a cancelled draft)."""
    await lock_report(session, report_id)
    activity = await reports.load_activity(session, report_id)
    if activity is None or activity.status == ActivityStatus.CANCELLED:
        return None
    return activity


async def submit(
    session: AsyncSession,
    actor: Actor,
    report_id: int,
    *,
    tz: ZoneInfo,
    today: date,
    years: ReportingYears,
    timing: Timing,
    now: datetime | None = None,
) -> ReportResult:
    """提交 a complete draft of the actor's, or submit a withdrawn report again (pending once
    more, or returned with its reason if the district had returned it): a reference number in
    its statistical year, the audit entry, and the district's card queued with it."""
    activity = await _locked(session, report_id)
    if activity is None:
        return ReportResult(Outcome.REFUSED, key=NOT_FOUND)
    if activity.status == ActivityStatus.DRAFT:
        if not may_continue_draft(actor, report_target(activity)):
            return ReportResult(Outcome.REFUSED, key=NOT_FOUND)
    else:
        refused = _refusal(actor, activity, today=today, years=years, withdrawing=False)
        if refused is not None:
            return refused
        if activity.status != ActivityStatus.WITHDRAWN:
            return ReportResult(Outcome.EXPIRED, activity, key=EXPIRED)
    try:
        await reports.submit(session, activity, actor.member_id, tz, now=now, years=years)
    except IncompleteReport as incomplete:
        return ReportResult(Outcome.INCOMPLETE, activity, key="incomplete", step=incomplete.step)
    queued = await queue_event_notices(session, activity, _SUBMITTED, timing, now)
    return ReportResult(Outcome.DONE, activity, queued=queued)


async def withdraw(
    session: AsyncSession,
    actor: Actor,
    report_id: int,
    *,
    today: date,
    years: ReportingYears,
    timing: Timing,
    now: datetime | None = None,
) -> ReportResult:
    """撤回 a submitted report: it stays, marked withdrawn (audited, out of the exports), and
    the district is told at once."""
    activity = await _locked(session, report_id)
    if activity is None or activity.status == ActivityStatus.DRAFT:
        return ReportResult(Outcome.REFUSED, key=NOT_FOUND)
    refused = _refusal(actor, activity, today=today, years=years, withdrawing=True)
    if refused is not None:
        return refused
    if activity.status != ActivityStatus.SUBMITTED:
        return ReportResult(Outcome.EXPIRED, activity, key=EXPIRED)
    reports.withdraw(session, activity, actor.member_id)
    queued = await queue_event_notices(session, activity, _WITHDRAWN, timing, now)
    return ReportResult(Outcome.DONE, activity, queued=queued)
