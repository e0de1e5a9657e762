"""/review's 本页全部通过 as outbox rows (``scheduler.review_look``): each report's albums in
the page's order, the confirmation last and after them, a report without files named in it,
and a second press while they are on their way queues nothing."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core import review_buttons as rv
from core.address import Address
from core.enums import ActivityStatus, Channel, OrgKind
from scheduler import outbox
from scheduler.clock import ManualClock
from scheduler.messenger import Album, Outgoing
from scheduler.review_look import look_prefix, looks_on_the_way, queue_look
from scheduler.rows import Timing
from scheduler.sender import Sender
from storage import outbox as stored_outbox
from storage.db import Database
from storage.models import Activity, Evidence, OutboxMessage
from storage.registry import create_organisation, district_by_name
from tests.accounts import telegram_member, tg

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 23, 30, tzinfo=TZ)  # quiet hours: asked for now, sent now


class Recorder:
    """A messenger that sends everything and records it, in order."""

    def __init__(self) -> None:
        self.sent: list[Outgoing | Album] = []

    async def send_message(self, address: Address, message: Outgoing) -> str | None:
        self.sent.append(message)
        return str(len(self.sent))

    async def send_album(self, address: Address, album: Album) -> str | None:
        self.sent.append(album)
        return str(len(self.sent))


async def page_of_three(db: Database) -> tuple[list[int], int]:
    """Three reports (two photos and a sheet; none; one photo) and the admin: their ids."""
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        assert jinjiang is not None
        org = await create_organisation(session, jinjiang, OrgKind.ENTERPRISE, "甲科协")
        admin = telegram_member(501, first_name="陈静")
        session.add(admin)
        await session.flush()
        ids = []
        for n, (name, files) in enumerate(
            (("光电论坛", ["photo", "photo", "document"]), ("院士座谈", []), ("质量月", ["photo"]))
        ):
            activity = Activity(
                org_id=org.id, author_id=admin.id, status=ActivityStatus.SUBMITTED,
                activity_date=date(2026, 11, 1), name=name, ref_no=f"KX26-000{n + 1}",
            )  # fmt: skip
            session.add(activity)
            await session.flush()
            for k, kind in enumerate(files):
                sha = f"{n}{k}".ljust(64, "0")
                session.add(Evidence(activity_id=activity.id, sha256=sha, kind=kind))
            ids.append(activity.id)
        await session.commit()
        return ids, admin.id


async def queue(db: Database, ids: list[int], admin: int) -> int:
    prefix = look_prefix(admin, 1, "abc")
    async with db.session() as session:
        looks, on_the_way = await looks_on_the_way(session, prefix)
        if on_the_way:
            return 0
        return await queue_look(
            session, ids, page=1, seen="abc", key=prefix + str(looks + 1),
            to=tg(501), member_id=admin, now=NOW,
        )  # fmt: skip


async def test_the_albums_then_the_confirmation_naming_a_report_without_files(
    db: Database,
) -> None:
    ids, admin = await page_of_three(db)
    assert await queue(db, ids, admin) == 4
    async with db.session() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    key = f"review_look:{admin}:1:abc:1"
    first, _, third = ids
    assert [r.key for r in rows] == [
        f"{key}#{first}album1",
        f"{key}#{first}docs1",
        f"{key}#{third}album1",
        key,
    ]
    # Each waits for the one before it: the confirmation comes after the last file.
    assert [r.payload.get("after") for r in rows] == [None, *[r.key for r in rows[:3]]]

    # A second press while they are on their way queues nothing.
    assert await queue(db, ids, admin) == 0

    recorder = Recorder()
    timing = Timing(tz=TZ)  # quiet from 21:00: these are sent all the same
    sender = Sender(
        db,
        {Channel.TELEGRAM: recorder},
        clock=ManualClock(NOW),
        timing=timing,
        per_chat_interval=0.0,
    )
    assert (await sender.drain(wait_retries=3)).sent == 4
    albums, confirm = recorder.sent[:3], recorder.sent[3]
    assert all(isinstance(a, Album) for a in albums)
    assert [a.caption for a in albums if isinstance(a, Album)] == [
        "KX26-0001 · 光电论坛 · 佐证材料",
        "KX26-0001 · 光电论坛 · 佐证材料",
        "KX26-0003 · 质量月 · 佐证材料",
    ]
    assert isinstance(confirm, Outgoing)
    assert "以上是本页 3 条报送的照片和附件" in confirm.text
    assert "KX26-0002 没有照片或附件" in confirm.text and "KX26-0001 没有" not in confirm.text
    assert [[(b.label, b.data) for b in row] for row in confirm.buttons] == [
        [("✅ 确认全部通过", rv.CONFIRM_PAGE.pack(rv.QueuePage(1, "abc")))],
        [("返回列表", rv.QUEUE_PAGE.pack(rv.QueuePage(1, "p")))],
    ]

    # Once they have arrived, another press sends them again (a second look).
    assert await queue(db, ids, admin) == 4
    async with db.session() as session:
        assert (
            await stored_outbox.status_of(session, f"review_look:{admin}:1:abc:2") == outbox.PENDING
        )
