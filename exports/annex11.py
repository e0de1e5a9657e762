"""Annex 1-1: ``{year}年企业科协组织建设统计表``, and the machinery annex 1-2 shares with it.

A registry form is: the label, the title, the 填报单位 line (outside the official table), header
row 1 (every column), header row 2 (empty and merged with row 1 above the plain columns,
``姓名/职务/电话`` above the person columns), one row per association (or one ``无`` row), and the
district's summary row laid across the width.

A person column is as wide as its longest ``姓名/职务/电话`` line (within bounds), so each person
stays on one line of their own and no telephone number breaks at its hyphen; the other columns
are wide enough for their headers once broken at their break points (exports/headers.py). A
name or address that would wrap leaving one character on a line is broken by hand into even
lines (:func:`plain_row`), where the import joins them back (core/registry_rules.fold_space).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from core.enums import OfficerRole
from core.registry_rules import fold_space
from core.rules import format_date
from exports.headers import fits, head_row, header, print_row
from exports.layout import Sheet, StyleBook, fit_width, open_on, row_height
from exports.rows import DistrictFacts, PrintedOrg
from exports.summary import SummaryTable, add_summary_sheet, percent

PERSON_HINT = "姓名/职务/电话"
# A person column's least and greatest width: its hint fits the least (the summary labels wrap);
# a person longer than the greatest wraps (rare: a long title and a landline).
PERSON_WIDTH = (18.0, 30.0)
HEADER_ROWS = (4, 5)  # below the label, the title and the 填报单位 line; data from row 6
Value = str | int | None
# A form's sheet title, its 填报单位, its associations, and the district of its summary row.
RegistrySection = tuple[str, str, Sequence[PrintedOrg], DistrictFacts | None]


@dataclass(frozen=True)
class RegistryForm:
    """What differs between annex 1-1 and annex 1-2."""

    label: str
    title_suffix: str
    kind: str  # OrgKind of the rows
    headers: tuple[str, ...]
    person_roles: tuple[str, ...]  # OfficerRole of each trailing person column
    widths: tuple[float, ...]
    fields: Callable[[PrintedOrg], tuple[Value, ...]]  # the plain columns after 序号
    summary: Callable[[DistrictFacts], tuple[str, ...]]
    summary_spans: tuple[int, ...]  # how many columns each summary cell covers

    def title(self, year: int) -> str:
        """The title with the year."""
        return f"{year}年{self.title_suffix}"


def _enterprise_fields(org: PrintedOrg) -> tuple[Value, ...]:
    return (
        org.name,
        org.approval_no or "",
        format_date(org.approval_date) if org.approval_date else "",
        org.employees,
        org.tech_staff,
        org.association_members,
        org.address or "",
        org.ownership or "",
    )


def figure(value: int | None, unit: str = "") -> str:
    """A district figure with its unit, or 未填报 when the district has not entered it."""
    return "未填报" if value is None else f"{value}{unit}"


def _enterprise_summary(d: DistrictFacts) -> tuple[str, ...]:
    return (
        "所属区（市）县",
        d.name,
        "已建企业科协数量",
        f"{d.enterprise_orgs}个",
        "属地企业数量",
        figure(d.local_enterprises, "个"),
        "科技企业数量",
        figure(d.tech_enterprises, "个"),
        "比例（已建/科技企业）",
        "未填报" if d.tech_enterprises is None else percent(d.enterprise_orgs, d.tech_enterprises),
    )


PEOPLE_11 = (
    OfficerRole.CHAIR,
    OfficerRole.VICE_CHAIR,
    OfficerRole.SECRETARY_GENERAL,
    OfficerRole.DEPUTY_SECRETARY_GENERAL,
    OfficerRole.CONTACT,
)

ANNEX_11 = RegistryForm(
    label="附件1-1",
    title_suffix="企业科协组织建设统计表",
    kind="enterprise",
    headers=(
        "序号",
        "单位名称",
        "批准文号",
        "批准时间",
        "员工总数",
        "科技人员数",
        "科协会员数",
        "通信地址",
        "单位性质（国企/民企）",
        "主席",
        "副主席",
        "秘书长",
        "副秘书长",
        "联系人",
    ),
    person_roles=tuple(str(r) for r in PEOPLE_11),
    widths=(6, 20, 14, 17, 8, 8, 8, 20, 16, 17, 17, 17, 17, 17),  # 批准时间 as annex 1-3's 时间
    fields=_enterprise_fields,
    summary=_enterprise_summary,
    summary_spans=(2, 2, 3, 1, 1, 1, 1, 1, 1, 1),
)


def form_widths(form: RegistryForm, orgs: Sequence[PrintedOrg]) -> list[float]:
    """The form's column widths, each person column fitted to the people it lists."""
    widths = list(form.widths)
    people = len(form.person_roles)
    for index, role in enumerate(form.person_roles, start=len(widths) - people):
        lines = [
            line for org in orgs for p in org.officers.get(role, ()) for line in p.cell_lines()
        ]
        widths[index] = fit_width(lines, *PERSON_WIDTH)
    return _summary_labels_fit(form, widths)


def _summary_labels_fit(form: RegistryForm, widths: list[float]) -> list[float]:
    """Widen a summary label's last column until the label, broken at its break points, fits
    (``（已建/科技企业）`` is not broken inside its brackets): the row is laid across the narrow
    person columns."""
    texts = form.summary(DistrictFacts(id=0, name=""))  # labels at even places, figures between
    start = 0
    for index, span in enumerate(form.summary_spans):
        if index % 2 == 0:
            while not _label_fits(texts[index], sum(widths[start : start + span])):
                widths[start + span - 1] += 0.5
        start += span
    return widths


