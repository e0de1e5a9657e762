"""Review (审核) of submitted reports by their district: approve, return with a reason, correct
and resubmit; the district's queue. Every transition is an audit entry (who, when, reason).

States (:class:`core.review_rules.ReviewState`): a submission makes a report pending; a reviewer
approves or returns it; a returned report, amended at least once and resubmitted, is pending
again; amending an approved report makes it pending again (:func:`reopen_if_approved`, called
by :mod:`storage.reports` on every audited change).

A decision and a resubmission are one conditional ``UPDATE … WHERE review_state = <expected>``
(:func:`_transition`): its row count, not the state read earlier, says whether this press won.
On PostgreSQL the second of two concurrent presses waits for the first one's row lock and, at
READ COMMITTED, re-evaluates the condition against the committed row; on SQLite the writer lock
of :mod:`storage.db` makes it start after the first one committed (reads take no snapshot before
a session's first write). Only the winner writes the audit entry; the loser reloads the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from core.enums import ActivityStatus
from core.review_rules import ReviewState, similar_names
from storage.models import Activity, AuditEntry, Member, Organisation, utcnow

__all__ = [
    "APPROVE",
    "CORRECT",
    "EDIT_ACTIONS",
    "REOPEN",
    "RETURN",
    "Decided",
    "approve",
    "changes_since_return",
    "corrections",
    "decided_by",
    "find_duplicate",
    "mark_submitted",
    "pending_count",
    "queue",
    "reopen_if_approved",
    "resubmit_corrected",
    "return_report",
    "similar_reports",
]

# audit_log actions of the review (storage/reports.py writes submit / edit / evidence / …).
APPROVE = "approve"
RETURN = "return"
CORRECT = "correct"  # a returned report resubmitted after its correction
REOPEN = "reopen"  # an approved report amended: pending again
EDIT_ACTIONS = ("edit", "evidence")


@dataclass(frozen=True)
class Decided:
    """The outcome of a press on 通过 / 退回."""

    done: bool  # False: someone decided before (or the report is no longer pending)
    state: str | None  # the report's review state now
    by: str | None  # the name of who decided last
    at: datetime | None


def _audit(
    session: AsyncSession,
    activity: Activity,
    member_id: int | None,
    action: str,
    old: str | None,
    new: str | None,
    now: datetime,
) -> None:
    session.add(
        AuditEntry(
            activity_id=activity.id,
            member_id=member_id,
            action=action,
            field="review_state",
            old_value=old,
            new_value=new,
            at=now,
        )
    )


def mark_submitted(activity: Activity, now: datetime) -> None:
    """A (re)submission, called before its status changes: pending, and the first submission
    remembered for the 3-day rule.

    A returned report that was withdrawn and is submitted again stays returned, with its
    reason: only a correction (:func:`resubmit_corrected`) sends it back to the district, so
    撤回 + 重新提交 cannot launder a return."""
    if activity.first_submitted_at is None:
        activity.first_submitted_at = now
    if (
        activity.status == ActivityStatus.WITHDRAWN
        and activity.review_state == ReviewState.RETURNED
    ):
        return
    activity.review_state = ReviewState.PENDING
    activity.reviewed_by = None
    activity.reviewed_at = None
    activity.review_reason = None


def reopen_if_approved(session: AsyncSession, activity: Activity, member_id: int | None) -> None:
    """An approved report was amended: it needs the district's look again."""
    if activity.review_state != ReviewState.APPROVED:
        return
    activity.review_state = ReviewState.PENDING
    _audit(
        session, activity, member_id, REOPEN, ReviewState.APPROVED, ReviewState.PENDING, utcnow()
    )


async def decided_by(session: AsyncSession, activity: Activity) -> str | None:
    """The name of who decided the report last (None if nobody has)."""
    return await _name(session, activity.reviewed_by)


