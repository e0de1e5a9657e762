"""Load the rows the reminder rules need (``scheduler.rows.Snapshot``) for one moment.

Only what can matter now is read: drafts of the last days, audit entries young enough to be
announced, plans whose reminders can still be due, the outbox's recent nudges.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from core.enums import ActivityStatus, Channel, Role
from core.review_rules import PENDING_REMIND_DAYS, ReviewState
from core.rules import WINDOW_DAYS
from scheduler.rows import ActivityRow, AuditRow, Kind, OrgRow, Person, PlanRow, Snapshot, Timing
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

# Review's "return" and "correct" (storage/review.py) are announced too.
AUDIT_ACTIONS = ("submit", "resubmit", "withdraw", "edit", "evidence", "return", "correct")


def add_membership(
    snap: Snapshot, member_id: int, role: str, org_id: int | None, district_id: int | None
) -> None:
    """File one active membership under the roles the rules ask about."""
    if role in (Role.REPORTER, Role.ORG_ADMIN) and org_id is not None:
        snap.reporters.setdefault(org_id, set()).add(member_id)
    if role == Role.ORG_ADMIN and org_id is not None:
        snap.org_admins.setdefault(org_id, []).append(member_id)
    elif role == Role.DISTRICT_ADMIN and district_id is not None:
        snap.district_admins.setdefault(district_id, []).append(member_id)
    elif role == Role.CITY_ADMIN:
        snap.city_admins.append(member_id)


async def load_people(
    conn: AsyncConnection | AsyncSession, snap: Snapshot, ids: Collection[int] | None = None
) -> None:
    """Load the members the rules may address (``ids``, or everyone) into ``snap.people``."""
    query = select(
        Member.id,
        ChannelAccount.external_id,
        Member.language,
        Member.unreachable,
        Member.mute_nudges,
        Member.mute_city_summary,
        Member.city_delivery_opt_in,
        Member.daily_digest,
    ).outerjoin(
        ChannelAccount,
        and_(
            ChannelAccount.member_id == Member.id,
            ChannelAccount.channel == Channel.TELEGRAM,
        ),
    )
    if ids is not None:
        query = query.where(Member.id.in_(ids))
    for m in (await conn.execute(query)).all():
        snap.people[m.id] = Person(
            id=m.id,
            telegram_id=int(m.external_id) if m.external_id is not None else 0,
            language=m.language or "zh",
            # Without a Telegram account the sender has no chat to send to.
            unreachable=m.unreachable or m.external_id is None,
            mute_nudges=m.mute_nudges,
            mute_city_summary=m.mute_city_summary,
            city_delivery_opt_in=m.city_delivery_opt_in,
            daily_digest=m.daily_digest,
        )


async def load_digested(
    conn: AsyncConnection | AsyncSession,
    snap: Snapshot,
    since: datetime,
    ids: Collection[int] | None = None,
) -> None:
    """Which reports the daily digests queued since ``since`` listed to each member (``ids``,
    or everyone), and when (``snap.digested``): the outbox's digest rows are the record."""
    query = select(OutboxMessage.member_id, OutboxMessage.payload, OutboxMessage.created_at).where(
        OutboxMessage.kind == Kind.DAILY_DIGEST,
        OutboxMessage.created_at >= since,
        OutboxMessage.member_id.is_not(None),
    )
    if ids is not None:
        query = query.where(OutboxMessage.member_id.in_(list(ids)))
    for member_id, payload, created in (await conn.execute(query)).all():
        params = (payload or {}).get("params") or {}
        for activity_id in params.get("activities") or []:
            key = (int(member_id), int(activity_id))
            if key not in snap.digested or snap.digested[key] < created:
                snap.digested[key] = created


