"""The rows the scheduler's notices are built from when they are queued or sent
(``scheduler/messages.py`` decides the rows, ``scheduler/render.py``, ``scheduler/delivery.py``,
``scheduler/digest_message.py``, ``scheduler/review_render.py`` and ``scheduler/review_look.py``
render them): the audit entries a daily digest stands for, the reports it lists, a return's
report, entry and reviewer, a delivery card's report and changes, the files of an album."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.enums import ActivityStatus
from storage.models import (
    Activity,
    AuditEntry,
    District,
    EvidenceChannelFile,
    Member,
    Organisation,
    Plan,
)


async def entries_with_status(
    session: AsyncSession, entry_ids: Collection[int]
) -> Sequence[Row[int, int, str, str]]:
    """The audit entries ``entry_ids``, in order, with their report's status now:
    (entry id, activity id, action, status)."""
    rows = await session.execute(
        select(AuditEntry.id, AuditEntry.activity_id, AuditEntry.action, Activity.status)
        .join(Activity, Activity.id == AuditEntry.activity_id)
        .where(AuditEntry.id.in_(entry_ids))
        .order_by(AuditEntry.id)
    )
    return rows.all()


async def submitted_reports(session: AsyncSession, ids: Collection[int]) -> list[Activity]:
    """The reports of ``ids`` still submitted, in no particular order, with their association."""
    found = await session.scalars(
        select(Activity)
        .where(Activity.id.in_(ids), Activity.status == ActivityStatus.SUBMITTED)
        .options(selectinload(Activity.organisation))
    )
    return list(found.all())


async def report_with_district(session: AsyncSession, activity_id: int) -> Activity | None:
    """A report with its association and the association's district."""
    return await session.scalar(
        select(Activity)
        .where(Activity.id == activity_id)
        .options(selectinload(Activity.organisation).selectinload(Organisation.district))
    )


async def activity_of(session: AsyncSession, activity_id: int) -> Activity | None:
    """A report by id (from the session's identity map when it is loaded already)."""
    return await session.get(Activity, activity_id)


async def audit_entry_of(session: AsyncSession, entry_id: int) -> AuditEntry | None:
    """An audit entry by id."""
    return await session.get(AuditEntry, entry_id)


async def member_of(session: AsyncSession, member_id: int) -> Member | None:
    """A member by id."""
    return await session.get(Member, member_id)


async def plan_of(session: AsyncSession, plan_id: int) -> Plan | None:
    """A plan by id."""
    return await session.get(Plan, plan_id)


async def report_with_evidence(session: AsyncSession, activity_id: int) -> Activity | None:
    """A report with its evidence files (a delivery's albums are cut from them)."""
    return await session.scalar(
        select(Activity).where(Activity.id == activity_id).options(selectinload(Activity.evidence))
    )


async def reports_with_evidence(session: AsyncSession, ids: Collection[int]) -> list[Activity]:
    """The reports of ``ids`` (those that still exist, in no particular order) with their
    evidence files."""
    found = await session.scalars(
        select(Activity).where(Activity.id.in_(ids)).options(selectinload(Activity.evidence))
    )
    return list(found.all())


async def report_for_card(session: AsyncSession, activity_id: int) -> Activity | None:
    """A report with what its delivery card shows: its association and district, its evidence
    files and its author."""
    return await session.scalar(
        select(Activity)
        .where(Activity.id == activity_id)
        .options(
            selectinload(Activity.organisation).selectinload(Organisation.district),
            selectinload(Activity.evidence),
            selectinload(Activity.author),
        )
    )


async def report_refs(session: AsyncSession, ids: Collection[int]) -> dict[int, str | None]:
    """The 编号 of each report of ``ids`` that still exists."""
    found = await session.execute(select(Activity.id, Activity.ref_no).where(Activity.id.in_(ids)))
    return {activity_id: ref for activity_id, ref in found.all()}


async def audit_actions(session: AsyncSession, entry_ids: Collection[int]) -> list[str]:
    """The actions of the audit entries ``entry_ids`` (in no particular order)."""
    found = await session.scalars(select(AuditEntry.action).where(AuditEntry.id.in_(entry_ids)))
    return list(found.all())


async def audit_entries(session: AsyncSession, entry_ids: Collection[int]) -> list[AuditEntry]:
    """The audit entries ``entry_ids``, in order."""
    found = await session.scalars(
        select(AuditEntry).where(AuditEntry.id.in_(entry_ids)).order_by(AuditEntry.id)
    )
    return list(found.all())


async def evidence_changes_after(
    session: AsyncSession, activity_id: int, entry_id: int
) -> list[tuple[str | None, str | None]]:
    """The report's evidence audit entries after ``entry_id``, in order: (old, new) values."""
    found = await session.execute(
        select(AuditEntry.old_value, AuditEntry.new_value)
        .where(
            AuditEntry.activity_id == activity_id,
            AuditEntry.action == "evidence",
            AuditEntry.id > entry_id,
        )
        .order_by(AuditEntry.id)
    )
    return [(old, new) for old, new in found.all()]


async def first_names(session: AsyncSession, member_ids: Collection[int]) -> dict[int, str | None]:
    """The first name of each member of ``member_ids`` that still exists."""
    found = await session.execute(
        select(Member.id, Member.first_name).where(Member.id.in_(member_ids))
    )
    return {member_id: name for member_id, name in found.all()}


async def district_names(session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    """The name of each district of ``ids`` that still exists."""
    found = await session.execute(select(District.id, District.name).where(District.id.in_(ids)))
    return {district_id: name for district_id, name in found.all()}


async def channel_file_ids(
    session: AsyncSession, evidence_ids: Collection[int]
) -> dict[int, dict[str, str]]:
    """The ids the channels gave the evidence files of ``evidence_ids``: evidence id →
    channel → file id (files a channel has not stored yet are left out)."""
    found = await session.execute(
        select(
            EvidenceChannelFile.evidence_id,
            EvidenceChannelFile.channel,
            EvidenceChannelFile.file_id,
        ).where(
            EvidenceChannelFile.evidence_id.in_(evidence_ids),
            EvidenceChannelFile.file_id.is_not(None),
        )
    )
    known: dict[int, dict[str, str]] = {}
    for evidence_id, channel, file_id in found.all():
        known.setdefault(evidence_id, {})[channel] = str(file_id)
    return known
