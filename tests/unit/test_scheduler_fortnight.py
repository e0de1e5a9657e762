"""A simulated fortnight, tick by tick: each reminder once, at its local hour, never at night.

The world: two districts, three associations, reporters, org admins, district admins and city
admins. From Monday 16 to Monday 30 November 2026 (the annual deadline is 30 November) the clock
(time-machine) moves one minute at a time; scripted users note plans, leave a draft, submit, edit
at night and withdraw, at fixed moments. After every tick the sender drains the outbox through a
recording bot. The outbox's sent rows, in order, must equal :data:`EXPECTED` — the message list of
the issue's closing note. Variants: a restart in the middle; two schedulers on one database
(SQLite, and PostgreSQL when ``KEXIE_TEST_POSTGRES_URL`` is set).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
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
from scheduler.sender import Sender
from storage import reports, review
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Activity, Membership, OutboxMessage, Plan
from storage.registry import create_organisation, district_by_name, seed_districts
from tests.accounts import telegram_member
from tests.steps import stored_answers

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 16, 0, 0, tzinfo=TZ)
END = datetime(2026, 11, 30, 0, 0, tzinfo=TZ)

# The message list of the fortnight: local time, recipient, kind, subject.
EXPECTED = [
    "11-16 09:00 孙丽 city_summary 2026-11-16",
    "11-16 09:00 陈静 deadline 锦江区 14d",
    "11-16 09:00 刘洋 deadline 锦江区 14d",
    "11-16 09:00 Jay deadline 武侯区 14d",
    "11-17 10:00 赵敏 quiet_nudge 乙产业园科协",
    "11-17 14:00 Jay report_submitted KX26-0001 card",
    "11-17 14:00 Jay report_submitted KX26-0001 album(1)",
    "11-17 14:00 孙丽 report_submitted KX26-0001 card",
    "11-17 14:00 孙丽 report_submitted KX26-0001 album(1)",
    # (issue 12, review) Jay returns KX26-0001 on 11-18 10:00: its author 张伟 is told at once
    # (丙 has no org admin). 张伟 changes the headcount at 15:00 (no report_edited: edits to a
    # returned report go with its correction) and resubmits at 15:30: the district (Jay) and the
    # opted-in city admin (孙丽) get the correction card. Jay approves it on 11-19 11:00 (no
    # message), so it never reaches the pending reminder.
    "11-18 10:00 张伟 report_returned KX26-0001 card",
    "11-18 15:30 Jay report_corrected KX26-0001 card",
    "11-18 15:30 孙丽 report_corrected KX26-0001 card",
    "11-19 09:00 王芳 plan_ask 智能制造技术交流会",
    "11-19 10:00 李强 quiet_nudge 甲科技有限公司科协",
    "11-21 09:00 王芳 draft_morning 智能制造技术交流会",
    # (issue 12, calendar) the morning-after question of 科普进企业讲座 (planned Friday 11-20)
    # fell on Saturday 11-21; it moves to Monday 11-23 09:00, when the last call takes over, so
    # it is not sent: "11-21 09:00 王芳 plan_ask 科普进企业讲座" is gone.
    "11-21 18:00 王芳 draft_closing 智能制造技术交流会",
    "11-21 19:30 陈静 report_submitted KX26-0002 card",
    "11-21 19:30 陈静 report_submitted KX26-0002 album(2)",
    "11-21 19:30 刘洋 report_submitted KX26-0002 card",
    "11-21 19:30 刘洋 report_submitted KX26-0002 album(2)",
    "11-21 19:30 孙丽 report_submitted KX26-0002 card",
    "11-21 19:30 孙丽 report_submitted KX26-0002 album(2)",
    "11-23 08:00 陈静 report_edited KX26-0002 card",
    "11-23 08:00 刘洋 report_edited KX26-0002 card",
    "11-23 08:00 孙丽 report_edited KX26-0002 card",
    "11-23 09:00 孙丽 city_summary 2026-11-23",
    "11-23 09:00 陈静 deadline 锦江区 7d",
    "11-23 09:00 刘洋 deadline 锦江区 7d",
    "11-23 09:00 Jay deadline 武侯区 7d",
    "11-23 09:00 王芳 plan_last_call 科普进企业讲座",
    "11-24 09:00 李强 plan_missed 科普进企业讲座",
    # (issue 12, review) KX26-0002, submitted 11-21 19:30, is still pending more than two days
    # later: 锦江区's admins are reminded at 09:00 on 11-24 and 11-25, once a day each; it is
    # withdrawn at 15:00 on 11-25, so nothing on 11-26.
    "11-24 09:00 陈静 review_pending 2026-11-24",
    "11-24 09:00 刘洋 review_pending 2026-11-24",
    "11-25 09:00 陈静 review_pending 2026-11-25",
    "11-25 09:00 刘洋 review_pending 2026-11-25",
    "11-25 15:00 陈静 report_withdrawn KX26-0002 card",
    "11-25 15:00 刘洋 report_withdrawn KX26-0002 card",
    "11-25 15:00 孙丽 report_withdrawn KX26-0002 card",
    "11-27 09:00 陈静 deadline 锦江区 3d",
    "11-27 09:00 刘洋 deadline 锦江区 3d",
    "11-27 09:00 Jay deadline 武侯区 3d",
    "11-29 09:00 陈静 deadline 锦江区 1d",
    "11-29 09:00 刘洋 deadline 锦江区 1d",
    "11-29 09:00 Jay deadline 武侯区 1d",
]


# ---------------------------------------------------------------------------------------------
# a bot that records instead of calling Telegram


@dataclass
class _Sent:
    message_id: int


@dataclass
class RecordingBot:
    """Stands in for ``telegram.Bot``: records every send, at the simulated moment."""

    calls: list[tuple[datetime, str, int, Any]] = field(default_factory=list)
    _next: int = 1

    def _record(self, method: str, chat_id: int, what: Any) -> _Sent:
        self.calls.append((datetime.now(UTC), method, chat_id, what))
        self._next += 1
        return _Sent(self._next)

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> _Sent:
        return self._record("sendMessage", chat_id, (text, kwargs.get("reply_markup")))

    async def send_photo(self, chat_id: int, photo: Any, **kwargs: Any) -> _Sent:
        return self._record("sendPhoto", chat_id, photo)

    async def send_media_group(self, chat_id: int, media: Any, **kwargs: Any) -> list[_Sent]:
        return [self._record("sendMediaGroup", chat_id, [m.media for m in media])]


# ---------------------------------------------------------------------------------------------
# the world


@dataclass
class World:
    """Ids of everything the script refers to."""

    settings: Settings
    members: dict[str, int] = field(default_factory=dict)  # name → member id
    orgs: dict[str, int] = field(default_factory=dict)
    plans: dict[str, int] = field(default_factory=dict)
    activities: dict[str, int] = field(default_factory=dict)


PEOPLE = [
    # name, telegram id, language, role, scope, opt-in, mute summary
    ("王芳", 1001, "zh", Role.REPORTER, "甲", False, False),
    ("李强", 1002, "zh", Role.ORG_ADMIN, "甲", False, False),
    ("赵敏", 1003, "zh", Role.ORG_ADMIN, "乙", False, False),
    ("张伟", 1004, "zh", Role.REPORTER, "丙", False, False),
    ("陈静", 2001, "zh", Role.DISTRICT_ADMIN, "锦江区", False, False),
    ("刘洋", 2002, "zh", Role.DISTRICT_ADMIN, "锦江区", False, False),
    ("Jay", 2003, "en", Role.DISTRICT_ADMIN, "武侯区", False, False),
    ("孙丽", 3001, "zh", Role.CITY_ADMIN, None, True, False),
    ("吴昊", 3002, "zh", Role.CITY_ADMIN, None, False, True),
]
ORGS = [
    # short, name, district, kind, created (local)
    (
        "甲",
        "甲科技有限公司科协",
        "锦江区",
        OrgKind.ENTERPRISE,
        datetime(2026, 10, 20, 9, tzinfo=TZ),
    ),
    ("乙", "乙产业园科协", "锦江区", OrgKind.ZONE, datetime(2026, 10, 18, 9, tzinfo=TZ)),
    (
        "丙",
        "丙智能装备公司科协",
        "武侯区",
        OrgKind.ENTERPRISE,
        datetime(2026, 11, 10, 9, tzinfo=TZ),
    ),
]


async def build_world(db: Database, settings: Settings) -> World:
    """Districts, associations and members as of the start of the fortnight."""
    world = World(settings)
    async with db.session() as session:
        await seed_districts(session)
        for short, name, district_name, kind, created in ORGS:
            district = await district_by_name(session, district_name)
            assert district is not None
            org = await create_organisation(session, district, kind, name)
            org.created_at = created.astimezone(UTC)
            world.orgs[short] = org.id
        for name, tg, lang, role, scope, opt_in, mute in PEOPLE:
            member = telegram_member(
                tg,
                first_name=name,
                language=lang,
                city_delivery_opt_in=opt_in,
                mute_city_summary=mute,
            )
            session.add(member)
            await session.flush()
            world.members[name] = member.id
            org_id = world.orgs.get(scope) if scope else None
            district_id = None
            if role == Role.DISTRICT_ADMIN:
                found = await district_by_name(session, str(scope))
                assert found is not None
                district_id = found.id
            session.add(
                Membership(member_id=member.id, role=role, org_id=org_id, district_id=district_id)
            )
    return world


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A local moment of 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


Script = dict[datetime, Callable[[AsyncSession, World], Awaitable[None]]]


async def _fill(
    session: AsyncSession, world: World, activity: Activity, who: str, photos: int
) -> None:
    tz = world.settings.tz
    member = world.members[who]
    given: dict[str, Any] = {
        "content": "邀请专家讲解智能制造与工业互联网应用案例。",
        "role": "主办",
        "headcount": 60,
        "outcome": "12家企业对接了技术需求。",
    }
    # The rest of the table's questions (tests/steps.stored_answers): those given, and any the
    # draft has not answered yet (the date and the name are the caller's).
    for field_name, value in stored_answers(datetime.now(tz).date(), **given):
        if field_name in given or getattr(activity, field_name) is None:
            reports.set_field(session, activity, field_name, value, member, tz)
    for i in range(photos):
        await reports.add_evidence(
            session,
            activity,
            sha256=f"{activity.id:04d}{i:060d}",
            kind="photo",
            size=1000,
            file_name=None,
            mime_type="image/jpeg",
            media_group_id=None,
            member_id=member,
            channel=Channel.TELEGRAM,
            file_id=f"photo-{activity.id}-{i}",
            file_unique_id=f"u-{activity.id}-{i}",
        )


async def note_plans(session: AsyncSession, world: World) -> None:
    """王芳 notes two plans with /plan."""
    for key, name, day in (("P1", "智能制造技术交流会", 18), ("P2", "科普进企业讲座", 20)):
        plan = Plan(
            org_id=world.orgs["甲"],
            member_id=world.members["王芳"],
            name=name,
            planned_date=date(2026, 11, day),
        )
        session.add(plan)
        await session.flush()
        world.plans[key] = plan.id


async def report_c(session: AsyncSession, world: World) -> None:
    """张伟 reports yesterday's activity of 丙 in one go (one photo)."""
    activity = await reports.start_draft(session, world.members["张伟"], world.orgs["丙"])
    tz = world.settings.tz
    reports.set_field(session, activity, "activity_date", date(2026, 11, 16), None, tz)
    reports.set_field(session, activity, "name", "机器人产业沙龙", None, tz)
    await _fill(session, world, activity, "张伟", photos=1)
    await reports.submit(session, activity, world.members["张伟"], tz)
    world.activities["C"] = activity.id


