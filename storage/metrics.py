"""The installation-wide figures a metrics scrape reads (``bot/metrics.py`` sets its gauges from
them): outbox rows by state and the oldest one due, reports submitted, exports by outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import ActivityStatus
from storage.models import Activity, ExportJob, OutboxMessage


@dataclass(frozen=True)
class InstallationFigures:
    """What the database says at one scrape."""

    outbox: dict[str, int]  # outbox rows by status (only the statuses that have rows)
    oldest_due: datetime | None  # next_attempt_at of the oldest pending row due by then
    submitted: int  # reports submitted
    exports: dict[str, int]  # export jobs by status


async def installation_figures(session: AsyncSession, now: datetime) -> InstallationFigures:
    """The figures of the whole installation as of ``now`` (four queries)."""
    outbox = dict(
        (
            await session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
        ).all()
    )
    oldest = await session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now
        )
    )
    submitted = await session.scalar(
        select(func.count())
        .select_from(Activity)
        .where(Activity.status == ActivityStatus.SUBMITTED)
    )
    exports = dict(
        (
            await session.execute(select(ExportJob.status, func.count()).group_by(ExportJob.status))
        ).all()
    )
    return InstallationFigures(
        outbox={str(k): int(v) for k, v in outbox.items()},
        oldest_due=oldest,
        submitted=int(submitted or 0),
        exports={str(k): int(v) for k, v in exports.items()},
    )
