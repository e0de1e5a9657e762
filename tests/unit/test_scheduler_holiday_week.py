"""The fortnight simulation's second part (issue 12): the National Day week of 2025, tick by tick.

The official calendar of 2025: 10-01..10-08 off, Sunday 09-28 and Saturday 10-11 worked (调休).
From Friday 26 September to Monday 13 October the clock (time-machine) moves in half hours;
scripted users note plans, leave a draft and submit reports at fixed moments; after every tick
the sender drains the outbox through a recording bot. The district has two admins: 陈静 gets
every report as it arrives (逐条推送), 刘洋 chose the daily digest (每日汇总); 陈静 approves each
report the next day (the review's reminders are the other half's). The sent rows, in order, must
equal :data:`EXPECTED`, written by hand (each line's reason beside it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.telegram.messenger import TelegramMessenger
from core.enums import Channel, OrgKind, Role
from core.settings import Settings, load_settings
from scheduler import outbox
from scheduler.jobs import Scheduler
from scheduler.reminders import is_quiet
from scheduler.rows import Timing
from storage import reports, review
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Activity, Membership, Organisation, OutboxMessage, Plan
from storage.registry import create_organisation, district_by_name, seed_districts
from tests.accounts import telegram_member
from tests.steps import stored_answers

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 9, 26, 0, 0, tzinfo=TZ)
END = datetime(2025, 10, 13, 0, 0, tzinfo=TZ)

EXPECTED = [
    # 秋季企业参观 was held Friday 09-26: its morning-after question falls on Saturday 09-27
    # (off) and moves to the next working day, Sunday 09-28 (调休, a make-up working day).
    "09-28 09:00 王芳 plan_ask 秋季企业参观",
    # The window's last day (Monday 09-29): never moved.
    "09-29 09:00 王芳 plan_last_call 秋季企业参观",
    # Not reported: the org admin hears of it when the window closed, Tuesday 09-30 (working).
    "09-30 09:00 李强 plan_missed 秋季企业参观",
    # 国庆科普活动 was held 09-30: its question (10-01, holiday) would move to 10-09, after the
    # window closed, so the last call (10-03, a holiday, never moved) takes over alone.
    "10-03 09:00 王芳 plan_last_call 国庆科普活动",
    # A draft dated 10-02: its window's last-day reminders on 10-05 are never moved.
    "10-05 09:00 张伟 draft_morning 节日机器人展",
    "10-05 18:00 张伟 draft_closing 节日机器人展",
    # A report submitted on a holiday reaches the district at once (deliveries are not
    # reminders); only 陈静 gets the card, 刘洋 chose the digest.
    "10-06 11:00 陈静 report_submitted KX25-0002 card",
    "10-06 11:00 陈静 report_submitted KX25-0002 album(1)",
    # 刘洋's digest of 10-06, at 09:00 the next day (a holiday too: the district's own inbox).
    "10-07 09:00 刘洋 daily_digest 2025-10-06",
    # The missed 国庆科普活动 (window closed 10-04, a holiday) waits for Thursday 10-09.
    "10-09 09:00 李强 plan_missed 国庆科普活动",
    # 乙 has been silent 30 days on 10-03 (a holiday): its nudge waits for 10-09's morning.
    "10-09 09:00 赵敏 quiet_nudge 乙产业园科协",
    "10-09 14:00 陈静 report_submitted KX25-0003 card",
    "10-09 14:00 陈静 report_submitted KX25-0003 album(1)",
    "10-10 09:00 刘洋 daily_digest 2025-10-09",
    # 丙 has been silent 30 days on Saturday 10-11, a make-up working day: sent that day at
    # the nudge's own hour, not moved to Monday.
    "10-11 10:00 周杰 quiet_nudge 丙智能装备公司科协",
]


@dataclass
class _Sent:
    message_id: int


@dataclass
class RecordingBot:
    """Stands in for ``telegram.Bot``: records every send, at the simulated moment."""

    calls: list[tuple[datetime, str, int]] = field(default_factory=list)
    _next: int = 1

    def _record(self, method: str, chat_id: int) -> _Sent:
        self.calls.append((datetime.now(UTC), method, chat_id))
        self._next += 1
        return _Sent(self._next)

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> _Sent:
        return self._record("sendMessage", chat_id)

    async def send_photo(self, chat_id: int, photo: Any, **kwargs: Any) -> _Sent:
        return self._record("sendPhoto", chat_id)

    async def send_media_group(self, chat_id: int, media: Any, **kwargs: Any) -> list[_Sent]:
        return [self._record("sendMediaGroup", chat_id)]


@dataclass
class World:
    """Ids of everything the script refers to."""

    settings: Settings
    members: dict[str, int] = field(default_factory=dict)
    orgs: dict[str, int] = field(default_factory=dict)


PEOPLE = [
    # name, telegram id, role, scope, daily digest
    ("王芳", 1001, Role.REPORTER, "甲", False),
    ("李强", 1002, Role.ORG_ADMIN, "甲", False),
    ("赵敏", 1003, Role.ORG_ADMIN, "乙", False),
    ("张伟", 1004, Role.REPORTER, "丙", False),
    ("周杰", 1005, Role.ORG_ADMIN, "丙", False),
    ("陈静", 2001, Role.DISTRICT_ADMIN, "锦江区", False),
    ("刘洋", 2002, Role.DISTRICT_ADMIN, "锦江区", True),
]
ORGS = [
    # short, name, kind, created (local): 30 days of silence fall on 10-20, 10-03 and 10-11
    ("甲", "甲科技有限公司科协", OrgKind.ENTERPRISE, datetime(2025, 9, 20, 10, tzinfo=TZ)),
    ("乙", "乙产业园科协", OrgKind.ZONE, datetime(2025, 9, 3, 10, tzinfo=TZ)),
    ("丙", "丙智能装备公司科协", OrgKind.ENTERPRISE, datetime(2025, 9, 11, 10, tzinfo=TZ)),
]


async def build_world(db: Database, settings: Settings) -> World:
    """The district 锦江区, three associations and their people."""
    world = World(settings)
    async with db.session() as session:
        await seed_districts(session)
        district = await district_by_name(session, "锦江区")
        assert district is not None
        for short, name, kind, created in ORGS:
            org = await create_organisation(session, district, kind, name)
            org.created_at = created.astimezone(UTC)
            world.orgs[short] = org.id
        for name, tg, role, scope, digest in PEOPLE:
            member = telegram_member(tg, first_name=name, daily_digest=digest)
            session.add(member)
            await session.flush()
            world.members[name] = member.id
            admin = role == Role.DISTRICT_ADMIN
            session.add(
                Membership(
                    member_id=member.id,
                    role=role,
                    org_id=None if admin else world.orgs[scope],
                    district_id=district.id if admin else None,
                )
            )
    return world


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A local moment of 2025."""
    return datetime(2025, month, day, hour, minute, tzinfo=TZ)


