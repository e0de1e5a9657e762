"""Webhook mode in this process: the stand-in POSTs updates to bot/webhook.py's ASGI app.

A whole report goes through the webhook; a wrong or missing secret gets 403 and changes
nothing; a body that is not an update gets 400, an update python-telegram-bot cannot read 200
(no retry storm); a handler failure gets 500 and Telegram's redelivery is then applied once;
/healthz and /metrics answer; ``kexie run --webhook`` without a secret stops with one line and
exit code 2."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from telegram import Update
from telegram.ext import TypeHandler

from bot.app import build_application
from bot.polling import ALLOWED_UPDATES
from bot.webhook import SECRET_HEADER, serve_webhook
from core.enums import ActivityStatus
from storage.models import Activity, ChannelAccount
from tests.harness import Kexie
from tests.journeys import submit_report_with_album
from tests.ports import free_port
from tests.standin import FakeUser, StandIn
from tests.steps import step_label

SECRET = "webhook-secret_42"


class Hooked:
    """The running webhook app: its base URL and a stop switch."""

    def __init__(self, base: str, stop: asyncio.Event, task: asyncio.Task[None]) -> None:
        self.base = base
        self.stop = stop
        self.task = task


@pytest.fixture
async def hooked(kexie_idle: Kexie, standin: StandIn) -> AsyncIterator[Hooked]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = kexie_idle.settings.model_copy(
        update={
            "webhook_url": f"{base}/telegram",
            "webhook_secret": SECRET,
            "webhook_listen": f"127.0.0.1:{port}",
            "webhook_max_connections": 7,
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
    yield Hooked(base, stop, task)
    stop.set()
    await task
    kexie_idle.app = None


async def test_set_webhook_and_a_whole_report(
    kexie_idle: Kexie, standin: StandIn, hooked: Hooked
) -> None:
    assert standin.webhook == {
        "url": f"{hooked.base}/telegram",
        "secret_token": SECRET,
        "max_connections": 7,
        "allowed_updates": sorted(ALLOWED_UPDATES),
    }
    org = await kexie_idle.org("蓉城电子科技有限公司科协")
    user = await kexie_idle.member(3101, "reporter", org=org)
    await submit_report_with_album(user, "科技政策解读会")
    async with kexie_idle.session() as session:
        status = await session.scalar(select(Activity.status))
    assert status == ActivityStatus.SUBMITTED
    assert standin.deliveries and all(d.status == 200 for d in standin.deliveries)

    async with httpx.AsyncClient() as client:
        health = await client.get(f"{hooked.base}/healthz")
        scraped = await client.get(f"{hooked.base}/metrics")
    assert health.status_code == 200, health.text
    assert health.json() == {"database": "ok", "sender": "ok"}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(scraped.text)
        for s in family.samples
    }
    handled = samples[
        ("kexie_updates_handled_total", (("outcome", "handled"), ("type", "message")))
    ]
    assert handled >= 8
    assert samples[("kexie_reports_submitted", ())] == 1
    assert samples[("kexie_bot_api_calls_total", (("method", "sendMessage"), ("status", "200")))]
    assert samples[("kexie_handler_seconds_count", ())] >= 10


async def test_wrong_or_missing_secret_is_refused_and_changes_nothing(
    kexie_idle: Kexie, standin: StandIn, hooked: Hooked
) -> None:
    user = standin.user(3102, "李雷")
    update = {
        "update_id": 777,
        "message": {
            "message_id": 1,
            "date": 1700000000,
            "chat": {"id": 3102, "type": "private", "first_name": "李雷"},
            "from": {"id": 3102, "is_bot": False, "first_name": "李雷"},
            "text": "/start",
        },
    }
    async with httpx.AsyncClient() as client:
        for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
            answer = await client.post(f"{hooked.base}/telegram", json=update, headers=headers)
            assert answer.status_code == 403
    await user.expect_nothing(within=0.5)
    async with kexie_idle.session() as session:
        accounts = await session.scalar(select(func.count()).select_from(ChannelAccount))
    assert accounts == 0
    assert standin.calls_of("sendMessage") == []


async def test_not_an_update_is_refused_and_an_unreadable_one_answered_200(
    standin: StandIn, hooked: Hooked
) -> None:
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    async with httpx.AsyncClient() as client:
        # Not an update at all (more in test_webhook_hostile.py): 400 before any handler.
        for body in (b"{not json", b"[1, 2]"):
            answer = await client.post(f"{hooked.base}/telegram", content=body, headers=headers)
            assert answer.status_code == 400, body
        # An update python-telegram-bot cannot read: 200, a retry could never succeed.
        body = b'{"update_id": 5, "message": "nonsense"}'
        answer = await client.post(f"{hooked.base}/telegram", content=body, headers=headers)
        assert answer.status_code == 200
    assert standin.calls_of("sendMessage") == []


async def _fail_once_on(kexie: Kexie, text: str, error: Exception) -> tuple[FakeUser, list[int]]:
    """A member whose next ``text`` message fails once in a handler with ``error``."""
    org = await kexie.org("蓉城电子科技有限公司科协")
    user = await kexie.member(3103, "reporter", org=org)
    failed: list[int] = []

    async def fail_once(update: Update, _context: object) -> None:
        if not failed and update.message is not None and update.message.text == text:
            failed.append(update.update_id)
            raise error

    assert kexie.app is not None
    kexie.app.add_handler(TypeHandler(Update, fail_once), group=-1)
    return user, failed


async def test_a_database_failure_gets_500_and_the_redelivery_is_applied_once(
    kexie_idle: Kexie, standin: StandIn, hooked: Hooked
) -> None:
    lost = OperationalError("SELECT 1", {}, ConnectionResetError("connection lost"))
    user, failed = await _fail_once_on(kexie_idle, "/report", lost)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await standin.wait_until_confirmed()
    (update_id,) = failed
    statuses = [d.status for d in standin.deliveries if d.update_id == update_id]
    assert statuses == [500, 200]
    async with kexie_idle.session() as session:
        drafts = await session.scalar(select(func.count()).select_from(Activity))
    assert drafts <= 1


async def test_a_handler_bug_is_answered_200_without_a_retry_storm(
    kexie_idle: Kexie, standin: StandIn, hooked: Hooked
) -> None:
    user, failed = await _fail_once_on(kexie_idle, "/report", RuntimeError("a bug"))
    await user.send("/report")
    await standin.wait_until_confirmed()
    (update_id,) = failed
    assert [d.status for d in standin.deliveries if d.update_id == update_id] == [200]


async def test_webhook_without_a_secret_stops_with_one_line(kexie_idle: Kexie) -> None:
    result = await kexie_idle.cli("run", "--webhook")
    assert result.rc == 2
    assert result.err.strip().count("\n") == 0
    assert "KEXIE_WEBHOOK_SECRET" in result.err


async def test_healthz_names_a_stuck_sender(hooked: Hooked, kexie_idle: Kexie) -> None:
    assert kexie_idle.app is not None
    sender = kexie_idle.app.bot_data["sender"]
    sender.last_run -= 600  # as if the sender had not finished a run for ten minutes
    async with httpx.AsyncClient() as client:
        health = await client.get(f"{hooked.base}/healthz")
    assert health.status_code == 503
    body = health.json()
    assert body["database"] == "ok"
    assert body["sender"].startswith("last run ")
