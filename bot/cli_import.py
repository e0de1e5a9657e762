"""``kexie import 1-1|1-2 FILE.xlsx --district NAME``: load a district's registry spreadsheet.

All-or-nothing (see storage/importer.py): with any error nothing is imported and every error
is printed with its row and column; a re-import updates associations matched by name.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
from pathlib import Path
from typing import Any

from core.policy import OPERATOR
from core.settings import Settings
from core.texts import plain
from services import registry
from storage.db import Database
from storage.import_sheet import ANNEXES
from storage.importer import error_lines, note_lines, read_sheet_isolated
from storage.migrate import upgrade
from storage.models import utcnow
from storage.registry import find_district


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import an annex 1-1 or 1-2 spreadsheet into one district's registry."""
    path = Path(args.file)
    if not path.is_file():
        print(f"找不到文件：{path}", file=sys.stderr)
        return 2
    text = functools.partial(plain, "zh")
    today = utcnow().astimezone(settings.tz).date()

    async def work() -> int:
        # The same bounded reader as the bot: zip bounds first, streamed rows, a child process
        # with a memory limit, so a hostile file cannot take the operator's machine either.
        sheet = await read_sheet_isolated(path, args.annex, today)
        db = Database(settings.db_url)
        try:
            async with db.session() as session:
                district, match = await find_district(session, args.district)
                if district is None:
                    print(match.problem(), file=sys.stderr)
                    return 2
                imported = await registry.import_sheet(
                    session, OPERATOR, district, sheet, args.annex, today
                )
                result = imported.result
                if result is None:
                    print(text(imported.key or registry.NOT_ALLOWED), file=sys.stderr)
                    return 2
                if not result.ok:
                    print(
                        f"{path.name}：发现 {len(result.errors)} 处问题，没有导入任何内容。",
                        file=sys.stderr,
                    )
                    for line in error_lines(result, text, limit=200):
                        print(line, file=sys.stderr)
                    return 1
                print(
                    text(
                        "imp_done",
                        annex=result.annex,
                        district=district.name,
                        created=len(result.created),
                        updated=len(result.updated),
                    )
                )
                for name in result.created:
                    print(f"  + {name}")
                for name in result.updated:
                    print(f"  ~ {name}")
                for line in note_lines(result.notes, text, limit=200):
                    print(line)
                return 0
        finally:
            await db.dispose()

    upgrade(settings.db_url)
    return asyncio.run(work())


def register(sub: Any) -> None:
    """Add the ``import`` sub-command to the CLI's sub-parsers."""
    parser = sub.add_parser(
        "import", help="导入附件1-1/1-2格式的登记表 / import a registry spreadsheet"
    )
    parser.add_argument("annex", choices=sorted(ANNEXES), help="1-1=企业科协, 1-2=产业功能区科协")
    parser.add_argument("file", help="Excel 文件（.xlsx）")
    parser.add_argument("--district", required=True, help="区（市）县名称，例如 锦江区")
    parser.set_defaults(func=cmd_import)
