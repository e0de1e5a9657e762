"""Import a registry spreadsheet laid out like annex 1-1 (企业科协) or 1-2 (产业功能区科协).

Districts already keep their registry in Excel. An import is all-or-nothing: every row and
cell is checked first (with the same parsers as the /org chat flow), and with any error nothing
is written; the errors name the row and column. A re-import updates the associations matched
by name within the district instead of duplicating them; an empty cell keeps the stored value.

Layouts accepted: the annex's own (title rows above, two header rows, merged header cells,
``姓名/职务/电话`` hints, the district summary row below), and a plain sheet with one header row.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import pickle
import re
import struct
import sys
import weakref
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any, cast
from xml.etree.ElementTree import Element, XMLPullParser

from openpyxl import load_workbook
from openpyxl.reader import excel as excel_reader
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, range_boundaries
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.enums import OrgKind
from core.registry_rules import (
    FieldSpec,
    check_tech_staff,
    fields_for,
    header_key,
    parse_field,
    parse_org_name,
)
from storage.models import District, Organisation
from storage.officers import replace_officers
from storage.registry import district_by_name

log = logging.getLogger(__name__)

ANNEXES: dict[str, OrgKind] = {"1-1": OrgKind.ENTERPRISE, "1-2": OrgKind.ZONE}
NAME_HEADER = "单位名称"
SUMMARY_HEADER = "所属区（市）县"
PERSON_HINT = header_key("姓名/职务/电话")
HEADER_SCAN_ROWS = 20
MAX_ROWS = 5000  # associations in one sheet; a blank line between them does not count
MAX_COLUMNS = 64  # the annexes have 14 (15 with 组织形式); cells further right are not read
MAX_FILE_BYTES = 10 * 1024 * 1024
# What the zip may declare before anything is decompressed. A real registry of 5 000 rows is
# a few MB of XML compressed 5-15:1; a bomb is gigabytes at ~1000:1. Members under
# RATIO_FLOOR are small enough to be harmless at any ratio.
MAX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024
MAX_ENTRIES = 500
# 5 000 rows of distinct texts make ~3 MB of shared strings.
MAX_SHARED_STRINGS = 16 * 1024 * 1024
MAX_MERGES = 20_000
# The parse runs in a child process with these limits, so a workbook that still manages to be
# expensive costs the child, never the bot: the bot's memory stays where it was.
CHILD_MEMORY = 768 * 1024 * 1024  # address space, not RSS (the interpreter maps ~150 MB)
CHILD_CPU_SECONDS = 60
CHILD_WALL_SECONDS = 120
CHILD_PARALLEL = 1
# Columns a sheet may lack: the zone's form is asked by the guide's text, not by the table.
OPTIONAL_KEYS = frozenset({"zone_form"})

_OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")
# A password-protected .xlsx is an OLE2 compound file with these streams (MS-OFFCRYPTO).
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_EOCD = b"PK\x05\x06"


@dataclass(frozen=True)
class CellError:
    """One problem found in the sheet: where (row number, column letter, header) and what."""

    row: int
    column: str
    header: str
    key: str  # catalog key of the problem (``reg_err_*`` or ``imp_err_*``)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MergeNote:
    """A cell merged over several data rows whose value was used for each of them."""

    ref: str  # e.g. ``C5:C6``
    header: str
    first: int
    last: int


@dataclass
class ParsedRow:
    """One association's row: its name and the parsed values of the non-empty cells."""

    row: int
    name: str
    name_column: str
    values: dict[str, Any]
    columns: dict[str, str]  # field key → column letter


@dataclass
class ParsedSheet:
    """The sheet read and checked, before anything touches the database."""

    kind: OrgKind | None
    rows: list[ParsedRow]
    errors: list[CellError]
    notes: list[MergeNote] = field(default_factory=list)
    district: str | None = None  # as written in the summary row (所属区（市）县 | 锦江区)
    district_cell: tuple[int, str] = (0, "")  # where it is written (row, column letter)
    rows_read: int = 0  # sheet rows the data loop looked at (bounded by the row limit)


