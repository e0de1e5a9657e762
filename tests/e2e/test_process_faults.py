"""The bot keeps serving (or stops cleanly) under hostile updates and process-level faults.

Issue 8, items 1, 8, 14 and 17: an update python-telegram-bot cannot read, the database file
deleted under a running bot, a Bot API that is down at start, SIGTERM while polling backs off or
while a large export runs. Most of these drive a real ``kexie run`` subprocess against the stand-in.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from telegram.ext import ExtBot

from bot.app import build_application
from bot.polling import read_update, serve
from channels.telegram import exports as export
from exports import runner, runs
from handlers import export_run
from storage.db import Database, DatabaseLost
from storage.models import ExportJob, Organisation, utcnow
from tests.harness import TOKEN, Kexie
from tests.standin import FakeUser

SLOW = 30.0  # a fresh process needs a moment to import, migrate and start polling
EXIT = 15.0  # generous: the requirement is 10 s; this only checks that the process has exited


def forwarded_poll(user: FakeUser) -> dict[str, Any]:
    """A forwarded poll as a Bot API server older than 9.6 sends it: options without
    ``persistent_id``, which python-telegram-bot 22 refuses to read (TypeError)."""
    return {
        "message_id": 900,
        "date": 1_700_000_000,
        "chat": user.chat_json(),
        "from": user.user_json(),
        "forward_origin": {
            "type": "user",
            "date": 1_699_999_000,
            "sender_user": {"id": 42, "is_bot": False, "first_name": "某人"},
        },
        "poll": {
            "id": "5001",
            "question": "周五去哪里调研？",
            "options": [
                {"text": "高新区", "voter_count": 0},
                {"text": "天府新区", "voter_count": 0},
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
        },
    }


class BotProcess:
    """``kexie run`` as a subprocess, its log in a file (a pipe could fill up and block it)."""

    def __init__(self, kexie: Kexie, name: str = "kexie", **env: str) -> None:
        self.kexie = kexie
        self.log_path = kexie.data_dir.parent / f"{name}.log"
        self.extra_env = env
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start ``kexie run`` with the installation's environment (plus ``env``)."""
        kexie_bin = Path(sys.executable).parent / "kexie"
        with self.log_path.open("ab") as log_file:
            self.proc = await asyncio.create_subprocess_exec(
                str(kexie_bin),
                "run",
                env={**self.kexie.env, **self.extra_env},
                cwd=self.kexie.data_dir,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log_file,
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def terminate(self) -> int:
        """SIGTERM, then wait (generously) for the process to exit; its exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return await self.exited()

    async def exited(self, within: float = EXIT) -> int:
        """Wait for the process to exit on its own; its exit code."""
        assert self.proc is not None
        try:
            return await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            raise AssertionError(
                f"kexie run still running after {within:g}s:\n{self.log}"
            ) from None

    async def kill(self) -> None:
        """SIGKILL (cleanup)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@pytest.fixture
async def processes() -> Any:
    started: list[BotProcess] = []
    yield started
    for proc in started:
        await proc.kill()


def bot_process(processes: list[BotProcess], kexie: Kexie, **env: str) -> BotProcess:
    proc = BotProcess(kexie, f"kexie{len(processes)}", **env)
    processes.append(proc)
    return proc


# --- item 1: an update that cannot be read ---------------------------------------------------


async def test_unreadable_update_is_skipped_and_everyone_else_served(
    kexie: Kexie, caplog: pytest.LogCaptureFixture
) -> None:
    org = await kexie.org("高新区某某科技有限公司科协", district="成都高新区")
    forwarder = kexie.standin.user(7101, "李明")
    caplog.set_level(logging.INFO)
    bad_id = kexie.standin.push_update("message", forwarded_poll(forwarder))

    user = await kexie.member(7102, "reporter", org=org)  # served after the unreadable update
    await user.send("/help")
    await user.expect_any("/report")
    await kexie.standin.wait_until_confirmed()
    assert all(u["update_id"] != bad_id for u in kexie.standin.pending_updates)

    skipped = [r.getMessage() for r in caplog.records if str(bad_id) in r.getMessage()]
    assert skipped, "the skipped update is logged with its id"
    assert any("message" in line for line in skipped)  # ... and its type
    assert not any("周五" in line or "高新区" in line for line in skipped)  # but no content


@pytest.mark.parametrize(
    "raw",
    [
        {"update_id": 11, "message": "not an object"},
        {"update_id": 12, "callback_query": {"id": "1"}},  # no "from", no "chat_instance"
        {"update_id": 13, "message": {"message_id": 1, "date": "yesterday"}},
        ["update_id", 14],
        None,
    ],
)
def test_any_failure_to_read_one_update_is_logged_and_skipped(
    raw: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.polling"):
        assert read_update(raw, ExtBot(TOKEN)) is None
    (line,) = [r.getMessage() for r in caplog.records if r.name == "bot.polling"]
    assert line.startswith("skipped update")
    assert "not an object" not in line and "yesterday" not in line


async def test_unreadable_update_does_not_kill_the_process_nor_the_next_one(
    kexie_idle: Kexie, processes: list[BotProcess]
) -> None:
    kexie = kexie_idle
    org = await kexie.org("青白江物流科技科协", district="青白江区")
    token = await kexie.invite_token("reporter", org=org)
    user = kexie.standin.user(7103, "周强")
    kexie.standin.push_update("message", forwarded_poll(user))

    first = bot_process(processes, kexie)
    await first.start()
    await user.send(f"/start {token}")
    await user.expect_any("您好", timeout=SLOW)
    await kexie.standin.wait_until_confirmed(timeout=SLOW)  # the unreadable one too
    assert first.proc is not None and first.proc.returncode is None
    assert await first.terminate() == 0

    # Another unreadable update waits for the restarted process, with a good one behind it.
    kexie.standin.push_update("message", forwarded_poll(user))
    await user.send("/help")
    second = bot_process(processes, kexie)
    await second.start()
    await user.expect_any("/report", timeout=SLOW)
    assert second.proc is not None and second.proc.returncode is None
    assert "Traceback" not in first.log + second.log
    assert await second.terminate() == 0


# --- item 14: the Bot API is down when the bot starts -----------------------------------------


async def test_bot_api_down_at_start_is_retried_until_it_comes_up(
    kexie_idle: Kexie, processes: list[BotProcess]
) -> None:
    kexie = kexie_idle
    org = await kexie.org("双流航空科技科协", district="双流区")
    token = await kexie.invite_token("reporter", org=org)
    user = kexie.standin.user(7104, "陈静")
    kexie.standin.fail_next("getMe", 502, times=2)

    proc = bot_process(processes, kexie)
    await proc.start()
    await user.send(f"/start {token}")
    await user.expect_any("您好", timeout=SLOW)
    retries = [line for line in proc.log.splitlines() if "Bot API" in line and "retry" in line]
    assert len(retries) == 2, proc.log  # one line per failed attempt
    assert "Traceback" not in proc.log
    assert await proc.terminate() == 0


async def test_sigterm_while_the_bot_api_is_down_at_start(
    kexie_idle: Kexie, processes: list[BotProcess]
) -> None:
    kexie = kexie_idle
    kexie.standin.fail_next("getMe", 502, times=1000)
    proc = bot_process(processes, kexie)
    await proc.start()
    await kexie.standin.wait_for_call("getMe", 3, timeout=SLOW)
    assert await proc.terminate() == 0
    assert "Traceback" not in proc.log


# --- item 17: SIGTERM while polling backs off ----------------------------------------------------


async def test_sigterm_during_polling_backoff_after_server_errors(
    kexie_idle: Kexie, processes: list[BotProcess]
) -> None:
    kexie = kexie_idle
    kexie.standin.fail_next("getUpdates", 502, times=100)
    proc = bot_process(processes, kexie)
    await proc.start()
    # After the 5th failure in a row the back-off sleep is 16 s: SIGTERM must cut it short.
    await kexie.standin.wait_for_call("getUpdates", 5, timeout=60)
    assert await proc.terminate() == 0


async def test_sigterm_during_a_long_retry_after(
    kexie_idle: Kexie, processes: list[BotProcess]
) -> None:
    kexie = kexie_idle
    kexie.standin.fail_next("getUpdates", 429, retry_after=60)
    proc = bot_process(processes, kexie)
    await proc.start()
    await kexie.standin.wait_for_call("getUpdates", 1, timeout=SLOW)
    assert await proc.terminate() == 0


# --- item 17: SIGTERM during a large export -------------------------------------------------------


def endless_export(*_args: Any, progress: Any, **_kwargs: Any) -> Any:
    """Stands in for write_exports on a very large data set: it keeps reporting progress."""
    deadline = time.monotonic() + 60  # never outlive the test run, even when nothing stops it
    rows = 0
    while time.monotonic() < deadline:
        rows += 1
        progress("1-3", rows, 1_000_000)
        time.sleep(0.02)
    raise AssertionError("the export was never told to stop")


async def test_export_interrupted_by_shutdown_is_recorded_and_the_admin_told_after_restart(
    kexie_idle: Kexie, monkeypatch: pytest.MonkeyPatch
) -> None:
    kexie = kexie_idle
    monkeypatch.setattr(runner, "write_exports", endless_export)  # the chat's writer too
    monkeypatch.setattr(export_run, "PROGRESS_EVERY", 0.1)

    async def run_bot() -> tuple[asyncio.Event, asyncio.Task[None]]:
        app = build_application(kexie.settings, kexie.db)
        stop = asyncio.Event()
        task = asyncio.create_task(
            serve(app, timeout=1, stop=stop, signals=False, on_start=export.after_restart)
        )
        return stop, task

    stop, running = await run_bot()
    admin = await kexie.member(7105, "district_admin", district="锦江区")
    await admin.send("/export")
    await admin.expect_any("请选择要导出的附件")
    await admin.press("附件1-3 工作情况统计表（含佐证材料）")
    await admin.expect_any("请选择年度")
    year = kexie.settings.years.year_of(utcnow().astimezone(kexie.settings.tz).date())
    await admin.press(f"{year}年（本年度）")
    await admin.expect_any("行", timeout=SLOW)  # the writer is under way: "正在生成表格：n/m 行"

    stop.set()  # what SIGTERM does
    await asyncio.wait_for(running, EXIT)
    async with kexie.session() as session:
        job = await session.scalar(select(ExportJob))
        assert job is not None and job.status == runs.INTERRUPTED

    stop, running = await run_bot()
    told = await admin.expect_any("/export", timeout=SLOW)
    assert "中断" in told.text and "附件1-3" in told.text and str(year) in told.text
    async with kexie.session() as session:
        job = await session.scalar(select(ExportJob))
        assert job is not None and job.status == runs.INTERRUPTED_TOLD
    await admin.send("/export")  # asking again works: the interrupted job does not block it
    await admin.expect_any("请选择要导出的附件")
    stop.set()
    await asyncio.wait_for(running, EXIT)
    # A third start does not tell the admin again.
    stop, running = await run_bot()
    await admin.send("/help")
    await admin.expect_any("/export")
    await admin.expect_nothing(within=1.0)
    stop.set()
    await asyncio.wait_for(running, EXIT)


# --- item 8: the database file deleted while the bot runs ---------------------------------------


async def test_commit_refused_once_the_database_file_is_gone(db: Database) -> None:
    async with db.session() as session:
        assert await session.scalar(select(Organisation.id)) is None  # opened, file pinned
    path = Path(db.engine.url.database or "")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with pytest.raises(DatabaseLost):
        async with db.session() as session:
            session.add(Organisation(district_id=1, kind="enterprise", name="删库后的科协"))
    assert db.lost is not None


async def test_database_file_deleted_while_running_stops_the_process(
    kexie_idle: Kexie, processes: list[BotProcess]
) -> None:
    kexie = kexie_idle
    org = await kexie.org("郫都区食品科技科协", district="郫都区")
    token = await kexie.invite_token("reporter", org=org)
    user = kexie.standin.user(7106, "杨洋")
    proc = bot_process(processes, kexie, KEXIE_DB_CHECK_INTERVAL="0.5")
    await proc.start()
    await user.send(f"/start {token}")
    await user.expect_any("您好", timeout=SLOW)

    await kexie.db.dispose()
    db_file = kexie.data_dir / "kexie.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    code = await proc.exited(within=SLOW)
    assert code != 0
    assert "CRITICAL" in proc.log and "database" in proc.log
