"""The console's exports running in the background: the same job table, the same bounded writer
(``exports/runner.py``) and the same interruption rules as the chat's ``/export``; the files are
kept for the browser in ``<data dir>/console-exports/<job id>/`` for :data:`KEEP_FOR`, and also
sent to the admin's chat through the hook ``bot/`` puts into ``Console.extras["send_export"]``.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from core.address import Address
from exports import runs
from exports.runner import produce
from exports.scope import Scope
from exports.service import annexes_of
from storage.models import ExportJob, utcnow
from web.page import Console

log = logging.getLogger(__name__)

RUNS_DIR = "console-exports"
KEEP_FOR = timedelta(hours=24)  # a run's files stay downloadable this long
MAX_FILES = 50  # files listed for one run (a city bundle has a few parts)

# The hooks bot/ may plug in (web/ cannot import telegram):
#   send_export(to, lang, heading, files, job_id): send the files to the admin's chat.
#   spawn(coroutine, name): run it as the bot's task, cancelled (interrupted) when the bot stops.
SendExport = Callable[[Address, str, str, list[Path], int], Awaitable[None]]
Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None]"]

# Where each running export of this process stands: job id → (stage, done, total). Only a
# courtesy for the progress page; the job row is the truth.
PROGRESS: dict[int, tuple[str, int, int]] = {}
_TASKS: set[asyncio.Task[None]] = set()  # when bot/ plugged in no spawner (tests of web/ alone)


def runs_root(console: Console) -> Path:
    """Where the console keeps its runs' files."""
    return console.settings.data_dir / RUNS_DIR


def run_dir(console: Console, job_id: int) -> Path:
    """One run's folder."""
    return runs_root(console) / str(job_id)


def run_files(console: Console, job_id: int) -> list[Path]:
    """The files a finished run produced (workbooks first, then the bundle parts)."""
    folder = run_dir(console, job_id)
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
    files.sort(key=lambda p: (p.suffix != ".xlsx", p.name))
    return files[:MAX_FILES]


def forget_old_runs(console: Console) -> None:
    """Delete the folders of runs older than :data:`KEEP_FOR` (the disk stays bounded)."""
    root = runs_root(console)
    if not root.is_dir():
        return
    cutoff = time.time() - KEEP_FOR.total_seconds()
    for folder in root.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # removed meanwhile by another process
            continue


def is_stale(job: ExportJob) -> bool:
    """A running row older than the job table's stale limit: its process is gone."""
    return job.status == runs.RUNNING and job.started_at < utcnow() - runs.STALE_AFTER


@dataclass(frozen=True)
class WebRun:
    """Everything the background export needs (no ORM objects: it opens its own sessions)."""

    job_id: int
    member_id: int
    to: Address | None  # the admin's chat, where the files are sent too
    lang: str
    scope: Scope
    annex: str
    bundle: bool
    heading: str  # plain text: 附件1-3（锦江区，2021年）


def start(console: Console, run: WebRun) -> None:
    """Run the export in the background (the bot's task when bot/ plugged a spawner in)."""
    spawn: Spawn | None = console.extras.get("spawn")
    coroutine = run_export(console, run)
    name = f"console-export-{run.job_id}"
    if spawn is not None:
        spawn(coroutine, name)
        return
    task = asyncio.get_running_loop().create_task(coroutine, name=name)
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


async def run_export(console: Console, run: WebRun) -> None:
    """Confirm the job, write the files, send them to the chat, record the end."""
    async with console.db.session() as session:
        go = await runs.confirm_job(session, run.job_id)
    if not go:
        return
    status = runs.FAILED
    folder = run_dir(console, run.job_id)

    def report(stage: str, done: int, total: int) -> None:
        PROGRESS[run.job_id] = (stage, done, total)

    try:
        if console.store is None:
            raise RuntimeError("no evidence store")
        result = await produce(
            console.db,
            console.store,
            console.settings.tz,
            run.scope,
            annexes_of(run.annex),
            folder,
            bundle=run.bundle,
            report=report,
        )
        send: SendExport | None = console.extras.get("send_export")
        if send is not None and run.to is not None:
            report("sending", 0, len(result.files))
            try:
                await send(run.to, run.lang, run.heading, list(result.files), run.job_id)
            except Exception as exc:  # the browser has the files all the same
                log.warning("export %s not sent in chat: %s", run.job_id, type(exc).__name__)
        status = runs.DONE
        log.info("console export %s done for member %s", run.job_id, run.member_id)
    except asyncio.CancelledError:
        status = runs.INTERRUPTED
        log.warning("console export %s interrupted: the bot is stopping", run.job_id)
        raise
    except Exception:
        log.exception("console export %s failed", run.job_id)
    finally:
        PROGRESS.pop(run.job_id, None)
        if status != runs.DONE:
            shutil.rmtree(folder, ignore_errors=True)
        try:
            async with console.db.session() as session:
                await runs.finish_job(session, run.job_id, status)
        except Exception:  # the row then goes stale after runs.STALE_AFTER
            log.exception("could not record the end of export %s", run.job_id)