async def return_c(session: AsyncSession, world: World) -> None:
    """Jay (武侯区) returns 张伟's report with a reason (issue 12, review)."""
    activity = await reports.load_activity(session, world.activities["C"])
    assert activity is not None
    await review.return_report(session, activity, world.members["Jay"], "请补充签到人数说明")


async def amend_c(session: AsyncSession, world: World) -> None:
    """张伟 corrects the headcount of the returned report."""
    activity = await reports.load_activity(session, world.activities["C"])
    assert activity is not None
    reports.set_field(session, activity, "headcount", 65, world.members["张伟"], world.settings.tz)


async def resubmit_c(session: AsyncSession, world: World) -> None:
    """张伟 presses 重新提交."""
    activity = await reports.load_activity(session, world.activities["C"])
    assert activity is not None
    assert await review.resubmit_corrected(session, activity, world.members["张伟"])


async def approve_c(session: AsyncSession, world: World) -> None:
    """Jay approves the corrected report."""
    activity = await reports.load_activity(session, world.activities["C"])
    assert activity is not None
    assert (await review.approve(session, activity, world.members["Jay"])).done


async def start_p1_draft(session: AsyncSession, world: World) -> None:
    """王芳 taps 报送这项活动 for P1 and answers two questions, then stops."""
    activity = await reports.start_draft(session, world.members["王芳"], world.orgs["甲"])
    activity.plan_id = world.plans["P1"]
    tz = world.settings.tz
    reports.set_field(session, activity, "activity_date", date(2026, 11, 18), None, tz)
    reports.set_field(session, activity, "name", "智能制造技术交流会", None, tz)
    reports.set_field(session, activity, "content", "工业互联网应用案例分享。", None, tz)
    world.activities["P1"] = activity.id


