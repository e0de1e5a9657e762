"""The storage helpers that took the ORM tricks out of handlers/ and bot/ (issue 21): they answer
as the inline code did, and the ones that say "already loaded" run no query."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.exc import IntegrityError, OperationalError

from core.enums import ActivityStatus, OrgKind
from storage import reports
from storage.db import TRANSIENT_DB_ERRORS, Database, DatabaseLost
from storage.metrics import installation_figures
from storage.models import Activity, ExportJob, OutboxMessage
from storage.registry import active_org_counts, create_organisation, district_by_name, org_listing
from tests.drafts import draft_at_name_step
from tests.sql import statements


async def test_ensure_evidence_loaded_queries_only_when_unloaded(db: Database) -> None:
    activity_id, _ = await draft_at_name_step(db, evidence=True)
    async with db.session() as session:
        activity = await reports.load_activity(session, activity_id)
        assert activity is not None
        with statements(db) as seen:
            await reports.ensure_evidence_loaded(session, activity)
        assert seen == [] and len(activity.evidence) == 1
        session.expire(activity, ["evidence"])  # as clear_evidence leaves it
        with statements(db) as seen:
            await reports.ensure_evidence_loaded(session, activity)
        assert "evidence" in seen[0] and len(activity.evidence) == 1  # (+ their channel files)


async def test_ping_and_the_transient_errors(db: Database) -> None:
    await db.ping()  # a healthy database answers
    assert issubclass(DatabaseLost, TRANSIENT_DB_ERRORS)
    assert issubclass(OperationalError, TRANSIENT_DB_ERRORS)
    assert not issubclass(IntegrityError, TRANSIENT_DB_ERRORS)  # would fail again


async def test_installation_figures(db: Database) -> None:
    activity_id, member_id = await draft_at_name_step(db, evidence=True)
    now = datetime(2026, 6, 10, 2, tzinfo=UTC)
    async with db.session() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None
        activity.status = ActivityStatus.SUBMITTED
        activity.activity_date = date(2026, 6, 1)
        session.add_all(
            [
                OutboxMessage(
                    kind="k", key="due", channel="telegram", address="1", status="pending",
                    next_attempt_at=now - timedelta(minutes=5), payload={},
                ),
                OutboxMessage(
                    kind="k", key="later", channel="telegram", address="1", status="pending",
                    next_attempt_at=now + timedelta(hours=1), payload={},
                ),
                OutboxMessage(
                    kind="k", key="sent", channel="telegram", address="1", status="sent",
                    payload={},
                ),
                ExportJob(member_id=member_id, scope="x", status="done"),
            ]
        )  # fmt: skip
    async with db.session() as session:
        figures = await installation_figures(session, now)
    assert figures.outbox == {"pending": 2, "sent": 1}
    assert figures.oldest_due is not None
    assert figures.oldest_due.replace(tzinfo=UTC) == now - timedelta(minutes=5)
    assert (figures.submitted, figures.exports) == (1, {"done": 1})


async def test_org_listing_pages_and_filters(db: Database) -> None:
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        qingyang = await district_by_name(session, "青羊区")
        assert jinjiang is not None and qingyang is not None
        for name in ("甲科协", "乙科协", "丙科协"):
            await create_organisation(session, jinjiang, OrgKind.ENTERPRISE, name)
        await create_organisation(session, qingyang, OrgKind.ZONE, "甲园区科协")
    async with db.session() as session:
        counts = await active_org_counts(session)
        assert counts[(jinjiang.id, OrgKind.ENTERPRISE.value)] == 3
        assert counts[(qingyang.id, OrgKind.ZONE.value)] == 1
        total, rows = await org_listing(
            session, district_id=None, kind=None, name="甲", offset=0, limit=1
        )
        assert total == 2 and [(o.name, d) for o, d in rows] == [("甲科协", "锦江区")]
        total, rows = await org_listing(
            session, district_id=qingyang.id, kind="zone", name=None, offset=0, limit=50
        )
        assert total == 1 and rows[0][1] == "青羊区"
