"""Two webhook instances on one database, behind a round-robin front (issue 19, item 11): an
album whose photos are handled by both is acknowledged once ("已收到 5 个文件" once, not once per
instance).

Both instances run in this process (``serve_webhook`` twice, on their own ports); the front is
a small aiohttp proxy that hands each POST to the next instance, as nginx does in
``test_webhook_cluster.py`` (which needs nginx and runs the whole flow with a kill)."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.app import build_application
from bot.webhook import SECRET_HEADER, serve_webhook
from storage.db import Database
from tests.harness import Kexie
from tests.journeys import answer_until_evidence
from tests.ports import free_port
from tests.standin import StandIn, make_jpeg

SECRET = "album-secret_19"


class Front:
    """A round-robin reverse proxy for POST /telegram; counts what each instance was given."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self._next = itertools.cycle(range(len(ports)))
        self.given: Counter[int] = Counter()
        self.albums: Counter[int] = Counter()  # album items per instance
        self.session: aiohttp.ClientSession | None = None

    async def handle(self, request: web.Request) -> web.Response:
        """Forward the request to the next instance and answer what it answered."""
        assert self.session is not None
        body = await request.read()
        n = next(self._next)
        self.given[n] += 1
        if b'"media_group_id"' in body:
            self.albums[n] += 1
        headers = {
            SECRET_HEADER: request.headers.get(SECRET_HEADER, ""),
            "Content-Type": "application/json",
        }
        url = f"http://127.0.0.1:{self.ports[n]}{request.path}"
        async with self.session.post(url, data=body, headers=headers) as answer:
            return web.Response(status=answer.status, body=await answer.read())


@pytest.fixture
async def two_instances(kexie_idle: Kexie, standin: StandIn) -> AsyncIterator[Front]:
    front_port, ports = free_port(), [free_port(), free_port()]
    front = Front(ports)
    front.session = aiohttp.ClientSession()
    proxy = web.Application()
    proxy.router.add_post("/telegram", front.handle)
    runner = web.AppRunner(proxy)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", front_port).start()
    # One database, two instances: on PostgreSQL each has its own pool (as two processes do);
    # SQLite's writer lock lives in the Database object, so the instances share that one.
    url = kexie_idle.settings.db_url
    second_db = kexie_idle.db if url.startswith("sqlite") else Database(url)
    stop = asyncio.Event()
    tasks = []
    for n, db in enumerate((kexie_idle.db, second_db)):
        settings = kexie_idle.settings.model_copy(
            update={
                "webhook_url": f"http://127.0.0.1:{front_port}/telegram",
                "webhook_secret": SECRET,
                "webhook_listen": f"127.0.0.1:{ports[n]}",
            }
        )
        app = build_application(settings, db)
        if n == 0:
            kexie_idle.settings, kexie_idle.app = settings, app
        tasks.append(
            asyncio.create_task(serve_webhook(app, settings, db, stop=stop, signals=False))
        )
    while len(standin.calls_of("setWebhook")) < 2:
        for task in tasks:
            assert not task.done(), task.result()
        await asyncio.sleep(0.02)
    try:
        yield front
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        kexie_idle.app = None
        if second_db is not kexie_idle.db:
            await second_db.dispose()
        await front.session.close()
        await runner.cleanup()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_an_album_split_over_two_instances_is_acknowledged_once(
    kexie_idle: Kexie, standin: StandIn, two_instances: Front
) -> None:
    org = await kexie_idle.org("蓉城电子科技有限公司科协")
    user = await kexie_idle.member(3301, "reporter", org=org)
    await answer_until_evidence(user)
    await user.send_album([make_jpeg(seed=40 + k) for k in range(5)])
    await user.expect_any("已收到 5 个文件", timeout=20)
    # Long enough for every instance's acknowledgement job (1.2 s after its last photo).
    await asyncio.sleep(4)
    assert two_instances.albums[0] and two_instances.albums[1], two_instances.albums
    acks = [m.text for m in user.messages if "已收到" in m.text]
    assert acks == [acks[0]] and "已收到 5 个文件" in acks[0], acks
