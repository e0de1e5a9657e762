"""An update is never applied twice, even when several of one chat come again.

With chats handled concurrently, a chat's updates can all be handled while an earlier update of
another chat holds the confirmed offset back; after a crash Telegram delivers them all again. The
first is recognised and its question asked again; the later ones must be recognised too, not
taken for answers to the question the chat has moved on to.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Update

from channels.telegram import unit as common
from core.report_steps import Step
from storage.models import Activity, ChatState, Member
from tests.accounts import at_telegram
from tests.harness import Kexie
from tests.standin import FakeUser
from tests.steps import step_label


async def _state_and_activity(kexie: Kexie, user: FakeUser) -> tuple[ChatState, Activity]:
    async with kexie.session() as session:
        member = await session.scalar(select(Member).where(at_telegram(user.user_id)))
        assert member is not None
        state = await session.get(ChatState, member.id)
        activity = await session.scalar(select(Activity).where(Activity.author_id == member.id))
    assert state is not None and activity is not None
    return state, activity


async def test_a_chats_handled_updates_delivered_again_are_not_applied(
    kexie: Kexie, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await kexie.org("蓉城电子科技有限公司科协")
    slow = await kexie.member(6601, "reporter", org=org, first_name="甲")
    user = await kexie.member(6602, "reporter", org=org, first_name="乙")
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.send("昨天")
    await user.expect_any(step_label("name"))

    stuck = asyncio.Event()
    release = asyncio.Event()
    send_replies = common._send_replies

    async def held(update: Update, turn: Any) -> None:
        # The slow user's update is handled but not done (its reply held, as through a Bot API
        # outage): every later update stays unconfirmed behind it.
        if update.effective_user is not None and update.effective_user.id == slow.user_id:
            stuck.set()
            await release.wait()
        await send_replies(update, turn)

    monkeypatch.setattr(common, "_send_replies", held)
    await slow.send("/help")
    await asyncio.wait_for(stuck.wait(), 10)
    await user.send("技术沙龙")
    await user.expect_any(step_label("content"))
    await user.send("邀请专家讲解政策，面向园区企业。")
    await user.expect_any(step_label("role"))
    await user.send("主办")
    await user.expect_any(step_label("headcount"))
    assert len(kexie.standin.pending_updates) == 4  # the slow one and the three answers

    # The process goes away (the held update is cancelled); a new one gets all four again.
    await kexie.stop()
    release.set()
    user.drain()
    await kexie.start()
    await kexie.standin.wait_until_confirmed()
    replies = [m.text for m in user.drain()]
    # The first answer seen again asks the current question again; nothing else is said.
    assert replies and all(step_label("headcount") in text for text in replies), replies
    state, activity = await _state_and_activity(kexie, user)
    assert state.step == Step.HEADCOUNT
    assert activity.name == "技术沙龙" and activity.role == "主办" and activity.headcount is None
    assert activity.content == "邀请专家讲解政策，面向园区企业。"
