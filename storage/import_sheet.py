"""Read and check a registry spreadsheet laid out like annex 1-1 (企业科协) or 1-2 (产业功能区
科协), without touching the database: the header rows found and mapped to the annex's fields,
the data rows streamed (at most ``MAX_ROWS``), merged cells spread over the rows they cover,
and every cell parsed with the same parsers as the /org chat flow.

Layouts accepted: the annex's own (title rows above, two header rows, merged header cells,
``姓名/职务/电话`` hints, the district summary row below), and a plain sheet with one header row.
The file has passed ``storage.import_archive.check_archive`` first.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from core.enums import OrgKind
from core.registry_rules import (
    FieldSpec,
    check_tech_staff,
    fields_for,
    header_key,
    parse_field,
    parse_org_name,
)
from storage.import_archive import Source, check_archive, open_source
from storage.import_scan import scan_sheet, sheets_without_size

log = logging.getLogger(__name__)

ANNEXES: dict[str, OrgKind] = {"1-1": OrgKind.ENTERPRISE, "1-2": OrgKind.ZONE}
NAME_HEADER = "单位名称"
SUMMARY_HEADER = "所属区（市）县"
PERSON_HINT = header_key("姓名/职务/电话")
HEADER_SCAN_ROWS = 20
MAX_ROWS = 5000  # associations in one sheet; a blank line between them does not count
MAX_COLUMNS = 64  # the annexes have 14 (15 with 组织形式); cells further right are not read
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


def refused(key: str, **params: Any) -> ParsedSheet:
    """A sheet refused as a whole, for one reason (a catalog key)."""
    return ParsedSheet(None, [], [CellError(0, "", "", key, params)])


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


def read_sheet(data: Source, annex: str | None, today: date) -> ParsedSheet:
    """Read and check a spreadsheet without touching the database.

    ``annex`` (``1-1`` / ``1-2``) is what the caller expects; ``None`` accepts either and
    tells which it was from the headers. Bounded: the file is refused before parsing when its
    zip declares too much (:func:`check_archive`); rows are streamed and reading stops at
    ``MAX_ROWS``. In the bot, call it through :func:`read_sheet_isolated`.
    """
    problem = check_archive(data)
    if problem:
        return refused(problem)
    try:
        with sheets_without_size():
            workbook = load_workbook(open_source(data), read_only=True, data_only=True)
    except MemoryError:
        return refused("imp_err_too_complex")
    except Exception as exc:  # hostile XML can raise almost anything inside openpyxl
        log.info("unreadable workbook: %s", type(exc).__name__)
        return refused("imp_err_unreadable")
    try:
        return _read_workbook(workbook, data, annex, today)
    except MemoryError:
        return refused("imp_err_too_complex")
    except Exception as exc:
        log.info("unreadable workbook: %s", type(exc).__name__)
        return refused("imp_err_unreadable")
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
        return refused("imp_err_no_header")
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
    with zipfile.ZipFile(open_source(data)) as archive, archive.open(ws._worksheet_path) as stream:
        # (_worksheet_path: the read-only sheet's member in the zip; openpyxl has no public name)
        merges, formulas = scan_sheet(stream, first_data, last_row, set(used_cols))
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
