"""Running an export in the background: claim confirmed, read, write the workbooks in a thread,
send them as documents, with one progress message edited as it goes (``export.mmd``, state
``Running``; the conversation that leads here is ``handlers/export.py``).

The export runs as an application task (other users keep being served) and is registered in
``export_jobs`` so a second /export of the same admin is refused, also when it reaches another
bot process. Shutting down does not wait for an export: the task is cancelled, the writer thread
stops at its next progress step (it is a daemon thread, so the process need not wait for it
anyway), the job is marked interrupted, and after the restart the admin is told to ask again
(:func:`after_restart`).
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.address import Address
from core.settings import Settings
from core.texts import Raw, t
from exports import runs
from exports.bundle import PART_LIMIT
from exports.runner import produce
from exports.scope import Scope
from exports.service import ExportResult, annexes_of, human_size
from handlers.port import ChannelFailure, Front
from storage.db import Database
from storage.evidence import open_evidence_store

log = logging.getLogger(__name__)

ANNEX_KEYS = {"13": "1-3", "11": "1-1", "12": "1-2", "all": "all"}
PROGRESS_EVERY = 1.5  # seconds between edits of the progress message


@dataclass(frozen=True)
class ExportTask:
    """Everything the background export needs (no ORM objects: it opens its own sessions)."""

    job_id: int
    chat: Address
    message_id: str | None
    lang: str
    scope: Scope
    annex: str
    heading: str  # plain text: 附件1-3（锦江区，2021年）


async def spawn(front: Front, db: Database, settings: Settings, task: ExportTask) -> None:
    """Run the export in the background (cancelled, and so interrupted, when the bot stops)."""
    front.spawn(run_export(front, db, settings, task), name=f"export-{task.job_id}")


def first_progress(task: ExportTask) -> str:
    """The progress message's first text (also what run_export starts from)."""
    step = t(task.lang, "export_step_reading")
    return t(task.lang, "export_progress", heading=task.heading, step=step)


def annex_label(lang: str, annex: str) -> str:
    return t(lang, f"export_annex_{annex.replace('-', '')}")


class ProgressMessage:
    """The one message that shows how far the export is; edited only when its text changes."""

    def __init__(
        self, front: Front, chat: Address, message_id: str | None, shown: str = ""
    ) -> None:
        self.front, self.chat, self.message_id = front, chat, message_id
        self.shown = shown

    async def show(self, text: str) -> None:
        """Edit the message (or send it, the first time, if there is none to edit)."""
        if text == self.shown:
            return
        self.shown = text
        try:
            if self.message_id is None:
                self.message_id = await self.front.send(self.chat, text)
            else:  # "not modified" is no failure
                await self.front.edit(self.chat, self.message_id, text)
        except ChannelFailure as exc:  # progress is a courtesy; the export goes on
            log.warning("could not update the export progress: %s", exc)