@dataclass
class ImportResult:
    """What an import did (or, with errors, why it did nothing)."""

    annex: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    notes: list[MergeNote] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the sheet was imported."""
        return not self.errors


def _base(text: str) -> str:
    """A header without its bracketed note: ``单位性质(国企/民企)`` → ``单位性质``."""
    return text.split("(")[0]


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _refused(key: str, **params: Any) -> ParsedSheet:
    return ParsedSheet(None, [], [CellError(0, "", "", key, params)])


# --- before parsing: what the file is, and what its zip declares -----------------------------

Source = bytes | Path


def _head_and_size(source: Source) -> tuple[bytes, int]:
    if isinstance(source, bytes):
        return source[:8], len(source)
    with source.open("rb") as stream:
        return stream.read(8), source.stat().st_size


def _read_all(source: Source) -> bytes:
    return source if isinstance(source, bytes) else source.read_bytes()


def _tail(source: Source, size: int) -> bytes:
    if isinstance(source, bytes):
        return source[-size:]
    with source.open("rb") as stream:
        stream.seek(max(0, source.stat().st_size - size))
        return stream.read()


def _open(source: Source) -> IO[bytes] | str:
    return io.BytesIO(source) if isinstance(source, bytes) else str(source)


def check_archive(source: Source) -> str | None:
    """Why the file must not be parsed (a catalog key), or None.

    Looks only at the first bytes, the zip's end record and its central directory: an old
    ``.xls`` or a password-protected workbook (both OLE2 files, not zips), too many entries,
    a declared uncompressed total over ``MAX_UNCOMPRESSED`` or a member compressed more than
    ``MAX_RATIO``:1. zipfile stops at a member's declared size and fails its CRC beyond it, so
    a zip that lies about its sizes cannot expand further later.
    """
    head, size = _head_and_size(source)
    if size > MAX_FILE_BYTES:
        return "imp_err_too_big"
    if head == _OLE2:
        return "imp_err_protected" if _ENCRYPTED in _read_all(source) else "imp_err_xls"
    if not head.startswith(b"PK"):
        return "imp_err_unreadable"
    # The end record first: ZipFile would otherwise read the whole central directory.
    tail = _tail(source, 65_557)
    end = tail.rfind(_EOCD)
    if end < 0 or end + 22 > len(tail):
        return "imp_err_unreadable"
    entries, directory_size = struct.unpack_from("<HI", tail, end + 10)
    if entries > MAX_ENTRIES or directory_size > MAX_ENTRIES * 1024:
        return "imp_err_archive"
    try:
        with zipfile.ZipFile(_open(source)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return "imp_err_unreadable"
    if len(members) > MAX_ENTRIES:
        return "imp_err_archive"
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > RATIO_FLOOR and member.file_size > MAX_RATIO * max(
            member.compress_size, 1
        ):
            return "imp_err_archive"
    if total > MAX_UNCOMPRESSED:
        return "imp_err_archive"
    # The shared-string table is the one part openpyxl loads whole, not row by row.
    if any(
        m.filename.lower().endswith("sharedstrings.xml") and m.file_size > MAX_SHARED_STRINGS
        for m in members
    ):
        return "imp_err_too_complex"
    return None


# --- reading ---------------------------------------------------------------------------------


def _find_header(top: list[tuple[Any, ...]]) -> int | None:
    for number, values in enumerate(top, start=1):
        if any(header_key(v) == NAME_HEADER for v in values):
            return number
    return None


def _column_map(top: list[tuple[Any, ...]], header_row: int) -> tuple[dict[str, int], int]:
    """Header text → column index, reading a second header row where the sheet has one.

    Returns the map and the first data row. A second header row either holds the person hints
    (``姓名/职务/电话``) or the real names under a merged group header; both are understood.
    """
    first: dict[int, str] = {}
    second: dict[int, str] = {}
    for col, value in enumerate(top[header_row - 1], start=1):
        if not _is_blank(value):
            first[col] = header_key(value)
    below = top[header_row] if header_row < len(top) else ()
    for col, value in enumerate(below, start=1):
        if not _is_blank(value):
            second[col] = header_key(value)
    known = {header_key(s.header) for k in ANNEXES.values() for s in fields_for(k)}
    known_bases = {_base(k) for k in known} | {NAME_HEADER}
    second_is_header = bool(second) and all(
        v == PERSON_HINT or _base(v) in known_bases for v in second.values()
    )
    columns: dict[str, int] = {}
    for col in sorted(set(first) | (set(second) if second_is_header else set())):
        lower = second.get(col) if second_is_header else None
        text = lower if lower and lower != PERSON_HINT else first.get(col)
        if text:
            columns.setdefault(text, col)
    return columns, header_row + (2 if second_is_header else 1)


def _match(columns: dict[str, int], spec_header: str) -> int | None:
    wanted = header_key(spec_header)
    if wanted in columns:
        return columns[wanted]
    for text, col in columns.items():
        if _base(text) == _base(wanted):
            return col
    return None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


# A merged range as the sheet XML writes it (any namespace prefix, either quote).
_MERGE_CELL = re.compile(
    rb"""<(?:[\w.-]+:)?mergeCell\b[^>]*?\bref\s*=\s*["']([A-Za-z]{1,3}[0-9]{1,7}(?::[A-Za-z]{1,3}[0-9]{1,7})?)["']"""
)
_SCAN_CHUNK = 1024 * 1024
_OVERLAP = 256  # longer than any mergeCell tag the pattern accepts