async def submit_p1(session: AsyncSession, world: World) -> None:
    """王芳 finishes and submits the P1 report (two photos), on the window's last evening."""
    activity = await reports.load_activity(session, world.activities["P1"])
    assert activity is not None
    await _fill(session, world, activity, "王芳", photos=2)
    await reports.submit(session, activity, world.members["王芳"], world.settings.tz)


async def edit_p1_at_night(session: AsyncSession, world: World) -> None:
    """王芳 corrects the headcount and the outcome at 22:30 (quiet hours)."""
    activity = await reports.load_activity(session, world.activities["P1"])
    assert activity is not None
    tz = world.settings.tz
    reports.set_field(session, activity, "headcount", 80, world.members["王芳"], tz)
    reports.set_field(
        session, activity, "outcome", "15家企业对接了需求。", world.members["王芳"], tz
    )


async def withdraw_p1(session: AsyncSession, world: World) -> None:
    """王芳 withdraws the report."""
    activity = await reports.load_activity(session, world.activities["P1"])
    assert activity is not None
    reports.withdraw(session, activity, world.members["王芳"])


SCRIPT: Script = {
    at(11, 16, 10, 30): note_plans,
    at(11, 17, 14, 0): report_c,
    at(11, 18, 10, 0): return_c,
    at(11, 18, 15, 0): amend_c,
    at(11, 18, 15, 30): resubmit_c,
    at(11, 19, 11, 0): approve_c,
    at(11, 19, 12, 0): start_p1_draft,
    at(11, 21, 19, 30): submit_p1,
    at(11, 22, 22, 30): edit_p1_at_night,
    at(11, 25, 15, 0): withdraw_p1,
}