async def run_export(front: Front, db: Database, settings: Settings, task: ExportTask) -> None:
    """Confirm the job, read, write (in a thread), send the documents, report the files."""
    lang = task.lang
    shown = first_progress(task) if task.message_id is not None else ""
    progress = ProgressMessage(front, task.chat, task.message_id, shown)

    def line(key: str, **params: Any) -> str:
        return t(lang, "export_progress", heading=task.heading, step=t(lang, key, **params))

    async with db.session() as session:
        go = await runs.confirm_job(session, task.job_id)
    if not go:
        await progress.show(t(lang, "export_busy"))
        return
    status = runs.FAILED
    out = Path(tempfile.mkdtemp(prefix="kexie-export-"))

    async def report(stage: str, done: int, total: int) -> None:
        if stage in ("reading", "writing"):
            await progress.show(line(f"export_step_{stage}"))
        else:
            key = "export_step_bundle" if stage == "bundle" else "export_step_rows"
            await progress.show(line(key, done=done, total=total))

    try:
        # The same bounded, interruptible writer as the console's (exports/runner.py).
        result = await produce(
            db,
            open_evidence_store(settings),
            settings.tz,
            task.scope,
            annexes_of(task.annex),
            out,
            report=report,
            every=PROGRESS_EVERY,
            # Each part fits the channel's file limit (Telegram 50 MB, DingTalk 20 MB), with
            # room for the zip's own bytes counted another way.
            part_limit=min(PART_LIMIT, front.caps.max_file_bytes * 19 // 20),
        )
        skipped = await _send_files(front, task, result, progress, line)
        # Free the admin's slot before saying "done", so a new /export right after succeeds.
        status = runs.DONE
        await _finish(db, task.job_id, status)
        await progress.show(_done_text(lang, task, result, skipped))
    except asyncio.CancelledError:
        # The writer was told to stop at its next step (exports.runner.produce).
        if status != runs.DONE:
            status = runs.INTERRUPTED
            log.warning("export %s interrupted: the bot is stopping", task.job_id)
        raise
    except Exception:
        log.exception("export %s failed", task.job_id)
        await progress.show(t(lang, "export_failed"))
    finally:
        if status != runs.DONE:
            await _finish(db, task.job_id, status)
        shutil.rmtree(out, ignore_errors=True)


async def _finish(db: Database, job_id: int, status: str) -> None:
    try:
        async with db.session() as session:
            await runs.finish_job(session, job_id, status)
    except Exception:  # the row then goes stale after runs.STALE_AFTER
        log.exception("could not record the end of export %s", job_id)


async def _send_files(
    front: Front, task: ExportTask, result: ExportResult, progress: ProgressMessage, line: Any
) -> list[Path]:
    skipped = []
    for number, path in enumerate(result.files, start=1):
        await progress.show(line("export_step_sending", done=number, total=len(result.files)))
        what = f"export file {number}/{len(result.files)} of job {task.job_id}"
        if not await send_file(front, task.chat, path, what):
            skipped.append(path)
    return skipped


async def send_file(front: Front, chat: Address, path: Path, what: str) -> bool:
    """Send one export file as a document, retried as a reply is (``what`` names it in the
    log); False when it is larger than a bot may send, and so not sent."""
    if path.stat().st_size > front.caps.max_file_bytes:
        return False
    await front.retrying(lambda: front.send_file(chat, path), what=what)
    return True


def _done_text(lang: str, task: ExportTask, result: ExportResult, skipped: list[Path]) -> str:
    files = "\n".join(
        t(lang, "export_file_line", name=p.name, size=human_size(p.stat().st_size))
        for p in result.files
    )
    text: str = t(
        lang,
        "export_done",
        heading=task.heading,
        files=Raw(files),
        activities=result.activities,
        enterprises=result.enterprises,
        zones=result.zones,
    )
    if result.bundle_parts > 1:
        text += "\n\n" + t(lang, "export_parts_hint", parts=result.bundle_parts)
    if result.missing:
        text += "\n\n" + t(lang, "export_missing", count=len(result.missing))
    for path in skipped:
        text += "\n\n" + t(lang, "export_too_big", name=path.name)
    return text


async def after_restart(front: Front, db: Database) -> None:
    """On start: tell admins whose export a shutdown interrupted to ask again (in the
    background, so polling starts at once)."""
    front.spawn(_tell_interrupted(front, db), name="export-notices")


async def _tell_interrupted(front: Front, db: Database) -> None:
    try:
        async with db.session() as session:
            # Told on this front's channel: the one their exports run in.
            taken = [
                (job.id, job.scope, address, member.language)
                for job, member in await runs.take_interrupted(session)
                if (address := member.address(front.channel)) is not None
            ]
    except Exception:
        log.exception("could not read the interrupted exports")
        return
    for job_id, scope, to, lang in taken:
        annex, _, rest = scope.partition(":")
        # The scope's key holds its period (Scope.key); a statistical year ends on its
        # deadline, within its calendar year (it starts in the one before).
        year = re.search(r"\d{8}-(\d{4})\d{4}", rest)
        text = t(
            lang,
            "export_interrupted",
            annex=annex_label(lang, annex if annex in ANNEX_KEYS.values() else "all"),
            year=year.group(1) if year else "",
        )
        try:
            await front.send(to, text)
        except ChannelFailure as exc:
            log.warning("could not tell member chat %s about export %s: %s", to, job_id, exc)