def _scan_sheet(
    stream: IO[bytes], first: int, last: int, columns: set[int]
) -> tuple[list[tuple[int, int, int, int]], set[tuple[int, int]]]:
    """Vertical merges starting in the data rows, and formula cells without a computed value,
    from the sheet's XML (read-only openpyxl reports neither).

    The XML parser runs only until the last data row (formulas are looked for there); the
    ``mergeCell`` elements, which come after all the rows, are found by a pattern over the
    remaining bytes, which costs little even for a sheet of 50 MB. Finished rows are dropped
    as soon as they are seen, so memory does not grow with the sheet.
    """
    found: set[str] = set()
    formulas: set[tuple[int, int]] = set()
    parser: XMLPullParser | None = XMLPullParser(events=("start", "end"))
    stack: list[Element] = []
    row_no = col = 0
    carry = b""
    while chunk := stream.read(_SCAN_CHUNK):
        window, carry = carry + chunk, chunk[-_OVERLAP:]
        found.update(m.decode("ascii") for m in _MERGE_CELL.findall(window))
        if len(found) > MAX_MERGES:
            break
        if parser is None:
            continue
        parser.feed(chunk)
        # Only start and end events were asked for: each carries an Element.
        events = cast(Iterator[tuple[str, Element]], parser.read_events())
        for event, elem in events:
            tag = _local(elem.tag)
            if event == "start":
                stack.append(elem)
                if tag == "row":
                    r = elem.get("r") or ""
                    row_no, col = (int(r) if r.isdigit() else row_no + 1), 0
                    if row_no > last:
                        parser = None  # past the data rows: only merges are left to find
                        break
                elif tag == "c":
                    col = _column_of(elem.get("r"), col + 1)
                continue
            stack.pop()
            if tag == "c" and first <= row_no <= last and col in columns:
                children = {_local(child.tag): child for child in elem}
                value = children.get("v")
                if "f" in children and (value is None or not (value.text or "").strip()):
                    formulas.add((row_no, col))
            elif tag == "sheetData":
                parser = None
                break
            if tag == "row" and stack:
                stack[-1].clear()
    merges: list[tuple[int, int, int, int]] = []
    for ref in sorted(found):
        try:
            min_col, min_row, max_col, max_row = range_boundaries(ref)
        except (ValueError, TypeError):
            continue
        if (
            min_col is not None
            and min_row is not None
            and max_col is not None
            and max_row is not None
            and max_row > min_row
            and first <= min_row <= last
            and min_col in columns
        ):
            merges.append((min_col, min_row, max_col, max_row))
    return merges, formulas


