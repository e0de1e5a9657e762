"""``kexie invite`` on each configured channel: the Telegram link alone as before (scripts read
it), DingTalk's instructions beside it, and DingTalk alone with no bot token at all."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.harness import CliResult, Kexie

DINGTALK = {
    "KEXIE_DINGTALK_CLIENT_ID": "dingapp0001",
    "KEXIE_DINGTALK_CLIENT_SECRET": "app-secret-0123456789",
}


async def invite(kexie: Kexie, env: dict[str, str], *args: str) -> CliResult:
    """``kexie invite`` with extra environment (a value of "" removes the variable)."""
    kexie.data_dir.mkdir(parents=True, exist_ok=True)
    merged = {k: v for k, v in {**kexie.env, **env}.items() if v != ""}
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "kexie"),
        "invite",
        *args,
        env=merged,
        cwd=kexie.data_dir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return CliResult(proc.returncode, out.decode(), err.decode())


async def test_telegram_alone_prints_the_link_alone(kexie_idle: Kexie) -> None:
    made = await invite(kexie_idle, {"KEXIE_BOT_USERNAME": "chengdu_kexie_bot"}, "--city")
    assert made.rc == 0, made.err
    assert made.out.count("\n") == 1 and made.out.startswith(
        "https://t.me/chengdu_kexie_bot?start="
    )
    assert "钉钉" not in made.out


async def test_both_channels_print_the_link_then_what_a_dingtalk_user_does(
    kexie_idle: Kexie,
) -> None:
    env = {
        **DINGTALK,
        "KEXIE_BOT_USERNAME": "chengdu_kexie_bot",
        "KEXIE_WEB_URL": "https://kexie.example.cn/console",
    }
    made = await invite(kexie_idle, env, "--district", "锦江区")
    assert made.rc == 0, made.err
    link, chat, page = made.out.strip().splitlines()
    token = link.rsplit("=", 1)[1]
    assert link == f"https://t.me/chengdu_kexie_bot?start={token}"
    assert chat == f"钉钉：在钉钉里打开与本应用机器人的单聊，发送：/start {token}（或只发 {token}）"
    assert page == f"钉钉内打开即加入：https://kexie.example.cn/console/dingtalk/join/{token}"


async def test_dingtalk_alone_needs_no_bot_token(kexie_idle: Kexie) -> None:
    env = {**DINGTALK, "KEXIE_BOT_TOKEN": "", "KEXIE_TELEGRAM_API_URL": "http://127.0.0.1:9/bot"}
    made = await invite(kexie_idle, env, "--city")
    assert made.rc == 0, made.err
    lines = made.out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("钉钉：") and "t.me" not in made.out
    assert made.err == ""


async def test_an_unreachable_bot_api_with_dingtalk_still_invites_there(kexie_idle: Kexie) -> None:
    """In mainland China the Bot API may be out of reach: DingTalk's way still gets printed."""
    env = {**DINGTALK, "KEXIE_TELEGRAM_API_URL": "http://127.0.0.1:9/bot"}
    made = await invite(kexie_idle, env, "--city")
    assert made.rc == 0, made.err
    assert "KEXIE_BOT_USERNAME" in made.err and "不打印 Telegram 链接" in made.err
    assert made.out.startswith("钉钉：") and "t.me" not in made.out
