"""What no log line may carry (issue 14's privacy rule), for the tests that look: a person's
words, name and phone number, and the bot token."""

from __future__ import annotations

import pytest

from tests.harness import TOKEN

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