def _column_of(ref: str | None, default: int) -> int:
    if not ref:
        return default
    try:
        return int(column_index_from_string(coordinate_from_string(ref)[0]))
    except (ValueError, TypeError):
        return default


class _UnsizedSheet(ReadOnlyWorksheet):
    """A read-only sheet that does not look for its ``<dimension>`` when opened.

    openpyxl parses the whole sheet XML to find it when a (hostile or odd) file leaves it out;
    this reader never uses the stored dimension (it can be wrong), so the scan is skipped.
    """

    def _get_size(self) -> None:
        self._min_column = self._min_row = 1
        self._max_column = self._max_row = None


@contextmanager
def _sheets_without_size() -> Iterator[None]:
    original = excel_reader.ReadOnlyWorksheet
    excel_reader.ReadOnlyWorksheet = _UnsizedSheet
    try:
        yield
    finally:
        excel_reader.ReadOnlyWorksheet = original


def read_sheet(data: Source, annex: str | None, today: date) -> ParsedSheet:
    """Read and check a spreadsheet without touching the database.

    ``annex`` (``1-1`` / ``1-2``) is what the caller expects; ``None`` accepts either and
    tells which it was from the headers. Bounded: the file is refused before parsing when its
    zip declares too much (:func:`check_archive`); rows are streamed and reading stops at
    ``MAX_ROWS``. In the bot, call it through :func:`read_sheet_isolated`.
    """
    problem = check_archive(data)
    if problem:
        return _refused(problem)
    try:
        with _sheets_without_size():
            workbook = load_workbook(_open(data), read_only=True, data_only=True)
    except MemoryError:
        return _refused("imp_err_too_complex")
    except Exception as exc:  # hostile XML can raise almost anything inside openpyxl
        log.info("unreadable workbook: %s", type(exc).__name__)
        return _refused("imp_err_unreadable")
    try:
        return _read_workbook(workbook, data, annex, today)
    except MemoryError:
        return _refused("imp_err_too_complex")
    except Exception as exc:
        log.info("unreadable workbook: %s", type(exc).__name__)
        return _refused("imp_err_unreadable")
    finally:
        workbook.close()