# ---------------------------------------------------------------------------------------------
# running it


@dataclass
class Installation:
    """One running scheduler + sender (a process, in real life)."""

    db: Database
    scheduler: Scheduler
    sender: Sender


def install(url: str, settings: Settings, bot: RecordingBot) -> Installation:
    """A scheduler and a sender on their own engine (their own connections)."""
    db = Database(url)
    scheduler = Scheduler(db, settings)
    # Pacing is measured against the stand-in elsewhere; here the recording bot has no limits
    # and the simulated minute does not pass while the sender works.
    sender = scheduler.sender(
        {Channel.TELEGRAM: TelegramMessenger(bot)}, rate=10_000.0, per_chat_interval=0.0
    )
    return Installation(db, scheduler, sender)


async def simulate(
    tmp_path: Path,
    *,
    url: str | None = None,
    processes: int = 1,
    restart_at: datetime | None = None,
    down_until: datetime | None = None,
    minute_window: tuple[datetime, datetime] = (START, END),
) -> tuple[list[str], RecordingBot, Database]:
    """Walk the fortnight; return the message list, the bot and a database handle.

    Inside ``minute_window`` the clock moves one minute per tick; outside it (to keep the
    variants quick) 30 minutes, which still lands on every scripted and due moment. ``url``:
    an empty database to use instead of a new SQLite file.
    """
    url = url or f"sqlite+aiosqlite:///{tmp_path / 'kexie.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = load_settings(data_dir=tmp_path, database_url=url)
    bot = RecordingBot()
    main = Database(url)
    with time_machine.travel(START - timedelta(days=30), tick=False) as traveller:
        world = await build_world(main, settings)
        running = [install(url, settings, bot) for _ in range(processes)]
        moment = START
        while moment < END:
            traveller.move_to(moment)
            action = SCRIPT.get(moment)
            if action is not None:
                async with main.session() as session:
                    await action(session, world)
            started = False
            if not running and (down_until is None or moment >= down_until):
                running = [install(url, settings, bot) for _ in range(processes)]
                started = True
            ticks = []
            if running:
                ticks = await asyncio.gather(*(inst.scheduler.tick() for inst in running))
            if running and moment == restart_at:
                # The process dies between storing the tick's rows and sending them.
                for inst in running:
                    await inst.db.dispose()
                running = []
            # The sender runs every second in production; here, whenever there can be work.
            if running and (started or any(t.enqueued for t in ticks) or moment.minute == 0):
                await asyncio.gather(*(inst.sender.drain() for inst in running))
                # An album whose card the other process was still sending waits a second:
                # let a few seconds of the minute pass for it.
                for second in (2, 4, 6):
                    traveller.move_to(moment + timedelta(seconds=second))
                    await asyncio.gather(*(inst.sender.drain() for inst in running))
            fine = minute_window[0] <= moment < minute_window[1]
            moment += timedelta(minutes=1 if fine else 30)
        for inst in running:
            await inst.db.dispose()
    lines = await message_list(main, world)
    return lines, bot, main


