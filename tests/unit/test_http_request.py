"""bot/http.py: python-telegram-bot's requests over aiohttp behave as over httpx.

A local aiohttp server stands in for Telegram: form fields and uploads arrive as httpx sends them
(UTF-8 file names as they are), timeouts become ``TimedOut``, dropped or refused connections
``NetworkError``, and no message carries the URL (it holds the bot token).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.http import AiohttpRequest

TOKEN_URL_PART = "bot123456:SECRET-token"


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A server recording what each request carried; ``/slow`` answers after 2 s, ``/drop``
    closes the connection without an answer."""
    seen: list[dict[str, Any]] = []

    async def echo(request: web.Request) -> web.Response:
        form = await request.post()
        record: dict[str, Any] = {"content_type": request.content_type}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                record[key] = (value.filename, value.content_type, value.file.read())
            else:
                record[key] = value
        seen.append(record)
        return web.json_response({"ok": True, "result": True})

    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    async def drop(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(1)
        return web.json_response({})

    app = web.Application()
    app.router.add_post(f"/{TOKEN_URL_PART}/sendMessage", echo)
    app.router.add_post(f"/{TOKEN_URL_PART}/sendDocument", echo)
    app.router.add_post(f"/{TOKEN_URL_PART}/slow", slow)
    app.router.add_post(f"/{TOKEN_URL_PART}/drop", drop)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/{TOKEN_URL_PART}", seen
    await runner.cleanup()


@pytest.fixture
async def request_() -> AsyncIterator[AiohttpRequest]:
    req = AiohttpRequest(read_timeout=0.5, connect_timeout=0.5)
    await req.initialize()
    yield req
    await req.shutdown()


def _data(**params: Any) -> RequestData:
    return RequestData([RequestParameter.from_input(k, v) for k, v in params.items()])


async def test_form_fields_arrive_and_the_answer_comes_back(
    server: tuple[str, list[dict[str, Any]]], request_: AiohttpRequest
) -> None:
    base, seen = server
    code, payload = await request_.do_request(
        f"{base}/sendMessage", "POST", _data(chat_id=42, text="你好 <b>&</b>")
    )
    assert code == 200 and b'"ok": true' in payload
    assert seen == [
        {
            "content_type": "application/x-www-form-urlencoded",
            "chat_id": "42",
            "text": "你好 <b>&</b>",
        }
    ]


async def test_an_upload_keeps_its_chinese_file_name(
    server: tuple[str, list[dict[str, Any]]], request_: AiohttpRequest
) -> None:
    base, seen = server
    document = InputFile(b"PK\x03\x04 annex", filename="附件1-3_2026年锦江区.xlsx")
    code, _ = await request_.do_request(
        f"{base}/sendDocument", "POST", _data(chat_id=42, document=document)
    )
    assert code == 200
    (record,) = seen
    assert record["content_type"] == "multipart/form-data"
    assert record["chat_id"] == "42"
    name, _mime, content = record["document"]
    assert name == "附件1-3_2026年锦江区.xlsx"  # not %E9%99%84…
    assert content == b"PK\x03\x04 annex"


async def test_a_slow_answer_is_a_timeout(
    server: tuple[str, list[dict[str, Any]]], request_: AiohttpRequest
) -> None:
    base, _ = server
    with pytest.raises(TimedOut):
        await request_.do_request(f"{base}/slow", "POST", _data(chat_id=1))
    # The call's own read timeout wins over the default.
    code, _ = await request_.do_request(f"{base}/slow", "POST", _data(chat_id=1), read_timeout=5.0)
    assert code == 200


async def test_a_dropped_connection_is_a_network_error_without_the_token(
    server: tuple[str, list[dict[str, Any]]], request_: AiohttpRequest
) -> None:
    base, _ = server
    with pytest.raises(NetworkError) as caught:
        await request_.do_request(f"{base}/drop", "POST", _data(chat_id=1))
    assert not isinstance(caught.value, TimedOut)
    assert "SECRET" not in str(caught.value)


async def test_a_refused_connection_is_a_network_error_without_the_token(
    request_: AiohttpRequest,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NetworkError) as caught:
        await request_.do_request(f"http://127.0.0.1:{port}/{TOKEN_URL_PART}/getMe", "POST")
    assert "SECRET" not in str(caught.value)


async def test_it_must_be_initialized_and_shuts_down_twice() -> None:
    req = AiohttpRequest()
    with pytest.raises(RuntimeError):
        await req.do_request("http://127.0.0.1:9/x", "POST")
    await req.initialize()
    await req.shutdown()
    await req.shutdown()
    assert req.read_timeout == 5.0