def _read_workbook(workbook: Any, data: Source, annex: str | None, today: date) -> ParsedSheet:
    found = None
    for ws in workbook.worksheets:
        if not hasattr(ws, "reset_dimensions"):
            continue  # a chartsheet
        # The stored dimension may be wrong (some generators write A1:A1): never trust it.
        ws.reset_dimensions()
        top = [
            tuple(values)
            for values in ws.iter_rows(
                min_row=1, max_row=HEADER_SCAN_ROWS + 1, max_col=MAX_COLUMNS, values_only=True
            )
        ]
        header_row = _find_header(top[:HEADER_SCAN_ROWS])
        if header_row is not None:
            found = (ws, top, header_row)
            break
    if found is None:
        return _refused("imp_err_no_header")
    ws, top, header_row = found
    columns, first_data = _column_map(top, header_row)
    if _match(columns, "员工总数") is not None:
        kind = OrgKind.ENTERPRISE
    elif _match(columns, "单位会员数量") is not None:
        kind = OrgKind.ZONE
    else:
        return ParsedSheet(None, [], [CellError(header_row, "", "", "imp_err_no_header")])
    if annex is not None and ANNEXES[annex] != kind:
        found_annex = next(a for a, k in ANNEXES.items() if k == kind)
        return ParsedSheet(
            kind,
            [],
            [
                CellError(
                    header_row,
                    "",
                    "",
                    "imp_err_wrong_annex",
                    {"expected": annex, "found": found_annex},
                )
            ],
        )
    errors: list[CellError] = []
    specs: list[tuple[FieldSpec, int]] = []
    for spec in fields_for(kind):
        col = _match(columns, spec.header)
        if col is None:
            if spec.key not in OPTIONAL_KEYS:
                errors.append(CellError(header_row, "", spec.header, "imp_err_column_missing"))
            continue
        specs.append((spec, col))
    name_col = columns[NAME_HEADER]
    if errors:
        return ParsedSheet(kind, [], errors)
    used_cols = [name_col] + [c for _, c in specs]
    sheet = ParsedSheet(kind, [], errors)

    # 1. Stream the data rows, keeping only the used cells of at most MAX_ROWS rows.
    cells_by_row: dict[int, dict[int, Any]] = {}
    blank_rows: set[int] = set()
    last_row = first_data - 1
    max_rows, max_read = MAX_ROWS, 2 * MAX_ROWS
    for offset, values in enumerate(
        ws.iter_rows(min_row=first_data, max_col=MAX_COLUMNS, values_only=True)
    ):
        row_no = first_data + offset
        sheet.rows_read += 1
        filled = [v for v in values if not _is_blank(v)]
        lead = header_key(filled[0]) if filled else ""
        if lead.startswith("所属区"):
            # The district summary row ends the table and names the district.
            cells_filled = [(i, v) for i, v in enumerate(values, start=1) if not _is_blank(v)]
            if len(cells_filled) > 1:
                col, value = cells_filled[1]
                sheet.district = " ".join(str(value).split())
                sheet.district_cell = (row_no, get_column_letter(col))
            break
        if lead.startswith("备注"):
            break  # the footer
        last_row = row_no
        cells = {c: values[c - 1] for c in used_cols if c - 1 < len(values)}
        if all(_is_blank(v) for v in cells.values()):
            blank_rows.add(row_no)
            if sheet.rows_read >= max_read:
                return ParsedSheet(kind, [], [_too_many()], rows_read=sheet.rows_read)
            continue
        if len(cells_by_row) == max_rows:
            return ParsedSheet(kind, [], [_too_many()], rows_read=sheet.rows_read)
        cells_by_row[row_no] = cells

    # 2. Merges over data rows and formulas without a value, from the sheet's XML.
    with zipfile.ZipFile(_open(data)) as archive, archive.open(ws._worksheet_path) as stream:
        # (_worksheet_path: the read-only sheet's member in the zip; openpyxl has no public name)
        merges, formulas = _scan_sheet(stream, first_data, last_row, set(used_cols))
    headers = {name_col: NAME_HEADER} | {c: spec.header for spec, c in specs}
    for min_col, min_row, max_col, max_row in sorted(merges, key=lambda m: (m[1], m[0])):
        top_cells = cells_by_row.get(min_row)
        value = top_cells.get(min_col) if top_cells else None
        if _is_blank(value):
            continue
        used = False
        for row_no in range(min_row + 1, min(max_row, last_row) + 1):
            # A row that is empty apart from the merge is not an association: left alone.
            below = cells_by_row.get(row_no)
            if below is not None and _is_blank(below.get(min_col)):
                below[min_col] = value
                used = True
        if used:
            letter = get_column_letter(min_col)
            ref = f"{letter}{min_row}:{get_column_letter(max_col)}{max_row}"
            sheet.notes.append(MergeNote(ref, headers[min_col], min_row, max_row))
    for row_no, _col in formulas:
        if row_no not in cells_by_row and row_no in blank_rows:
            cells_by_row[row_no] = dict.fromkeys(used_cols)

    # 3. Check every row.
    rows = sheet.rows
    seen: dict[str, int] = {}
    name_letter = get_column_letter(name_col)
    for row_no in sorted(cells_by_row):
        cells = cells_by_row[row_no]
        texts = [header_key(v) for v in cells.values() if not _is_blank(v)]
        if texts and all(t == PERSON_HINT for t in texts):
            continue  # the guide's hint row inside the table
        if (row_no, name_col) in formulas:
            errors.append(
                CellError(
                    row_no,
                    name_letter,
                    NAME_HEADER,
                    "imp_err_formula_name",
                    {"cell": f"{name_letter}{row_no}"},
                )
            )
            continue
        raw_name = cells.get(name_col)
        if _is_blank(raw_name):
            errors.append(CellError(row_no, name_letter, NAME_HEADER, "imp_err_name_missing"))
            continue
        name, error = parse_org_name(str(raw_name))
        if error or name is None:
            errors.append(CellError(row_no, name_letter, NAME_HEADER, error or "reg_err_org_name"))
            continue
        if name in seen:
            errors.append(
                CellError(
                    row_no, name_letter, NAME_HEADER, "imp_err_duplicate", {"first": seen[name]}
                )
            )
            continue
        seen[name] = row_no
        parsed = ParsedRow(row_no, name, name_letter, {}, {})
        for spec, col in specs:
            letter = get_column_letter(col)
            if (row_no, col) in formulas:
                errors.append(
                    CellError(
                        row_no,
                        letter,
                        spec.header,
                        "imp_err_formula",
                        {"cell": f"{letter}{row_no}"},
                    )
                )
                continue
            value = cells.get(col)
            if _is_blank(value) or header_key(value) == PERSON_HINT:
                continue  # an empty cell keeps what the registry already holds
            result, error = parse_field(
                spec, value.strip() if isinstance(value, str) else value, today
            )
            if error:
                shown = value if not isinstance(value, str) else value[:100]  # keep errors small
                errors.append(CellError(row_no, letter, spec.header, error, {"value": shown}))
                continue
            parsed.values[spec.key] = result
            parsed.columns[spec.key] = letter
        error = check_tech_staff(parsed.values.get("employees"), parsed.values.get("tech_staff"))
        if error:
            errors.append(CellError(row_no, parsed.columns["tech_staff"], "科技人员数", error))
        rows.append(parsed)
    if not rows and not errors:
        errors.append(CellError(first_data, "", "", "imp_err_empty"))
    return sheet


