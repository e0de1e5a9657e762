"""Webhook mode serves the console on the same port as /telegram (bot/webhook.py mounts it at
/console): the entry page, a district admin's session and the reports page, and a reporter
refused, through a real socket."""

from __future__ import annotations

import asyncio

import httpx

from bot.app import build_application
from bot.webhook import serve_webhook
from tests.console import init_data
from tests.harness import Kexie
from tests.ports import free_port
from tests.standin import StandIn


async def test_the_webhook_app_serves_the_console(kexie: Kexie, standin: StandIn) -> None:
    org = await kexie.org("某某科技有限公司科协")
    await kexie.member(5301, "reporter", org=org)
    await kexie.member(5302, "district_admin", district="锦江区", first_name="陈静")
    await kexie.stop()  # the polling bot gives way to the webhook one, on the same database
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = kexie.settings.model_copy(
        update={
            "webhook_url": f"{base}/telegram",
            "webhook_secret": "console-secret",
            "webhook_listen": f"127.0.0.1:{port}",
        }
    )
    app = build_application(settings, kexie.db)
    stop = asyncio.Event()
    task = asyncio.create_task(serve_webhook(app, settings, kexie.db, stop=stop, signals=False))
    try:
        while standin.webhook is None:
            assert not task.done(), task.result()
            await asyncio.sleep(0.02)
        # The cookie is Secure: this client keeps it although the test talks plain http.
        async with httpx.AsyncClient(base_url=base) as client:
            entry = await client.get("/console/")
            assert entry.status_code == 200 and "entry.js" in entry.text
            refused = await client.post("/console/session", data={"init_data": init_data(5301)})
            assert refused.status_code == 403
            answer = await client.post("/console/session", data={"init_data": init_data(5302)})
            assert answer.status_code == 303
            cookie = answer.headers["set-cookie"].split(";")[0]
            page = await client.get("/console/reports", headers={"cookie": cookie})
            assert page.status_code == 200 and "报送" in page.text
            assert (await client.get("/healthz")).status_code in (200, 503)  # still its own
    finally:
        stop.set()
        await task
