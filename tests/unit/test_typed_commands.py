"""Commands typed by name and the help card's buttons, on a channel without a command menu
(issue 22: DingTalk), in memory (tests/memory_channel.py) with a real database."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from core.address import Address
from core.command_names import COMMAND, NAMES, CommandPressed, canonical
from core.enums import Channel, OrgKind, Role
from core.locales.en import TEXTS as EN
from core.locales.zh import TEXTS as ZH
from core.settings import load_settings
from core.texts import plain
from handlers.port import Incoming
from handlers.routes import handler_for, press_command
from storage.db import Database
from storage.members import create_invite, invite_by_token
from storage.registry import create_organisation, district_by_name
from tests.memory_channel import CAPS, MemoryChannel, MemoryUser
from tests.steps import step_label

NO_MENU = replace(CAPS, has_menu=False)


async def _channel(db: Database, tmp_path: Path, *, has_menu: bool = False) -> MemoryChannel:
    settings = load_settings(data_dir=tmp_path, database_url="sqlite+aiosqlite://")
    return MemoryChannel(db, settings, caps=NO_MENU if not has_menu else CAPS)


async def _join(db: Database, channel: MemoryChannel, user_id: int, role: Role) -> MemoryUser:
    async with db.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district is not None
        name = f"蓉城科技科协{user_id}"
        org = await create_organisation(session, district, OrgKind.ENTERPRISE, name)
        if role == Role.DISTRICT_ADMIN:
            invite = await create_invite(session, role=role, district_id=district.id)
        else:
            invite = await create_invite(session, role=role, org_id=org.id)
        token = invite.token
    user = channel.user(user_id)
    await user.send_text(f"/start {token}")
    user.new_messages()
    return user


async def test_the_help_card_offers_each_role_its_commands(db: Database, tmp_path: Path) -> None:
    channel = await _channel(db, tmp_path)
    reporter = await _join(db, channel, 7001, Role.REPORTER)
    await reporter.send_text("帮助")
    card = reporter.last()
    assert "直接发送命令的名称" in card.plain
    assert card.labels == ["主菜单", "报送", "我的报送", "计划", "设置", "取消"]
    assert all(len(row) <= 3 for row in card.buttons)

    admin = await _join(db, channel, 7002, Role.DISTRICT_ADMIN)
    await admin.send_text("/help")
    labels = admin.last().labels
    # The desk's commands, review first; nothing that would refuse them (no 报送).
    assert labels[:5] == ["主菜单", "审核", "报送情况", "催报", "导出"]
    assert "报送" not in labels and "我的报送" not in labels
    data = [b[1] for row in admin.last().buttons for b in row if isinstance(b, tuple)]
    assert all(COMMAND.parse(d) is not None for d in data)


async def test_with_a_command_menu_the_help_has_no_buttons(db: Database, tmp_path: Path) -> None:
    channel = await _channel(db, tmp_path, has_menu=True)
    reporter = await _join(db, channel, 7001, Role.REPORTER)
    await reporter.send_text("/help")
    assert reporter.last().buttons == ()
    assert "直接发送命令的名称" not in reporter.last().plain


async def test_a_help_button_runs_its_command(db: Database, tmp_path: Path) -> None:
    channel = await _channel(db, tmp_path)
    reporter = await _join(db, channel, 7001, Role.REPORTER)
    await reporter.send_text("我的")  # typed: the /mine answer
    typed = reporter.new_messages()
    assert [m.plain for m in typed] == [plain("zh", "mine_empty")]

    await reporter.send_text("帮助")
    help_card = reporter.last()
    reporter.new_messages()
    await reporter.press("我的报送")
    pressed = reporter.new_messages()
    assert [m.plain for m in pressed] == [m.plain for m in typed]
    assert help_card.buttons  # the card keeps its buttons: it can be pressed again
    assert reporter.toasts == []

    await reporter.press("报送", help_card)
    assert step_label("activity_date") in reporter.last().plain


async def test_a_forged_command_button_is_expired(db: Database, tmp_path: Path) -> None:
    channel = await _channel(db, tmp_path)
    reporter = await _join(db, channel, 7001, Role.REPORTER)
    await reporter._event("button", pressed="cmd:backup")
    assert reporter.toasts == [ZH["button_expired"]]


async def test_a_name_while_a_question_waits_is_the_answer(db: Database, tmp_path: Path) -> None:
    channel = await _channel(db, tmp_path)
    reporter = await _join(db, channel, 7001, Role.REPORTER)
    await reporter.send_text("报送 2021")  # typed with an argument: /report
    assert step_label("activity_date") in reporter.last().plain
    await reporter.send_text("昨天")
    assert step_label("name") in reporter.last().plain
    # 审核 names the review command, but here it is the activity's name: the next question.
    await reporter.send_text("审核")
    assert step_label("content") in reporter.last().plain
    # With the slash it is the command, as on Telegram (a reporter may not review).
    await reporter.send_text("／审核")
    assert reporter.last().plain == plain("zh", "not_allowed")
    # 取消 is no answer to any question: it leaves the report (keep or discard the draft).
    await reporter.send_text("取消")
    assert reporter.last().plain.startswith(plain("zh", "cancel_ask").splitlines()[0])


async def test_chinese_slash_commands_and_latin_case(db: Database, tmp_path: Path) -> None:
    channel = await _channel(db, tmp_path)
    reporter = await _join(db, channel, 7001, Role.REPORTER)
    await reporter.send_text("/我的")  # a front that hands it over as a command named 我的
    await reporter.send_text("MINE")
    assert [m.plain for m in reporter.new_messages()] == [plain("zh", "mine_empty")] * 2
    # A word that names nothing, outside any flow: the idle hint as before.
    await reporter.send_text("你好")
    assert reporter.last().plain == plain("zh", "idle_hint")


def test_the_codec_is_routed() -> None:
    event = Incoming(
        "button",
        "1",
        Address(Channel.TELEGRAM, "1"),
        "王芳",
        pressed=COMMAND.pack(CommandPressed("review")),
    )
    assert handler_for(event) is press_command


def test_the_help_buttons_say_a_name_that_can_be_typed_back() -> None:
    # What the button says is what the member types when they cannot press it.
    for command in NAMES:
        if command == "help":
            continue
        for texts in (ZH, EN):
            assert canonical(texts[f"btn_cmd_{command}"]) == command, (command, texts)


async def test_start_typed_without_the_slash_joins(db: Database, tmp_path: Path) -> None:
    channel = await _channel(db, tmp_path)
    async with db.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district is not None
        org = await create_organisation(session, district, OrgKind.ENTERPRISE, "蓉城开始科协")
        token = (await create_invite(session, role=Role.REPORTER, org_id=org.id)).token
    user = channel.user(7009)
    await user.send_text(f"开始 {token}")  # no slash: what a DingTalk user types
    assert any("蓉城开始科协" in m.plain for m in user.new_messages())


async def test_the_token_alone_joins_and_a_member_s_word_stays_an_answer(
    db: Database, tmp_path: Path
) -> None:
    channel = await _channel(db, tmp_path)
    async with db.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district is not None
        org = await create_organisation(session, district, OrgKind.ENTERPRISE, "蓉城令牌科协")
        token = (await create_invite(session, role=Role.REPORTER, org_id=org.id)).token
        other = (await create_invite(session, role=Role.REPORTER, org_id=org.id)).token
    user = channel.user(7010)
    await user.send_text(token)  # what the DingTalk user is told: the token alone
    assert any("蓉城令牌科协" in m.plain for m in user.new_messages())
    # A member's 24-character word is never taken for an invite: it uses no invite.
    await user.send_text(other)
    assert not any("蓉城令牌科协" in m.plain and "加入" in m.plain for m in user.new_messages())
    async with db.session() as session:
        unused = await invite_by_token(session, other)
        assert unused is not None and unused.uses == 0
