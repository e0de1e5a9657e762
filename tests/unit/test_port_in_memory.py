"""The conversation port is real: a flow runs in memory through the in-memory channel
(tests/memory_channel.py) — an ``Incoming`` event in, the outputs recorded — with a real
database, no HTTP and no python-telegram-bot (issue 21, item 2). Whole walks are in
test_memory_walks.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.enums import OrgKind, Role
from core.settings import load_settings
from handlers.port import Reply
from storage.db import Database
from storage.members import create_invite
from storage.registry import create_organisation, district_by_name
from tests.memory_channel import CAPS, MemoryChannel
from tests.steps import step_label

ROOT = Path(__file__).resolve().parents[2]


async def test_start_and_the_first_report_questions_run_in_memory(
    db: Database, tmp_path: Path
) -> None:
    settings = load_settings(data_dir=tmp_path, database_url="sqlite+aiosqlite://")
    async with db.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district is not None
        org = await create_organisation(session, district, OrgKind.ENTERPRISE, "蓉城科技科协")
        invite = await create_invite(
            session, role=Role.REPORTER, org_id=org.id, uses=1, days=7, created_by=None
        )
        token = invite.token
    channel = MemoryChannel(db, settings)
    user = channel.user(7001, "王芳")

    await user.send_text(f"/start {token}")
    assert any("蓉城科技科协" in m.plain for m in user.new_messages())
    # The menu is the channel's business: asked for through the port, after the commit.
    assert user.menus == ["zh"]

    await user.send_text("/report")
    assert any(step_label("activity_date") in m.plain for m in user.new_messages())
    second = await user.send_text("昨天")
    assert any(step_label("name") in m.plain for m in user.new_messages())
    # Each output fits the channel's capabilities.
    for output in second.outbox:
        assert isinstance(output, Reply) and len(output.text) <= CAPS.max_text


def test_the_flows_import_no_telegram() -> None:
    """Below the adapter nothing knows Telegram: importing every flow loads no ``telegram``."""
    code = (
        "import sys, pkgutil, importlib, handlers\n"
        "for m in pkgutil.walk_packages(handlers.__path__, 'handlers.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n == 'telegram' or n.startswith('telegram.'))\n"
        "print(len(bad), bad[:3])\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
