"""/export: district and city admins get annexes 1-1, 1-2, 1-3 and the evidence bundle in chat.

Steps (``export.mmd``): choose the annex, the year, and — for a city admin, or an admin of
several districts — the district or the whole city. The choices live in ``chat_states``. The
message with the last pressed button becomes the progress message, edited as the export runs in
the background; the files then arrive as documents. The export itself runs as an application
task (other users keep being served) and is registered in ``export_jobs`` so a second /export of
the same admin is refused, also when it reaches another bot process.

Shutting down does not wait for an export: the task is cancelled, the writer thread stops at its
next progress step (it is a daemon thread, so the process need not wait for it anyway), the job is
marked interrupted, and after the restart the admin is told to ask again (:func:`after_restart`).

Callback data: ``exp:annex:<13|11|12|all>``, ``exp:year:<YYYY>``, ``exp:where:<district id|city>``,
``exp:cancel``. Every choice is checked against the policy again when pressed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes

from core.policy import Action, Target, allowed
from core.rules import EARLIEST_DATE, normalize
from core.settings import Settings
from core.texts import Raw, t
from exports import jobs
from exports.bundle import PART_LIMIT
from exports.cli import human_size
from exports.scope import Level, Scope
from exports.service import ExportResult, annexes_of, gather, write_exports
from handlers.common import RETRY_BUDGET, Buttons, Turn, with_retries
from handlers.tasks import interrupt_on_stop
from storage import reports
from storage.db import Database
from storage.evidence import EvidenceStore
from storage.models import ChatState, District

log = logging.getLogger(__name__)

FLOW = "export"
ANNEX_KEYS = {"13": "1-3", "11": "1-1", "12": "1-2", "all": "all"}
YEARS_OFFERED = 3
PROGRESS_EVERY = 1.5  # seconds between edits of the progress message
SEND_LIMIT = 50 * 1024 * 1024  # what a bot may send as one document
WRITER_GRACE = 3.0  # seconds an interrupted writer gets to reach its next step and stop

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# the conversation


def _districts_allowed(turn: Turn) -> list[int] | None:
    """District ids the actor may export (None: every district, i.e. a city admin)."""
    if turn.actor.is_city:
        return None
    return turn.actor.district_ids()


async def start_export(turn: Turn) -> None:
    """/export: refuse outsiders and a second running export; else ask which annex."""
    if turn.member is None:
        turn.reply(turn.t("stranger"))
        return
    scope = _districts_allowed(turn)
    if scope is not None and not scope:
        turn.reply(turn.t("not_allowed"))
        return
    if await jobs.running_job(turn.session, turn.member.id) is not None:
        turn.reply(turn.t("export_busy"))
        return
    await reports.set_state(turn.session, turn.member.id, FLOW, "annex", data={})
    turn.reply(turn.t("export_choose_annex"), _annex_buttons(turn))


def _annex_buttons(turn: Turn) -> Buttons:
    return [
        [(turn.label("btn_export_13"), "exp:annex:13")],
        [
            (turn.label("btn_export_11"), "exp:annex:11"),
            (turn.label("btn_export_12"), "exp:annex:12"),
        ],
        [(turn.label("btn_export_all"), "exp:annex:all")],
        [(turn.label("btn_export_cancel"), "exp:cancel")],
    ]


async def _state(turn: Turn) -> ChatState | None:
    """The member's export state, or None (and a toast) when the button is stale."""
    if turn.member is None:
        turn.notice(turn.t("button_expired"))
        return None
    state = await reports.get_state(turn.session, turn.member.id)
    if state is None or state.flow != FLOW:
        turn.notice(turn.t("button_expired"))
        return None
    return state


def _data(turn: Turn) -> str:
    assert turn.query is not None and turn.query.data is not None
    return turn.query.data


async def choose_annex(turn: Turn) -> None:
    """An annex was chosen: ask for the year (this year first)."""
    state = await _state(turn)
    if state is None or turn.member is None:
        return
    annex = ANNEX_KEYS[_data(turn).rsplit(":", 1)[1]]
    await reports.set_state(turn.session, turn.member.id, FLOW, "year", data={"annex": annex})
    this_year = turn.today.year
    buttons: list[list[tuple[str, str]]] = [
        [(turn.label("btn_export_year_current", year=this_year), f"exp:year:{this_year}")],
        [
            (turn.label("btn_export_year", year=year), f"exp:year:{year}")
            for year in range(this_year - 1, this_year - YEARS_OFFERED, -1)
        ],
        [(turn.label("btn_export_cancel"), "exp:cancel")],
    ]
    turn.edit(turn.t("export_choose_year", annex=_annex_label(turn.lang, annex)), buttons)


