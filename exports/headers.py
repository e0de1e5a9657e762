"""Where a header breaks when it is too wide for its column: the break points, chosen by hand.

Left to itself a spreadsheet program breaks a header wherever the column ends: inside
brackets (``单位性质（`` / ``国企/民企）``) or before a lone last character (``科技人员`` / ``数``).
Each header too wide for its column gets its line breaks here instead, before an opening
bracket or between words, never leaving a line of one character; the columns are wide enough
for every line, so nothing breaks again. The words stay the guide's, character for character
(annex-spec.md): only line breaks are added, as the guide itself breaks the title of annex 1-3.
"""

from __future__ import annotations

from collections.abc import Sequence

from exports.layout import Sheet, display_width

HEAD_SCALE = 1.1  # a header is 11 pt 黑体 where display_width counts 10 pt
CELL_PAD = 1.0  # a cell's inner margins, in column units

BREAKS: dict[str, str] = {
    # annex 1-1
    "员工总数": "员工\n总数",
    "科技人员数": "科技\n人员数",
    "科协会员数": "科协\n会员数",
    "单位性质（国企/民企）": "单位性质\n（国企/民企）",
    # annex 1-2
    "单位会员数量": "单位\n会员数量",
    "个人会员数量": "个人\n会员数量",
    "秘书长执行单位": "秘书长\n执行单位",
    # the summary rows of 1-1 and 1-2, where a column is narrow
    "比例（已建/科技企业）": "比例\n（已建/科技企业）",
    "已建企业科协数量": "已建企业\n科协数量",
    "已建功能区科协数量": "已建功能区\n科协数量",
    # 明细 and 汇总
    "是否按时（逾期天数）": "是否按时\n（逾期天数）",
    "参与人数合计": "参与人数\n合计",
}


def fits(line: str, width: float) -> bool:
    """Whether one line of header text stays on one line in a column ``width`` units wide."""
    return display_width(line) * HEAD_SCALE + CELL_PAD <= width


def header(text: str, width: float) -> str:
    """The header as written: unchanged when it fits on one line, else with its break points."""
    if not text or fits(text, width):
        return text
    return BREAKS.get(text, text)


def head_row(sheet: Sheet, headers: Sequence[str | None], *, height: float = 0) -> int:
    """Append a header row, each header broken at its break points when too wide for its
    column; ``height`` at least, or what its lines need."""
    texts = [
        None if h is None else header(h, w) for h, w in zip(headers, sheet.widths, strict=True)
    ]
    lines = max((t.count("\n") + 1 for t in texts if t), default=1)
    return sheet.append([(t, "head") for t in texts], height=max(height, lines * 15.0 + 8))
