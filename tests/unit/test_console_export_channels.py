"""A console export sent in chat goes through the channel of the admin's address: with DingTalk
served beside Telegram, a DingTalk admin's files go through DingTalk's front (``kexie run`` puts
it in the bot's data), never to Telegram."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.app import build_application
from bot.console import DINGTALK_FRONT, partial_send_export
from channels.dingtalk.front import CAPABILITIES
from core.address import Address
from core.enums import Channel
from core.settings import load_settings
from storage.db import Database
from tests.harness import TOKEN


class RecordingFront:
    """What the export sender asks of a front, recorded."""

    channel = Channel.DINGTALK
    caps = CAPABILITIES

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, to: Address, text: str, buttons: Any = None) -> str:
        self.sent.append(("text", text))
        return "ref"

    async def send_file(self, to: Address, path: Path) -> None:
        self.sent.append(("file", path.name))

    async def retrying(self, call: Callable[[], Awaitable[Any]], *, what: str) -> Any:
        return await call()


async def test_a_dingtalk_admin_s_console_export_goes_through_dingtalk(tmp_path: Path) -> None:
    settings = load_settings(bot_token=TOKEN, data_dir=tmp_path)
    app = build_application(settings, Database(settings.db_url))
    front = RecordingFront()
    app.bot_data[DINGTALK_FRONT] = front
    sheet = tmp_path / "附件1-3_2026年锦江区.xlsx"
    sheet.write_bytes(b"PK\x03\x04 a workbook")
    send = partial_send_export(app)
    await send(Address(Channel.DINGTALK, "staff1"), "zh", "附件1-3 · 锦江区", [sheet], 7)
    assert front.sent[0][0] == "text" and "附件1-3 · 锦江区" in front.sent[0][1]
    assert front.sent[1:] == [("file", sheet.name)]
