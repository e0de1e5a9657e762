"""One membership on two messengers: /settings' 连接钉钉 gives a one-time code, and ``/start CODE``
sent to the robot on DingTalk joins that DingTalk account to the same member (the same roles);
a used, expired, misdirected or foreign code joins nothing. Through the in-memory channel (the
conversation port, a real database), a DingTalk person being one whose address is DingTalk's."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from core.address import Address
from core.enums import Channel, OrgKind, Role
from core.settings import Settings, load_settings
from services.members import LINK_MINUTES, is_link_code, link_account, link_code
from storage.db import Database
from storage.members import create_invite, joining_member, load_actor, member_by_address
from storage.models import ChannelAccount, LinkCode, utcnow
from storage.registry import create_organisation, district_by_name
from tests.harness import TOKEN
from tests.memory_channel import MemoryChannel, MemoryUser


class DingTalkUser(MemoryUser):
    """A person on DingTalk (their address is DingTalk's staff id; ids apart from Telegram's)."""

    @property
    def address(self) -> Address:
        return Address(Channel.DINGTALK, str(self.user_id))


def on_dingtalk(channel: MemoryChannel, user_id: int, name: str = "王芳") -> DingTalkUser:
    user = DingTalkUser(channel, user_id, name)
    channel.people[str(user_id)] = user
    return user


def both(tmp_path: Path) -> Settings:
    return load_settings(
        data_dir=tmp_path,
        database_url="sqlite+aiosqlite://",
        bot_token=TOKEN,
        dingtalk_client_id="dingapp0001",
        dingtalk_client_secret="app-secret-0123456789",
    )


async def reporter_token(db: Database) -> str:
    async with db.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district is not None
        org = await create_organisation(session, district, OrgKind.ENTERPRISE, "蓉城科技科协")
        invite = await create_invite(session, role=Role.REPORTER, org_id=org.id, uses=5)
        return invite.token


def code_in(text: str) -> str:
    found = re.search(r"/start ([A-Z0-9]{8})", text)
    assert found, text
    return found.group(1)


async def test_connect_dingtalk_from_settings_and_send_the_code_there(
    db: Database, tmp_path: Path
) -> None:
    channel = MemoryChannel(db, both(tmp_path))
    telegram = channel.user(7001, "王芳")
    await telegram.send_text(f"/start {await reporter_token(db)}")
    await telegram.send_text("/settings")
    assert "连接钉钉" in telegram.last().labels and "连接 Telegram" not in telegram.last().labels
    await telegram.press("连接钉钉")
    code = code_in(telegram.last().plain)
    assert "15 分钟内有效" in telegram.last().plain

    dingtalk = on_dingtalk(channel, 9001, "王芳")
    await dingtalk.send_text(f"/start {code.lower()}")  # typed on a phone: any case
    said = [m.plain for m in dingtalk.new_messages()]
    assert any("已连接：这个钉钉账号" in text for text in said), said
    assert any("报送员" in text and "蓉城科技科协" in text for text in said), said

    async with db.session() as session:
        on_tg = await member_by_address(session, telegram.address)
        on_dt = await member_by_address(session, dingtalk.address)
        assert on_tg is not None and on_dt is not None and on_tg.id == on_dt.id
        assert (await load_actor(session, on_dt)).has(Role.REPORTER)
    # Used: the code works once; /settings no longer offers DingTalk, nor Telegram on DingTalk.
    again = on_dingtalk(channel, 9002)
    await again.send_text(f"/start {code}")
    assert [m.plain[:12] for m in again.new_messages()] == ["这个连接码无效、已用过或"]
    await telegram.send_text("/settings")
    assert not [label for label in telegram.last().labels if "连接" in label]
    await dingtalk.send_text("/settings")
    assert not [label for label in dingtalk.last().labels if "连接" in label]
    dingtalk.new_messages()
    await dingtalk.send_text(f"/start {code}")
    assert "已用过" in dingtalk.new_messages()[0].plain


async def test_codes_for_the_wrong_place_or_person_join_nothing(
    db: Database, tmp_path: Path
) -> None:
    channel = MemoryChannel(db, both(tmp_path))
    token = await reporter_token(db)
    telegram = channel.user(7011, "王芳")
    await telegram.send_text(f"/start {token}")
    await telegram.send_text("/settings")
    await telegram.press("连接钉钉")
    code = code_in(telegram.last().plain)
    # Sent back on Telegram by mistake: refused, and the code still works on DingTalk.
    telegram.new_messages()
    await telegram.send_text(f"/start {code}")
    assert "发给另一个应用里的机器人" in telegram.new_messages()[0].plain
    # A DingTalk account that is already someone else's member is not merged.
    other = on_dingtalk(channel, 9011, "李明")
    await other.send_text(f"/start {token}")
    other.new_messages()
    await other.send_text(f"/start {code}")
    assert "已经是另一位成员" in other.new_messages()[0].plain
    async with db.session() as session:
        accounts = (await session.scalars(select(ChannelAccount))).all()
        assert sorted((a.channel, a.external_id) for a in accounts) == [
            ("dingtalk", "9011"),
            ("telegram", "7011"),
        ]


async def test_an_expired_code_joins_nothing(db: Database) -> None:
    now = utcnow()
    async with db.session() as session:
        member = await joining_member(
            session,
            Address(Channel.TELEGRAM, "7021"),
            first_name="王芳",
            username=None,
            language="zh",
        )
        made = await link_code(session, member, Channel.DINGTALK, now=now)
        assert made is not None and is_link_code(made.code)
        assert await link_code(session, member, Channel.TELEGRAM, now=now) is None  # has one
        code = made.code
    there = Address(Channel.DINGTALK, "9021")
    async with db.session() as session:
        late = now + timedelta(minutes=LINK_MINUTES, seconds=1)
        linked = await link_account(session, code, address=there, username=None, now=late)
        assert linked.key == "link_code_invalid"
        assert await member_by_address(session, there) is None
        stored = await session.scalar(select(LinkCode).where(LinkCode.code == code))
        assert stored is not None and stored.used_at is None
    async with db.session() as session:  # in time, the same code still works
        linked = await link_account(session, code, address=there, username=None, now=now)
        assert linked.member is not None and linked.member.id == member.id


def test_link_codes_and_invite_tokens_do_not_look_alike() -> None:
    assert is_link_code("K7XH3PQM") and is_link_code(" k7xh3pqm ")
    assert not is_link_code("K7XH3PQ0")  # 0 is not in the alphabet
    assert not is_link_code("abcdefghijklmnopqrstuvwx")  # an invite token's length