async def choose_year(turn: Turn) -> None:
    """A year button was pressed."""
    state = await _state(turn)
    if state is None:
        return
    if "annex" not in state.data:
        turn.notice(turn.t("button_expired"))
        return
    await _after_year(turn, str(state.data["annex"]), int(_data(turn).rsplit(":", 1)[1]))


async def _after_year(turn: Turn, annex: str, year: int) -> None:
    """A single-district admin starts now; a city admin (or one of several districts) chooses
    where."""
    assert turn.member is not None
    allowed_ids = _districts_allowed(turn)
    if allowed_ids is not None and len(allowed_ids) == 1:
        await _begin(turn, annex, year, allowed_ids[0])
        return
    await reports.set_state(
        turn.session, turn.member.id, FLOW, "where", data={"annex": annex, "year": year}
    )
    query = select(District).order_by(District.sort_order, District.id)
    if allowed_ids is not None:
        query = query.where(District.id.in_(allowed_ids))
    districts = list(await turn.session.scalars(query))
    buttons: list[list[tuple[str, str]]] = []
    if allowed_ids is None:
        buttons.append([(turn.label("btn_export_city"), "exp:where:city")])
    for start in range(0, len(districts), 3):
        buttons.append([(d.name, f"exp:where:{d.id}") for d in districts[start : start + 3]])
    buttons.append([(turn.label("btn_export_cancel"), "exp:cancel")])
    turn.edit(
        turn.t("export_choose_where", annex=_annex_label(turn.lang, annex), year=year), buttons
    )


async def choose_where(turn: Turn) -> None:
    """A district (or the whole city) was chosen: start."""
    state = await _state(turn)
    if state is None:
        return
    if "annex" not in state.data or "year" not in state.data:
        turn.notice(turn.t("button_expired"))
        return
    where = _data(turn).rsplit(":", 1)[1]
    district_id = None if where == "city" else int(where)
    await _begin(turn, str(state.data["annex"]), int(state.data["year"]), district_id)


async def cancel_button(turn: Turn) -> None:
    """取消 under any export question."""
    if turn.member is not None:
        state = await reports.get_state(turn.session, turn.member.id)
        if state is not None and state.flow == FLOW:
            await reports.clear_state(turn.session, turn.member.id)
    turn.edit(turn.t("export_cancelled"))


async def receive_message(turn: Turn, state: ChatState) -> None:
    """Typed text while choosing: a year may be typed (older years have no button); every other
    choice is a button."""
    text = normalize(turn.message.text or "") if turn.message else ""
    match = re.fullmatch(r"(\d{4})年?", text)
    if state.step == "year" and "annex" in state.data and match:
        year = int(match.group(1))
        if EARLIEST_DATE.year <= year <= turn.today.year:
            await _after_year(turn, str(state.data["annex"]), year)
            return
    turn.reply(turn.t("export_use_buttons"))


async def cancel_export(turn: Turn, state: ChatState) -> None:
    """/cancel while choosing."""
    assert turn.member is not None
    await reports.clear_state(turn.session, turn.member.id)
    turn.reply(turn.t("export_cancelled"))


async def _begin(turn: Turn, annex: str, year: int, district_id: int | None) -> None:
    """Check the permission, claim the job, turn the pressed message into the progress one."""
    assert turn.member is not None
    if district_id is None:
        permitted = allowed(turn.actor, Action.EXPORT_CITY, Target())
        scope = Scope(Level.CITY, year)
        where = turn.label("export_where_city")
    else:
        district = await turn.session.get(District, district_id)
        permitted = district is not None and allowed(
            turn.actor, Action.EXPORT, Target(district_id=district_id)
        )
        scope = Scope(Level.DISTRICT, year, district_id=district_id)
        where = district.name if district else ""
    await reports.clear_state(turn.session, turn.member.id)
    if not permitted:
        turn.edit(turn.t("not_allowed"))
        return
    if await jobs.running_job(turn.session, turn.member.id) is not None:
        turn.edit(turn.t("export_busy"))
        return
    job = await jobs.open_job(turn.session, turn.member.id, f"{annex}:{scope.key()}")
    message = turn.query.message if turn.query else None
    task = ExportTask(
        job_id=job.id,
        chat_id=turn.chat_id,
        message_id=message.message_id if message else None,
        lang=turn.lang,
        scope=scope,
        annex=annex,
        heading=turn.label(
            "export_heading", annex=_annex_label(turn.lang, annex), where=where, year=year
        ),
    )
    if task.message_id is not None:
        # The pressed question becomes the progress message at once (buttons gone).
        turn.edit(first_progress(task))
    turn.later(partial(_spawn, turn.context, task))


