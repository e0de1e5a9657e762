"""Where read-only openpyxl falls short: what it does not report, found in a sheet's XML
(vertical merges starting in the data rows, formula cells without a computed value; streamed,
bounded by ``MAX_MERGES``), and the whole-sheet scan it makes for a missing ``<dimension>``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, cast
from xml.etree.ElementTree import Element, XMLPullParser

from openpyxl.reader import excel as excel_reader
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, range_boundaries
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

MAX_MERGES = 20_000


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


# A merged range as the sheet XML writes it (any namespace prefix, either quote).
_MERGE_CELL = re.compile(
    rb"""<(?:[\w.-]+:)?mergeCell\b[^>]*?\bref\s*=\s*["']([A-Za-z]{1,3}[0-9]{1,7}(?::[A-Za-z]{1,3}[0-9]{1,7})?)["']"""
)
_SCAN_CHUNK = 1024 * 1024
_OVERLAP = 256  # longer than any mergeCell tag the pattern accepts


def scan_sheet(
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
def sheets_without_size() -> Iterator[None]:
    """Open read-only sheets as :class:`_UnsizedSheet` meanwhile."""
    original = excel_reader.ReadOnlyWorksheet
    excel_reader.ReadOnlyWorksheet = _UnsizedSheet
    try:
        yield
    finally:
        excel_reader.ReadOnlyWorksheet = original
