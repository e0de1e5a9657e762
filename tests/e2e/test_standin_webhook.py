"""The stand-in's webhook delivery: setWebhook, the secret header, order per chat, several
chats at once up to max_connections, redelivery on non-2xx and timeouts (bounded), and
getWebhookInfo's pending_update_count; getUpdates is refused while a webhook is set."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest
from aiohttp import web

from tests.standin import StandIn

SECRET = "s3cr3t-token_ok"


@dataclass
class Receiver:
    """A webhook endpoint recording what arrives; ``answer`` picks each status."""

    url: str = ""
    received: list[tuple[int, str | None]] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    hold: float = 0.0
    answer: Callable[[int], int] = lambda _uid: 200


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()

    async def handle(request: web.Request) -> web.Response:
        update = json.loads(await request.read())
        rec.in_flight += 1
        rec.most_in_flight = max(rec.most_in_flight, rec.in_flight)
        try:
            rec.received.append(
                (update["update_id"], request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
            )
            if rec.hold:
                await asyncio.sleep(rec.hold)
            return web.Response(status=rec.answer(update["update_id"]))
        finally:
            rec.in_flight -= 1

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    rec.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    await web.SockSite(runner, sock).start()
    yield rec
    await runner.cleanup()


async def _api(standin: StandIn, method: str, **params: object) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(f"{standin.base_url}{standin.token}/{method}", json=params)


def _pending_ids(standin: StandIn) -> list[int]:
    return [int(u["update_id"]) for u in standin.pending_updates]


async def _set(standin: StandIn, url: str, max_connections: int = 40) -> None:
    answer = await _api(
        standin,
        "setWebhook",
        url=url,
        secret_token=SECRET,
        allowed_updates=["message", "callback_query"],
        max_connections=max_connections,
    )
    assert answer.json() == {"ok": True, "result": True}


async def test_delivers_in_order_with_the_secret(standin: StandIn, receiver: Receiver) -> None:
    alice, bob = standin.user(1001, "A"), standin.user(1002, "B")
    for sender, text in ((alice, "1"), (bob, "2"), (alice, "3")):
        await sender.send(text)
    ids = _pending_ids(standin)
    info = (await _api(standin, "getWebhookInfo")).json()["result"]
    assert info["pending_update_count"] == 3
    await _set(standin, receiver.url)
    await standin.wait_until_confirmed()
    assert sorted(uid for uid, _ in receiver.received) == ids
    assert {secret for _, secret in receiver.received} == {SECRET}
    alice_order = [uid for uid, _ in receiver.received if uid in (ids[0], ids[2])]
    assert alice_order == [ids[0], ids[2]]
    info = (await _api(standin, "getWebhookInfo")).json()["result"]
    assert info["url"] == receiver.url and info["pending_update_count"] == 0
    assert info["max_connections"] == 40


async def test_get_updates_conflicts_while_a_webhook_is_set(
    standin: StandIn, receiver: Receiver
) -> None:
    standin.allow_errors = True
    await _set(standin, receiver.url)
    assert (await _api(standin, "getUpdates")).status_code == 409
    await _api(standin, "deleteWebhook")
    assert (await _api(standin, "getUpdates", timeout=0)).status_code == 200


async def test_redelivers_after_an_error_then_stops_after_a_bound(
    standin: StandIn, receiver: Receiver
) -> None:
    user = standin.user(1003, "C")
    await user.send("a")
    await user.send("b")
    first, second = _pending_ids(standin)
    failures = {first: 2}

    def answer(uid: int) -> int:
        if failures.get(uid, 0) > 0:
            failures[uid] -= 1
            return 500
        return 200

    receiver.answer = answer
    await _set(standin, receiver.url)
    await standin.wait_until_confirmed()
    # The first one three times (500, 500, 200); the second of the chat only after it.
    assert [uid for uid, _ in receiver.received] == [first, first, first, second]

    standin.webhook_max_attempts = 3
    receiver.answer = lambda _uid: 503
    await user.send("c")
    (doomed,) = _pending_ids(standin)
    await standin.wait_until_confirmed()
    assert [uid for uid, _ in receiver.received].count(doomed) == 3
    assert standin.dropped == [doomed]


async def test_a_timeout_is_redelivered(standin: StandIn, receiver: Receiver) -> None:
    standin.webhook_timeout = 0.3
    user = standin.user(1004, "D")
    await user.send("x")
    (uid,) = _pending_ids(standin)
    receiver.hold = 1.0
    await _set(standin, receiver.url)
    while len(receiver.received) < 2:
        await asyncio.sleep(0.05)
    receiver.hold = 0.0
    await standin.wait_until_confirmed()
    statuses = [d.status for d in standin.deliveries if d.update_id == uid]
    assert statuses[0] is None and statuses[-1] == 200


async def test_chats_at_once_up_to_max_connections(standin: StandIn, receiver: Receiver) -> None:
    for n in range(8):
        await standin.user(2000 + n, f"U{n}").send("hi")
    receiver.hold = 0.3
    await _set(standin, receiver.url, max_connections=3)
    await standin.wait_until_confirmed()
    assert receiver.most_in_flight == 3
    assert len(receiver.received) == 8
