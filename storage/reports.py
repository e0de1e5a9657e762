"""Activity reports: drafts answered step by step, submission, amendment, withdrawal, audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, func, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from core.enums import ActivityStatus, Channel
from core.policy import Target
from core.report_steps import QUESTIONS, IncompleteReport, Shown, Step, first_missing
from core.rules import format_date, reference_number, timeliness
from core.years import ReportingYears
from storage import review
from storage.column_writes import set_columns
from storage.models import (
    Activity,
    AuditEntry,
    Evidence,
    EvidenceChannelFile,
    Membership,
    Organisation,
    utcnow,
)

# The order of the questions and the field each fills: the report flow's question table.
STEPS: tuple[str, ...] = tuple(q.step.value for q in QUESTIONS)
FIELD_OF_STEP = {q.step.value: q.field for q in QUESTIONS if q.shown is not Shown.FILES}


def report_target(activity: Activity) -> Target:
    """What the policy needs to know about a report: its association, district and author (its
    organisation loaded)."""
    org = activity.organisation
    return Target(district_id=org.district_id, org_id=org.id, author_member_id=activity.author_id)


def first_missing_step(activity: Activity, evidence_count: int) -> Step:
    """The first question still unanswered, or ``review`` when the report is complete."""
    return first_missing(_Answers(activity, evidence_count))


class _Answers:
    """An activity seen with a known number of evidence files (its relationship may be unloaded)."""

    def __init__(self, activity: Activity, evidence_count: int) -> None:
        self._activity = activity
        self.evidence = range(evidence_count)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._activity, name)


async def open_draft(session: AsyncSession, author_id: int) -> Activity | None:
    """The member's unfinished draft, newest first."""
    return await session.scalar(
        select(Activity)
        .where(Activity.author_id == author_id, Activity.status == ActivityStatus.DRAFT)
        .order_by(Activity.id.desc())
        .limit(1)
    )


async def start_draft(session: AsyncSession, author_id: int, org_id: int) -> Activity:
    """Begin a new report for an association."""
    activity = Activity(org_id=org_id, author_id=author_id, status=ActivityStatus.DRAFT)
    session.add(activity)
    await session.flush()
    set_committed_value(activity, "evidence", [])  # new: nothing to load
    return activity


async def load_activity(session: AsyncSession, activity_id: int) -> Activity | None:
    """An activity with its association and evidence, in one query."""
    result = await session.scalars(
        select(Activity)
        .where(Activity.id == activity_id)
        .options(
            joinedload(Activity.organisation).joinedload(Organisation.district),
            joinedload(Activity.evidence),
        )
        .execution_options(populate_existing=True)
    )
    return result.unique().first()


async def ensure_evidence_loaded(session: AsyncSession, activity: Activity) -> None:
    """Load ``activity.evidence`` if this session has not loaded it yet; no query when it has.

    Activities come with their evidence (:func:`load_activity`); :func:`add_evidence` keeps a
    loaded collection current but leaves an unloaded one unloaded, and :func:`clear_evidence`
    expires it. Reading an unloaded relationship on an async session would lazy-load outside a
    greenlet and fail, so the callers (the report flow's handlers) ask here first; a collection
    already loaded costs no query, which keeps the per-button query count
    (tests/e2e/test_sql_budget*.py). Only the ORM's instance state can tell "loaded" apart, so
    the check lives here, beside the queries.
    """
    if "evidence" in inspect(activity).unloaded:
        await session.refresh(activity, ["evidence"])


async def evidence_count(session: AsyncSession, activity_id: int) -> int:
    """How many evidence files an activity has."""
    count = await session.scalar(
        select(func.count()).select_from(Evidence).where(Evidence.activity_id == activity_id)
    )
    return int(count or 0)


@dataclass
class EvidenceAdded:
    """Outcome of attaching a file."""

    added: bool  # False when the same file was already there
    total: int