async def _name(session: AsyncSession, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    return await session.scalar(select(Member.first_name).where(Member.id == member_id))


# What a review transition changes, reloaded when someone else changed it first.
_REVIEW_COLUMNS = (
    "status",
    "review_state",
    "reviewed_by",
    "reviewed_at",
    "review_reason",
    "version",
    "updated_at",
)


async def _transition(
    session: AsyncSession, activity: Activity, expected: ReviewState, values: Mapping[str, object]
) -> bool:
    """Set ``values`` (and raise the version) if the submitted report is still in ``expected``
    state in the database, atomically; False, with the report's review columns reloaded, when
    it is not (someone decided, resubmitted or withdrew it first)."""
    result = await session.execute(
        update(Activity)
        .where(
            Activity.id == activity.id,
            Activity.status == ActivityStatus.SUBMITTED,
            Activity.review_state == expected,
        )
        # The version guards amendments opened before the change (storage.reports.claim_version).
        .values(**values, version=Activity.version + 1)
        .returning(Activity.version, Activity.updated_at)
        .execution_options(synchronize_session=False)
    )
    row = result.one_or_none()
    if row is None:
        await session.refresh(activity, attribute_names=_REVIEW_COLUMNS)
        return False
    for name, value in (*values.items(), ("version", row.version), ("updated_at", row.updated_at)):
        set_committed_value(activity, name, value)
    return True


async def _decide(
    session: AsyncSession,
    activity: Activity,
    reviewer_id: int,
    state: ReviewState,
    reason: str | None,
    now: datetime | None,
) -> Decided:
    """Move a pending report to ``state`` unless someone else decided first (then: who, when,
    and the state they left it in, as the database has it)."""
    now = now or utcnow()
    values = {
        "review_state": state,
        "reviewed_by": reviewer_id,
        "reviewed_at": now,
        "review_reason": reason,
    }
    if not await _transition(session, activity, ReviewState.PENDING, values):
        return Decided(
            False,
            activity.review_state,
            await _name(session, activity.reviewed_by),
            activity.reviewed_at,
        )
    action = APPROVE if state == ReviewState.APPROVED else RETURN
    _audit(session, activity, reviewer_id, action, ReviewState.PENDING, reason or state, now)
    await session.flush()
    return Decided(True, state, await _name(session, reviewer_id), now)


async def approve(
    session: AsyncSession, activity: Activity, reviewer_id: int, now: datetime | None = None
) -> Decided:
    """通过: a pending report is approved."""
    return await _decide(session, activity, reviewer_id, ReviewState.APPROVED, None, now)


async def return_report(
    session: AsyncSession,
    activity: Activity,
    reviewer_id: int,
    reason: str,
    now: datetime | None = None,
) -> Decided:
    """退回 with a reason (already checked with :func:`core.review_rules.check_reason`)."""
    return await _decide(session, activity, reviewer_id, ReviewState.RETURNED, reason, now)


async def changes_since_return(session: AsyncSession, activity: Activity) -> list[AuditEntry]:
    """The edits made to a returned report since its (latest) return."""
    returned_at = await session.scalar(
        select(func.max(AuditEntry.id)).where(
            AuditEntry.activity_id == activity.id, AuditEntry.action == RETURN
        )
    )
    if returned_at is None:
        return []
    rows = await session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.activity_id == activity.id,
            AuditEntry.id > returned_at,
            AuditEntry.action.in_(EDIT_ACTIONS),
        )
        .order_by(AuditEntry.id)
    )
    return list(rows.all())


async def corrections(session: AsyncSession, activity_id: int, correct_id: int) -> list[AuditEntry]:
    """The edits between a correction (audit entry ``correct_id``) and the return before it."""
    returned_at = await session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.activity_id == activity_id,
            AuditEntry.action == RETURN,
            AuditEntry.id < correct_id,
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    rows = await session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.activity_id == activity_id,
            AuditEntry.id > (returned_at or 0),
            AuditEntry.id < correct_id,
            AuditEntry.action.in_(EDIT_ACTIONS),
        )
        .order_by(AuditEntry.id)
    )
    return list(rows.all())