async def note_plans(session: AsyncSession, world: World) -> None:
    """王芳 notes two plans of 甲 with /plan."""
    for name, day in (("秋季企业参观", date(2025, 9, 26)), ("国庆科普活动", date(2025, 9, 30))):
        session.add(
            Plan(
                org_id=world.orgs["甲"],
                member_id=world.members["王芳"],
                name=name,
                planned_date=day,
            )
        )


async def start_draft(session: AsyncSession, world: World) -> None:
    """张伟 starts a report of 丙 dated 10-02 and leaves it."""
    activity = await reports.start_draft(session, world.members["张伟"], world.orgs["丙"])
    tz = world.settings.tz
    reports.set_field(session, activity, "activity_date", date(2025, 10, 2), None, tz)
    reports.set_field(session, activity, "name", "节日机器人展", None, tz)


def _report(name: str, day: date) -> Callable[[AsyncSession, World], Awaitable[None]]:
    async def submit(session: AsyncSession, world: World) -> None:
        """王芳 reports an activity of 甲 in one go, with one photo."""
        member, tz = world.members["王芳"], world.settings.tz
        activity = await reports.start_draft(session, member, world.orgs["甲"])
        # Every question of the table answered (tests/steps.stored_answers).
        for field_name, value in stored_answers(
            day, activity_date=day, name=name, content="面向职工家属的科普活动。",
            role="主办", headcount=50, outcome="30个家庭参加。",
        ):  # fmt: skip
            reports.set_field(session, activity, field_name, value, member, tz)
        await reports.add_evidence(
            session,
            activity,
            sha256=f"{activity.id:064d}",
            kind="photo",
            size=1000,
            file_name=None,
            mime_type="image/jpeg",
            media_group_id=None,
            member_id=member,
            channel=Channel.TELEGRAM,
            file_id=f"photo-{activity.id}",
            file_unique_id=f"u-{activity.id}",
        )
        await reports.submit(session, activity, member, tz)

    return submit