def first_progress(task: ExportTask) -> str:
    """The progress message's first text (also what run_export starts from)."""
    step = t(task.lang, "export_step_reading")
    return t(task.lang, "export_progress", heading=task.heading, step=step)


def _annex_label(lang: str, annex: str) -> str:
    return t(lang, f"export_annex_{annex.replace('-', '')}")


# ---------------------------------------------------------------------------------------------
# the export, in the background


@dataclass(frozen=True)
class ExportTask:
    """Everything the background export needs (no ORM objects: it opens its own sessions)."""

    job_id: int
    chat_id: int
    message_id: int | None
    lang: str
    scope: Scope
    annex: str
    heading: str  # plain text: 附件1-3（锦江区，2021年）


async def _spawn(context: ContextTypes.DEFAULT_TYPE, task: ExportTask) -> None:
    db: Database = context.bot_data["db"]
    settings: Settings = context.bot_data["settings"]
    running = context.application.create_task(
        run_export(context.bot, db, settings, task), name=f"export-{task.job_id}"
    )
    interrupt_on_stop(context.application, running)


class ExportInterrupted(Exception):
    """Raised inside the writer thread when the export was interrupted (the bot is stopping)."""


def _in_daemon_thread(work: Callable[[], T]) -> asyncio.Future[T]:
    """Run blocking ``work`` in a daemon thread; a future for its result.

    Not ``asyncio.to_thread``: the default executor's threads are joined at exit, so a process
    asked to stop would wait for the whole export."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def target() -> None:
        try:
            result = work()
        except BaseException as exc:  # handed to the awaiting coroutine
            error = exc
            deliver = partial(settle, lambda: future.set_exception(error))
        else:
            deliver = partial(settle, lambda: future.set_result(result))
        with suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(deliver)

    threading.Thread(target=target, name="kexie-export-writer", daemon=True).start()
    return future


class ProgressMessage:
    """The one message that shows how far the export is; edited only when its text changes."""

    def __init__(self, bot: Bot, chat_id: int, message_id: int | None, shown: str = "") -> None:
        self.bot, self.chat_id, self.message_id = bot, chat_id, message_id
        self.shown = shown

    async def show(self, text: str) -> None:
        """Edit the message (or send it, the first time, if there is none to edit)."""
        if text == self.shown:
            return
        self.shown = text
        try:
            if self.message_id is None:
                sent = await self.bot.send_message(self.chat_id, text, parse_mode=ParseMode.HTML)
                self.message_id = sent.message_id
            else:
                await self.bot.edit_message_text(
                    text, chat_id=self.chat_id, message_id=self.message_id,
                    parse_mode=ParseMode.HTML,
                )  # fmt: skip
        except BadRequest as exc:
            if "not modified" not in str(exc):
                log.warning("could not update the export progress: %s", exc)
        except TelegramError as exc:  # progress is a courtesy; the export goes on
            log.warning("could not update the export progress: %s", exc)


async def run_export(bot: Bot, db: Database, settings: Settings, task: ExportTask) -> None:
    """Confirm the job, read, write (in a thread), send the documents, report the files."""
    lang = task.lang
    shown = first_progress(task) if task.message_id is not None else ""
    progress = ProgressMessage(bot, task.chat_id, task.message_id, shown)

    def line(key: str, **params: Any) -> str:
        return t(lang, "export_progress", heading=task.heading, step=t(lang, key, **params))

    async with db.session() as session:
        go = await jobs.confirm_job(session, task.job_id)
    if not go:
        await progress.show(t(lang, "export_busy"))
        return
    status = jobs.FAILED
    out = Path(tempfile.mkdtemp(prefix="kexie-export-"))
    interrupted = threading.Event()
    work: asyncio.Future[ExportResult] | None = None
    try:
        await progress.show(line("export_step_reading"))
        async with db.session() as session:
            data = await gather(session, task.scope, annexes_of(task.annex))
        latest: dict[str, tuple[str, int, int]] = {}

        def note(stage: str, done: int, total: int) -> None:  # called from the worker thread
            if interrupted.is_set():
                raise ExportInterrupted
            latest["now"] = (stage, done, total)

        work = _in_daemon_thread(
            partial(
                write_exports, data, out, EvidenceStore(settings.evidence_dir), settings.tz,
                part_limit=PART_LIMIT, progress=note,
            )
        )  # fmt: skip
        await progress.show(line("export_step_writing"))
        while not work.done():
            await asyncio.wait({work}, timeout=PROGRESS_EVERY)
            if "now" in latest and not work.done():
                stage, done, total = latest["now"]
                key = "export_step_bundle" if stage == "bundle" else "export_step_rows"
                await progress.show(line(key, done=done, total=total))
        result = work.result()
        skipped = await _send_files(bot, task, result, progress, line)
        # Free the admin's slot before saying "done", so a new /export right after succeeds.
        status = jobs.DONE
        await _finish(db, task.job_id, status)
        await progress.show(_done_text(lang, task, result, skipped))
    except asyncio.CancelledError:
        if status != jobs.DONE:
            status = jobs.INTERRUPTED
            log.warning("export %s interrupted: the bot is stopping", task.job_id)
            interrupted.set()
            if work is not None:
                await asyncio.wait({work}, timeout=WRITER_GRACE)
                if work.done() and not work.cancelled():
                    work.exception()  # ExportInterrupted, expected: do not log it at exit
        raise
    except Exception:
        log.exception("export %s failed", task.job_id)
        await progress.show(t(lang, "export_failed"))
    finally:
        if status != jobs.DONE:
            await _finish(db, task.job_id, status)
        shutil.rmtree(out, ignore_errors=True)


async def _finish(db: Database, job_id: int, status: str) -> None:
    try:
        async with db.session() as session:
            await jobs.finish_job(session, job_id, status)
    except Exception:  # the row then goes stale after jobs.STALE_AFTER
        log.exception("could not record the end of export %s", job_id)


async def _send_files(
    bot: Bot, task: ExportTask, result: ExportResult, progress: ProgressMessage, line: Any
) -> list[Path]:
    skipped = []
    for number, path in enumerate(result.files, start=1):
        await progress.show(line("export_step_sending", done=number, total=len(result.files)))
        if path.stat().st_size > SEND_LIMIT:
            skipped.append(path)
            continue
        await with_retries(
            lambda path=path: _send_document(bot, task.chat_id, path),  # type: ignore[misc]
            deadline=asyncio.get_running_loop().time() + RETRY_BUDGET,
            what=f"export file {number}/{len(result.files)} of job {task.job_id}",
        )
    return skipped


async def _send_document(bot: Bot, chat_id: int, path: Path) -> None:
    # Opened per attempt: a failed upload has consumed the file handle.
    with path.open("rb") as fh:
        await bot.send_document(
            chat_id, fh, filename=path.name, read_timeout=120, write_timeout=120
        )


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


async def after_restart(app: Application) -> None:
    """On start: tell admins whose export a shutdown interrupted to ask again (in the
    background, so polling starts at once)."""
    db: Database = app.bot_data["db"]
    interrupt_on_stop(app, app.create_task(_tell_interrupted(app.bot, db), name="export-notices"))


async def _tell_interrupted(bot: Bot, db: Database) -> None:
    try:
        async with db.session() as session:
            taken = [
                (job.id, job.scope, member.telegram_id, member.language)
                for job, member in await jobs.take_interrupted(session)
            ]
    except Exception:
        log.exception("could not read the interrupted exports")
        return
    for job_id, scope, chat_id, lang in taken:
        annex, _, rest = scope.partition(":")
        year = re.search(r"(\d{4})\d{4}-", rest)
        text = t(
            lang,
            "export_interrupted",
            annex=_annex_label(lang, annex if annex in ANNEX_KEYS.values() else "all"),
            year=year.group(1) if year else "",
        )
        try:
            await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            log.warning("could not tell member chat %s about export %s: %s", chat_id, job_id, exc)
