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
from tests.harness import TOKEN, Kexie
from tests.standin import make_jpeg
from tests.steps import step_label

FIRST, LAST, USERNAME = "晓燕", "欧阳", "oy_xiaoyan"
PHONE = "13912345678"
NAME = "欧阳晓燕社区急救培训"
CONTENT = f"联系人欧阳晓燕（电话{PHONE}）带领居民练习心肺复苏。"
OUTCOME = f"42位居民掌握了心肺复苏，咨询请拨{PHONE}。"
SECRETS = (FIRST, LAST, USERNAME, PHONE, NAME, CONTENT, OUTCOME, "心肺复苏", TOKEN.split(":")[1])


def leaks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every captured line (messages, arguments and tracebacks) that holds a secret."""
    found = []
    texts = [caplog.text] + [r.getMessage() for r in caplog.records]
    for text in texts:
        for secret in SECRETS:
            if secret in text:
                line = next(x for x in text.splitlines() if secret in x)
                found.append(f"{secret!r} in: {line[:300]}")
    return found


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
