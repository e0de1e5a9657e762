"""Export runs, one record each (table ``export_jobs``; not scheduled jobs, which are
``scheduler/jobs.py``): one running export per admin, across processes.

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

from storage import export_jobs
from storage.db import AsyncSession
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
    return await export_jobs.oldest_with_status(
        session, member_id, RUNNING, since=since, before_id=before_id
    )


async def open_job(session: AsyncSession, member_id: int, scope: str) -> ExportJob:
    """Record a new running export (commit before :func:`confirm_job`)."""
    # On PostgreSQL ids come from a sequence, and a smaller id may commit after a larger one:
    # both claimants could then find no earlier running row. add_job takes turns per member
    # until commit (a lock), which makes id order the commit order that confirm_job relies on.
    return await export_jobs.add_job(session, member_id, scope[:128], RUNNING)


async def confirm_job(session: AsyncSession, job_id: int) -> bool:
    """After the job row is committed: go ahead only if no earlier export of the same member
    is still running; otherwise mark this one refused."""
    job = await export_jobs.get_job(session, job_id)
    if job is None or job.status != RUNNING:
        return False
    if await running_job(session, job.member_id, before_id=job.id) is not None:
        job.status, job.finished_at = REFUSED, utcnow()
        return False
    return True


async def finish_job(session: AsyncSession, job_id: int, status: str) -> None:
    """Mark a job done or failed."""
    job = await export_jobs.get_job(session, job_id)
    if job is not None:
        job.status, job.finished_at = status, utcnow()


async def take_interrupted(session: AsyncSession) -> list[tuple[ExportJob, Member]]:
    """Interrupted exports whose admin has not been told yet, each claimed (marked told) by
    this process only: two processes starting together do not both tell."""
    taken = []
    for job, member in await export_jobs.jobs_with_members(session, INTERRUPTED):
        if await export_jobs.swap_status(session, job.id, INTERRUPTED, INTERRUPTED_TOLD):
            job.status = INTERRUPTED_TOLD
            taken.append((job, member))
    return taken