async def add_evidence(
    session: AsyncSession,
    activity: Activity,
    *,
    sha256: str,
    kind: str,
    size: int,
    file_name: str | None,
    mime_type: str | None,
    media_group_id: str | None,
    member_id: int | None,
    channel: str | None = None,
    file_id: str | None = None,
    file_unique_id: str | None = None,
) -> EvidenceAdded:
    """Attach a stored file once; the same content twice counts once.

    ``channel``, ``file_id`` and ``file_unique_id`` are the channel's handle on the file (for
    Telegram, to send it again without uploading it), kept beside the channel-free row.
    """
    # By content: a file the channel already knew is caught before its download
    # (has_evidence_unique), and the same channel file always has the same bytes. A loaded
    # collection (the update's own activity) answers without a query and is kept current.
    files = None if "evidence" in inspect(activity).unloaded else list(activity.evidence)
    if files is not None:
        duplicate = next((e.id for e in files if e.sha256 == sha256), None)
    else:
        duplicate = await session.scalar(
            select(Evidence.id).where(
                Evidence.activity_id == activity.id, Evidence.sha256 == sha256
            )
        )
    if duplicate is None:
        position = len(files) if files is not None else await evidence_count(session, activity.id)
        evidence = Evidence(
            activity_id=activity.id,
            sha256=sha256,
            kind=kind,
            size=size,
            file_name=file_name,
            mime_type=mime_type,
            media_group_id=media_group_id,
            position=position,
        )
        evidence.channel_files = (
            [EvidenceChannelFile(channel=channel, file_id=file_id, file_unique_id=file_unique_id)]
            if channel is not None and (file_id or file_unique_id)
            else []
        )
        session.add(evidence)
        await session.flush()
        if files is not None:
            files.append(evidence)
            set_committed_value(activity, "evidence", files)
        if activity.status == ActivityStatus.SUBMITTED:
            _audit(session, activity, member_id, "evidence", "evidence", None, file_name or kind)
            _bump(activity)
    total = len(files) if files is not None else await evidence_count(session, activity.id)
    return EvidenceAdded(added=duplicate is None, total=total)


async def has_evidence_unique(
    session: AsyncSession,
    activity: Activity | int,
    unique_id: str,
    *,
    channel: str = Channel.TELEGRAM,
) -> bool:
    """Whether a channel's file (Telegram: file_unique_id) is on the activity already."""
    if isinstance(activity, int):
        activity_id = activity
    elif "evidence" not in inspect(activity).unloaded and not activity.evidence:
        return False  # loaded with the update and still empty (the first file): no query
    else:
        activity_id = activity.id
    found = await session.scalar(
        select(Evidence.id)
        .join(EvidenceChannelFile)
        .where(
            Evidence.activity_id == activity_id,
            EvidenceChannelFile.channel == channel,
            EvidenceChannelFile.file_unique_id == unique_id,
        )
        .limit(1)
    )
    return found is not None


async def clear_evidence(session: AsyncSession, activity: Activity, member_id: int | None) -> int:
    """Remove every evidence file of an activity (the stored bytes stay content-addressed)."""
    rows = (
        await session.scalars(select(Evidence).where(Evidence.activity_id == activity.id))
    ).all()
    for row in rows:
        await session.delete(row)
    if rows and activity.status == ActivityStatus.SUBMITTED:
        _audit(session, activity, member_id, "evidence", "evidence", f"{len(rows)}", "0")
        _bump(activity)
    await session.flush()
    # The loaded collection still lists the deleted rows: read it again when next needed.
    session.expire(activity, ["evidence"])
    return len(rows)


