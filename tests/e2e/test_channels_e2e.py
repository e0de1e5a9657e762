"""End-to-end on both channels: the same journeys through Telegram's Bot API stand-in and
DingTalk's stand-in (Stream frames, robot and card APIs), each with the real SDK of its
channel. Where it is the same journey it is one test, parametrized by channel.

A whole report with two photos and a PDF; kill -9 mid-report and resume; a return with a
reason, the correction and resubmission, the correction's delivery card pressed 通过; a nudge;
an export's files received in the chat.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core.enums import ActivityStatus
from core.review_rules import ReviewState
from storage.models import Activity, ChatState, Evidence
from tests.dingtalk_harness import DingTalkKexie, DingTalkUser
from tests.dingtalk_standin.server import DingTalkStandIn
from tests.harness import Kexie, seeded
from tests.journeys import local_today, run_scheduler_at, submit_report_with_photos_and_pdf
from tests.standin import StandIn, make_jpeg
from tests.steps import expect_question, step_label

SLOW = 30.0  # a fresh process needs a moment to import, migrate and connect
CHANNELS = ["telegram", "dingtalk"]


@pytest.fixture(params=CHANNELS)
async def idle(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Kexie]:
    """A migrated, seeded installation on one channel, its bot not started."""
    if request.param == "telegram":
        async with StandIn() as telegram:
            installation = await seeded(Kexie(telegram, tmp_path / "kexie"))
            yield installation
            await _close(installation)
        telegram.assert_no_errors()
    else:
        async with DingTalkStandIn() as ding:
            installation = await seeded(DingTalkKexie(ding, tmp_path / "kexie"))
            yield installation
            await _close(installation)
        # What DingTalk would have refused, kexie never sent; every frame was acked.
        assert ding.rejected == [], ding.rejected
        assert ding.unacked() == []


@pytest.fixture
async def running(idle: Kexie) -> AsyncIterator[Kexie]:
    """The installation with its bot running in this process."""
    await idle.start()
    yield idle


async def _close(installation: Kexie) -> None:
    await installation.stop()
    if installation.process is not None:
        await installation.kill_process()
    await installation.db.dispose()


async def test_a_whole_report_with_photos_and_a_pdf(running: Kexie) -> None:
    org = await running.org("锦江光电科技科协", district="锦江区")
    user = await running.member(1101, "reporter", org=org, first_name="王芳")
    await submit_report_with_photos_and_pdf(user, "光电产业技术交流会")
    async with running.session() as session:
        activity = await session.scalar(select(Activity))
        assert activity is not None and activity.name == "光电产业技术交流会"
        assert activity.review_state == ReviewState.PENDING
        kinds = sorted((await session.scalars(select(Evidence.kind))).all())
    assert kinds == ["document", "photo", "photo"]


async def test_kill_9_mid_report_and_continue_at_the_same_step(idle: Kexie) -> None:
    kexie = idle
    org = await kexie.org("龙泉驿汽车科技科协", district="龙泉驿区")
    token = await kexie.invite_token("reporter", org=org)
    user = kexie.user(8001, "赵磊")
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

    await kexie.kill_process()  # a power cut while the user types
    await user.send("邀请高校专家与企业工程师交流电池热管理技术。")
    await _restart(kexie)
    # The answer sent while the bot was down is applied, and the next question asked.
    await expect_question(user, "role", after="content", timeout=SLOW)
    await user.press("承办")
    await expect_question(user, "headcount", after="role", timeout=SLOW)
    await user.send("35人")
    await expect_question(user, "outcome", after="headcount", timeout=SLOW)

    await kexie.kill_process()
    await _restart(kexie)
    await user.send("形成合作意向2项。")
    await expect_question(user, "evidence", after="outcome", timeout=SLOW)
    await user.send_photo(make_jpeg(seed=41))
    await user.expect_any("已收到", timeout=SLOW)

    await kexie.kill_process()
    await _restart(kexie)
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


async def _restart(kexie: Kexie) -> None:
    """Start the bot process again and wait until it reads its channel: Telegram refuses to
    answer a press older than 15 s, as the stand-in does, so on a loaded machine the next press
    waits for the bot to be up rather than for its imports."""
    if isinstance(kexie, DingTalkKexie):
        before = kexie.ding.connections
        await kexie.start_process()
        await kexie.ding.wait_for(lambda: kexie.ding.connections > before, timeout=SLOW)
        return
    polls = len(kexie.standin.calls_of("getUpdates"))
    await kexie.start_process()
    await kexie.standin.wait_for_call("getUpdates", polls + 1, timeout=SLOW)


async def test_return_with_a_reason_resubmit_and_approve_on_the_card(running: Kexie) -> None:
    kexie = running
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(1101, "reporter", org=org, first_name="王芳")
    admin = await kexie.member(1201, "district_admin", district="锦江区", first_name="陈静")
    await submit_report_with_photos_and_pdf(reporter, "光电产业技术交流会")
    async with kexie.session() as session:
        activity = await session.scalar(select(Activity))
        assert activity is not None
        ref, activity_id = activity.ref_no, activity.id

    morning = local_today(kexie) + timedelta(days=1, hours=9)
    await run_scheduler_at(kexie, morning)
    card = await admin.expect_any(f"新报送 {ref}")
    assert "待审核" in card.text
    assert card.button_texts == ["✅ 通过", "↩️ 退回"]
    await admin.press("↩️ 退回", card)
    await admin.expect_any("的理由（至少 4 个字）")
    await admin.send("参与人数与签到表不符 <请核对>")
    await admin.expect_any(f"已退回 {ref}")

    await run_scheduler_at(kexie, morning + timedelta(minutes=5))
    notice = await reporter.expect_any(ref)
    assert "参与人数与签到表不符 <请核对>" in notice.text and "陈静" in notice.text
    await reporter.press("✏️ 去修改", notice)
    await reporter.expect_any("要修改哪一项")
    await reporter.press("参与人数")
    await reporter.expect_any(step_label("headcount"))
    await reporter.send("45人")
    await reporter.expect_any("修改已保存")
    admin.drain()
    await reporter.press("📤 重新提交", notice)
    await reporter.expect_any(f"已重新提交 {ref}")

    await run_scheduler_at(kexie, morning + timedelta(minutes=10))
    corrected = await admin.expect_any(f"退回后修改并重新提交 {ref}")
    assert "40人 → 45人" in corrected.text
    await admin.press("✅ 通过", corrected)
    await admin.expect_any("已通过 · 陈静")
    if isinstance(admin, DingTalkUser):  # the delivery card itself now says so, buttonless
        assert corrected.card_id is not None
        now = admin.message(corrected.card_id)
        assert "已通过 · 陈静" in now.text and not now.buttons
    async with kexie.session() as session:
        row = await session.get(Activity, activity_id)
        assert row is not None and row.review_state == ReviewState.APPROVED
        assert row.headcount == 45


async def test_a_nudge_reaches_the_silent_association(running: Kexie) -> None:
    kexie = running
    silent = await kexie.org("锦江安静材料科协", district="锦江区")
    quiet = await kexie.member(1102, "reporter", org=silent, first_name="李强")
    admin = await kexie.member(1201, "district_admin", district="锦江区", first_name="陈静")
    await admin.send("/chase")
    listing = await admin.expect_any("锦江区 · 催报")
    assert "锦江安静材料科协" in listing.text
    await admin.press("提醒 1")
    await run_scheduler_at(kexie, local_today(kexie) + timedelta(days=1, hours=10))
    nudge = await quiet.expect_any("锦江区科协提醒")
    assert "锦江安静材料科协" in nudge.text


async def test_an_export_s_files_arrive_in_the_chat(running: Kexie) -> None:
    kexie = running
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(1101, "reporter", org=org, first_name="王芳")
    admin = await kexie.member(1201, "district_admin", district="锦江区", first_name="陈静")
    await submit_report_with_photos_and_pdf(reporter, "光电产业技术交流会")
    years = kexie.settings.years
    year = years.year_of(local_today(kexie).date())
    activity_year = years.year_of((local_today(kexie) - timedelta(days=1)).date())
    await admin.send("/export")
    await admin.expect_any("请选择要导出的附件")
    await admin.press("附件1-3")
    await admin.expect_any("请选择年度")
    if activity_year != year:
        await admin.send(str(activity_year))
    else:
        await admin.press(f"{year}年（本年度）")
    await admin.expect_any("已导出", timeout=60)
    name = f"附件1-3_{activity_year}年锦江区.xlsx"
    data = _file(kexie, admin, name)
    sheet = load_workbook(io.BytesIO(data))["附件1-3"]
    assert sheet["A3"].value == "填报单位（盖章）：锦江区科协"


def _file(kexie: Kexie, user: Any, name: str) -> bytes:
    """The bytes of the file ``name`` the user received."""
    if isinstance(kexie, DingTalkKexie):
        files = dict(kexie.ding.files_to(user.user_id))
        assert name in files, list(files)
        return files[name]
    sent = next(m for m in user.messages if m.file_name == name)
    return bytes(sent.file_bytes or b"")
