"""Export jobs (table ``export_jobs``): one running export per admin, across processes.

Claiming is "insert, commit, then look": every process first commits its own ``running`` row,
then checks for an earlier running row of the same member. Two simultaneous claims both see
each other and only the older one goes ahead; on PostgreSQL the inserts of one member take turns
(an advisory lock until commit), so the older row is also the one committed first. A row left
``running`` by a killed process stops blocking after :data:`STALE_AFTER`.

An export cut short by a shutdown is marked ``interrupted``; after the restart the admin is told
to ask again (:func:`take_interrupted`), and the row becomes ``interrupted-told``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.locks import EXPORT_JOBS, lock_pair
from storage.models import ExportJob, Member, utcnow

STALE_AFTER = timedelta(minutes=30)
RUNNING, DONE, FAILED, REFUSED = "running", "done", "failed", "refused"
INTERRUPTED, INTERRUPTED_TOLD = "interrupted", "interrupted-told"


async def running_job(
    session: AsyncSession,
    member_id: int,
    *,
    before_id: int | None = None,
    now: datetime | None = None,
) -> ExportJob | None:
    """The member's oldest live running export (older than job ``before_id``, if given)."""
    since = (now or utcnow()) - STALE_AFTER
    query = (
        select(ExportJob)
        .where(
            ExportJob.member_id == member_id,
            ExportJob.status == RUNNING,
            ExportJob.started_at >= since,
        )
        .order_by(ExportJob.id)
        .limit(1)
    )
    if before_id is not None:
        query = query.where(ExportJob.id < before_id)
    found: ExportJob | None = await session.scalar(query)
    return found


async def open_job(session: AsyncSession, member_id: int, scope: str) -> ExportJob:
    """Record a new running export (commit before :func:`confirm_job`)."""
    # On PostgreSQL ids come from a sequence, and a smaller id may commit after a larger one:
    # both claimants could then find no earlier running row. Taking turns per member until
    # commit makes id order the commit order, which confirm_job relies on.
    await lock_pair(session, EXPORT_JOBS, member_id)
    job = ExportJob(member_id=member_id, scope=scope[:128], status=RUNNING)
    session.add(job)
    await session.flush()
    return job


async def confirm_job(session: AsyncSession, job_id: int) -> bool:
    """After the job row is committed: go ahead only if no earlier export of the same member
    is still running; otherwise mark this one refused."""
    job = await session.get(ExportJob, job_id)
    if job is None or job.status != RUNNING:
        return False
    if await running_job(session, job.member_id, before_id=job.id) is not None:
        job.status, job.finished_at = REFUSED, utcnow()
        return False
    return True


async def finish_job(session: AsyncSession, job_id: int, status: str) -> None:
    """Mark a job done or failed."""
    job = await session.get(ExportJob, job_id)
    if job is not None:
        job.status, job.finished_at = status, utcnow()


async def take_interrupted(session: AsyncSession) -> list[tuple[ExportJob, Member]]:
    """Interrupted exports whose admin has not been told yet, each claimed (marked told) by
    this process only: two processes starting together do not both tell."""
    rows = (
        await session.execute(
            select(ExportJob, Member)
            .join(Member, Member.id == ExportJob.member_id)
            .where(ExportJob.status == INTERRUPTED)
            .order_by(ExportJob.id)
        )
    ).all()
    taken = []
    for job, member in rows:
        claimed = await session.execute(
            update(ExportJob)
            .where(ExportJob.id == job.id, ExportJob.status == INTERRUPTED)
            .values(status=INTERRUPTED_TOLD)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) == 1:
            job.status = INTERRUPTED_TOLD
            taken.append((job, member))
    return taken