def _too_many() -> CellError:
    return CellError(0, "", "", "imp_err_too_many", {"limit": f"{MAX_ROWS:,}".replace(",", " ")})


# --- the parse in a child process ------------------------------------------------------------

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
        return _refused(problem)
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
            return _refused("imp_err_too_complex")
    if proc.returncode != 0 or not out:
        log.warning("import parse child failed with exit code %s", proc.returncode)
        return _refused("imp_err_too_complex")
    # The child is our own code run on our own module's classes; what it parsed is data.
    sheet = pickle.loads(out)
    if not isinstance(sheet, ParsedSheet):
        return _refused("imp_err_too_complex")
    return sheet


def sheet_result(sheet: ParsedSheet, annex: str | None) -> ImportResult:
    """The result of a sheet that cannot be imported (its errors), without a database."""
    found = next((a for a, k in ANNEXES.items() if k == sheet.kind), annex or "")
    return ImportResult(annex=annex or found, errors=list(sheet.errors), notes=list(sheet.notes))


async def sheet_district(session: AsyncSession, sheet: ParsedSheet) -> District | None:
    """The district the summary row names, if any: ``锦江区``, also written ``成都市锦江区``,
    ``锦江区科协`` or ``锦江``."""
    if not sheet.district:
        return None
    written = sheet.district.replace(" ", "")
    for prefix in ("四川省", "成都市"):
        written = written.removeprefix(prefix)
    written = written.removesuffix("科协")
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
