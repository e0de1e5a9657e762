"""The reminder engine's reads: the plain column rows ``scheduler/snapshot.py`` files into the
rules' snapshot (``scheduler.reminders.Snapshot``) every minute.

Plain column queries, meant for the session's connection (no ORM objects, no identity map):
they run on every tick. Which rows matter (the windows, the audit actions announced, the
outbox kinds) is the scheduler's to say; these only read them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Row, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.enums import ActivityStatus
from core.review_rules import ReviewState
from storage.models import (
    Activity,
    AuditEntry,
    ChannelAccount,
    Member,
    Membership,
    Organisation,
    OutboxMessage,
    Plan,
)

Conn = AsyncConnection | AsyncSession
ACCOUNT_ID = "account_id"  # the account's id in people_rows (members.id is ``id``)


async def people_rows(
    conn: Conn, ids: Collection[int] | None = None
) -> Sequence[Row[int, int | None, str | None, str | None, str, bool, bool, bool, bool, bool]]:
    """Members (``ids``, or everyone), a row per channel account (one without any): ``id``,
    ``account_id``, ``channel``, ``external_id`` (None without an account), ``language``,
    ``unreachable``, ``mute_nudges``, ``mute_city_summary``, ``city_delivery_opt_in``,
    ``daily_digest``."""
    query = select(
        Member.id,
        ChannelAccount.id.label(ACCOUNT_ID),
        ChannelAccount.channel,
        ChannelAccount.external_id,
        Member.language,
        Member.unreachable,
        Member.mute_nudges,
        Member.mute_city_summary,
        Member.city_delivery_opt_in,
        Member.daily_digest,
    ).outerjoin(ChannelAccount, ChannelAccount.member_id == Member.id)
    if ids is not None:
        query = query.where(Member.id.in_(ids))
    return (await conn.execute(query)).all()


async def queued_payloads(
    conn: Conn, kind: str, since: datetime, ids: Collection[int] | None = None
) -> Sequence[tuple[int, dict[str, Any], datetime]]:
    """(member id, payload, queued at) of the outbox rows of ``kind`` queued since ``since``
    for a member (``ids``, or anyone)."""
    query = select(OutboxMessage.member_id, OutboxMessage.payload, OutboxMessage.created_at).where(
        OutboxMessage.kind == kind,
        OutboxMessage.created_at >= since,
        OutboxMessage.member_id.is_not(None),
    )
    if ids is not None:
        query = query.where(OutboxMessage.member_id.in_(list(ids)))
    found = (await conn.execute(query)).all()
    # Rows without a member are left out by the query: the member id is never None.
    return cast(Sequence[tuple[int, dict[str, Any], datetime]], found)


async def last_submissions(conn: Conn) -> dict[int, datetime | None]:
    """Per association, when its newest submitted report was submitted."""
    rows = await conn.execute(
        select(Activity.org_id, func.max(Activity.submitted_at))
        .where(Activity.status == ActivityStatus.SUBMITTED)
        .group_by(Activity.org_id)
    )
    return dict(rows.all())


async def org_rows(conn: Conn) -> Sequence[Row[int, int, str, bool, datetime]]:
    """Every association: (id, district id, name, active, created at)."""
    rows = await conn.execute(
        select(
            Organisation.id,
            Organisation.district_id,
            Organisation.name,
            Organisation.active,
            Organisation.created_at,
        )
    )
    return rows.all()


async def membership_rows(conn: Conn) -> Sequence[Row[int, str, int | None, int | None]]:
    """Active memberships, oldest first: (member id, role, org id, district id)."""
    rows = await conn.execute(
        select(Membership.member_id, Membership.role, Membership.org_id, Membership.district_id)
        .where(Membership.active.is_(True))
        .order_by(Membership.id)
    )
    return rows.all()


async def audit_rows(
    conn: Conn, since: datetime, actions: Collection[str]
) -> Sequence[Row[int, int, str, datetime]]:
    """Audit entries of ``actions`` since ``since``, in order: (id, activity id, action, at)."""
    rows = await conn.execute(
        select(AuditEntry.id, AuditEntry.activity_id, AuditEntry.action, AuditEntry.at)
        .where(AuditEntry.at >= since, AuditEntry.action.in_(actions))
        .order_by(AuditEntry.id)
    )
    return rows.all()


async def plan_rows(conn: Conn, since: date) -> Sequence[Row[int, int, int, str, date, bool]]:
    """Plans not cancelled, planned on ``since`` or later: (id, org id, member id, name,
    planned date, cancelled)."""
    rows = await conn.execute(
        select(
            Plan.id, Plan.org_id, Plan.member_id, Plan.name, Plan.planned_date, Plan.cancelled
        ).where(Plan.cancelled.is_(False), Plan.planned_date >= since)
    )
    return rows.all()


async def activity_rows(
    conn: Conn,
    draft_since: date,
    audited: Collection[int],
    plans: Sequence[tuple[int, int, date]],
) -> Sequence[Row[int, int, int, str, date | None, datetime, int | None]]:
    """The reports the rules may speak of: drafts dated ``draft_since`` or later, those of the
    ``audited`` ids, and for the ``plans`` (id, org id, planned date) those made from one and
    those submitted by its association on its date. Columns: id, org id, author id, status,
    activity date, updated at, plan id."""
    conditions: list[ColumnElement[bool]] = [
        (Activity.status == ActivityStatus.DRAFT) & (Activity.activity_date >= draft_since),
    ]
    if audited:
        conditions.append(Activity.id.in_(audited))
    if plans:
        conditions.append(Activity.plan_id.in_([plan_id for plan_id, _, _ in plans]))
        conditions.append(
            (Activity.status == ActivityStatus.SUBMITTED)
            & Activity.org_id.in_({org_id for _, org_id, _ in plans})
            & Activity.activity_date.in_({day for _, _, day in plans})
        )
    rows = await conn.execute(
        select(
            Activity.id,
            Activity.org_id,
            Activity.author_id,
            Activity.status,
            Activity.activity_date,
            Activity.updated_at,
            Activity.plan_id,
        ).where(or_(*conditions))
    )
    return rows.all()


async def oldest_pending(conn: Conn, settled: datetime) -> list[tuple[int, int, datetime]]:
    """Per association, the oldest report pending review since ``settled`` or before, as
    (its id, org id, pending since): bounded by the number of associations, however many
    reports wait."""
    rows = await conn.execute(
        select(func.min(Activity.id), Activity.org_id, func.min(Activity.submitted_at))
        .where(
            Activity.status == ActivityStatus.SUBMITTED,
            Activity.review_state == ReviewState.PENDING,
            Activity.submitted_at <= settled,
            # An approved report amended later is pending since then, not since submission.
            or_(Activity.reviewed_at.is_(None), Activity.reviewed_at <= settled),
        )
        .group_by(Activity.org_id)
    )
    return [(activity_id, org_id, since) for activity_id, org_id, since in rows.all() if since]


async def returned_rows(conn: Conn) -> list[tuple[int, int, int, datetime]]:
    """Reports returned and not yet corrected: (id, org id, author id, returned at)."""
    rows = await conn.execute(
        select(Activity.id, Activity.org_id, Activity.author_id, Activity.reviewed_at).where(
            Activity.status == ActivityStatus.SUBMITTED,
            Activity.review_state == ReviewState.RETURNED,
            Activity.reviewed_at.is_not(None),
        )
    )
    return [(a, org, author, at) for a, org, author, at in rows.all() if at is not None]


async def queued_keys(conn: Conn, kind: str, since: datetime) -> Sequence[tuple[str, datetime]]:
    """(key, queued at) of the outbox rows of ``kind`` queued since ``since``."""
    rows = await conn.execute(
        select(OutboxMessage.key, OutboxMessage.created_at).where(
            OutboxMessage.kind == kind, OutboxMessage.created_at >= since
        )
    )
    return rows.all()