async def message_list(db: Database, world: World) -> list[str]:
    """The sent outbox rows as readable lines: by the minute they were sent, then queued."""
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
        minute = lambda r: r.sent_at.replace(second=0, microsecond=0)  # noqa: E731
        for row in sorted(rows, key=lambda r: (minute(r), r.id)):
            assert row.sent_at is not None and row.member_id is not None
            local = row.sent_at.astimezone(TZ)
            lines.append(
                f"{local:%m-%d %H:%M} {names[row.member_id]} {row.kind} "
                f"{await _subject(session, row)}"
            )
    return lines


async def _subject(session: AsyncSession, row: OutboxMessage) -> str:
    kind, subject, slot, _member = row.key.split("#")[0].split(":")
    if kind.startswith("report_"):
        activity = await session.get(Activity, int(subject))
        assert activity is not None
        part = "card"
        if "#album" in row.key:
            part = f"album({len(row.payload['media'])})"
        return f"{activity.ref_no} {part}"
    if kind.startswith("draft_"):
        activity = await session.get(Activity, int(subject))
        assert activity is not None
        return str(activity.name)
    if kind.startswith("plan_"):
        plan = await session.get(Plan, int(subject))
        assert plan is not None
        return plan.name
    if kind == "quiet_nudge":
        from storage.models import Organisation

        org = await session.get(Organisation, int(subject))
        assert org is not None
        return org.name
    if kind == "deadline":
        from storage.models import District

        district = await session.get(District, int(subject))
        assert district is not None
        return f"{district.name} {slot.rsplit('-', 1)[1]}"
    return slot


# ---------------------------------------------------------------------------------------------
# the tests


def _check_invariants(lines: list[str], bot: RecordingBot, timing: Timing) -> None:
    # One Telegram call per sent outbox row: nothing sent twice behind the outbox's back.
    assert len(bot.calls) == len(lines)
    for moment, _method, _chat, _what in bot.calls:
        assert not is_quiet(moment, timing), moment.astimezone(TZ)
    assert len(set(lines)) == len(lines)


async def test_fortnight_sends_exactly_the_expected_messages(tmp_path: Path) -> None:
    """Tick by tick: each reminder once, at its local hour, nothing during quiet hours."""
    lines, bot, db = await simulate(tmp_path)
    await db.dispose()
    print("\n".join(lines))
    assert lines == EXPECTED
    _check_invariants(lines, bot, Timing(tz=TZ))


async def test_restart_in_the_middle_loses_and_repeats_nothing(tmp_path: Path) -> None:
    """The process dies right after the evening submission and comes back 70 minutes later."""
    lines, bot, db = await simulate(
        tmp_path,
        restart_at=at(11, 21, 19, 30),
        down_until=at(11, 21, 20, 40),
        minute_window=(at(11, 21, 0), at(11, 23, 12)),
    )
    await db.dispose()
    # The delivery due at 19:30 was derived again after the restart and sent once, at 20:40.
    shifted = [
        line.replace("11-21 19:30", "11-21 20:40") if "KX26-0002" in line else line
        for line in EXPECTED
    ]
    assert lines == shifted
    _check_invariants(lines, bot, Timing(tz=TZ))


async def test_two_schedulers_on_one_database_send_one_copy(tmp_path: Path) -> None:
    """Two processes tick and drain the same database at the same moments."""
    lines, bot, db = await simulate(
        tmp_path, processes=2, minute_window=(at(11, 21, 0), at(11, 23, 12))
    )
    await db.dispose()
    assert lines == EXPECTED
    _check_invariants(lines, bot, Timing(tz=TZ))


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_two_schedulers_on_one_postgres_database_send_one_copy(
    tmp_path: Path, backend: str | None
) -> None:
    """The same on PostgreSQL, where the two processes' claims go through SKIP LOCKED and their
    statements really run at once."""
    assert backend is not None
    lines, bot, db = await simulate(
        tmp_path, url=backend, processes=2, minute_window=(at(11, 21, 0), at(11, 23, 12))
    )
    await db.dispose()
    assert lines == EXPECTED
    _check_invariants(lines, bot, Timing(tz=TZ))
