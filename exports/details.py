"""The 明细 sheet beside annex 1-3: who reported each row, when, on time or not, and a thumbnail.

It is deliberately not part of the official form (its own sheet, its own heading saying so), so
the official sheet can be printed and stamped as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.drawing.image import Image as SheetImage
from PIL import Image, ImageOps, UnidentifiedImageError

from core.rules import format_datetime
from exports.headers import head_row, print_row
from exports.layout import Sheet, StyleBook, row_height
from exports.names import Entry
from storage.evidence import EvidenceStorage, copy_stream

log = logging.getLogger(__name__)

TITLE = "明细（核对用，不属于正式报表）"
HEADERS = (
    "序号",
    "服务（活动）名称",
    "填报单位",
    "单位类型",
    "所属区县",
    "提交时间",
    "是否按时（逾期天数）",
    "照片数",
    "报送人",
    "审核状态",
    "缩略图",
)
# 单位类型 is 16 wide: 产业功能区科协 on one line in every program, never 产业功能区科 / 协.
WIDTHS = (6, 24, 24, 16, 12, 18, 15, 8, 10, 10, 15)
# One style per column, the thumbnail's included: its cell is written empty but bordered, so
# the grid is closed around the picture.
STYLES = (
    "center", "body", "body", "center", "center", "center", "center", "center", "center", "center",
    "center",
)  # fmt: skip
REVIEW_NAMES = {"pending": "待审核", "approved": "已通过", "returned": "已退回"}
KIND_NAMES = {"enterprise": "企业科协", "zone": "产业功能区科协"}
THUMB_PX = (96, 72)
THUMB_ROW_PT = 60.0  # a 72 px thumbnail plus a little air


class Thumbnailer:
    """Small JPEG thumbnails of stored photos, written to a scratch directory (not memory)."""

    def __init__(self, store: EvidenceStorage, scratch: Path) -> None:
        self.store = store
        self.scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)

    def make(self, sha256: str) -> Path | None:
        """A thumbnail of the stored image ``sha256``, or None when it cannot be read."""
        target = self.scratch / f"{sha256}.jpg"
        if target.exists():
            return target
        spooled = self.scratch / f"{sha256}.source"
        try:
            with self.store.reader(sha256) as stored:
                if stored.stream.seekable():
                    _shrink(stored.stream, target)
                else:
                    # Pillow seeks; an object's body does not: spool it to disk in chunks first.
                    with spooled.open("wb") as fh:
                        copy_stream(stored.stream, fh)
                    with spooled.open("rb") as fh:
                        _shrink(fh, target)
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            log.warning("no thumbnail for %s: %s", sha256, type(exc).__name__)
            return None
        finally:
            spooled.unlink(missing_ok=True)
        return target


def _shrink(source: IO[bytes], target: Path) -> None:
    with Image.open(source) as img:
        img.draft("RGB", (THUMB_PX[0] * 2, THUMB_PX[1] * 2))  # JPEG: decode small
        small = ImageOps.exif_transpose(img) or img
        small.thumbnail(THUMB_PX)
        small.convert("RGB").save(target, "JPEG", quality=70)


def on_time_text(entry: Entry) -> str:
    """是 / 否（逾期N天） / 未知."""
    if entry.row.on_time is None:
        return "未知"
    return "是" if entry.row.on_time else f"否（逾期{entry.row.late_days}天）"


def add_details_sheet(
    wb: Workbook,
    entries: Sequence[Entry],
    styles: StyleBook | None,
    thumbnails: Thumbnailer | None,
    tz: ZoneInfo,
) -> Sheet:
    """Write the 明细 sheet: one row per entry, in the same order as the forms."""
    sheet = Sheet(wb, "明细", WIDTHS, styles)
    sheet.print_setup(title_rows="2:2", freeze="A3")
    sheet.full_width(TITLE, "title", height=30)
    head_row(sheet, HEADERS, height=30)
    ws, cell = sheet.ws, sheet.styles.cell
    for entry in entries:
        row = entry.row
        values = print_row(
            (
                entry.seq,
                row.name,
                row.org_name,
                KIND_NAMES.get(row.org_kind, row.org_kind),
                row.district_name,
                format_datetime(row.submitted_at, tz) if row.submitted_at else "",
                on_time_text(entry),
                sum(1 for f in row.evidence if f.is_image),
                row.author_name,
                REVIEW_NAMES.get(row.review_state, row.review_state),
                "",  # the thumbnail, drawn over the cell
            ),
            WIDTHS,
        )
        sheet.row_no += 1
        height = row_height(values, WIDTHS)
        thumb = None
        if thumbnails is not None:
            first = next((f for f in row.evidence if f.is_image), None)
            thumb = thumbnails.make(first.sha256) if first else None
            if thumb is not None:
                height = max(height, THUMB_ROW_PT)
        ws.row_dimensions[sheet.row_no].height = height
        cells = [cell(ws, v, s) for v, s in zip(values, STYLES, strict=True)]
        ws.append(cells)
        if thumb is not None:
            image = SheetImage(str(thumb))
            image.anchor = f"K{sheet.row_no}"
            ws.add_image(image)
    return sheet
