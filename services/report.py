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
from core.policy import Action, Actor, Target, allowed
from core.report_steps import IncompleteReport, Step
from core.review_rules import ReviewState
from core.rules import may_amend, may_continue_draft, may_report
from core.years import ReportingYears
from scheduler.rows import Timing
from services.notices import queue_event_notices
from services.review import NOT_FOUND
from storage import reports
from storage.db import AsyncSession
from storage.locks import lock_report
from storage.models import Activity, Organisation
from storage.reports import EvidenceAdded, report_target

__all__ = [
    "CONFLICT",
    "EXPIRED",
    "LOCKED",
    "NOT_ALLOWED",
    "Edit",
    "EditResult",
    "Outcome",
    "ReportResult",
    "add_evidence",
    "amend",
    "answer",
    "clear_evidence",
    "discard_draft",
    "may_change",
    "may_edit",
    "may_start",
    "restart_draft",
    "set_aside_draft",
    "start_draft",
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


# ---------------------------------------------------------------------------------------------
# Drafting and amending: starting a draft, an answer to it, 重新开始 / 放弃草稿, the evidence,
# and the amendment of a submitted report's answer. The chat's report flow calls these and
# nothing else to change a report; its gate (``handlers.report.access.pressed``) asks the same
# rules (:func:`may_edit`, :func:`may_start`) before it shows anything, and each use case asks
# them again before it writes. They take the activity the front's unit of work loaded and add
# no query of their own to a draft's answer (the per-answer budget of
# tests/e2e/test_sql_budget*.py): a draft is its author's alone, so it needs no lock. An
# amendment takes the report's lock (as 提交 and 撤回 do, and the review's decisions) and
# changes the answer only if the report is still at the version its editor opened.


#: Catalog key of an amendment of a report someone else changed since its editor opened it.
CONFLICT = "amend_conflict"


class Edit(enum.StrEnum):
    """What became of an answer, a file or a draft's button."""

    DONE = "done"
    REFUSED = "refused"  # missing, someone else's draft, or not the actor's to change
    EXPIRED = "expired"  # no longer in the state it was asked in (a draft no longer a draft)
    CONFLICT = "conflict"  # 修改: changed by someone else since its editor opened it


@dataclass(frozen=True)
class EditResult:
    """The outcome of a drafting or amending use case, for the front to render: ``key`` is the
    catalog key of the sentence for anything but :attr:`Edit.DONE`.

    ``activity`` is the report changed (for 开始 and 重新开始, the new draft); after a
    conflict, the report as it is now. ``version`` is the version the amending editor now
    knows; ``evidence`` what became of an attached file; ``cleared`` how many files 清空重传
    removed."""

    outcome: Edit
    activity: Activity | None = None
    key: str | None = None
    version: int | None = None
    evidence: EvidenceAdded | None = None
    cleared: int = 0

    @property
    def done(self) -> bool:
        """Whether this changed (or, for an answer equal to the stored one, kept) the report."""
        return self.outcome == Edit.DONE


def may_start(actor: Actor, org: Organisation) -> bool:
    """Whether ``actor`` may begin a report for the association now: its reporters and org
    admins, while it is active."""
    target = Target(district_id=org.district_id, org_id=org.id)
    return may_report(actor, target, org_active=org.active)


def may_edit(actor: Actor, activity: Activity, *, today: date, years: ReportingYears) -> bool:
    """Whether ``actor`` may answer, attach to or otherwise change the report now: a draft is
    its author's alone (while they may report for its association); a submitted or withdrawn
    report follows :func:`may_change`."""
    if activity.status == ActivityStatus.DRAFT:
        return may_continue_draft(actor, report_target(activity))
    return may_change(actor, activity, today=today, years=years)


def _own_draft(actor: Actor, activity: Activity) -> EditResult | None:
    """Why a draft's use case may not go on, or None: not the actor's draft to continue, or
    no longer a draft (submitted or discarded by a press that came first)."""
    if not may_continue_draft(actor, report_target(activity)):
        return EditResult(Edit.REFUSED, key=NOT_FOUND)
    if activity.status != ActivityStatus.DRAFT:
        return EditResult(Edit.EXPIRED, activity, key=EXPIRED)
    return None


async def start_draft(session: AsyncSession, actor: Actor, org: Organisation) -> EditResult:
    """Begin a new report for the association the actor picked (:func:`may_start`)."""
    if not may_start(actor, org):
        return EditResult(Edit.REFUSED, key=NOT_ALLOWED)
    activity = await reports.start_draft(session, actor.member_id, org.id)
    return EditResult(Edit.DONE, activity)


async def restart_draft(session: AsyncSession, actor: Actor, activity: Activity) -> EditResult:
    """重新开始: the actor's draft is discarded (kept, marked cancelled) and a new one begun
    for the same association; the result's activity is the new draft."""
    refused = _own_draft(actor, activity)
    if refused is not None:
        return refused
    reports.cancel_draft(activity)
    fresh = await reports.start_draft(session, actor.member_id, activity.org_id)
    return EditResult(Edit.DONE, fresh)


async def discard_draft(session: AsyncSession, actor: Actor, activity: Activity) -> EditResult:
    """放弃草稿 / 确认放弃: the actor's draft is marked cancelled (the row stays)."""
    refused = _own_draft(actor, activity)
    if refused is not None:
        return refused
    reports.cancel_draft(activity)
    return EditResult(Edit.DONE, activity)


async def set_aside_draft(session: AsyncSession, actor: Actor, activity: Activity) -> EditResult:
    """The author's draft in an association where their role has ended (the front found so):
    nobody can finish it, so it is marked cancelled. Its author may always do that, also
    without a role there now; anyone else's report, or one no longer a draft, is refused and
    left as it is."""
    if activity.status != ActivityStatus.DRAFT or activity.author_id != actor.member_id:
        return EditResult(Edit.REFUSED, key=NOT_FOUND)
    reports.cancel_draft(activity)
    return EditResult(Edit.DONE, activity)


async def answer(
    session: AsyncSession,
    actor: Actor,
    activity: Activity,
    field: str,
    value: object,
    *,
    tz: ZoneInfo,
) -> EditResult:
    """An answer to the actor's draft: stored as given (no audit, no lock, no query)."""
    refused = _own_draft(actor, activity)
    if refused is not None:
        return refused
    reports.set_field(session, activity, field, value, actor.member_id, tz)
    return EditResult(Edit.DONE, activity)


async def amend(
    session: AsyncSession,
    actor: Actor,
    activity: Activity,
    field: str,
    value: object,
    *,
    opened: int,
    tz: ZoneInfo,
    today: date,
    years: ReportingYears,
) -> EditResult:
    """修改: change one answer of a submitted (or withdrawn) report its editor opened at version
    ``opened``, audited (an approved report is reviewed again).

    Under the report's lock, so an amendment and a review decision or a withdrawal take turns.
    If the report changed since its editor opened it, nothing is written: the result is
    :attr:`Edit.CONFLICT` (key ``amend_conflict``) with the report reloaded as it is now, for
    the front to show the current value and ask again. An answer equal to the stored value
    writes nothing and is never a conflict."""
    if activity.status == ActivityStatus.DRAFT:
        return EditResult(Edit.EXPIRED, activity, key=EXPIRED)
    if not may_edit(actor, activity, today=today, years=years):
        return EditResult(Edit.REFUSED, key=NOT_FOUND)
    await lock_report(session, activity.id)
    known = await reports.amend_field(session, activity, field, value, actor.member_id, tz, opened)
    if known is None:
        return EditResult(Edit.CONFLICT, activity, key=CONFLICT, version=activity.version)
    return EditResult(Edit.DONE, activity, version=known)


async def add_evidence(
    session: AsyncSession,
    actor: Actor,
    activity: Activity,
    *,
    today: date,
    years: ReportingYears,
    sha256: str,
    kind: str,
    size: int,
    file_name: str | None,
    mime_type: str | None,
    media_group_id: str | None,
    channel: str | None = None,
    file_id: str | None = None,
    file_unique_id: str | None = None,
) -> EditResult:
    """Attach a stored file (its bytes already put in the evidence store) to the report the
    actor may change (:func:`may_edit`): once, the same content twice counting once; on a
    submitted report, audited. ``evidence`` says whether it was new and the count now."""
    if not may_edit(actor, activity, today=today, years=years):
        return EditResult(Edit.REFUSED, key=NOT_FOUND)
    added = await reports.add_evidence(
        session,
        activity,
        sha256=sha256,
        kind=kind,
        size=size,
        file_name=file_name,
        mime_type=mime_type,
        media_group_id=media_group_id,
        member_id=actor.member_id,
        channel=channel,
        file_id=file_id,
        file_unique_id=file_unique_id,
    )
    return EditResult(Edit.DONE, activity, evidence=added)


async def clear_evidence(
    session: AsyncSession,
    actor: Actor,
    activity: Activity,
    *,
    today: date,
    years: ReportingYears,
) -> EditResult:
    """清空重传: remove every file of the report the actor may change (the stored bytes stay,
    content-addressed); on a submitted report, audited."""
    if not may_edit(actor, activity, today=today, years=years):
        return EditResult(Edit.REFUSED, key=NOT_FOUND)
    cleared = await reports.clear_evidence(session, activity, actor.member_id)
    return EditResult(Edit.DONE, activity, cleared=cleared)
