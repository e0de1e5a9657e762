"""The console against a hostile visitor's requests (issue 19): bodies are bounded before they
are read, whoever sends them (a chunked body is counted as it arrives; a declared one is
refused by its Content-Length), and a page's notes come from the database, never from its URL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.console import console_app
from storage.chase import CHASE_KIND
from storage.models import OutboxMessage
from tests.console import BASE, console_server, csrf_of, sign_in
from tests.harness import Kexie

MAX_BODY = 64 * 1024  # the console's bound on a request body
CHUNK = 16 * 1024
LARGE = 8 * 1024 * 1024  # each hostile body; the console must stop after MAX_BODY of it
REQUESTS = 10
BOUNDARY = "kexieboundary"


class Counted:
    """A chunked request body of ``size`` bytes that counts what the server took of it."""

    def __init__(self, size: int, first: bytes = b"a=") -> None:
        self.size = size
        self.first = first  # the start of the form (e.g. a valid CSRF token)
        self.consumed = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        block = self.first + b"x" * (CHUNK - len(self.first))
        while self.consumed < self.size:
            self.consumed += len(block)
            yield block
            block = b"x" * CHUNK


def client_of(kexie: Kexie) -> httpx.AsyncClient:
    """A client on the console app that sees a 500 as an answer (not as a raised error)."""
    assert kexie.app is not None
    transport = httpx.ASGITransport(app=console_app(kexie.app), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=BASE)


async def test_ten_large_chunked_bodies_are_refused_after_the_limit(kexie: Kexie) -> None:
    await kexie.member(7101, "district_admin", district="锦江区")
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    await kexie.member(7102, "reporter", org=org)
    async with client_of(kexie) as anonymous, client_of(kexie) as admin:
        csrf = await sign_in(admin, 7101)
        targets = [
            (anonymous, "/console/session"),  # the way in: no session needed, so the worst case
            (admin, "/console/export"),
            (admin, f"/console/associations/{org}/chase"),
            (admin, "/console/reports/1/return"),
            (admin, "/console/session"),
        ]
        # A valid token: were the body read whole, the chase would be queued. Half of the
        # bodies are urlencoded forms, half multipart ones (Starlette parses both).
        part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
        part += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n\r\n'
        kinds = [
            ("application/x-www-form-urlencoded", f"csrf={csrf}&a="),
            (f"multipart/form-data; boundary={BOUNDARY}", part),
        ]
        bodies = [Counted(LARGE, kinds[n % 2][1].encode()) for n in range(REQUESTS)]

        async def send(number: int) -> httpx.Response:
            client, path = targets[number % len(targets)]
            return await client.post(
                path, content=bodies[number], headers={"content-type": kinds[number % 2][0]}
            )

        answers = await asyncio.gather(*(send(n) for n in range(REQUESTS)))
    for number, (answer, body) in enumerate(zip(answers, bodies, strict=True)):
        what = (number, targets[number % len(targets)][1], answer.status_code, body.consumed)
        assert answer.status_code == 413, what
        # What the console took is the limit and at most the chunk that crossed it.
        assert body.consumed <= MAX_BODY + CHUNK, what
    async with kexie.session() as session:
        queued = select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == CHASE_KIND)
        assert await session.scalar(queued) == 0  # nothing acted on a refused body


@pytest.mark.parametrize(
    "declared",
    [str(300 * 1024 * 1024), str(MAX_BODY + 1), "²", "٣", "-1", "99999999999999999999"],
)
async def test_a_declared_length_over_the_limit_or_odd_is_refused_unread(
    kexie: Kexie, declared: str
) -> None:
    async with client_of(kexie) as client:
        body = Counted(LARGE)
        answer = await client.post(
            "/console/session",
            content=body,
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "content-length": declared.encode(),
            },
        )
    assert answer.status_code in (400, 413), (declared, answer.status_code)
    assert answer.status_code == (413 if declared.isascii() and declared.isdigit() else 400)
    assert body.consumed == 0, (declared, body.consumed)


async def test_a_form_within_the_limit_still_works(kexie: Kexie) -> None:
    org = await kexie.org("锦江安静材料科协", district="锦江区")
    await kexie.member(7111, "reporter", org=org)
    await kexie.member(7112, "district_admin", district="锦江区")
    async with client_of(kexie) as client:
        await sign_in(client, 7112)
        page = await client.get(f"/console/associations/{org}")
        padding = "x" * (MAX_BODY - 1024)  # a large but allowed form
        sent = await client.post(
            f"/console/associations/{org}/chase",
            data={"csrf": csrf_of(page.text), "pad": padding},
        )
    assert sent.status_code == 303, sent.text[:300]


def rss_mb() -> float:
    """This process's resident memory now (Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def upload(port: int, path: str, total: int) -> tuple[int, int]:
    """POST a chunked body of up to ``total`` bytes as a plain client would, stopping when the
    server answers or hangs up; the answer's status and the bytes handed to the socket."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    writer.write(head.encode())
    block = b"x" * CHUNK
    piece = f"{len(block):x}\r\n".encode() + block + b"\r\n"
    answer = asyncio.create_task(reader.readline())
    sent = 0
    try:
        while sent < total and not answer.done():
            writer.write(piece)
            await writer.drain()
            sent += len(block)
        if not answer.done():
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except ConnectionError:
        pass  # the server hung up after its answer: the rest is never sent
    status = await asyncio.wait_for(answer, 30)
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return int(status.split()[1]), sent


async def test_a_real_server_refuses_ten_large_uploads_without_holding_them(kexie: Kexie) -> None:
    """Over uvicorn, as deployed: ten 64 MB chunked uploads at once to the way in (no session
    needed) each get 413 early; the server's memory does not grow by what they sent."""
    total = 64 * 1024 * 1024
    async with console_server(kexie) as base:
        port = int(base.split(":")[2].split("/")[0])
        before = rss_mb()
        peak = before

        async def watch() -> None:
            nonlocal peak
            while True:
                peak = max(peak, rss_mb())
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch())
        try:
            results = await asyncio.gather(
                *(upload(port, "/console/session", total) for _ in range(REQUESTS))
            )
        finally:
            watcher.cancel()
    print(f"RSS {before:.0f} MB → peak {peak:.0f} MB; bytes sent: {[s for _, s in results]}")
    assert [status for status, _ in results] == [413] * REQUESTS, results
    # The kernel's socket buffers take some megabytes before the hang-up; never the whole body.
    assert all(sent < total // 4 for _, sent in results), results
    assert peak - before < 100, (before, peak)


# --- notes come from the database --------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_a_sent_note_counts_the_recorded_nudge_not_the_url(kexie: Kexie) -> None:
    org = await kexie.org("锦江安静材料科协", district="锦江区")
    await kexie.member(7121, "reporter", org=org)
    await kexie.member(7122, "org_admin", org=org)
    await kexie.member(7123, "district_admin", district="锦江区")
    async with client_of(kexie) as client:
        await sign_in(client, 7123)
        # Nothing sent yet: a crafted link claims nothing.
        for query in ("?note=sent&n=999", "?note=sent", "?note=sent&n=²", "?note=nobody"):
            forged = await client.get(f"/console/associations/{org}{query}")
            assert forged.status_code == 200, (query, forged.status_code)
            assert "已提醒" not in forged.text, query
            assert "999" not in forged.text, query
            assert "没有可以提醒" not in forged.text, query

        page = await client.get(f"/console/associations/{org}")
        sent = await client.post(
            f"/console/associations/{org}/chase", data={"csrf": csrf_of(page.text)}
        )
        assert sent.status_code == 303
        location = sent.headers["location"]
        assert "n=" not in location, location
        shown = await client.get(location)
        assert "已提醒 锦江安静材料科协 的 2 人" in shown.text
        # The number in a link changes nothing: the recorded nudge went to two people.
        forged = await client.get(f"/console/associations/{org}?note=sent&n=999")
        assert "已提醒 锦江安静材料科协 的 2 人" in forged.text
        assert "999" not in forged.text
