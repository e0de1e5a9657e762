"""A report's event notices are written by its use case (services/notices.py, built by
scheduler/notices.py from the event), not found by the reminder rules: 提交 and 退回 queue the
rows the minute tick would have queued (the same keys, recipients and payloads, not before the
quiet hours end), without running the rules engine; a tick afterwards adds nothing.

The clock is fixed (time-machine) so the tick has nothing else to say: no deadline reminder,
no city summary, no digest falls on these moments.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import delete, select

from core.enums import ActivityStatus, OrgKind, Role
from core.policy import Actor, Grant
from core.review_rules import ReviewState
from core.settings import Settings, load_settings
from scheduler import reminders
from scheduler.jobs import Scheduler
from scheduler.rows import Kind, Timing
from services import report as change
from services import review as decide
from storage.db import Database
from storage.models import Activity, Evidence, Membership, OutboxMessage
from storage.registry import create_organisation, district_by_name
from tests.accounts import telegram_member
from tests.steps import stored_answers

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 6, 9, 10, 0, tzinfo=TZ)  # a Tuesday morning, far from the deadline
NIGHT = datetime(2026, 6, 9, 22, 0, tzinfo=TZ)  # inside the quiet hours (21:00-08:00)
MORNING = datetime(2026, 6, 10, 8, 0, tzinfo=TZ)  # their end

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@dataclass(frozen=True)
class World:
    """A 锦江区 association with a complete draft (two photos) and a pending report; its
    reporter and org admin; 锦江区's admins (陈静 gets cards, 刘洋 reads the 每日汇总 instead);
    an opted-in city admin (孙丽) and one who did not opt in (周明)."""

    draft: int
    pending: int
    author: Actor
    chen: Actor
    ids: dict[str, int]


async def _world(db: Database) -> World:
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        assert jinjiang is not None
        org = await create_organisation(session, jinjiang, OrgKind.ENTERPRISE, "锦江光电科技科协")
        names = ("王芳", "李强", "陈静", "刘洋", "孙丽", "周明")
        people = [
            telegram_member(
                8500 + n,
                first_name=name,
                daily_digest=name == "刘洋",
                city_delivery_opt_in=name == "孙丽",
            )
            for n, name in enumerate(names)
        ]
        session.add_all(people)
        await session.flush()
        ids = {name: p.id for name, p in zip(names, people, strict=True)}
        grants = {
            ids["王芳"]: Grant(Role.REPORTER, org.id, jinjiang.id),
            ids["李强"]: Grant(Role.ORG_ADMIN, org.id, jinjiang.id),
            ids["陈静"]: Grant(Role.DISTRICT_ADMIN, None, jinjiang.id),
            ids["刘洋"]: Grant(Role.DISTRICT_ADMIN, None, jinjiang.id),
            ids["孙丽"]: Grant(Role.CITY_ADMIN, None, None),
            ids["周明"]: Grant(Role.CITY_ADMIN, None, None),
        }
        session.add_all(
            Membership(member_id=m, role=g.role, org_id=g.org_id, district_id=g.district_id)
            for m, g in grants.items()
        )
        # Every question of the table answered (tests/steps.stored_answers), the name apart.
        answers: dict[str, Any] = {
            "org_id": org.id,
            "author_id": ids["王芳"],
            **dict(stored_answers(DAY.date(), activity_date=date(2026, 6, 8), headcount=40)),
        }
        answers.pop("name")
        draft = Activity(status=ActivityStatus.DRAFT, name="技术交流会", **answers)
        pending = Activity(
            status=ActivityStatus.SUBMITTED, name="科普讲座", ref_no="EVT-0001",
            submitted_at=DAY, first_submitted_at=DAY, on_time=True,
            review_state=ReviewState.PENDING, **answers,
        )  # fmt: skip
        session.add_all([draft, pending])
        await session.flush()
        session.add_all(
            Evidence(activity_id=draft.id, sha256=f"{n:064x}", kind="photo", position=n)
            for n in (1, 2)
        )
        actors = {m: Actor(m, (g,)) for m, g in grants.items()}
        return World(draft.id, pending.id, actors[ids["王芳"]], actors[ids["陈静"]], ids)


def _settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", quiet_hours="21:00-08:00", tz="Asia/Shanghai")


@pytest.fixture
def no_rules_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The reminder rules refuse to run: an event's notice must not need them."""

    def refuse(*_args: object) -> Iterator[object]:
        raise AssertionError("the rules engine ran for an event notice")

    monkeypatch.setattr(reminders, "candidates", refuse)
    yield monkeypatch


Row = tuple[str, str, int | None, str, Any, datetime]


async def _rows(db: Database) -> list[Row]:
    async with db.session() as session:
        found = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [
            (r.key, r.kind, r.member_id, r.address, r.payload, r.next_attempt_at)
            for r in found.all()
        ]


async def _tick_rebuilds_the_same(db: Database, settings: Settings, at: datetime) -> None:
    """The queued rows are the ones the tick builds itself for the same event at ``at``: the
    tick adds nothing to them, and, with the outbox emptied, queues exactly them again."""
    queued = await _rows(db)
    scheduler = Scheduler(db, settings)
    assert (await scheduler.tick(at)).enqueued == 0
    assert await _rows(db) == queued
    async with db.session() as session:
        await session.execute(delete(OutboxMessage))
    assert (await scheduler.tick(at)).enqueued == len(queued)
    assert sorted(await _rows(db)) == sorted(queued)


async def test_a_submit_queues_the_ticks_cards_without_the_rules(
    db: Database, tmp_path: Path, no_rules_engine: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    w = await _world(db)
    with time_machine.travel(DAY, tick=False):
        async with db.session() as session:
            done = await change.submit(
                session, w.author, w.draft, tz=TZ, today=DAY.date(),
                years=settings.years, timing=Timing.from_settings(settings),
            )  # fmt: skip
        assert done.done
        rows = await _rows(db)
        # 陈静 and 孙丽: the card and its album each; 刘洋 reads the digest, 周明 did not opt in.
        assert done.queued == len(rows) == 4
        assert {(r[2], r[0].split("#")[1] if "#" in r[0] else "card") for r in rows} == {
            (w.ids["陈静"], "card"),
            (w.ids["陈静"], "album1"),
            (w.ids["孙丽"], "card"),
            (w.ids["孙丽"], "album1"),
        }
        assert {r[1] for r in rows} == {Kind.REPORT_SUBMITTED}
        assert all(r[5] == DAY for r in rows)
        no_rules_engine.undo()
        await _tick_rebuilds_the_same(db, settings, DAY)


async def test_a_return_at_night_waits_for_the_morning_and_the_tick_adds_nothing(
    db: Database, tmp_path: Path, no_rules_engine: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    w = await _world(db)
    with time_machine.travel(NIGHT, tick=False):
        async with db.session() as session:
            done = await decide.return_report(
                session, w.chen, w.pending, "参与人数与签到表不符",
                timing=Timing.from_settings(settings),
            )  # fmt: skip
        assert done.done
    rows = await _rows(db)
    # The author and the association's org admin; not before the quiet hours end.
    assert done.queued == len(rows) == 2
    assert {r[2] for r in rows} == {w.ids["王芳"], w.ids["李强"]}
    assert {r[1] for r in rows} == {Kind.REPORT_RETURNED}
    assert all(r[5] == MORNING for r in rows)
    no_rules_engine.undo()
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        # The tick queues at the quiet hours' end: with its not_before, the same rows.
        await _tick_rebuilds_the_same(db, settings, MORNING)
