"""Evidence under hostile conditions (issue 19, items 2 and 6), through the real bot.

* An object store that accepts connections and never answers, drops them, or refuses them: every
  sender is told in one sentence, within a bounded time, that the file was not stored and to send
  it again, and another member's answer meanwhile is answered at once.
* A document whose name is longer than the column (Telegram allows more than 255 characters): it
  is accepted, and its name stored cut in the middle, extension kept, on SQLite and PostgreSQL;
  a MIME type longer than its column (no real one is) is not kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from storage.models import Evidence
from tests.harness import Kexie
from tests.journeys import answer_until_evidence, reporter
from tests.s3_server import S3Server, refusing_endpoint, silent_endpoint
from tests.standin import FakeUser, make_jpeg
from tests.steps import step_label

NOT_STORED = "没能保存"  # evidence_store_failed
BOUND = 20.0  # seconds: the store's calls are bounded at 15 s, plus the bot's own work


async def on_store(kexie: Kexie, endpoint: str) -> Kexie:
    """Start the bot with its evidence store in a bucket behind ``endpoint``."""
    overrides = S3Server(endpoint).settings("kexie-down")
    overrides["s3_secret"] = SecretStr(overrides["s3_secret"])
    kexie.settings = kexie.settings.model_copy(update=overrides)
    await kexie.start()
    return kexie


async def stored_files(kexie: Kexie) -> list[Evidence]:
    async with kexie.session() as session:
        return list((await session.scalars(select(Evidence))).all())


async def test_a_hanging_store_answers_every_sender_in_bounded_time(kexie_idle: Kexie) -> None:
    """Seven senders at once (more than any thread pool the uploads run on): each is told
    within the bound; a member answering a question meanwhile is answered at once."""
    with silent_endpoint() as endpoint:
        kexie = await on_store(kexie_idle, endpoint)
        senders = [
            await reporter(kexie, 7100 + k, f"悬挂存储测试{k}号科技有限公司科协") for k in range(7)
        ]
        await asyncio.gather(*(answer_until_evidence(user) for user in senders))
        bystander = await reporter(kexie, 7200, "旁观者科技有限公司科协")
        await bystander.send("/report")
        await bystander.expect_any(step_label("activity_date"))
        await bystander.press("昨天")
        await bystander.expect_any(step_label("name"))

        loop = asyncio.get_running_loop()
        start = loop.time()
        for k, user in enumerate(senders):
            await user.send_photo(make_jpeg(seed=40 + k))
        await bystander.send("园区企业座谈会")
        await bystander.expect_any(step_label("content"), timeout=5)
        assert loop.time() - start < 5  # not held up by the hung uploads

        async def told(user: FakeUser) -> float:
            reply = await user.expect_any(NOT_STORED, timeout=BOUND + 10)
            assert "出了问题" not in reply.text
            return loop.time() - start

        waits = await asyncio.gather(*(told(user) for user in senders))
        assert max(waits) < BOUND, waits
        assert await stored_files(kexie) == []


@pytest.mark.parametrize(
    "down",
    [refusing_endpoint, lambda: silent_endpoint(close=True)],
    ids=["refusing", "dropping"],
)
async def test_a_store_that_is_down_asks_for_the_file_again(
    kexie_idle: Kexie, down: Callable[[], AbstractContextManager[str]]
) -> None:
    with down() as endpoint:
        kexie = await on_store(kexie_idle, endpoint)
        user = await reporter(kexie, 7300)
        await answer_until_evidence(user)
        start = asyncio.get_running_loop().time()
        await user.send_photo()
        reply = await user.expect_any(NOT_STORED, timeout=BOUND + 10)
        assert asyncio.get_running_loop().time() - start < BOUND
        assert "出了问题" not in reply.text and "重新发送" in reply.text
        assert await stored_files(kexie) == []


LONG_NAME = "关于组织开展园区企业科技政策解读会的签到表" * 12 + "x" * 13 + "（最终版）.pdf"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_a_document_with_a_very_long_name_is_kept_with_its_name_cut(kexie: Kexie) -> None:
    assert len(LONG_NAME) == 274
    user = await reporter(kexie, 7400)
    await answer_until_evidence(user)
    await user.send_document(file_name=LONG_NAME, mime_type="application/pdf")
    await user.expect_any("已收到")
    (row,) = await stored_files(kexie)
    assert row.file_name is not None and len(row.file_name) == 255
    assert row.file_name.startswith(LONG_NAME[:100]) and row.file_name.endswith("（最终版）.pdf")
    assert "…" in row.file_name


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_a_document_with_an_overlong_mime_type_is_kept(kexie: Kexie) -> None:
    user = await reporter(kexie, 7401)
    await answer_until_evidence(user)
    await user.send_document(file_name="签到表.pdf", mime_type="application/pdf;x=" + "y" * 200)
    await user.expect_any("已收到")
    (row,) = await stored_files(kexie)
    assert row.file_name == "签到表.pdf" and row.mime_type is None
