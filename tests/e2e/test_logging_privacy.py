"""No log line carries what users wrote, their names or phone numbers, nor the bot token.

A whole report journey runs with every logger at DEBUG (python-telegram-bot, httpx, APScheduler
included, at the levels the application sets for them), through a failing API call and an
exception in a handler; then every captured record is searched for the user's words.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import IntegrityError

import bot.app
import channels.telegram.retries
import handlers.start
from tests.harness import Kexie
from tests.privacy import CONTENT, FIRST, LAST, NAME, OUTCOME, PHONE, USERNAME, leaks
from tests.standin import make_jpeg
from tests.steps import step_label


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(channels.telegram.retries, "RETRY_FIRST_DELAY", 0.05)
    monkeypatch.setattr(bot.app, "READ_TIMEOUT", 1.0)


async def test_a_report_journey_logs_no_personal_data(
    kexie: Kexie, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    kexie.standin.user(4401, FIRST, USERNAME, last_name=LAST)
    org = await kexie.org("蓉城医疗器械有限公司科协")
    user = await kexie.member(4401, "reporter", org=org, first_name=FIRST)

    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.press("昨天")
    await user.expect_any(step_label("name"))
    kexie.standin.fail_next("sendMessage", 500)  # a failing API call, retried
    await user.send(NAME)
    await user.expect_any(step_label("content"))
    kexie.standin.fail_next("sendMessage", kind="reset")
    await user.send(CONTENT)
    await user.expect_any(step_label("role"))

    # An exception in a handler whose message quotes the user's words (as database errors
    # quote their parameters), and the apology that follows fails too.
    def broken(*args: object) -> list[str]:
        raise IntegrityError("INSERT INTO activity", {"content": CONTENT}, ValueError(PHONE))

    monkeypatch.setattr(handlers.start, "commands_for", broken)
    kexie.standin.fail_next("sendMessage", 502)
    await user.send("/help")
    await kexie.standin.wait_until_confirmed()
    monkeypatch.undo()

    await user.press("主办")
    await user.expect_any(step_label("headcount"))
    await user.send("42人")
    await user.expect_any(step_label("outcome"))
    await user.send(OUTCOME)
    await user.expect_any(step_label("evidence"))
    kexie.standin.fail_next("getFile", 500)
    await user.send_photo(make_jpeg(), caption=f"{FIRST} {PHONE}")
    await user.expect_any("已收到")
    await user.press("完成")
    await user.expect_any("请核对报送内容")
    await user.press("提交")
    await user.expect_any("已提交")
    await kexie.standin.wait_until_confirmed()

    assert [r for r in caplog.records if r.levelno >= logging.WARNING], "nothing went wrong?"
    found = leaks(caplog)
    assert not found, "\n".join(found)
