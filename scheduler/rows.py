"""What the reminder rules read and emit: the kinds of scheduled message, the timing, the plain
rows of a :class:`Snapshot` (loaded by ``scheduler.snapshot``) and the :class:`Due` items.

Re-exported by :mod:`scheduler.reminders`, the rules themselves.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.address import Address
from core.settings import Settings
from core.years import ReportingYears


class Kind(enum.StrEnum):
    """What a scheduled message is about."""

    REPORT_SUBMITTED = "report_submitted"
    REPORT_RESUBMITTED = "report_resubmitted"
    REPORT_EDITED = "report_edited"
    REPORT_WITHDRAWN = "report_withdrawn"
    DRAFT_MORNING = "draft_morning"
    DRAFT_CLOSING = "draft_closing"
    PLAN_ASK = "plan_ask"
    PLAN_LAST_CALL = "plan_last_call"
    PLAN_MISSED = "plan_missed"
    QUIET_NUDGE = "quiet_nudge"
    DEADLINE = "deadline"
    CITY_SUMMARY = "city_summary"
    DAILY_DIGEST = "daily_digest"  # a district admin's 09:00 list of yesterday's reports
    RETURN_REMINDER = "return_reminder"  # a returned report not corrected within 3 days
    # Review (审核): a corrected report back to the district, a return to its author and org
    # admins, and the district admins' daily reminder of reports pending for over two days.
    REPORT_CORRECTED = "report_corrected"
    REPORT_RETURNED = "report_returned"
    REVIEW_PENDING = "review_pending"


DELIVERY_KINDS = frozenset(
    {
        Kind.REPORT_SUBMITTED,
        Kind.REPORT_RESUBMITTED,
        Kind.REPORT_EDITED,
        Kind.REPORT_WITHDRAWN,
        Kind.REPORT_CORRECTED,
    }
)


@dataclass(frozen=True)
class Timing:
    """When things happen, in local time; built from Settings with :meth:`from_settings`."""

    tz: ZoneInfo
    quiet: tuple[time, time] = (time(21, 0), time(8, 0))
    quiet_days: int = 30
    years: ReportingYears = field(default_factory=ReportingYears)  # statistical years, deadlines
    morning: time = time(9, 0)  # morning reminders, plan questions, deadline reminders
    draft_closing: time = time(18, 0)  # "a few hours before" the window closes at midnight
    nudge_at: time = time(10, 0)
    deadline_days: tuple[int, ...] = (30, 14, 7, 3, 1)
    edit_settle: timedelta = timedelta(minutes=10)  # edits in a row are announced once
    draft_idle: timedelta = timedelta(hours=1)  # never remind someone who is typing right now
    delivery_valid: timedelta = timedelta(days=7)
    escalation_valid: timedelta = timedelta(days=7)
    nudge_valid: timedelta = timedelta(days=3)
    # Non-urgent reminders skip weekends and public holidays (core.calendar); on in production
    # (from_settings), off by default so the rules' own timeline reads without a calendar.
    holidays: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Timing:
        """Timing from the Settings (tz, quiet hours, quiet days, deadline)."""
        return cls(
            tz=settings.tz,
            quiet=settings.quiet,
            quiet_days=settings.quiet_days,
            years=settings.years,
            holidays=True,
        )

    def at(self, day: date, moment: time) -> datetime:
        """A local wall-clock moment on ``day`` as an aware datetime."""
        return datetime.combine(day, moment, tzinfo=self.tz)


# ---------------------------------------------------------------------------------------------
# rows


@dataclass(frozen=True)
class Recipient:
    """A member as the rules see them: someone a reminder may go to."""

    id: int
    address: Address | None  # where they are reached (None: nowhere, so unreachable)
    language: str = "zh"
    unreachable: bool = False
    mute_nudges: bool = False
    mute_city_summary: bool = False
    city_delivery_opt_in: bool = False
    daily_digest: bool = False  # a district admin's 每日汇总 instead of every report


@dataclass(frozen=True)
class OrgRow:
    """An association."""

    id: int
    district_id: int
    name: str
    active: bool = True
    created_at: datetime | None = None
    last_submitted_at: datetime | None = None  # newest submission of a still-submitted report


@dataclass(frozen=True)
class ActivityRow:
    """A report (draft or submitted)."""

    id: int
    org_id: int
    author_id: int
    status: str
    activity_date: date | None
    updated_at: datetime
    plan_id: int | None = None


@dataclass(frozen=True)
class AuditRow:
    """One entry of ``audit_log``."""

    id: int
    activity_id: int
    action: str
    at: datetime


@dataclass(frozen=True)
class PlanRow:
    """A planned activity noted with /plan."""

    id: int
    org_id: int
    member_id: int
    name: str
    planned_date: date
    cancelled: bool = False


@dataclass
class Snapshot:
    """What the rules need from the database at one moment."""

    people: dict[int, Recipient] = field(default_factory=dict)
    orgs: dict[int, OrgRow] = field(default_factory=dict)
    org_admins: dict[int, list[int]] = field(default_factory=dict)  # org id → member ids
    district_admins: dict[int, list[int]] = field(default_factory=dict)  # district → members
    city_admins: list[int] = field(default_factory=list)
    activities: list[ActivityRow] = field(default_factory=list)  # drafts + plan-linked reports
    audits: list[AuditRow] = field(default_factory=list)  # recent entries
    plans: list[PlanRow] = field(default_factory=list)  # recent, not cancelled
    last_nudge: dict[int, datetime] = field(default_factory=dict)  # org id → last nudge queued
    # org id → members who may report for it (active reporters and org admins)
    reporters: dict[int, set[int]] = field(default_factory=dict)
    # Reports waiting for review: (activity id, org id, pending since), oldest first.
    pending_reviews: list[tuple[int, int, datetime]] = field(default_factory=list)
    # Reports returned and not yet corrected: (activity id, org id, author id, returned at).
    returned: list[tuple[int, int, int, datetime]] = field(default_factory=list)
    # (member id, activity id) → when the latest daily digest listing the report to the member
    # was queued (the outbox's digest rows): not carded to them for what happened before.
    digested: dict[tuple[int, int], datetime] = field(default_factory=dict)

    def may_report(self, member_id: int, org_id: int) -> bool:
        """Whether the member still belongs to the association (a removed one is not chased)."""
        return member_id in self.reporters.get(org_id, ())


@dataclass(frozen=True)
class Due:
    """One message to one member, valid from ``due_at`` until ``expires_at``."""

    kind: Kind
    member_id: int
    subject: int  # activity / plan / org / district id, or the year
    slot: str  # the occasion: audit id, a date, "2026-11-30-7d"…
    due_at: datetime
    expires_at: datetime
    refs: tuple[int, ...] = ()  # audit ids of an announced event

    @property
    def key(self) -> str:
        """The outbox key: one message per kind, subject, occasion and recipient."""
        return f"{self.kind}:{self.subject}:{self.slot}:{self.member_id}"
