"""One report as the console shows it (web/report.py): the report with its association,
district, author and evidence, its audit history with who made each change, one evidence file
with the report it belongs to, and the next report waiting for review in an admin's scope.

Every query is bounded (one row, or :data:`HISTORY_LIMIT` audit entries). Whether the visitor
may see what is loaded is the caller's question to the policy
(:func:`storage.reports.report_target`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from core.enums import ActivityStatus
from storage import review
from storage.models import Activity, AuditEntry, Evidence, Member, Organisation

HISTORY_LIMIT = 200  # a report is changed a handful of times; a runaway history is cut
# Drafts are their author's own business until submitted; a cancelled draft never was a report.
HIDDEN_STATES = (ActivityStatus.DRAFT, ActivityStatus.CANCELLED)


@dataclass(frozen=True)
class HistoryEntry:
    """One audited change: who (None: the system or a removed member), what, when."""

    id: int
    at: datetime
    who: str | None
    action: str
    field: str | None
    old: str | None
    new: str | None


async def load_report(session: AsyncSession, activity_id: int) -> Activity | None:
    """A submitted (or withdrawn) report with its association, district, author and evidence;
    None for a missing id, a draft or a cancelled draft."""
    found = await session.scalars(
        select(Activity)
        .where(Activity.id == activity_id, Activity.status.not_in(HIDDEN_STATES))
        .options(
            joinedload(Activity.organisation).joinedload(Organisation.district),
            joinedload(Activity.author),
            selectinload(Activity.evidence),
        )
        # The decision forms reload after deciding: the values must be the database's.
        .execution_options(populate_existing=True)
        .limit(1)
    )
    return found.unique().first()


async def history(
    session: AsyncSession, activity_id: int, limit: int = HISTORY_LIMIT
) -> tuple[list[HistoryEntry], int]:
    """The report's audit entries, oldest first (the latest ``limit`` of them), and how many
    there are in all."""
    total = await session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.activity_id == activity_id)
    )
    rows = await session.execute(
        select(AuditEntry, Member.first_name)
        .outerjoin(Member, Member.id == AuditEntry.member_id)
        .where(AuditEntry.activity_id == activity_id)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    entries = [
        HistoryEntry(e.id, e.at, name, e.action, e.field, e.old_value, e.new_value)
        for e, name in rows.all()
    ]
    entries.reverse()
    return entries, int(total or 0)


async def reviewer_name(session: AsyncSession, activity: Activity) -> str | None:
    """Who decided the report last (None if nobody has)."""
    return await review.decided_by(session, activity)


async def load_evidence(session: AsyncSession, evidence_id: int) -> Evidence | None:
    """An evidence file with its report and the report's association (None when missing or
    attached to a draft)."""
    found = await session.scalars(
        select(Evidence)
        .join(Activity, Activity.id == Evidence.activity_id)
        .where(Evidence.id == evidence_id, Activity.status.not_in(HIDDEN_STATES))
        .options(joinedload(Evidence.activity).joinedload(Activity.organisation))
        .limit(1)
    )
    return found.unique().first()


async def next_pending(session: AsyncSession, districts: list[int] | None) -> Activity | None:
    """The report that has waited longest for review in ``districts`` (None: the city)."""
    rows, _total = await review.queue(session, districts, limit=1)
    return rows[0] if rows else None
