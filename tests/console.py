"""Shared by the console's tests (web/): Telegram's part (signing initData as Telegram does), an
HTTP client on the console's ASGI app, a signed-in admin, and a real server for the browser.

Usage::

    async with console_client(kexie) as client:
        csrf = await sign_in(client, 5001)            # 5001 joined as a district admin
        page = await client.get("/console/reports")
        await client.post("/console/reports/1/decide", data={"csrf": csrf, ...})
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn

from bot.console import console_app
from tests.harness import TOKEN, Kexie
from tests.ports import free_port
from web.auth import COOKIE, SessionSigner, sign_init_data

BASE = "https://testserver"  # https: the session cookie is Secure


def init_data(
    user_id: int,
    first_name: str = "测试",
    *,
    auth_date: float | None = None,
    token: str = TOKEN,
    language_code: str = "zh-hans",
    extra: dict[str, Any] | None = None,
) -> str:
    """initData for ``user_id``, signed as Telegram signs it for the bot with ``token``."""
    fields: dict[str, Any] = {
        "query_id": f"AAH{user_id}",
        "user": {"id": user_id, "first_name": first_name, "language_code": language_code},
        "auth_date": int(time.time() if auth_date is None else auth_date),
        **(extra or {}),
    }
    return sign_init_data(fields, token)


@contextlib.asynccontextmanager
async def console_client(kexie: Kexie) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the running bot's console (no socket: httpx's ASGI transport)."""
    assert kexie.app is not None, "start kexie first (the kexie fixture does)"
    transport = httpx.ASGITransport(app=console_app(kexie.app))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, user_id: int, **kwargs: Any) -> str:
    """Open the console as ``user_id`` (a district or city admin); the CSRF token for forms."""
    answer = await client.post("/console/session", data={"init_data": init_data(user_id, **kwargs)})
    assert answer.status_code == 303, (answer.status_code, answer.text[:300])
    session = SessionSigner(TOKEN, 120).read(client.cookies.get(COOKIE))
    assert session is not None
    return session.csrf


def csrf_of(html: str) -> str:
    """The CSRF token a rendered page carries (``<meta name="csrf-token">``)."""
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


@contextlib.asynccontextmanager
async def console_server(kexie: Kexie) -> AsyncIterator[str]:
    """The console on a real HTTP server (uvicorn) in this event loop; yields its base URL
    (``http://localhost:<port>/console``). A browser driven from a thread can use it; calls
    into Selenium must run in a thread (``asyncio.to_thread``) so this loop keeps serving."""
    assert kexie.app is not None
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            console_app(kexie.app),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://localhost:{port}/console"
    finally:
        server.should_exit = True
        await task
