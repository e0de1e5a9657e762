"""The rows of ``export_jobs``: the queries of :mod:`exports.runs`, which owns the claim protocol
and the meaning of each status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.locks import EXPORT_JOBS, lock_pair
from storage.models import ExportJob, Member


async def oldest_with_status(
    session: AsyncSession,
    member_id: int,
    status: str,
    *,
    since: datetime,
    before_id: int | None = None,
) -> ExportJob | None:
    """The member's oldest job in ``status`` started since ``since`` (and older than job
    ``before_id``, if given)."""
    query = (
        select(ExportJob)
        .where(
            ExportJob.member_id == member_id,
            ExportJob.status == status,
            ExportJob.started_at >= since,
        )
        .order_by(ExportJob.id)
        .limit(1)
    )
    if before_id is not None:
        query = query.where(ExportJob.id < before_id)
    found: ExportJob | None = await session.scalar(query)
    return found


async def add_job(session: AsyncSession, member_id: int, scope: str, status: str) -> ExportJob:
    """Insert a job row (flushed, so it has its id), after taking the member's turn: on
    PostgreSQL the inserts of one member then commit in id order."""
    await lock_pair(session, EXPORT_JOBS, member_id)
    job = ExportJob(member_id=member_id, scope=scope, status=status)
    session.add(job)
    await session.flush()
    return job


async def recent_jobs(session: AsyncSession, member_id: int, limit: int) -> list[ExportJob]:
    """The member's latest ``limit`` jobs, newest first (the console's export page lists them)."""
    rows = await session.scalars(
        select(ExportJob)
        .where(ExportJob.member_id == member_id)
        .order_by(ExportJob.id.desc())
        .limit(limit)
    )
    return list(rows.all())


async def get_job(session: AsyncSession, job_id: int) -> ExportJob | None:
    """A job by id."""
    return await session.get(ExportJob, job_id)


async def jobs_with_members(session: AsyncSession, status: str) -> list[tuple[ExportJob, Member]]:
    """Every job in ``status``, oldest first, each with its member."""
    rows = await session.execute(
        select(ExportJob, Member)
        .join(Member, Member.id == ExportJob.member_id)
        .where(ExportJob.status == status)
        .order_by(ExportJob.id)
    )
    # unique(): the member's accounts are joined in (one row per account).
    return [(job, member) for job, member in rows.unique().all()]


async def swap_status(session: AsyncSession, job_id: int, old: str, new: str) -> bool:
    """Set a job's status to ``new`` if it still is ``old``, in one conditional UPDATE: true
    when this call changed it (a concurrent one saw no row to change)."""
    claimed = await session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status == old)
        .values(status=new)
        .execution_options(synchronize_session=False)
    )
    return getattr(claimed, "rowcount", 0) == 1