async def load_snapshot(session: AsyncSession, now: datetime, timing: Timing) -> Snapshot:
    """Every row the rules of :mod:`scheduler.reminders` look at, as of ``now``."""
    snap = Snapshot()
    # Plain column queries on the connection: this runs every minute, the ORM layer is not needed.
    conn = await session.connection()
    today = now.astimezone(timing.tz).date()

    await load_people(conn, snap)

    last = dict(
        (
            await conn.execute(
                select(Activity.org_id, func.max(Activity.submitted_at))
                .where(Activity.status == ActivityStatus.SUBMITTED)
                .group_by(Activity.org_id)
            )
        ).all()
    )
    orgs = await conn.execute(
        select(
            Organisation.id,
            Organisation.district_id,
            Organisation.name,
            Organisation.active,
            Organisation.created_at,
        )
    )
    for o in orgs.all():
        snap.orgs[o.id] = OrgRow(
            id=o.id,
            district_id=o.district_id,
            name=o.name,
            active=o.active,
            created_at=o.created_at,
            last_submitted_at=last.get(o.id),
        )

    memberships = await conn.execute(
        select(Membership.member_id, Membership.role, Membership.org_id, Membership.district_id)
        .where(Membership.active.is_(True))
        .order_by(Membership.id)
    )
    for member_id, role, org_id, district_id in memberships.all():
        add_membership(snap, member_id, role, org_id, district_id)

    audit_since = now - timing.delivery_valid - timing.edit_settle - timedelta(days=1)
    audits = await conn.execute(
        select(AuditEntry.id, AuditEntry.activity_id, AuditEntry.action, AuditEntry.at)
        .where(AuditEntry.at >= audit_since, AuditEntry.action.in_(AUDIT_ACTIONS))
        .order_by(AuditEntry.id)
    )
    snap.audits = [AuditRow(*row) for row in audits.all()]
    # The digests of the same window: a card of those entries may have been listed in one.
    await load_digested(conn, snap, audit_since)

    plan_since = today - timedelta(days=WINDOW_DAYS + 2 + timing.escalation_valid.days)
    plans = await conn.execute(
        select(
            Plan.id, Plan.org_id, Plan.member_id, Plan.name, Plan.planned_date, Plan.cancelled
        ).where(Plan.cancelled.is_(False), Plan.planned_date >= plan_since)
    )
    snap.plans = [PlanRow(*row) for row in plans.all()]

    draft_since = today - timedelta(days=WINDOW_DAYS + 1)
    conditions: list[ColumnElement[bool]] = [
        (Activity.status == ActivityStatus.DRAFT) & (Activity.activity_date >= draft_since),
    ]
    audited = {a.activity_id for a in snap.audits}
    if audited:
        conditions.append(Activity.id.in_(audited))
    if snap.plans:
        conditions.append(Activity.plan_id.in_([p.id for p in snap.plans]))
        conditions.append(
            (Activity.status == ActivityStatus.SUBMITTED)
            & Activity.org_id.in_({p.org_id for p in snap.plans})
            & Activity.activity_date.in_({p.planned_date for p in snap.plans})
        )
    activities = await conn.execute(
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
    snap.activities = [ActivityRow(*row) for row in activities.all()]

    # Reports pending review for over two days: per association the oldest one (bounded by the
    # number of associations, however many reports wait), as (its id, org id, pending since).
    settled = now - timedelta(days=PENDING_REMIND_DAYS)
    pending = await conn.execute(
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
    snap.pending_reviews = [
        (activity_id, org_id, since) for activity_id, org_id, since in pending.all() if since
    ]

    returned = await conn.execute(
        select(Activity.id, Activity.org_id, Activity.author_id, Activity.reviewed_at).where(
            Activity.status == ActivityStatus.SUBMITTED,
            Activity.review_state == ReviewState.RETURNED,
            Activity.reviewed_at.is_not(None),
        )
    )
    snap.returned = [
        (a, org, author, at) for a, org, author, at in returned.all() if at is not None
    ]

    nudge_since = now - timedelta(days=timing.quiet_days)
    nudges = await conn.execute(
        select(OutboxMessage.key, OutboxMessage.created_at).where(
            OutboxMessage.kind == Kind.QUIET_NUDGE, OutboxMessage.created_at >= nudge_since
        )
    )
    for key, created in nudges.all():
        org_id = int(key.split(":")[1])
        if org_id not in snap.last_nudge or snap.last_nudge[org_id] < created:
            snap.last_nudge[org_id] = created
    return snap
