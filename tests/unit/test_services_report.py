"""A report's submit and withdrawal as use cases (services/report.py) on a real db, SQLite
and PostgreSQL: a refusal (outside the actor's scope, a closed year, a second press) is a result
with a catalog key and changes nothing; a withdrawal writes its audit entry and queues the
district's notice in the same transaction."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.enums import ActivityStatus, OrgKind, Role
from core.policy import Actor, Grant
from core.report_steps import BY_FIELD
from core.review_rules import ReviewState
from core.years import ReportingYears
from scheduler.rows import Timing
from services import report as change
from storage import reports
from storage.db import Database
from storage.models import Activity, AuditEntry, Membership, OutboxMessage, utcnow
from storage.registry import create_organisation, district_by_name
from tests.accounts import telegram_member
from tests.steps import next_field, stored_answers

TZ = ZoneInfo("Asia/Shanghai")
TIMING = Timing(tz=TZ)
YEARS = ReportingYears()
TODAY = date(2026, 6, 9)  # the day after the activity: its year is open
CLOSED = date(2028, 6, 1)  # its year's deadline long past

# Each test runs on SQLite and on PostgreSQL (the conftest's db on its backend).
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@dataclass(frozen=True)
class World:
    """A 锦江区 association's submitted report and its author's unfinished draft; a reporter of
    a 武侯区 association, and the 锦江区 admin who receives the notices."""

    report: int
    draft: int
    author: Actor  # 王芳
    stranger: Actor  # 赵磊, a reporter in 武侯区
    chen: Actor  # 陈静, 锦江区 admin


async def _world(db: Database) -> World:
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        wuhou = await district_by_name(session, "武侯区")
        assert jinjiang is not None and wuhou is not None
        org = await create_organisation(session, jinjiang, OrgKind.ENTERPRISE, "锦江光电科技科协")
        other = await create_organisation(session, wuhou, OrgKind.ENTERPRISE, "武侯智造科协")
        people = [
            telegram_member(8300 + n, first_name=name)
            for n, name in enumerate(("王芳", "赵磊", "陈静"))
        ]
        session.add_all(people)
        await session.flush()
        author, stranger, chen = (p.id for p in people)
        grants = {
            author: Grant(Role.REPORTER, org.id, jinjiang.id),
            stranger: Grant(Role.REPORTER, other.id, wuhou.id),
            chen: Grant(Role.DISTRICT_ADMIN, None, jinjiang.id),
        }
        session.add_all(
            Membership(member_id=m, role=g.role, org_id=g.org_id, district_id=g.district_id)
            for m, g in grants.items()
        )
        now = utcnow()
        # Every question of the table answered (tests/steps.stored_answers).
        answers = stored_answers(
            TODAY, activity_date=date(2026, 6, 8), name="技术交流会", content="面向园区企业。",
            role="主办", headcount=40, outcome="8家企业提出合作需求。",
        )  # fmt: skip
        report = Activity(
            org_id=org.id, author_id=author, status=ActivityStatus.SUBMITTED, ref_no="SVC-0002",
            submitted_at=now, first_submitted_at=now, on_time=True,
            review_state=ReviewState.PENDING, **dict(answers),
        )  # fmt: skip
        draft = Activity(
            org_id=org.id, author_id=author, status=ActivityStatus.DRAFT,
            activity_date=date(2026, 6, 8), name="科普讲座",
        )  # fmt: skip
        session.add_all([report, draft])
        await session.flush()
        actors = [Actor(m, (g,)) for m, g in grants.items()]
        return World(report.id, draft.id, *actors)


async def _count(db: Database, model: type, *where: object) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


async def _status(db: Database, report_id: int) -> str:
    async with db.session() as session:
        row = await session.get(Activity, report_id)
        assert row is not None
        return row.status


async def test_outside_the_scope_nothing_changes(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        withdrawn = await change.withdraw(
            session, w.stranger, w.report, today=TODAY, years=YEARS, timing=TIMING
        )
        # The district reviews reports; withdrawing one is its author's (or org admin's).
        by_district = await change.withdraw(
            session, w.chen, w.report, today=TODAY, years=YEARS, timing=TIMING
        )
        someone_elses = await change.submit(
            session, w.stranger, w.draft, tz=TZ, today=TODAY, years=YEARS, timing=TIMING
        )
        missing = await change.withdraw(
            session, w.author, w.report + 999, today=TODAY, years=YEARS, timing=TIMING
        )
    assert (withdrawn.outcome, withdrawn.key) == (change.Outcome.REFUSED, "not_found_or_denied")
    assert (by_district.outcome, by_district.key) == (change.Outcome.REFUSED, "not_allowed")
    assert (someone_elses.outcome, someone_elses.key) == (
        change.Outcome.REFUSED,
        "not_found_or_denied",
    )
    assert (missing.outcome, missing.key) == (change.Outcome.REFUSED, "not_found_or_denied")
    assert await _status(db, w.report) == ActivityStatus.SUBMITTED
    assert await _status(db, w.draft) == ActivityStatus.DRAFT
    assert await _count(db, AuditEntry) == 0
    assert await _count(db, OutboxMessage) == 0


async def test_a_closed_year_and_a_second_press_are_refused(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        late = await change.withdraw(
            session, w.author, w.report, today=CLOSED, years=YEARS, timing=TIMING
        )
        incomplete = await change.submit(
            session, w.author, w.draft, tz=TZ, today=TODAY, years=YEARS, timing=TIMING
        )
    assert (late.outcome, late.key) == (change.Outcome.LOCKED, "amend_locked")
    assert (incomplete.outcome, incomplete.key) == (change.Outcome.INCOMPLETE, "incomplete")
    # The draft has a date and a name: the question after the name's is the first missing.
    assert incomplete.step == BY_FIELD[next_field("name")].step
    assert await _status(db, w.report) == ActivityStatus.SUBMITTED
    async with db.session() as session:
        first = await change.withdraw(
            session, w.author, w.report, today=TODAY, years=YEARS, timing=TIMING
        )
    async with db.session() as session:
        second = await change.withdraw(
            session, w.author, w.report, today=TODAY, years=YEARS, timing=TIMING
        )
    assert first.done and (second.outcome, second.key) == (change.Outcome.EXPIRED, "button_expired")
    assert await _count(db, AuditEntry, AuditEntry.action == "withdraw") == 1


async def test_a_withdrawal_is_audited_and_announced_in_one_transaction(
    db: Database,
) -> None:
    w = await _world(db)
    withdrawn = OutboxMessage.kind == "report_withdrawn"
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            done = await change.withdraw(
                session, w.author, w.report, today=TODAY, years=YEARS, timing=TIMING
            )
            assert done.done and done.queued == 1  # 陈静's notice
            raise RuntimeError("the front fails before its commit")
    assert await _status(db, w.report) == ActivityStatus.SUBMITTED
    assert await _count(db, AuditEntry) == 0
    assert await _count(db, OutboxMessage, withdrawn) == 0
    async with db.session() as session:
        done = await change.withdraw(
            session, w.author, w.report, today=TODAY, years=YEARS, timing=TIMING
        )
    assert done.done and done.queued == 1
    assert await _status(db, w.report) == ActivityStatus.WITHDRAWN
    assert await _count(db, AuditEntry, AuditEntry.action == "withdraw") == 1
    async with db.session() as session:
        row = await session.scalar(select(OutboxMessage).where(withdrawn))
        assert row is not None and row.member_id == w.chen.member_id


async def _amend_concurrently(
    db: Database, w: World, opened: int, names: tuple[str, str]
) -> list[change.EditResult]:
    """The author, in two chats that both opened the report at version ``opened``, saves a
    new name in each at once: two sessions, both loaded before either writes."""
    loaded = asyncio.Barrier(2)

    async def save(actor: Actor, name: str) -> change.EditResult:
        async with db.session() as session:
            activity = await reports.load_activity(session, w.report)
            assert activity is not None
            await loaded.wait()
            return await change.amend(
                session, actor, activity, "name", name,
                opened=opened, tz=TZ, today=TODAY, years=YEARS,
            )  # fmt: skip

    return list(await asyncio.gather(*(save(w.author, n) for n in names)))


async def test_amend_of_a_stale_version_one_wins_the_other_is_told(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        row = await session.get(Activity, w.report)
        assert row is not None
        opened = row.version
    results = await _amend_concurrently(db, w, opened, ("技术交流会（甲）", "技术交流会（乙）"))
    outcomes = sorted(r.outcome for r in results)
    assert outcomes == [change.Edit.CONFLICT, change.Edit.DONE]
    won = next(r for r in results if r.done)
    lost = next(r for r in results if not r.done)
    assert won.version == opened + 1
    assert lost.key == "amend_conflict"
    # The loser is shown the report as the winner left it, and may answer again from there.
    assert lost.activity is not None and won.activity is not None
    assert lost.activity.name == won.activity.name and lost.version == opened + 1
    async with db.session() as session:
        row = await session.get(Activity, w.report)
        assert row is not None
        assert (row.name, row.version) == (won.activity.name, opened + 1)
    assert await _count(db, AuditEntry, AuditEntry.action == "edit") == 1
    # The same editor's next answer, from the version they were shown, is saved.
    async with db.session() as session:
        activity = await reports.load_activity(session, w.report)
        assert activity is not None
        again = await change.amend(
            session, w.author, activity, "name", "技术交流会（终）",
            opened=opened + 1, tz=TZ, today=TODAY, years=YEARS,
        )  # fmt: skip
    assert again.done and again.version == opened + 2


async def test_a_refused_actor_changes_nothing(db: Database) -> None:
    w = await _world(db)
    async with db.session() as session:
        report = await reports.load_activity(session, w.report)
        draft = await reports.load_activity(session, w.draft)
        assert report is not None and draft is not None
        amends = [
            await change.amend(
                session,
                actor,
                report,
                "name",
                "改名",
                opened=report.version,
                tz=TZ,
                today=today,
                years=YEARS,
            )
            # Another district's reporter; the district admin (who reviews, not amends); the
            # author once the report's year is closed.
            for actor, today in ((w.stranger, TODAY), (w.chen, TODAY), (w.author, CLOSED))
        ]
        answered = await change.answer(session, w.stranger, draft, "name", "改名", tz=TZ)
        discarded = await change.discard_draft(session, w.chen, draft)
        cleared = await change.clear_evidence(session, w.stranger, draft, today=TODAY, years=YEARS)
    for refused in (*amends, answered, discarded, cleared):
        assert (refused.outcome, refused.key) == (change.Edit.REFUSED, "not_found_or_denied")
    async with db.session() as session:
        rows = {a.id: a for a in (await session.scalars(select(Activity))).all()}
    assert (rows[w.report].name, rows[w.report].version) == ("技术交流会", 1)
    assert (rows[w.draft].name, rows[w.draft].status) == ("科普讲座", ActivityStatus.DRAFT)
    assert await _count(db, AuditEntry) == 0
