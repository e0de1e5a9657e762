"""End-to-end: replies queued by a handler survive Bot API 5xx, timeouts and dropped connections.

The answer is committed before any reply is sent (channels.telegram.unit.unit_of_work); a reply that
fails with a server error is sent again with backoff until the API recovers, within a bound.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

import bot.app
import channels.telegram.retries
from storage.evidence import open_evidence_store
from storage.models import ChatState, utcnow
from tests.export_data import seed_export_data
from tests.harness import Kexie
from tests.journeys import answer_until_evidence
from tests.standin import FakeUser, make_jpeg
from tests.steps import step_label


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short backoff and a short read timeout, so a test waits well under a second per fault."""
    monkeypatch.setattr(channels.telegram.retries, "RETRY_FIRST_DELAY", 0.05, raising=False)
    monkeypatch.setattr(bot.app, "READ_TIMEOUT", 1.0, raising=False)


async def reporter(kexie: Kexie, user_id: int = 4101) -> FakeUser:
    org = await kexie.org("蓉城光电科技有限公司科协")
    return await kexie.member(user_id, "reporter", org=org)


async def test_help_arrives_after_a_500(kexie: Kexie) -> None:
    user = await reporter(kexie)
    kexie.standin.fail_next("sendMessage", 500)
    await user.send("/help")
    got = await user.expect()
    assert "/report" in got.text
    await user.expect_nothing(0.5)
    assert len(kexie.standin.injected) == 1


@pytest.mark.parametrize("kind", ["status", "timeout", "reset"])
async def test_next_question_arrives_once_after_a_fault(kexie: Kexie, kind: str) -> None:
    kexie.standin.timeout_hold = 1.5
    user = await reporter(kexie)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.press("昨天")
    await user.expect_any(step_label("name"))
    kexie.standin.fail_next("sendMessage", 502, kind=kind)
    await user.send("科普进社区")
    await user.expect(step_label("content"))
    await user.expect_nothing(0.5)
    async with kexie.session() as session:
        state = (await session.scalars(select(ChatState))).one()
    assert state.step == "content"  # the answer was applied once
    await user.send("面向社区居民讲解防灾减灾知识。")
    await user.expect_any(step_label("role"))


async def test_retries_are_bounded(
    kexie: Kexie, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The API stays down: the bot gives up within its budget, logs ids only, and goes on."""
    monkeypatch.setattr(channels.telegram.retries, "RETRY_BUDGET", 1.0, raising=False)
    user = await reporter(kexie)
    kexie.standin.fail_next("sendMessage", 500, times=1000)
    with caplog.at_level(logging.WARNING):
        await user.send("/help")
        await kexie.standin.wait_until_confirmed()
    assert user.pending() == []
    assert any("gave up" in r.getMessage() for r in caplog.records)
    kexie.standin._faults.clear()
    await user.send("/help")
    await user.expect_any("/report")


async def test_a_429_is_retried_by_one_layer(kexie: Kexie) -> None:
    """429 is AIORateLimiter's to honour; the reply retry does not add its own attempts."""
    user = await reporter(kexie)
    sent = len(kexie.standin.calls_of("sendMessage"))
    kexie.standin.fail_next("sendMessage", 429, retry_after=1)
    await user.send("/help")
    await user.expect_any("/report")
    await kexie.standin.wait_until_confirmed()
    await user.expect_nothing(0.3)
    assert len(kexie.standin.calls_of("sendMessage")) == sent + 2  # the refused one, the sent one


async def test_album_acknowledgement_arrives_after_a_500(kexie: Kexie) -> None:
    """The album's one acknowledgement is sent by a job, outside any update: retried too."""
    user = await reporter(kexie)
    await answer_until_evidence(user)
    kexie.standin.fail_next("sendMessage", 500)
    await user.send_album([make_jpeg(seed=k) for k in range(3)])
    ack = await user.expect("已收到 3 个文件")
    assert "现有佐证材料 3 个" in ack.text
    await user.expect_nothing(0.5)
    assert len(kexie.standin.injected) == 1


async def test_export_files_arrive_after_a_502_on_upload(kexie: Kexie) -> None:
    this_year = kexie.settings.years.year_of(utcnow().astimezone(kexie.settings.tz).date())
    async with kexie.session() as session:
        await seed_export_data(session, open_evidence_store(kexie.settings), this_year)
    admin = await kexie.member(4102, "district_admin", district="锦江区")
    await admin.send("/export")
    await admin.expect_any("请选择要导出的附件")
    await admin.press("附件1-3")
    await admin.expect_any("请选择年度")
    kexie.standin.fail_next("sendDocument", 502)
    await admin.press(f"{this_year}年（本年度）")
    done = await admin.expect_any("已导出", timeout=60)
    assert f"附件1-3_{this_year}年锦江区.xlsx" in done.text
    names = [m.file_name for m in admin.messages if m.file_name]
    assert names.count(f"附件1-3_{this_year}年锦江区.xlsx") == 1
    assert len(kexie.standin.injected) == 1