def _display(field: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return format_date(value)
    return str(value)


def _audit(
    session: AsyncSession,
    activity: Activity,
    member_id: int | None,
    action: str,
    field: str | None,
    old: str | None,
    new: str | None,
) -> None:
    if action in review.EDIT_ACTIONS:
        review.reopen_if_approved(session, activity, member_id)
    session.add(
        AuditEntry(
            activity_id=activity.id,
            member_id=member_id,
            action=action,
            field=field,
            old_value=old,
            new_value=new,
        )
    )


def set_field(
    session: AsyncSession,
    activity: Activity,
    field: str,
    value: object,
    member_id: int | None,
    tz: ZoneInfo,
) -> None:
    """Store one answer: audited once submitted; a new date is judged on the first submission.

    A staged column write (:mod:`storage.column_writes`): the answer is on ``activity`` at once
    and goes to the database with the turn's commit (or before its next query)."""
    old = getattr(activity, field)
    if old == value:
        return
    set_columns(session, activity, {field: value})
    if activity.status != ActivityStatus.DRAFT:
        shown = _display(field, old), _display(field, value)
        _audit(session, activity, member_id, "edit", field, *shown)
        if field == "activity_date" and activity.submitted_at and isinstance(value, date):
            judged = timeliness(value, activity.first_submitted_at or activity.submitted_at, tz)
            activity.on_time, activity.late_days = judged.on_time, judged.late_days


def _bump(activity: Activity) -> None:
    # A row not flushed yet has no version loaded; the column's default is 1.
    activity.version = (activity.version or 1) + 1


async def claim_version(session: AsyncSession, activity: Activity, opened: int) -> bool:
    """Raise a report's version from ``opened`` to the next, atomically in the database.

    ``UPDATE … WHERE version = :opened`` changes no row when someone else changed the report
    since the editor opened it (on PostgreSQL the row lock makes the second of two concurrent
    editors wait and then match nothing). Then the activity is reloaded with what they saved
    and False is returned; nothing has been written.
    """
    result = await session.execute(
        update(Activity)
        .where(Activity.id == activity.id, Activity.version == opened)
        .values(version=Activity.version + 1)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount != 1:
        await load_activity(session, activity.id)  # populate_existing: the current values
        return False
    set_committed_value(activity, "version", opened + 1)
    return True


async def amend_field(
    session: AsyncSession,
    activity: Activity,
    field: str,
    value: object,
    member_id: int | None,
    tz: ZoneInfo,
    opened: int,
) -> int | None:
    """Change one answer of a submitted report opened at version ``opened``.

    Returns the version the editor now knows (``opened + 1`` after a change), or None when the
    report changed since they opened it (the caller shows the current value and asks again).
    An answer equal to the stored value overwrites nothing and is never a conflict.
    """
    if getattr(activity, field) == value:
        return opened
    if not await claim_version(session, activity, opened):
        return None
    set_field(session, activity, field, value, member_id, tz)
    return opened + 1


async def submit(
    session: AsyncSession,
    activity: Activity,
    member_id: int | None,
    tz: ZoneInfo,
    now: datetime | None = None,
    years: ReportingYears | None = None,
) -> None:
    """Mark a complete draft (or a withdrawn report) as submitted, with a reference in its
    statistical year (``years``; the default deadline unless given).

    Raises :class:`~core.report_steps.IncompleteReport` (naming the first unanswered question)
    when an answer or the evidence is missing; nothing is changed then.
    """
    loaded = "evidence" not in inspect(activity).unloaded
    files = len(activity.evidence) if loaded else await evidence_count(session, activity.id)
    missing = first_missing_step(activity, files)
    if missing != Step.REVIEW:
        raise IncompleteReport(missing)
    assert activity.activity_date is not None
    now = now or utcnow()
    resubmit = activity.status == ActivityStatus.WITHDRAWN
    review.mark_submitted(activity, now)  # first: it reads the status before this submission
    judged = timeliness(activity.activity_date, activity.first_submitted_at or now, tz)
    activity.status = ActivityStatus.SUBMITTED
    _bump(activity)
    activity.submitted_at = now
    activity.on_time, activity.late_days = judged.on_time, judged.late_days
    year = (years or ReportingYears()).year_of(activity.activity_date)
    activity.ref_no = activity.ref_no or reference_number(activity.id, year)
    action = "resubmit" if resubmit else "submit"
    _audit(session, activity, member_id, action, None, None, activity.ref_no)


def withdraw(session: AsyncSession, activity: Activity, member_id: int | None) -> None:
    """Withdraw a submitted report (kept, audited, excluded from exports)."""
    activity.status = ActivityStatus.WITHDRAWN
    _bump(activity)
    old, new = ActivityStatus.SUBMITTED, ActivityStatus.WITHDRAWN
    _audit(session, activity, member_id, "withdraw", None, old, new)


def cancel_draft(activity: Activity) -> None:
    """Discard a draft; the row stays (marked cancelled) so nothing is silently deleted."""
    activity.status = ActivityStatus.CANCELLED


async def org_reports(
    session: AsyncSession, org_ids: list[int], *, offset: int = 0, limit: int = 8
) -> tuple[list[Activity], int]:
    """Submitted and withdrawn reports of some associations, newest activity first."""
    where = (
        Activity.org_id.in_(org_ids),
        Activity.status.in_([ActivityStatus.SUBMITTED, ActivityStatus.WITHDRAWN]),
    )
    total = await session.scalar(select(func.count()).select_from(Activity).where(*where))
    rows = await session.scalars(
        select(Activity)
        .where(*where)
        .options(selectinload(Activity.organisation))
        .order_by(Activity.activity_date.desc(), Activity.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows.all()), int(total or 0)


async def ended_orgs(session: AsyncSession, member_id: int) -> list[Organisation]:
    """Associations the member was removed from and holds no role in now, latest removal first
    (their drafts and reports there are out of reach: the member is told so, not "not found")."""
    still = select(Membership.org_id).where(
        Membership.member_id == member_id,
        Membership.active.is_(True),
        Membership.org_id.is_not(None),
    )
    rows = await session.execute(
        select(Organisation, Membership.revoked_at)
        .join(Membership, Membership.org_id == Organisation.id)
        .where(
            Membership.member_id == member_id,
            Membership.active.is_(False),
            Membership.revoked_at.is_not(None),
            Organisation.id.not_in(still),
        )
        .order_by(Membership.revoked_at.desc(), Membership.id.desc())
    )
    seen: dict[int, Organisation] = {}
    for org, _ in rows.all():
        seen.setdefault(org.id, org)
    return list(seen.values())


async def org_of(session: AsyncSession, org_id: int) -> Organisation | None:
    """An association by id."""
    return await session.get(Organisation, org_id)
