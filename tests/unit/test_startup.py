"""The start-up hint (bot/startup.py): after three failures in a row, once per process."""

from __future__ import annotations

import logging

import pytest

from bot.startup import HINT_AFTER, BotApiReach


def hints(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "KEXIE_TELEGRAM_API_URL" in r.getMessage()]


def test_one_hint_after_three_failures_in_a_row(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.startup")
    reach = BotApiReach("https://api.telegram.org/bot")
    reach.connecting()
    assert "connecting to the Bot API at https://api.telegram.org/bot …" in caplog.text
    reach.failed()
    reach.failed()
    reach.reached()  # an answer in between: the count starts again
    for _ in range(HINT_AFTER - 1):
        reach.failed()
    assert hints(caplog) == []
    reach.failed()
    assert len(hints(caplog)) == 1
    for _ in range(10):
        reach.failed()
    reach.reached()
    for _ in range(HINT_AFTER):
        reach.failed()
    (hint,) = hints(caplog)
    assert "中国大陆" in hint and "mainland China" in hint
    assert "local Bot API server" in hint and "本地 Bot API 服务器" in hint
    assert "请确认它已启动" not in hint  # Telegram's own address is not "your server"


def test_an_own_server_is_asked_whether_it_runs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.startup")
    reach = BotApiReach("http://127.0.0.1:8081/bot")
    for _ in range(HINT_AFTER):
        reach.failed()
    (hint,) = hints(caplog)
    assert "http://127.0.0.1:8081/bot" in hint and "check that it is running" in hint
