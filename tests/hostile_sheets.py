# ruff: noqa: E501  (the OOXML content-type and relationship URIs are kept whole)
"""Hostile registry workbooks, written straight as zip members (no openpyxl, so even the
1 GB bomb is built in seconds with little memory). Used by tests/test_import_hostile.py and
benchmarks/imports.py.

* :func:`zip_bomb` — a valid annex 1-1 sheet whose XML repeats one row until it expands to
  ``expand`` bytes (deflate squeezes it about 1000:1);
* :func:`many_rows` — an annex 1-1 sheet with ``rows`` distinct data rows;
* :func:`padded` — a small valid sheet plus an incompressible media member of ``size`` bytes.
"""

from __future__ import annotations

import os
import random
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

HEAD_1_1 = [
    "序号", "单位名称", "批准文号", "批准时间", "员工总数", "科技人员数", "科协会员数",
    "通信地址", "单位性质（国企/民企）", "主席", "副主席", "秘书长", "副秘书长", "联系人",
]  # fmt: skip

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Default Extension="png" ContentType="image/png"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="企业科协" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"


def _col(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _row(number: int, values: list[object]) -> str:
    cells = []
    for i, value in enumerate(values, start=1):
        if value is None:
            continue
        ref = f"{_col(i)}{number}"
        if isinstance(value, int):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        else:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


def _package(zf: zipfile.ZipFile) -> None:
    zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
    zf.writestr("_rels/.rels", _RELS)
    zf.writestr("xl/workbook.xml", _WORKBOOK)
    zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)


def zip_bomb(path: Path, expand: int = 1_100_000_000) -> Path:
    """A small .xlsx whose sheet XML is ``expand`` bytes of the same row (no row numbers, so
    every copy is a new row to a reader)."""
    row = (
        '<row><c t="inlineStr"><is><t>炸弹科协</t></is></c><c><v>1</v></c><c><v>1</v></c></row>'
    ).encode()
    chunk = row * (1_048_576 // len(row))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        _package(zf)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write((_SHEET_HEAD + _row(1, HEAD_1_1)).encode())
            written = 0
            while written < expand:
                sheet.write(chunk)
                written += len(chunk)
            sheet.write(_SHEET_TAIL.encode())
    return path


def many_rows(path: Path, rows: int = 200_000, *, noise: int = 24) -> Path:
    """An annex 1-1 sheet with ``rows`` distinct associations; ``noise`` random hex digits in
    each 批准文号 keep it from compressing well (≈10 MB for 200 000 rows)."""
    rng = random.Random(8)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        _package(zf)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write((_SHEET_HEAD + _row(1, HEAD_1_1)).encode())
            batch: list[str] = []
            for n in range(1, rows + 1):
                number = f"{rng.getrandbits(noise * 4):0{noise}x}" if noise else f"文{n}"
                batch.append(_row(n + 1, [n, f"科协{n:06d}", number, None, 10, 2]))
                if len(batch) == 1000:
                    sheet.write("".join(batch).encode())
                    batch = []
            sheet.write(("".join(batch) + _SHEET_TAIL).encode())
    return path


def padded(path: Path, size: int = 20 * 1024 * 1024) -> Path:
    """A valid one-row annex 1-1 sheet plus ``size`` bytes of random media (a 20 MB upload)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        _package(zf)
        zf.writestr(
            "xl/worksheets/sheet1.xml",
            _SHEET_HEAD
            + _row(1, HEAD_1_1)
            + _row(2, [1, "填充科协", None, None, 10, 2])
            + _SHEET_TAIL,
        )
        zf.writestr("xl/media/image1.png", os.urandom(size), zipfile.ZIP_STORED)
    return path
