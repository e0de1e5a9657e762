"""Nothing is lost: the bot process is killed (SIGKILL) mid-conversation and started again."""

from __future__ import annotations

from sqlalchemy import select
from telegram import Update

from core.enums import ActivityStatus, Channel
from storage.models import Activity, ChatState, Member
from tests.harness import Kexie
from tests.steps import expect_question, next_field, step_label

SLOW = 30.0  # a fresh process needs a moment to import, migrate and start polling


async def test_kill_mid_flow_and_continue_at_the_same_step(kexie_idle: Kexie) -> None:
    kexie = kexie_idle
    org = await kexie.org("龙泉驿汽车科技科协", district="龙泉驿区")
    token = await kexie.invite_token("reporter", org=org)
    user = kexie.standin.user(8001, "赵磊")

    await kexie.start_process()
    await user.send(f"/start {token}")
    await user.expect_any("您好", timeout=SLOW)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"), timeout=SLOW)
    await user.send("昨天")
    await user.expect_any(step_label("name"), timeout=SLOW)
    await user.send("新能源汽车技术沙龙")
    # Questions the table puts between those this test answers get tests/steps.py's answers.
    await expect_question(user, "content", after="name", timeout=SLOW)

    await kexie.kill_process()  # power cut while the user is typing
    await user.send("邀请高校专家与企业工程师交流电池热管理技术。")
    await kexie.start_process()
    # the answer arrived while the bot was down
    await expect_question(user, "role", after="content", timeout=SLOW)
    await user.press("承办")
    await expect_question(user, "headcount", after="role", timeout=SLOW)
    await user.send("35人")
    await expect_question(user, "outcome", after="headcount", timeout=SLOW)

    await kexie.kill_process()
    await kexie.start_process()
    await user.send("形成合作意向2项。")
    await expect_question(user, "evidence", after="outcome", timeout=SLOW)
    await user.send_photo()
    await user.expect_any("已收到", timeout=SLOW)

    await kexie.kill_process()
    await kexie.start_process()
    await user.press("完成")
    card = await user.expect_any("请核对报送内容", timeout=SLOW)
    for part in ("新能源汽车技术沙龙", "电池热管理", "承办", "35人", "合作意向2项", "1 张照片"):
        assert part in card.text, part
    await user.press("提交")
    await user.expect_any("🎉 已提交", timeout=SLOW)
    await kexie.kill_process()

    async with kexie.session() as session:
        activities = (await session.scalars(select(Activity))).all()
        assert len(activities) == 1  # no answer was applied twice, no second draft
        assert activities[0].status == ActivityStatus.SUBMITTED
        assert await session.scalar(select(ChatState)) is None


async def test_redelivered_update_is_not_applied_twice(kexie: Kexie) -> None:
    """Telegram re-sends updates a crashed bot never confirmed: each is applied once."""
    org = await kexie.org("温江生物医药科协", district="温江区")
    user = await kexie.member(8002, "reporter", org=org)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.send("昨天")
    await user.expect_any(step_label("name"))
    await user.send("医药政策宣讲")
    following = next_field("name")  # the content's question today
    await user.expect_any(step_label(following))
    # Re-deliver the last update with its id (as after a crash between commit and confirmation).
    async with kexie.session() as session:
        member = await session.scalar(select(Member))
        account = member.account(Channel.TELEGRAM) if member is not None else None
        assert account is not None and account.last_update_id is not None
        last_id = account.last_update_id
    assert kexie.app is not None
    replay = Update.de_json(
        {
            "update_id": last_id,
            "message": {
                "message_id": 999,
                "date": 1_700_000_000,
                "text": "医药政策宣讲",
                "chat": {"id": user.chat_id, "type": "private", "first_name": user.first_name},
                "from": {"id": user.user_id, "is_bot": False, "first_name": user.first_name},
            },
        },
        kexie.app.bot,
    )
    await kexie.app.process_update(replay)
    # the question is asked again; nothing is stored twice
    again = await user.expect_any(step_label(following))
    assert again is not None
    async with kexie.session() as session:
        activity = await session.scalar(select(Activity))
        assert activity is not None
        assert activity.name == "医药政策宣讲" and getattr(activity, following) is None
