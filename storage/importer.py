"""Import a registry spreadsheet laid out like annex 1-1 (企业科协) or 1-2 (产业功能区科协).

Districts already keep their registry in Excel. An import is all-or-nothing: every row and
cell is checked first (with the same parsers as the /org chat flow), and with any error nothing
is written; the errors name the row and column. A re-import updates the associations matched
by name within the district instead of duplicating them; an empty cell keeps the stored value.

Layouts accepted: the annex's own (title rows above, two header rows, merged header cells,
``姓名/职务/电话`` hints, the district summary row below), and a plain sheet with one header row.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import District, Organisation, OrgKind
from storage.officers import replace_officers
from storage.registry_rules import (
    FieldSpec,
    check_tech_staff,
    fields_for,
    header_key,
    parse_field,
    parse_org_name,
)

ANNEXES: dict[str, OrgKind] = {"1-1": OrgKind.ENTERPRISE, "1-2": OrgKind.ZONE}
NAME_HEADER = "单位名称"
PERSON_HINT = header_key("姓名/职务/电话")
HEADER_SCAN_ROWS = 20
MAX_ROWS = 5000
MAX_FILE_BYTES = 10 * 1024 * 1024
# Columns a sheet may lack: the zone's form is asked by the guide's text, not by the table.
OPTIONAL_KEYS = frozenset({"zone_form"})


@dataclass(frozen=True)
class CellError:
    """One problem found in the sheet: where (row number, column letter, header) and what."""

    row: int
    column: str
    header: str
    key: str  # catalog key of the problem (``reg_err_*`` or ``imp_err_*``)
    params: dict[str, Any] = field(default_factory=dict)


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


@dataclass
class ImportResult:
    """What an import did (or, with errors, why it did nothing)."""

    annex: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the sheet was imported."""
        return not self.errors


def _base(text: str) -> str:
    """A header without its bracketed note: ``单位性质(国企/民企)`` → ``单位性质``."""
    return text.split("(")[0]


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _find_header(ws: Worksheet) -> int | None:
    for row in ws.iter_rows(min_row=1, max_row=HEADER_SCAN_ROWS):
        for cell in row:
            if header_key(cell.value) == NAME_HEADER:
                return int(cell.row)
    return None


def _column_map(ws: Worksheet, header_row: int) -> tuple[dict[str, int], int]:
    """Header text → column index, reading a second header row where the sheet has one.

    Returns the map and the first data row. A second header row either holds the person hints
    (``姓名/职务/电话``) or the real names under a merged group header; both are understood.
    """
    first: dict[int, str] = {}
    second: dict[int, str] = {}
    for cell in ws[header_row]:
        if not _is_blank(cell.value):
            first[int(cell.column)] = header_key(cell.value)
    below = ws[header_row + 1] if header_row < ws.max_row else ()
    for cell in below:
        if not _is_blank(cell.value):
            second[int(cell.column)] = header_key(cell.value)
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


def read_sheet(data: bytes, annex: str | None, today: date) -> ParsedSheet:
    """Read and check a spreadsheet without touching the database.

    ``annex`` (``1-1`` / ``1-2``) is what the caller expects; ``None`` accepts either and
    tells which it was from the headers.
    """
    if len(data) > MAX_FILE_BYTES:
        return ParsedSheet(None, [], [CellError(0, "", "", "imp_err_too_big")])
    try:
        workbook = load_workbook(io.BytesIO(data), data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        return ParsedSheet(None, [], [CellError(0, "", "", "imp_err_unreadable")])
    found = None
    for ws in workbook.worksheets:
        header_row = _find_header(ws)
        if header_row is not None:
            found = (ws, header_row)
            break
    if found is None:
        return ParsedSheet(None, [], [CellError(0, "", "", "imp_err_no_header")])
    ws, header_row = found
    columns, first_data = _column_map(ws, header_row)
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
    if ws.max_row - first_data > MAX_ROWS:
        return ParsedSheet(
            kind, [], [CellError(0, "", "", "imp_err_too_many", {"limit": MAX_ROWS})]
        )
    rows: list[ParsedRow] = []
    seen: dict[str, int] = {}
    used_cols = [name_col] + [c for _, c in specs]
    for row_no in range(first_data, ws.max_row + 1):
        cells = {c: ws.cell(row=row_no, column=c).value for c in used_cols}
        first_cell = header_key(ws.cell(row=row_no, column=1).value)
        if first_cell.startswith("所属区") or first_cell.startswith("备注"):
            break  # the district summary row or the footer ends the table
        texts = [header_key(v) for v in cells.values() if not _is_blank(v)]
        if not texts or all(t == PERSON_HINT for t in texts):
            continue  # empty line, or the guide's hint row inside the table
        name_letter = get_column_letter(name_col)
        raw_name = cells[name_col]
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
            value = cells[col]
            if _is_blank(value) or header_key(value) == PERSON_HINT:
                continue  # an empty cell keeps what the registry already holds
            letter = get_column_letter(col)
            result, error = parse_field(
                spec, value.strip() if isinstance(value, str) else value, today
            )
            if error:
                errors.append(CellError(row_no, letter, spec.header, error, {"value": value}))
                continue
            parsed.values[spec.key] = result
            parsed.columns[spec.key] = letter
        error = check_tech_staff(parsed.values.get("employees"), parsed.values.get("tech_staff"))
        if error:
            errors.append(CellError(row_no, parsed.columns["tech_staff"], "科技人员数", error))
        rows.append(parsed)
    if not rows and not errors:
        errors.append(CellError(first_data, "", "", "imp_err_empty"))
    return ParsedSheet(kind, rows, errors)


async def import_registry(
    session: AsyncSession, district: District, annex: str | None, data: bytes, today: date
) -> ImportResult:
    """Check the whole sheet, then create or update the district's associations (or nothing).

    ``annex`` is ``1-1`` or ``1-2``, or ``None`` to take whichever the headers show. The caller
    has checked the permission (``Action.IMPORT_REGISTRY`` on the district).
    """
    sheet = read_sheet(data, annex, today)
    found = next((a for a, k in ANNEXES.items() if k == sheet.kind), annex or "")
    result = ImportResult(annex=annex or found, errors=list(sheet.errors))
    if sheet.errors or sheet.kind is None:
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
