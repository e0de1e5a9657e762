"""``kexie districts list``, ``kexie org list`` and ``kexie template 1-1|1-2``: what an operator
needs to find names and ids before ``org add``, ``invite`` and ``import``.

Texts are Chinese first, as the rest of the CLI.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import unicodedata
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

from core.enums import OrgKind
from core.settings import Settings
from exports.annex11 import ANNEX_11, RegistryForm, registry_form_head
from exports.annex12 import ANNEX_12
from storage.db import Database
from storage.migrate import upgrade
from storage.models import utcnow
from storage.registry import active_org_counts, all_districts, find_district, org_listing

KIND_LABELS = {OrgKind.ENTERPRISE.value: "企业科协", OrgKind.ZONE.value: "功能区科协"}
PER_PAGE = 50
TEMPLATES = {"1-1": (ANNEX_11, "企业科协"), "1-2": (ANNEX_12, "产业功能区科协")}
NO_DISTRICTS = "还没有任何区（市）县：先运行 kexie districts seed。"


def _display(text: str) -> int:
    """Terminal columns ``text`` takes (a CJK character two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns."""
    return text + " " * max(0, width - _display(text))


def _fail(line: str) -> int:
    print(line, file=sys.stderr)
    return 2


def cmd_districts_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print every district with its id and how many associations of each kind it has."""

    async def work() -> int:
        db = Database(settings.db_url)
        try:
            async with db.session() as session:
                districts = await all_districts(session)
                counts = await active_org_counts(session)
        finally:
            await db.dispose()
        if not districts:
            print(NO_DISTRICTS)
            return 0
        print("编号  企业科协  功能区科协  区（市）县")
        for d in districts:
            enterprises = counts.get((d.id, OrgKind.ENTERPRISE.value), 0)
            zones = counts.get((d.id, OrgKind.ZONE.value), 0)
            print(f"{d.id:>4}  {enterprises:>8}  {zones:>10}  {d.name}")
        print(f"共 {len(districts)} 个区（市）县；--district 也接受简称，例如 高新区、锦江。")
        return 0

    upgrade(settings.db_url)
    return asyncio.run(work())


def cmd_org_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print the associations (id, kind, district, name), a page at a time, optionally of one
    district, one kind or with a word in the name."""
    if args.page < 1:
        return _fail("--page 必须是正整数。")

    async def work() -> int:
        db = Database(settings.db_url)
        try:
            async with db.session() as session:
                district_id = None
                if args.district:
                    district, match = await find_district(session, args.district)
                    if district is None:
                        return _fail(match.problem() or "")
                    district_id = district.id
                total, rows = await org_listing(
                    session,
                    district_id=district_id,
                    kind=args.kind,
                    name=args.name.strip() if args.name else None,
                    offset=(args.page - 1) * PER_PAGE,
                    limit=PER_PAGE,
                )
        finally:
            await db.dispose()
        if not total:
            print("没有符合条件的科协。用 kexie org add 新建，或用 kexie import 导入名册。")
            return 0
        pages = (total + PER_PAGE - 1) // PER_PAGE
        if not rows:
            return _fail(f"只有 {pages} 页（共 {total} 个科协）。")
        width = max(_display(name) for _, name in rows)
        print(f"编号  {_pad('类型', 10)}  {_pad('区（市）县', width)}  名称")
        for org, district_name in rows:
            kind = KIND_LABELS.get(org.kind, org.kind)
            print(f"{org.id:>4}  {_pad(kind, 10)}  {_pad(district_name, width)}  {org.name}")
        line = f"第 {args.page}/{pages} 页，共 {total} 个科协"
        if args.page < pages:
            line += f"；下一页加 --page {args.page + 1}"
        print(line + "。")
        return 0

    upgrade(settings.db_url)
    return asyncio.run(work())


def template_name(annex: str) -> str:
    """The template's default file name: ``附件1-1_企业科协登记表模板.xlsx``."""
    return f"附件{annex}_{TEMPLATES[annex][1]}登记表模板.xlsx"


def write_template(path: Path, form: RegistryForm, year: int, sheet_title: str) -> None:
    """The annex's form as the export lays it out (label, title, 填报单位 line, the two header
    rows), without the ``无`` row an empty export prints: the rows below are left to fill."""
    wb = Workbook(write_only=True)
    registry_form_head(wb, form, sheet_title, "", [], year)
    wb.save(path)


def first_row(path: Path) -> int:
    """The first row to fill in a written template: below the form's two header rows."""
    workbook = load_workbook(path, read_only=True)
    try:
        for number, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), 1):
            if "单位名称" in values:
                return number + 2
        raise ValueError(f"no 单位名称 header in {path}")
    finally:
        workbook.close()


def cmd_template(args: argparse.Namespace, settings: Settings) -> int:
    """Write an empty registry workbook laid out as the annex, ready to fill and import."""
    form, kind = TEMPLATES[args.annex]
    path = Path(args.out) if args.out else Path(template_name(args.annex))
    if path.suffix.lower() != ".xlsx":
        return _fail(f"模板是 .xlsx 文件，请换一个以 .xlsx 结尾的名字：{path}")
    if path.exists():
        return _fail(f"{path} 已经存在，没有覆盖。请换一个名字（--out）或先移走它。")
    if not path.parent.is_dir():
        return _fail(f"找不到文件夹：{path.parent}")
    year = settings.years.year_of(utcnow().astimezone(settings.tz).date())
    # The export's own building blocks: what the office prints and what it fills in look alike,
    # and the importer reads both.
    write_template(path, form, year, kind)
    print(path)
    print(
        f"在第 {first_row(path)} 行起每行填一个{kind}（单位名称必填；主席等人员写 姓名/职务/电话，"
        "多人分行），填好后导入："
    )
    print(f"  kexie import {args.annex} {path} --district 锦江区")
    return 0


def register(sub: Any, districts: Any, org: Any) -> None:
    """Add ``districts list``, ``org list`` and ``template`` to the CLI's sub-parsers."""
    districts.add_parser(
        "list", help="列出区（市）县及其编号、科协数 / list districts"
    ).set_defaults(func=cmd_districts_list)

    org_list = org.add_parser("list", help="列出科协及其编号 / list associations with ids")
    org_list.add_argument("--district", help="只列这个区（市）县的，例如 锦江区 或 高新区")
    org_list.add_argument(
        "--kind", choices=["enterprise", "zone"], help="enterprise=企业科协, zone=产业功能区科协"
    )
    org_list.add_argument("--name", help="名称中包含的文字")
    org_list.add_argument("--page", type=int, default=1, help=f"页码（每页 {PER_PAGE} 个）")
    org_list.set_defaults(func=cmd_org_list)

    template = sub.add_parser(
        "template", help="生成空白的附件1-1/1-2登记表，填好后可导入 / write an import template"
    )
    template.add_argument(
        "annex", choices=sorted(TEMPLATES), help="1-1=企业科协, 1-2=产业功能区科协"
    )
    template.add_argument("--out", help="文件名（默认 附件1-1_企业科协登记表模板.xlsx）")
    template.set_defaults(func=cmd_template)
