"""Load the rows the reminder rules need (``scheduler.rows.Snapshot``) for one moment.

Only what can matter now is read: drafts of the last days, audit entries young enough to be
announced, plans whose reminders can still be due, the outbox's recent nudges.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from core.address import Address
from core.enums import Channel, Role
from core.review_rules import PENDING_REMIND_DAYS
from core.rules import WINDOW_DAYS
from scheduler.rows import ActivityRow, AuditRow, Kind, OrgRow, PlanRow, Recipient, Snapshot, Timing
from storage import snapshot as stored
from storage.db import AsyncConnection, AsyncSession

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
    """Load the members the rules may address (``ids``, or everyone) into ``snap.people``,
    each reached on the first channel they joined through (their oldest account)."""
    first: dict[int, int] = {}  # member id → the account id their address came from
    for m in await stored.people_rows(conn, ids):
        if m.id in first and (m.account_id is None or m.account_id > first[m.id]):
            continue
        address = None
        if m.account_id is not None and m.channel is not None and m.external_id is not None:
            first[m.id] = m.account_id
            address = Address(Channel(m.channel), m.external_id)
        snap.people[m.id] = Recipient(
            id=m.id,
            address=address,
            language=m.language or "zh",
            # Without an account the sender has no chat to send to.
            unreachable=m.unreachable or address is None,
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
    for member_id, payload, created in await stored.queued_payloads(
        conn, Kind.DAILY_DIGEST, since, ids
    ):
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

    last = await stored.last_submissions(conn)
    for o in await stored.org_rows(conn):
        snap.orgs[o.id] = OrgRow(
            id=o.id,
            district_id=o.district_id,
            name=o.name,
            active=o.active,
            created_at=o.created_at,
            last_submitted_at=last.get(o.id),
        )

    for member_id, role, org_id, district_id in await stored.membership_rows(conn):
        add_membership(snap, member_id, role, org_id, district_id)

    audit_since = now - timing.delivery_valid - timing.edit_settle - timedelta(days=1)
    snap.audits = [
        AuditRow(*row) for row in await stored.audit_rows(conn, audit_since, AUDIT_ACTIONS)
    ]
    # The digests of the same window: a card of those entries may have been listed in one.
    await load_digested(conn, snap, audit_since)

    plan_since = today - timedelta(days=WINDOW_DAYS + 2 + timing.escalation_valid.days)
    snap.plans = [PlanRow(*row) for row in await stored.plan_rows(conn, plan_since)]

    draft_since = today - timedelta(days=WINDOW_DAYS + 1)
    audited = {a.activity_id for a in snap.audits}
    plans = [(p.id, p.org_id, p.planned_date) for p in snap.plans]
    activities = await stored.activity_rows(conn, draft_since, audited, plans)
    snap.activities = [ActivityRow(*row) for row in activities]

    # Reports pending review for over two days: per association the oldest one (bounded by the
    # number of associations, however many reports wait), as (its id, org id, pending since).
    settled = now - timedelta(days=PENDING_REMIND_DAYS)
    snap.pending_reviews = await stored.oldest_pending(conn, settled)
    snap.returned = await stored.returned_rows(conn)

    nudge_since = now - timedelta(days=timing.quiet_days)
    for key, created in await stored.queued_keys(conn, Kind.QUIET_NUDGE, nudge_since):
        org_id = int(key.split(":")[1])
        if org_id not in snap.last_nudge or snap.last_nudge[org_id] < created:
            snap.last_nudge[org_id] = created
    return snap
