"""Where a header breaks when it is too wide for its column: the break points, chosen by hand.

Left to itself a spreadsheet program breaks a header wherever the column ends: inside
brackets (``单位性质（`` / ``国企/民企）``) or before a lone last character (``科技人员`` / ``数``).
Each header too wide for its column gets its line breaks here instead, before an opening
bracket or between words, never leaving a line of one character; the columns are wide enough
for every line, so nothing breaks again. The words stay the guide's, character for character
(annex-spec.md): only line breaks are added, as the guide itself breaks the title of annex 1-3.

A data cell (an activity's name, its content, an association's name on the 明细 sheet) is
wrapped by the spreadsheet program, which may leave one character alone on the last line
(``…科学技术协`` / ``会``). :func:`print_text` finds the cells where that can happen, at any line
width a program may give the column, and breaks them explicitly into even lines instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

from exports.layout import Sheet, display_width, usable_width

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


# Line-breaking rules for Chinese (禁则), as Excel, WPS and LibreOffice apply them: a line never
# starts with a closing mark nor ends with an opening one.
# 〔〕 included: a document number is written 锦民〔2020〕9号, never broken 锦民〔 / 2020〕9号.
CLOSING = frozenset("，。、；：！？）》】」』〕〗］”’,.;:!?)]%…")
OPENING = frozenset("（《【「『〔〖［“‘([")
CLOSERS = frozenset("）》】」』〕〗］”’)]")  # the closing marks that end what an opening one began
NOT_LETTERS = CLOSING | OPENING | frozenset(" \u3000/-—·")
# The widest line a program may give a column, in display units per column unit: LibreOffice
# (measured, tests/e2e/test_export_render.py's fonts) puts 10 Chinese characters in a column 20
# wide, 12 in 22, 13 in 24, 18 in 33, 24 in 44; Excel and WPS with 宋体 about as many or fewer.
WIDEST_LINE = 1.1
POOR_BREAK = 45.0  # between two characters: as bad as two lines 2.4 characters off even
BRACKET_BREAK = 400.0  # inside （…）: only when nothing else fits
_TOKENS = re.compile(r"[A-Za-z0-9]+|.", re.DOTALL)


def _units(paragraph: str) -> list[str]:
    """What a line breaks between: a Latin word or number whole, each other character alone,
    closing marks and spaces kept with what precedes them, opening marks with what follows."""
    units: list[str] = []
    for token in _TOKENS.findall(paragraph):
        if units and (token in CLOSING or token == " " or units[-1][-1] in OPENING):
            units[-1] += token
        else:
            units.append(token)
    return units


def _wrap(units: Sequence[str], usable: float) -> list[str]:
    """The lines a program wraps ``units`` into, ``usable`` display units wide (greedy)."""
    lines: list[str] = []
    line, width = "", 0
    for unit in units:
        if line and width + display_width(unit.rstrip()) > usable:
            lines.append(line)
            line, width = "", 0
        line += unit
        width += display_width(unit)
    return [*lines, line]


def _letters(line: str) -> int:
    return sum(1 for ch in line if ch not in NOT_LETTERS)


def orphaned(lines: Sequence[str]) -> bool:
    """Whether wrapped lines leave a line of one character (marks aside)."""
    return len(lines) > 1 and any(_letters(line) < 2 for line in lines)


def line_widths(width: float) -> range:
    """Every line width (display units) a program may give a data cell in a column ``width``
    units wide: from a header's (:func:`fits`, its margins off) to LibreOffice's."""
    return range(int(width - CELL_PAD), int(width * WIDEST_LINE) + 1)


def wrapped(text: str, width: float) -> list[list[str]]:
    """Each paragraph of ``text`` as wrapped at every line width of :func:`line_widths`."""
    return [_wrap(_units(p), u) for p in text.split("\n") for u in line_widths(width)]


def _penalties(units: Sequence[str]) -> list[float]:
    """The cost of a break before each unit: none after a mark or before a bracket, a little
    between two characters, a lot inside brackets."""
    costs, depth = [0.0], 0
    for before, after in pairwise(units):
        depth += sum(ch in OPENING for ch in before) - sum(ch in CLOSERS for ch in before)
        depth = max(depth, 0)  # a stray closing bracket
        if depth:
            costs.append(BRACKET_BREAK)
        elif before[-1] in CLOSING or before[-1] == " " or after[0] in OPENING:
            costs.append(0.0)
        else:
            costs.append(POOR_BREAK)
    return costs


def _balanced(units: Sequence[str], count: int, usable: float) -> list[str] | None:
    """``units`` in ``count`` lines no wider than ``usable``, each of two characters or more, as
    even as good break points allow (least squared distance from the mean width, plus the cost
    of each break); None when no such lines exist."""
    sizes = [display_width(u) for u in units]
    total = sum(sizes)
    mean = total / count
    costs = _penalties(units)
    n = len(units)
    inf = float("inf")
    # best[k][j]: the least cost of units[:j] in k lines; back[k][j]: where the last line starts
    best = [[inf] * (n + 1) for _ in range(count + 1)]
    back = [[0] * (n + 1) for _ in range(count + 1)]
    best[0][0] = 0.0
    for k in range(1, count + 1):
        for j in range(1, n + 1):
            width = display_width(units[j - 1].rstrip())
            letters = _letters(units[j - 1])
            for i in range(j - 1, -1, -1):
                if i < j - 1:
                    width += sizes[i]
                    letters += _letters(units[i])
                if width > usable:
                    break
                if best[k - 1][i] == inf or letters < 2:
                    continue
                cost = best[k - 1][i] + (width - mean) ** 2 + (costs[i] if i else 0.0)
                if cost < best[k][j]:
                    best[k][j], back[k][j] = cost, i
    if best[count][n] == inf:
        return None
    lines, j = [], n
    for k in range(count, 0, -1):
        i = back[k][j]
        lines.append("".join(units[i:j]).rstrip())
        j = i
    return lines[::-1]


def _orphans_at(measures: Sequence[tuple[int, int, int]], usable: int) -> bool:
    """:func:`orphaned` of :func:`_wrap`, from each unit's (width, width without its trailing
    space, letters), without building the lines: every row of a 10 000-row export passes here,
    at several widths."""
    lines = letters = width = 0
    short = False
    for size, trimmed, count in measures:
        if width and width + trimmed > usable:
            short, lines, letters, width = short or letters < 2, lines + 1, 0, 0
        letters += count
        width += size
    return lines > 0 and (short or letters < 2)


def print_text(text: str, width: float) -> str:
    """A data cell's text for a column ``width`` units wide: unchanged unless a program could
    wrap it leaving one character on a line; then broken explicitly into even lines, after a
    mark or before a bracket where it can, each narrow enough never to wrap again."""
    widths = line_widths(width)
    if "\n" not in text and display_width(text) <= widths.start:
        return text  # one line at every width: most cells, at once
    usable = int(usable_width(width))
    out: list[str] = []
    for paragraph in text.split("\n"):
        units = _units(paragraph)
        measures = [(display_width(u), display_width(u.rstrip()), _letters(u)) for u in units]
        if display_width(paragraph) <= widths.start or not any(
            _orphans_at(measures, u) for u in widths
        ):
            out.append(paragraph)
            continue
        count = len(_wrap(units, usable))
        lines = _balanced(units, count, usable) or _balanced(units, count + 1, usable)
        out.extend(lines or [paragraph])
    return "\n".join(out)


def print_row(values: Sequence[object], widths: Sequence[float]) -> list[object]:
    """A row's values with each text as :func:`print_text` writes it for its column."""
    return [
        print_text(v, w) if isinstance(v, str) else v for v, w in zip(values, widths, strict=True)
    ]
