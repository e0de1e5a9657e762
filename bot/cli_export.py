"""``kexie export 1-3|1-1|1-2|all --year Y [--district NAME | --org ID | --city]
[--from DATE --to DATE] [--approved-only] --out DIR``: write the annexes and the evidence
bundle to a folder.

The CLI is the installation's operator (it holds the database), so it may export any scope.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path

from core.policy import OPERATOR, Action, Target, allowed, district_target, org_target
from core.rules import format_date
from core.settings import Settings
from exports.scope import Level, Scope
from exports.service import (
    CHOICES,
    ExportData,
    ExportResult,
    annexes_of,
    gather,
    human_size,
    write_exports,
)
from storage.db import Database
from storage.evidence import open_evidence_store
from storage.migrate import upgrade
from storage.models import Organisation
from storage.registry import find_district

MISSING_LISTED = 20  # files named one by one when some are missing or unreadable; then a count


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``export`` sub-command to the ``kexie`` parser."""
    export = sub.add_parser(
        "export", help="导出附件1-1/1-2/1-3及佐证材料 / export the annexes and the evidence bundle"
    )
    export.add_argument("annex", choices=CHOICES, help="1-3、1-1、1-2 或 all")
    export.add_argument(
        "--year",
        type=int,
        required=True,
        help="统计年度（上年截止日次日至当年截止日，默认11月30日），例如 2021",
    )
    where = export.add_mutually_exclusive_group(required=True)
    where.add_argument("--district", help="区（市）县名称，例如 锦江区")
    where.add_argument("--org", type=int, help="科协编号")
    where.add_argument("--city", action="store_true", help="全市（每个区县一张表，另加汇总表）")
    export.add_argument(
        "--from", dest="date_from", type=date.fromisoformat, help="起始日期 YYYY-MM-DD"
    )
    export.add_argument("--to", dest="date_to", type=date.fromisoformat, help="截止日期 YYYY-MM-DD")
    export.add_argument("--out", type=Path, required=True, help="输出文件夹")
    export.add_argument("--no-thumbnails", action="store_true", help="明细表不放缩略图")
    export.add_argument(
        "--approved-only",
        action="store_true",
        help="只导出区县科协已审核通过的活动（默认含待审核，不含已退回）",
    )
    export.set_defaults(func=cmd_export)


def _fail(line: str) -> int:
    print(line, file=sys.stderr)
    return 2


def describe(result: ExportResult) -> list[str]:
    """One line per file with its size, then the counts."""
    lines = [f"{path}  {human_size(path.stat().st_size)}" for path in result.files]
    lines.append(
        f"活动 {result.activities} 项，佐证文件 {result.evidence_files} 个，"
        f"企业科协 {result.enterprises} 个，功能区科协 {result.zones} 个"
    )
    if result.missing:
        lines.append(
            f"注意：{len(result.missing)} 个佐证文件在存储中找不到或读取失败，未放入压缩包："
        )
        lines.extend(f"  {name}" for name in result.missing[:MISSING_LISTED])
        if len(result.missing) > MISSING_LISTED:
            lines.append(f"  …… 另有 {len(result.missing) - MISSING_LISTED} 个")
    return lines


def empty_warnings(data: ExportData, result: ExportResult) -> list[str]:
    """One line per annex written without a single row, so an empty table is never a surprise
    (the files are still written: an empty form is what the office files for a quiet year)."""
    first, last = data.scope.period
    where = "全市" if data.scope.level == Level.CITY else data.name
    lines = []
    if "1-3" in data.annexes and not result.activities:
        which = "已通过审核的活动" if data.scope.approved_only else "活动报送"
        lines.append(
            f"注意：{where}在 {data.scope.year} 统计年度的 {format_date(first)}至"
            f"{format_date(last)} 没有任何{which}，附件1-3 仍已写出（空表）。 / Note: no "
            f"report falls in {first:%Y-%m-%d}..{last:%Y-%m-%d} for {where}; annex 1-3 was "
            "written empty."
        )
    for annex, count, kind in (
        ("1-1", result.enterprises, "企业科协"),
        ("1-2", result.zones, "产业功能区科协"),
    ):
        if annex in data.annexes and not count:
            lines.append(
                f"注意：{where}还没有登记任何{kind}，附件{annex} 仍已写出（空表）。 / Note: no "
                f"association of that kind is registered for {where}; annex {annex} was written "
                "empty."
            )
    return lines


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Resolve the scope, read the rows, write the files, print them with their sizes."""
    if (args.date_from is None) != (args.date_to is None):
        return _fail("--from 和 --to 需要同时给出。")
    if args.date_from and args.date_from > args.date_to:
        return _fail("--from 不能晚于 --to。")

    async def work() -> int:
        db = Database(settings.db_url)
        try:
            async with db.session() as session:
                if args.city:
                    scope_args: dict[str, object] = {"level": Level.CITY}
                    action, target = Action.EXPORT_CITY, Target()
                elif args.org is not None:
                    org = await session.get(Organisation, args.org)
                    if org is None:
                        return _fail(f"找不到编号为 {args.org} 的科协。")
                    scope_args = {"level": Level.ORG, "org_id": args.org}
                    action, target = Action.EXPORT, org_target(org.id, org.district_id)
                else:
                    district, match = await find_district(session, args.district)
                    if district is None:
                        return _fail(match.problem() or "")
                    scope_args = {"level": Level.DISTRICT, "district_id": district.id}
                    action, target = Action.EXPORT, district_target(district.id)
                # The CLI is the installation's operator; it asks the same policy as the chat.
                if not allowed(OPERATOR, action, target):
                    return _fail("无权导出这个范围。")
                scope = Scope(
                    year=args.year,
                    years=settings.years,
                    date_from=args.date_from,
                    date_to=args.date_to,
                    approved_only=args.approved_only,
                    **scope_args,  # type: ignore[arg-type]
                )
                data = await gather(session, scope, annexes_of(args.annex))
        finally:
            await db.dispose()
        result = write_exports(
            data,
            args.out,
            open_evidence_store(settings),
            settings.tz,
            thumbnails=not args.no_thumbnails,
        )
        for line in describe(result):
            print(line)
        for line in empty_warnings(data, result):
            print(line, file=sys.stderr)
        return 0

    upgrade(settings.db_url)
    return asyncio.run(work())
