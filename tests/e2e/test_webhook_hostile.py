"""Hostile requests to the webhook (issue 19, items 1, 12): bodies are bounded before they are
read (1 MB, by ``Content-Length`` and by counting a chunked body: 413, nothing stored), and an
update is validated before any handler sees it (a body that is not a JSON object, or whose
``update_id`` is missing or not an integer: 400, nothing stored, the user's next message is
answered normally)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import build_application
from bot.webhook import MAX_BODY, SECRET_HEADER, serve_webhook
from storage.models import ChannelAccount
from tests.harness import Kexie
from tests.ports import free_port
from tests.standin import StandIn
from tests.steps import step_label

SECRET = "hostile-secret_19"


@pytest.fixture
async def base(kexie_idle: Kexie, standin: StandIn) -> AsyncIterator[str]:
    """A running webhook app (in this process); its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = kexie_idle.settings.model_copy(
        update={
            "webhook_url": f"{url}/telegram",
            "webhook_secret": SECRET,
            "webhook_listen": f"127.0.0.1:{port}",
        }
    )
    kexie_idle.settings = settings
    app = build_application(settings, kexie_idle.db)
    kexie_idle.app = app
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve_webhook(app, settings, kexie_idle.db, stop=stop, signals=False)
    )
    while standin.webhook is None:
        assert not task.done(), task.result()
        await asyncio.sleep(0.02)
    yield url
    stop.set()
    await task
    kexie_idle.app = None


def _update(user_id: int, text: str, update_id: object = 900) -> dict[str, object]:
    person = {"id": user_id, "is_bot": False, "first_name": "韩梅梅"}
    message = {
        "message_id": 1,
        "date": 1700000000,
        "chat": {"id": user_id, "type": "private", "first_name": "韩梅梅"},
        "from": person,
        "text": text,
    }
    return {"update_id": update_id, "message": message}


async def _accounts(kexie: Kexie) -> int:
    async with kexie.session() as session:
        return int(await session.scalar(select(func.count()).select_from(ChannelAccount)) or 0)


async def _raw_request(port: int, head: str, body: bytes) -> bytes:
    """Send ``head`` and ``body`` on a fresh connection (without finishing a body that is
    announced longer, or a chunked one), and read the answer's status line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode() + body)
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def _head(length: str | None) -> str:
    framing = f"Content-Length: {length}" if length else "Transfer-Encoding: chunked"
    return (
        "POST /telegram HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{SECRET_HEADER}: {SECRET}\r\n{framing}\r\n\r\n"
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_an_announced_10_mb_body_is_refused_before_it_is_read(
    kexie_idle: Kexie, standin: StandIn, base: str
) -> None:
    port = int(base.rsplit(":", 1)[1])
    before = await _accounts(kexie_idle)
    start = json.dumps(_update(3201, "/start")).encode()
    # 10 MB announced, a few hundred bytes sent: only a server that does not wait for the rest
    # answers at all.
    status = await _raw_request(port, _head(str(10 * MAX_BODY)), start)
    assert status.startswith(b"HTTP/1.1 413"), status
    assert await _accounts(kexie_idle) == before
    assert standin.calls_of("sendMessage") == []


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_a_chunked_body_over_1_mb_is_refused_and_nothing_is_stored(
    kexie_idle: Kexie, standin: StandIn, base: str
) -> None:
    port = int(base.rsplit(":", 1)[1])
    before = await _accounts(kexie_idle)
    # A real update whose text makes it larger than 1 MB, sent in 64 KB chunks without an end.
    raw = json.dumps(_update(3202, "/start " + "x" * (MAX_BODY + 1000))).encode()
    step = 64 * 1024
    chunks = b"".join(
        f"{len(raw[i : i + step]):x}\r\n".encode() + raw[i : i + step] + b"\r\n"
        for i in range(0, len(raw), step)
    )
    status = await _raw_request(port, _head(None), chunks)
    assert status.startswith(b"HTTP/1.1 413"), status
    assert await _accounts(kexie_idle) == before
    assert standin.calls_of("sendMessage") == []


async def test_a_body_just_under_the_limit_is_still_read(
    kexie_idle: Kexie, standin: StandIn, base: str
) -> None:
    user = standin.user(3203, "韩梅梅")
    body = json.dumps(_update(3203, "/start")).encode()
    padded = body[:-1] + b"," + json.dumps("p").encode() + b":" + b'"' + b"y" * 2000 + b'"}'
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{base}/telegram", content=padded, headers=headers)
    assert answer.status_code == 200
    await user.expect()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_a_string_update_id_is_refused_and_the_next_message_is_answered(
    kexie_idle: Kexie, standin: StandIn, base: str
) -> None:
    org = await kexie_idle.org("蓉城电子科技有限公司科协")
    # Just joined through an invite: the account has no update id recorded yet.
    user = await kexie_idle.member(3204, "reporter", org=org)
    answers = len(standin.calls_of("sendMessage"))
    headers = {SECRET_HEADER: SECRET}
    async with httpx.AsyncClient() as client:
        hostile = await client.post(
            f"{base}/telegram", json=_update(3204, "/help", "99999999999"), headers=headers
        )
    # The user's own next message is answered (before the fix the string id was stored as
    # the account's last update, and every real update after it looked like a redelivery).
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    assert hostile.status_code == 400, hostile.text
    # The refused update reached no handler: the only new answer is the question.
    assert len(standin.calls_of("sendMessage")) == answers + 1


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_bodies_that_are_not_updates_are_refused_400_and_store_nothing(
    kexie_idle: Kexie, standin: StandIn, base: str
) -> None:
    before = await _accounts(kexie_idle)
    good = _update(3205, "/start")
    no_id = {k: v for k, v in good.items() if k != "update_id"}
    bodies = [
        b"{not json",
        b"[1, 2]",
        b'"an update"',
        b"null",
        json.dumps(no_id).encode(),
        json.dumps(_update(3205, "/start", "77")).encode(),
        json.dumps(_update(3205, "/start", 7.0)).encode(),
        json.dumps(_update(3205, "/start", True)).encode(),
        json.dumps(_update(3205, "/start", None)).encode(),
        json.dumps(_update(3205, "/start", -1)).encode(),
        json.dumps(_update(3205, "/start", 2**63)).encode(),
        b"[" * 200_000,  # deeper than the JSON parser goes
        b'{"update_id": 5, "message": "\xff\xfe"}',  # not UTF-8
    ]
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    async with httpx.AsyncClient() as client:
        for body in bodies:
            answer = await client.post(f"{base}/telegram", content=body, headers=headers)
            assert answer.status_code == 400, body
    assert await _accounts(kexie_idle) == before
    assert standin.calls_of("sendMessage") == []
