"""Import a registry spreadsheet laid out like annex 1-1 (企业科协) or 1-2 (产业功能区科协).

Districts already keep their registry in Excel. An import is all-or-nothing: every row and
cell is checked first (``storage/import_sheet.py``, with the same parsers as the /org chat
flow), and with any error nothing is written; the errors name the row and column. A re-import
updates the associations matched by name within the district instead of duplicating them; an
empty cell keeps the stored value. A hostile file is refused before it is parsed
(``storage/import_archive.py``), and in the bot the parse runs in a bounded child process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import sys
import weakref
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.registry_rules import check_tech_staff, fields_for
from storage.import_archive import Source, check_archive
from storage.import_sheet import (
    ANNEXES,
    NAME_HEADER,
    SUMMARY_HEADER,
    CellError,
    ImportResult,
    MergeNote,
    ParsedSheet,
    read_sheet,
    refused,
)
from storage.models import District, Organisation
from storage.officers import replace_officers
from storage.registry import district_by_name

__all__ = [
    "error_lines",
    "import_registry",
    "note_lines",
    "read_sheet_isolated",
    "sheet_district",
    "sheet_result",
]

log = logging.getLogger(__name__)

# The parse runs in a child process with these limits, so a workbook that still manages to be
# expensive costs the child, never the bot: the bot's memory stays where it was.
CHILD_MEMORY = 768 * 1024 * 1024  # address space, not RSS (the interpreter maps ~150 MB)
CHILD_CPU_SECONDS = 60
CHILD_WALL_SECONDS = 120
CHILD_PARALLEL = 1


_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _slot() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(CHILD_PARALLEL)
    return _slots[loop]


async def read_sheet_isolated(
    path: Path,
    annex: str | None,
    today: date,
    *,
    memory_limit: int = CHILD_MEMORY,
    timeout: float = CHILD_WALL_SECONDS,
) -> ParsedSheet:
    """:func:`read_sheet` in a child process (``storage.import_worker``) with its address
    space, CPU time and wall time limited; the event loop keeps serving meanwhile.

    A child that dies or overruns is the sentence ``imp_err_too_complex``, not a crash.
    """
    problem = check_archive(path)  # cheap and bounded: no child for a file refused outright
    if problem:
        return refused(problem)
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    async with _slot():
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "storage.import_worker",
            str(path),
            annex or "-",
            today.isoformat(),
            str(memory_limit),
            str(CHILD_CPU_SECONDS),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            out, _err = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            log.warning("import parse overran %.0fs; child killed", timeout)
            return refused("imp_err_too_complex")
    if proc.returncode != 0 or not out:
        log.warning("import parse child failed with exit code %s", proc.returncode)
        return refused("imp_err_too_complex")
    # The child is our own code run on our own module's classes; what it parsed is data.
    sheet = pickle.loads(out)
    if not isinstance(sheet, ParsedSheet):
        return refused("imp_err_too_complex")
    return sheet


def sheet_result(sheet: ParsedSheet, annex: str | None) -> ImportResult:
    """The result of a sheet that cannot be imported (its errors), without a database."""
    found = next((a for a, k in ANNEXES.items() if k == sheet.kind), annex or "")
    return ImportResult(annex=annex or found, errors=list(sheet.errors), notes=list(sheet.notes))


async def sheet_district(session: AsyncSession, sheet: ParsedSheet) -> District | None:
    """The district the summary row names, if any: ``锦江区``, also written ``成都市锦江区``,
    ``锦江区科协``, ``锦江`` or ``高新区`` (core/district_match.py drops 四川省 / 成都市)."""
    if not sheet.district:
        return None
    written = sheet.district.replace(" ", "").removesuffix("科协")
    return await district_by_name(session, written) if written else None


async def import_registry(
    session: AsyncSession,
    district: District,
    annex: str | None,
    data: Source | ParsedSheet,
    today: date,
) -> ImportResult:
    """Check the whole sheet, then create or update the district's associations (or nothing).

    ``data`` is the file (read here, in this process) or a sheet already read by
    :func:`read_sheet_isolated`. ``annex`` is ``1-1`` or ``1-2``, or ``None`` to take whichever
    the headers show. A sheet whose summary row names another district is refused. The caller
    has checked the permission (``Action.IMPORT_REGISTRY`` on the district).
    """
    sheet = data if isinstance(data, ParsedSheet) else read_sheet(data, annex, today)
    result = sheet_result(sheet, annex)
    if sheet.errors or sheet.kind is None:
        return result
    if sheet.district is not None:
        named = await sheet_district(session, sheet)
        if named is None or named.id != district.id:
            where_row, where_column = sheet.district_cell
            result.errors.append(
                CellError(
                    where_row,
                    where_column,
                    SUMMARY_HEADER,
                    "imp_err_other_district",
                    {"sheet": sheet.district, "district": district.name},
                )
            )
            return result
    existing = {
        org.name: org
        for org in (
            await session.scalars(
                select(Organisation)
                .where(Organisation.district_id == district.id)
                .options(selectinload(Organisation.officers))
            )
        ).all()
    }
    for row in sheet.rows:
        org = existing.get(row.name)
        if org is None:
            continue
        if org.kind != sheet.kind:
            result.errors.append(
                CellError(row.row, row.name_column, NAME_HEADER, "imp_err_kind_clash")
            )
            continue
        # One of the two counts may come from the registry, the other from the sheet.
        employees = row.values.get("employees", org.employees)
        tech_staff = row.values.get("tech_staff", org.tech_staff)
        if ("employees" in row.values or "tech_staff" in row.values) and check_tech_staff(
            employees, tech_staff
        ):
            column = row.columns.get("tech_staff") or row.columns["employees"]
            result.errors.append(CellError(row.row, column, "科技人员数", "reg_err_tech_exceeds"))
    if result.errors:
        return result
    specs = {spec.key: spec for spec in fields_for(sheet.kind)}
    for row in sheet.rows:
        org = existing.get(row.name)
        if org is None:
            org = Organisation(
                district_id=district.id, kind=sheet.kind.value, name=row.name, officers=[]
            )
            session.add(org)
            result.created.append(row.name)
        else:
            org.active = True
            result.updated.append(row.name)
        # Every value was checked above (counts against each other and the registry), so they
        # are stored directly: the order of the columns cannot trip the pairwise check.
        for key, value in row.values.items():
            if specs[key].kind == "person":
                replace_officers(org, key, value)
            else:
                setattr(org, key, value)
    await session.flush()
    return result


def note_lines(notes: list[MergeNote], text: Callable[..., str], *, limit: int = 20) -> list[str]:
    """The merged cells whose value was used for several rows, one sentence each."""
    lines = [
        text("imp_merged_note", ref=n.ref, header=n.header, first=n.first, last=n.last)
        for n in notes[:limit]
    ]
    if len(notes) > limit:
        lines.append(text("imp_err_more", n=len(notes) - limit))
    return lines


def error_lines(result: ImportResult, text: Callable[..., str], *, limit: int = 30) -> list[str]:
    """The errors as sentences (``第5行 E列（员工总数）：…``), at most ``limit`` plus a tail line.

    ``text(key, **params)`` renders a catalog key as plain text in the reader's language.
    """
    lines = []
    for error in result.errors[:limit]:
        problem = text(error.key, **{"value": "", **error.params})
        if error.row and error.column:
            lines.append(
                text(
                    "imp_err_at_cell",
                    row=error.row,
                    column=error.column,
                    header=error.header,
                    problem=problem,
                )
            )
        elif error.header:
            lines.append(text("imp_err_at_column", header=error.header, problem=problem))
        else:
            lines.append(problem)
    if len(result.errors) > limit:
        lines.append(text("imp_err_more", n=len(result.errors) - limit))
    return lines