def _approve(ref: str) -> Callable[[AsyncSession, World], Awaitable[None]]:
    async def approve(session: AsyncSession, world: World) -> None:
        """陈静 approves the report (so no pending-review reminder follows)."""
        activity = await session.scalar(select(Activity).where(Activity.ref_no == ref))
        assert activity is not None
        assert (await review.approve(session, activity, world.members["陈静"])).done

    return approve


SCRIPT: dict[datetime, Callable[[AsyncSession, World], Awaitable[None]]] = {
    at(9, 26, 8, 30): note_plans,
    at(10, 2, 15, 0): start_draft,
    at(10, 6, 11, 0): _report("假日亲子科普日", date(2025, 10, 5)),
    at(10, 7, 10, 0): _approve("KX25-0002"),
    at(10, 9, 14, 0): _report("科技工作者座谈会", date(2025, 10, 8)),
    at(10, 10, 10, 0): _approve("KX25-0003"),
}


async def simulate(tmp_path: Path) -> tuple[list[str], RecordingBot]:
    """Walk the holiday weeks in half hours; return the message list and the bot."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'kexie.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = load_settings(data_dir=tmp_path, database_url=url)
    bot = RecordingBot()
    main = Database(url)
    with time_machine.travel(START - timedelta(days=30), tick=False) as traveller:
        world = await build_world(main, settings)
        db = Database(url)
        scheduler = Scheduler(db, settings)
        sender = scheduler.sender(
            {Channel.TELEGRAM: TelegramMessenger(bot)}, rate=10_000.0, per_chat_interval=0.0
        )
        moment = START
        while moment < END:
            traveller.move_to(moment)
            action = SCRIPT.get(moment)
            if action is not None:
                async with main.session() as session:
                    await action(session, world)
            tick = await scheduler.tick()
            if tick.enqueued or moment.minute == 0:
                await sender.drain()
                for second in (2, 4, 6):  # an album waits for its card's second
                    traveller.move_to(moment + timedelta(seconds=second))
                    await sender.drain()
            moment += timedelta(minutes=30)
        await db.dispose()
    lines = await message_list(main, world)
    await main.dispose()
    return lines, bot


async def message_list(db: Database, world: World) -> list[str]:
    """The sent outbox rows as readable lines, by the minute they were sent, then queued."""
    names = {v: k for k, v in world.members.items()}
    async with db.session() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status == outbox.SENT)
                .order_by(OutboxMessage.sent_at, OutboxMessage.id)
            )
        ).all()
        lines = []
        for row in sorted(rows, key=lambda r: (r.sent_at.replace(second=0), r.id)):
            assert row.sent_at is not None and row.member_id is not None
            local = row.sent_at.astimezone(TZ)
            subject = await _subject(session, row)
            lines.append(f"{local:%m-%d %H:%M} {names[row.member_id]} {row.kind} {subject}")
    return lines


async def _subject(session: AsyncSession, row: OutboxMessage) -> str:
    kind, subject, slot, _member = row.key.split("#")[0].split(":")
    if kind.startswith(("report_", "draft_")):
        activity = await session.get(Activity, int(subject))
        assert activity is not None
        if kind.startswith("draft_"):
            return str(activity.name)
        part = f"album({len(row.payload['media'])})" if "#album" in row.key else "card"
        return f"{activity.ref_no} {part}"
    if kind.startswith("plan_"):
        plan = await session.get(Plan, int(subject))
        assert plan is not None
        return plan.name
    if kind == "quiet_nudge":
        org = await session.get(Organisation, int(subject))
        assert org is not None
        return org.name
    return slot


async def test_national_day_week_moves_only_what_may_wait(tmp_path: Path) -> None:
    """Holidays and the make-up working days, the window's last-day reminders, the digest."""
    lines, bot = await simulate(tmp_path)
    print("\n".join(lines))
    assert lines == EXPECTED
    # One Telegram call per sent row, none in quiet hours, none repeated.
    assert len(bot.calls) == len(lines)
    for moment, _method, _chat in bot.calls:
        assert not is_quiet(moment, Timing(tz=TZ)), moment.astimezone(TZ)
    assert len(set(lines)) == len(lines)