async def resubmit_corrected(
    session: AsyncSession, activity: Activity, member_id: int, now: datetime | None = None
) -> bool:
    """重新提交 a returned report: pending again, if it was changed since the return and is
    still returned in the database (False otherwise, nothing written: a second press, even a
    concurrent one, does nothing). Its lateness stays judged on its first submission; its
    submission time becomes now, so a correction sent after its year's deadline shows as late
    for that year (:func:`core.cards.year_notes`)."""
    if activity.status != ActivityStatus.SUBMITTED or activity.review_state != ReviewState.RETURNED:
        return False
    if not await changes_since_return(session, activity):
        return False
    now = now or utcnow()
    # reviewed_by / reviewed_at keep the return: the pending reminder counts from it.
    pending = {"review_state": ReviewState.PENDING, "submitted_at": now}
    if not await _transition(session, activity, ReviewState.RETURNED, pending):
        return False  # resubmitted (or decided, withdrawn) by a press that came first
    _audit(session, activity, member_id, CORRECT, ReviewState.RETURNED, ReviewState.PENDING, now)
    await session.flush()
    return True


async def queue(
    session: AsyncSession,
    district_ids: list[int] | None,
    *,
    offset: int = 0,
    limit: int = 5,
) -> tuple[list[Activity], int]:
    """Pending reports of some districts (all of them for None: the city), oldest first."""
    where = [
        Activity.status == ActivityStatus.SUBMITTED,
        Activity.review_state == ReviewState.PENDING,
    ]
    if district_ids is not None:
        where.append(
            Activity.org_id.in_(
                select(Organisation.id).where(Organisation.district_id.in_(district_ids))
            )
        )
    total = await session.scalar(select(func.count()).select_from(Activity).where(*where))
    rows = await session.scalars(
        select(Activity)
        .where(*where)
        .options(selectinload(Activity.organisation).selectinload(Organisation.district))
        .order_by(Activity.submitted_at, Activity.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows.all()), int(total or 0)


async def pending_count(
    session: AsyncSession, district_id: int | None, period: tuple[date, date] | None = None
) -> int:
    """How many reports wait for review (in a district, of activities within ``period``: a
    statistical year's span, :meth:`core.years.ReportingYears.span`)."""
    where = [
        Activity.status == ActivityStatus.SUBMITTED,
        Activity.review_state == ReviewState.PENDING,
    ]
    if district_id is not None:
        where.append(
            Activity.org_id.in_(
                select(Organisation.id).where(Organisation.district_id == district_id)
            )
        )
    if period is not None:
        where.append(Activity.activity_date.between(*period))
    count = await session.scalar(select(func.count()).select_from(Activity).where(*where))
    return int(count or 0)


async def similar_reports(
    session: AsyncSession, activity: Activity, limit: int = 50
) -> list[Activity]:
    """Submitted reports of the same association on the same date, other than this one (the
    caller keeps those with a similar name: :func:`core.review_rules.similar_names`)."""
    if activity.activity_date is None:
        return []
    rows = await session.scalars(
        select(Activity)
        .where(
            Activity.org_id == activity.org_id,
            Activity.activity_date == activity.activity_date,
            Activity.status == ActivityStatus.SUBMITTED,
            Activity.id != activity.id,
        )
        .order_by(Activity.id)
        .limit(limit)
    )
    return list(rows.all())


async def find_duplicate(session: AsyncSession, activity: Activity) -> Activity | None:
    """An earlier submitted report this draft probably repeats: same association, same date,
    a similar name (:func:`core.review_rules.similar_names`)."""
    if not activity.name:
        return None
    for other in await similar_reports(session, activity):
        if other.name and similar_names(activity.name, other.name):
            return other
    return None
