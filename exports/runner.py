"""Running one export off the event loop, bounded and interruptible: the writer works in a
daemon thread, reports how far it is, and stops at its next step when the export is cancelled.

Used by the chat's ``/export`` (``handlers/export_run.py``) and the console's export page
(``web/export.py``); neither the writers nor this module know about Telegram or HTTP.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from exports.bundle import PART_LIMIT
from exports.scope import Scope
from exports.service import ExportResult, gather, write_exports
from storage.db import Database
from storage.evidence import EvidenceStorage

PROGRESS_EVERY = 1.5  # seconds between two progress reports
WRITER_GRACE = 3.0  # seconds an interrupted writer gets to reach its next step and stop

T = TypeVar("T")

# stage ("reading", "writing", "1-3", "bundle"), done, total; may be a coroutine function (the
# chat edits its progress message), awaited before the export goes on.
Report = Callable[[str, int, int], Awaitable[None] | None]


class ExportInterrupted(Exception):
    """Raised inside the writer thread when the export was interrupted (the bot is stopping)."""


def in_daemon_thread(work: Callable[[], T]) -> asyncio.Future[T]:
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


async def produce(
    db: Database,
    store: EvidenceStorage,
    tz: ZoneInfo,
    scope: Scope,
    annexes: Sequence[str],
    out: Path,
    *,
    bundle: bool = True,
    report: Report | None = None,
    every: float | None = None,
    part_limit: int = PART_LIMIT,
) -> ExportResult:
    """Read the scope's rows, write the workbooks (and the evidence bundle when ``bundle``) into
    ``out`` in a daemon thread, calling (or awaiting) ``report`` on the event loop at most every
    ``every`` seconds (default :data:`PROGRESS_EVERY`). Cancelling the awaiting task stops the
    writer at its next step. ``part_limit``: the evidence bundle's parts are at most this big
    (what the channel the files go to accepts)."""

    async def tell(stage: str, done: int = 0, total: int = 0) -> None:
        if report is not None:
            told = report(stage, done, total)
            if told is not None:
                await told

    await tell("reading")
    async with db.session() as session:
        data = await gather(session, scope, annexes)
    interrupted = threading.Event()
    latest: dict[str, tuple[str, int, int]] = {}

    def note(stage: str, done: int, total: int) -> None:  # called from the writer thread
        if interrupted.is_set():
            raise ExportInterrupted
        latest["now"] = (stage, done, total)

    work = in_daemon_thread(
        partial(
            write_exports, data, out, store, tz,
            part_limit=part_limit, progress=note, bundle=bundle,
        )
    )  # fmt: skip
    try:
        await tell("writing")
        while not work.done():
            await asyncio.wait({work}, timeout=every or PROGRESS_EVERY)
            if "now" in latest and not work.done():
                await tell(*latest["now"])
    except asyncio.CancelledError:
        interrupted.set()
        await asyncio.wait({work}, timeout=WRITER_GRACE)
        if work.done() and not work.cancelled():
            work.exception()  # ExportInterrupted, expected: do not log it at exit
        raise
    return work.result()
