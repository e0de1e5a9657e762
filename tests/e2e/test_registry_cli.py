"""A newcomer's CLI (issue 20): ``districts list``, ``org list`` (paged, by district), district
names as people type them, invites without Telegram, and a word when an export is empty."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from core.enums import OrgKind
from storage.evidence import open_evidence_store
from storage.registry import create_organisation, find_district
from tests.export_data import YEAR, seed_export_data
from tests.harness import CliResult, Kexie


async def _cli_env(kexie: Kexie, env: dict[str, str], *args: str) -> CliResult:
    """The ``kexie`` console script with extra environment variables."""
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "kexie"),
        *args,
        env={**kexie.env, **env},
        cwd=kexie.data_dir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return CliResult(proc.returncode, out.decode(), err.decode())


BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


@BOTH
async def test_district_names_as_typed_in_every_district_option(kexie_idle: Kexie) -> None:
    kexie = kexie_idle
    kexie.data_dir.mkdir(parents=True, exist_ok=True)
    added = await kexie.cli(
        "org", "add", "--district", "高新区", "--kind", "enterprise", "--name", "成都高新示例科协"
    )
    assert added.rc == 0, added.err
    async with kexie.session() as session:
        gaoxin, _ = await find_district(session, "成都高新区")
    assert gaoxin is not None
    listed = await kexie.cli("org", "list", "--district", "高新")
    assert listed.rc == 0, listed.err
    assert "成都高新示例科协" in listed.out and "成都高新区" in listed.out

    # A name that fits several districts: one line listing them, nothing done.
    for args in (
        ("org", "add", "--district", "新区", "--kind", "zone", "--name", "某科协"),
        ("org", "list", "--district", "新区"),
        ("invite", "--district", "新区"),
        ("export", "1-3", "--year", "2026", "--district", "新区", "--out", "x"),
        ("import", "1-1", "nope.xlsx", "--district", "新区"),
    ):
        if args[0] == "import":
            (kexie.data_dir / "nope.xlsx").write_bytes(b"")
        ambiguous = await kexie.cli(*args)
        assert ambiguous.rc == 2, (args, ambiguous.err)
        lines = [line for line in ambiguous.err.splitlines() if line.strip()]
        assert len(lines) == 1, (args, lines)
        assert lines[0].startswith("“新区”可能指")
        for name in ("四川天府新区成都直管区", "成都高新区", "成都东部新区"):
            assert name in lines[0]
    unknown = await kexie.cli("org", "list", "--district", "火星区")
    assert unknown.rc == 2 and "找不到区（市）县“火星区”" in unknown.err
    assert "kexie districts list" in unknown.err


@BOTH
async def test_districts_list_and_org_list_paged(kexie_idle: Kexie) -> None:
    kexie = kexie_idle
    kexie.data_dir.mkdir(parents=True, exist_ok=True)
    async with kexie.session() as session:
        jinjiang, _ = await find_district(session, "锦江区")
        qingyang, _ = await find_district(session, "青羊区")
        assert jinjiang is not None and qingyang is not None
        for number in range(1, 56):
            await create_organisation(
                session, jinjiang, OrgKind.ENTERPRISE, f"锦江示例{number:02d}科技有限公司科协"
            )
        await create_organisation(session, qingyang, OrgKind.ZONE, "青羊示例产业功能区科协")
        await session.commit()

    districts = await kexie.cli("districts", "list")
    assert districts.rc == 0, districts.err
    rows = [line.split() for line in districts.out.splitlines()]
    by_name = {row[-1]: row for row in rows if len(row) == 4 and row[0].isdigit()}
    assert len(by_name) == 23
    assert by_name["锦江区"][1:3] == ["55", "0"]
    assert by_name["青羊区"][1:3] == ["0", "1"]
    assert "共 23 个区（市）县" in districts.out

    first = await kexie.cli("org", "list", "--district", "锦江")
    assert first.rc == 0, first.err
    assert first.out.count("锦江示例") == 50
    assert "第 1/2 页，共 55 个科协；下一页加 --page 2" in first.out
    assert "青羊" not in first.out
    second = await kexie.cli("org", "list", "--district", "锦江区", "--page", "2")
    assert second.out.count("锦江示例") == 5 and "第 2/2 页，共 55 个科协。" in second.out
    assert "锦江示例55科技有限公司科协" in second.out
    beyond = await kexie.cli("org", "list", "--district", "锦江区", "--page", "3")
    assert beyond.rc == 2 and "只有 2 页" in beyond.err
    zones = await kexie.cli("org", "list", "--kind", "zone")
    assert zones.out.count("科协\n") == 1 and "青羊示例产业功能区科协" in zones.out
    named = await kexie.cli("org", "list", "--name", "示例07")
    assert "锦江示例07科技有限公司科协" in named.out and "共 1 个科协" in named.out
    nothing = await kexie.cli("org", "list", "--district", "金牛区")
    assert nothing.rc == 0 and "没有符合条件的科协" in nothing.out


async def test_invite_offline_needs_only_the_bot_username(kexie_idle: Kexie) -> None:
    kexie = kexie_idle
    kexie.data_dir.mkdir(parents=True, exist_ok=True)
    offline = {"KEXIE_TELEGRAM_API_URL": "http://127.0.0.1:9/bot"}  # nothing listens there
    refused = await _cli_env(kexie, offline, "invite", "--district", "锦江区")
    assert refused.rc == 2
    lines = [line for line in refused.err.splitlines() if line.strip()]
    assert len(lines) == 1 and "KEXIE_BOT_USERNAME" in lines[0] and "没有生成邀请" in lines[0]
    made = await _cli_env(
        kexie, {**offline, "KEXIE_BOT_USERNAME": "@chengdu_kexie_bot"}, "invite", "--city"
    )
    assert made.rc == 0, made.err
    assert made.out.startswith("https://t.me/chengdu_kexie_bot?start=")


async def test_an_empty_export_says_so_in_one_line_and_still_writes(kexie_idle: Kexie) -> None:
    kexie = kexie_idle
    kexie.data_dir.mkdir(parents=True, exist_ok=True)
    out = kexie.data_dir / "导出"
    result = await kexie.cli(
        "export", "all", "--year", "2021", "--district", "高新区", "--out", str(out)
    )
    assert result.rc == 0, result.err
    warnings = [line for line in result.err.splitlines() if line.startswith("注意：")]
    assert len(warnings) == 3, result.err
    assert warnings[0].startswith(
        "注意：成都高新区在 2021 统计年度的 2020年12月1日至2021年11月30日 没有任何活动报送，"
        "附件1-3 仍已写出（空表）。"
    )
    assert "还没有登记任何企业科协，附件1-1 仍已写出" in warnings[1]
    assert "还没有登记任何产业功能区科协，附件1-2 仍已写出" in warnings[2]
    assert sorted(p.suffix for p in out.iterdir()).count(".xlsx") == 3

    approved = await kexie.cli(
        "export", "1-3", "--year", "2021", "--city", "--approved-only", "--out", str(out / "c")
    )
    assert approved.rc == 0, approved.err
    assert (
        "注意：全市在 2021 统计年度" in approved.err and "没有任何已通过审核的活动" in approved.err
    )


async def test_an_export_with_rows_warns_of_nothing(kexie_idle: Kexie) -> None:
    kexie = kexie_idle
    kexie.data_dir.mkdir(parents=True, exist_ok=True)
    async with kexie.session() as session:
        await seed_export_data(session, open_evidence_store(kexie.settings))
    out = kexie.data_dir / "导出"
    result = await kexie.cli(
        "export", "all", "--year", str(YEAR), "--district", "锦江", "--out", str(out)
    )
    assert result.rc == 0, result.err
    assert "活动 0 项" not in result.out
    assert "注意：" not in result.err and "空表" not in result.err + result.out
