"""Per-chat order, cross-chat concurrency (issue 10): each chat's updates are handled in the
order they arrived, different chats at the same time, and the offset confirmed to Telegram is
the end of the contiguous prefix of handled updates, so a crash still loses nothing."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Update

from bot import polling
from channels.telegram import unit as common
from core.enums import ActivityStatus
from storage.models import Activity, Evidence, Member
from tests.accounts import at_telegram
from tests.harness import Kexie
from tests.standin import FakeUser, StandIn, make_jpeg
from tests.steps import step_label

SLOW = 30.0  # a fresh process needs a moment to import, migrate and start polling

ANSWERS = (
    "昨天",
    "{name}",
    "{name}的内容：邀请专家讲解政策。",
    "主办",
    "约50人",
    "形成合作意向2项。",
)


def answers(name: str) -> list[str]:
    """The six answers of a report named ``name``, all typed."""
    return [a.format(name=name) for a in ANSWERS]


async def activity_of(kexie: Kexie, user: FakeUser) -> Activity:
    """The one activity the member of ``user`` reported."""
    async with kexie.session() as session:
        member = await session.scalar(select(Member).where(at_telegram(user.user_id)))
        assert member is not None
        rows = (
            await session.scalars(select(Activity).where(Activity.author_id == member.id))
        ).all()
    assert len(rows) == 1, rows
    return rows[0]


def assert_fields(activity: Activity, name: str) -> None:
    assert activity.name == name
    assert activity.content == f"{name}的内容：邀请专家讲解政策。"
    assert activity.role == "主办"
    assert activity.headcount == 50
    assert activity.outcome == "形成合作意向2项。"


def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [f"{r.name}: {r.getMessage()}" for r in errors]


async def full_report(user: FakeUser, name: str) -> None:
    """/report, six answers, two photos, 完成, 提交 — each after the previous reply."""
    steps = answers(name)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    for number, answer in enumerate(steps, start=2):
        await user.send(answer)
        await user.expect_any(f"第{number}步")
    for seed in range(2):
        await user.send_photo(make_jpeg(seed=user.user_id * 10 + seed))
        await user.expect_any("已收到")
    await user.press("完成")
    await user.expect_any("请核对报送内容")
    await user.press("提交")
    await user.expect_any("🎉 已提交")


async def test_two_users_typing_in_interleaved_order(kexie: Kexie) -> None:
    org = await kexie.org("蓉城电子科技有限公司科协")
    a = await kexie.member(6101, "reporter", org=org, first_name="甲")
    b = await kexie.member(6102, "reporter", org=org, first_name="乙")
    await a.send("/report")
    await b.send("/report")
    await a.expect_any(step_label("activity_date"))
    await b.expect_any(step_label("activity_date"))
    for number, (one, two) in enumerate(
        zip(answers("甲的沙龙"), answers("乙的讲座"), strict=True), start=2
    ):
        await a.send(one)
        await b.send(two)
        await b.expect_any(f"第{number}步")
        await a.expect_any(f"第{number}步")
    assert_fields(await activity_of(kexie, a), "甲的沙龙")
    assert_fields(await activity_of(kexie, b), "乙的讲座")


async def test_one_users_updates_arriving_in_one_batch_are_applied_in_order(
    kexie: Kexie,
) -> None:
    org = await kexie.org("蓉城电子科技有限公司科协")
    a = await kexie.member(6201, "reporter", org=org, first_name="甲")
    b = await kexie.member(6202, "reporter", org=org, first_name="乙")
    await kexie.stop()
    # Everything is queued before the bot asks for updates: one getUpdates answers it all,
    # the two users' updates interleaved.
    await a.send("/report")
    await b.send("/report")
    for one, two in zip(answers("甲的沙龙"), answers("乙的讲座"), strict=True):
        await a.send(one)
        await b.send(two)
    # (15 pending when the last /start, handled, was not confirmed before the stop)
    assert len(kexie.standin.pending_updates) >= 14
    await kexie.start()
    await kexie.standin.wait_until_confirmed()
    for user, name in ((a, "甲的沙龙"), (b, "乙的讲座")):
        # Each answer was taken as the answer to its own step: questions 1 to 7, in order.
        asked: list[int] = []
        for shown in user.drain():  # questions, and edits that close their buttons
            for step in re.findall(r"第(\d)步", shown.text):
                if int(step) not in asked:
                    asked.append(int(step))
        assert asked == [1, 2, 3, 4, 5, 6, 7]
        assert_fields(await activity_of(kexie, user), name)


async def test_a_slow_update_does_not_hold_up_another_chat(
    kexie: Kexie, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await kexie.org("蓉城电子科技有限公司科协")
    slow = await kexie.member(6301, "reporter", org=org, first_name="甲")
    other = await kexie.member(6302, "reporter", org=org, first_name="乙")
    stuck = asyncio.Event()
    release = asyncio.Event()
    send_replies = common._send_replies

    async def held(update: Update, turn: Any) -> None:
        # The reply of the slow user is held after the commit, as a reply retried through a
        # Bot API outage would be (for up to two minutes).
        if update.effective_user is not None and update.effective_user.id == slow.user_id:
            stuck.set()
            await release.wait()
        await send_replies(update, turn)

    monkeypatch.setattr(common, "_send_replies", held)
    slow_id = kexie.standin.push_update(
        "message", slow._new_message(text="/help", entities=[_command("/help")])
    )
    try:
        await asyncio.wait_for(stuck.wait(), 10)
        await other.send("/help")
        await other.expect_any("/report")  # answered while the slow user's reply is still held
        assert not slow.pending()
        # Nothing at or after the held update is confirmed: a crash now would lose nothing.
        pending = [u["update_id"] for u in kexie.standin.pending_updates]
        assert pending and pending[0] == slow_id and len(pending) == 2, pending
    finally:
        release.set()
    await slow.expect_any("/report")
    await kexie.standin.wait_until_confirmed()


def _command(text: str) -> dict[str, Any]:
    return {"type": "bot_command", "offset": 0, "length": len(text)}


async def test_many_users_at_once_on_sqlite_without_errors(
    kexie: Kexie, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    # One association each: reports of one association on one day with similar names would
    # meet the duplicate check, which is not what this test is about.
    users = [
        await kexie.member(
            6400 + n, "reporter", org=await kexie.org(f"科协{n}"), first_name=f"用户{n}"
        )
        for n in range(12)
    ]
    await asyncio.gather(*(full_report(u, f"活动{u.user_id}") for u in users))
    for user in users:
        activity = await activity_of(kexie, user)
        assert_fields(activity, f"活动{user.user_id}")
        assert activity.status == ActivityStatus.SUBMITTED
    async with kexie.session() as session:
        assert len((await session.scalars(select(Evidence))).all()) == 24
    no_errors(caplog)  # no "database is locked", no handler failure


async def test_offset_is_the_end_of_the_contiguous_handled_prefix(standin: StandIn) -> None:
    """Unit-level: a later update handled first is not confirmed before the earlier one."""

    class App:
        bot: Any = None

        def __init__(self) -> None:
            self.gates: dict[int, asyncio.Event] = {}
            self.order: list[int] = []

        async def process_update(self, update: Any) -> None:
            await self.gates.setdefault(update.update_id, asyncio.Event()).wait()
            self.order.append(update.update_id)

    app = App()
    dispatcher = polling.Dispatcher(app, 8)  # type: ignore[arg-type]

    def raw(update_id: int, chat: int) -> dict[str, Any]:
        user = {"id": chat, "is_bot": False, "first_name": "x"}
        message = {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": chat, "type": "private"},
            "from": user,
            "text": "hi",
        }
        return {"update_id": update_id, "message": message}

    class Bot:
        def insert_callback_data(self, update: Any) -> None:
            pass

    app.bot = Bot()
    assert dispatcher.dispatch(raw(10, 1))
    assert dispatcher.dispatch(raw(11, 2))
    assert dispatcher.dispatch(raw(12, 1))
    assert not dispatcher.dispatch(raw(11, 2))  # re-sent while unconfirmed: not handled twice
    assert dispatcher.dispatch({"update_id": 13, "message": "unreadable"})  # skipped at once
    assert dispatcher.offset() == 10
    for key in (10, 11, 12):
        app.gates.setdefault(key, asyncio.Event())
    app.gates[11].set()
    await _settle()
    assert app.order == [11] and dispatcher.offset() == 10  # 10 is still being handled
    app.gates[12].set()
    await _settle()
    assert app.order == [11]  # chat 1's second update waits for its first
    app.gates[10].set()
    await _settle()
    assert app.order == [11, 10, 12] and dispatcher.offset() == 14 and not dispatcher.busy
    await dispatcher.stop(1.0)


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_kill_during_concurrent_handling_loses_nothing(kexie_idle: Kexie) -> None:
    kexie = kexie_idle
    org = await kexie.org("龙泉驿汽车科技科协", district="龙泉驿区")
    users = [kexie.standin.user(6500 + n, f"用户{n}") for n in range(4)]
    await kexie.start_process()
    for user in users:
        await user.send(f"/start {await kexie.invite_token('reporter', org=org)}")
        await user.expect_any("您好", timeout=SLOW)
        await user.send("/report")
        await user.expect_any(step_label("activity_date"), timeout=SLOW)
    steps = {u.user_id: answers(f"活动{u.user_id}") for u in users}

    async def answer(user: FakeUser, number: int) -> None:
        await user.send(steps[user.user_id][number - 2])
        await user.expect_any(f"第{number}步", timeout=SLOW)

    for number in (2, 3):
        await asyncio.gather(*(answer(u, number) for u in users))
    # Everyone answers at once; the process is killed as soon as the first answer is handled,
    # while the others are being handled or still queued.
    for user in users:
        await user.send(steps[user.user_id][2])
    await kexie.standin.wait_for_call("sendMessage", len(kexie.standin.calls_of("sendMessage")) + 1)
    await kexie.kill_process()
    await kexie.start_process()
    for user in users:
        # re-asked, answered, or asked again
        await user.expect_any(step_label("role"), timeout=SLOW)
    for number in (5, 6, 7):
        await asyncio.gather(*(answer(u, number) for u in users))
    await kexie.kill_process()
    for user in users:
        activity = await activity_of(kexie, user)
        assert_fields(activity, f"活动{user.user_id}")
        assert activity.status == ActivityStatus.DRAFT