def _label_fits(label: str, width: float) -> bool:
    return all(fits(line, width) for line in header(label, width).split("\n"))


def registry_form_head(
    wb: Workbook,
    form: RegistryForm,
    sheet_title: str,
    unit: str,
    orgs: Sequence[PrintedOrg],
    year: int,
    styles: StyleBook | None = None,
) -> Sheet:
    """A registry form sheet down to its two header rows (label, title, 填报单位 line, page
    set-up): shared by the export and the empty import template, so both are laid out alike."""
    sheet = Sheet(wb, sheet_title, form_widths(form, orgs), styles)
    first, second = HEADER_ROWS
    sheet.print_setup(title_rows=f"{first}:{second}", freeze=f"A{second + 1}", unit=unit)
    sheet.banner(form.label, form.title(year))
    sheet.unit_line(unit)
    people = len(form.person_roles)
    plain = len(form.headers) - people
    head_row(sheet, form.headers, height=36)
    head_row(sheet, [None] * plain + [PERSON_HINT] * people, height=20)
    for col in range(1, plain + 1):
        sheet.merge(col, first, col, second)
    return sheet


def add_registry_form(
    wb: Workbook,
    form: RegistryForm,
    section: RegistrySection,
    year: int,
    styles: StyleBook | None = None,
) -> Sheet:
    """Write one registry form sheet (annex 1-1 or 1-2) with its district summary row."""
    sheet_title, unit, orgs, district = section
    sheet = registry_form_head(wb, form, sheet_title, unit, orgs, year, styles)
    styles_of = ("center", "body", "center", "center", "center", "center", "center")
    plain = len(form.headers) - len(form.person_roles)
    for seq, org in enumerate(orgs, start=1):
        # Names and addresses broken by hand where the program would leave one character on a
        # line; the person cells keep one person a line.
        values = plain_row([seq, *form.fields(org)], sheet.widths[:plain])
        values += [org.people(role) for role in form.person_roles]
        kinds = [styles_of[i] if i < len(styles_of) else "body" for i in range(len(values))]
        if form.kind == "enterprise":
            kinds[7], kinds[8] = "body", "center"  # 通信地址, 单位性质
        else:
            kinds[4], kinds[7] = "body", "body"  # 通信地址, 秘书长执行单位
        sheet.append(list(zip(values, kinds, strict=True)), height=row_height(values, sheet.widths))
    if not orgs:
        sheet.nothing_row()
    if district is not None:
        add_summary_row(sheet, form, district)
    return sheet


def plain_row(values: Sequence[Value], widths: Sequence[float]) -> list[Value]:
    """The plain cells as :func:`exports.headers.print_row` writes them, each broken cell kept
    only if the import reads it back as the text it was (core/registry_rules.fold_space drops
    a line break next to a Chinese character): a re-imported export must find each
    association by its name and keep its address. A break that would lose a space (``成都`` /
    ``ABC``, broken at ``成都 ABC``) leaves that cell to the program's wrapping."""
    out: list[Value] = []
    for value, printed in zip(values, print_row(values, widths), strict=True):
        if isinstance(printed, str) and fold_space(printed) == fold_space(str(value)):
            value = printed
        out.append(value)
    return out


def add_summary_row(sheet: Sheet, form: RegistryForm, district: DistrictFacts) -> int:
    """The district summary row: labels and figures laid across the width, merged as needed."""
    texts = form.summary(district)
    cells: list[tuple[Value, str] | None] = []
    spans: list[tuple[int, int]] = []
    col = 1
    for index, (text, span) in enumerate(zip(texts, form.summary_spans, strict=True)):
        style = "strong" if index % 2 == 0 else "center"
        if index % 2 == 0:  # a label: broken at its break points when too wide
            text = header(text, sum(sheet.widths[col - 1 : col + span - 1]))
        cells += [(text, style)] + [("", style)] * (span - 1)
        spans.append((col, col + span - 1))
        col += span
    widths = [sum(sheet.widths[a - 1 : b]) for a, b in spans]
    labels = [c[0] for c in cells if c is not None and c[0]]
    lines = max(str(t).count("\n") + 1 for t in labels)
    row = sheet.append(cells, height=max(row_height(list(texts), widths), lines * 15.0 + 8))
    for first, last in spans:
        if last > first:
            sheet.merge(first, row, last, row)
    return row


def write_registry(
    path: Path,
    form: RegistryForm,
    year: int,
    sections: Sequence[RegistrySection],
    *,
    summary: SummaryTable | None = None,
) -> None:
    """Write a registry workbook: an optional 汇总 sheet (city), then one form per section. It
    opens on the first form."""
    wb = Workbook(write_only=True)
    styles: StyleBook | None = None
    if summary is not None:
        styles = add_summary_sheet(wb, summary).styles
    for section in sections:
        styles = add_registry_form(wb, form, section, year, styles).styles
    open_on(wb, 1 if summary is not None else 0)
    wb.save(path)


def write_annex11(
    path: Path,
    year: int,
    sections: Sequence[RegistrySection],
    *,
    summary: SummaryTable | None = None,
) -> None:
    """Write the annex 1-1 workbook (enterprise associations)."""
    write_registry(path, ANNEX_11, year, sections, summary=summary)
