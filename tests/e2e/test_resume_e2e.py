"""Nothing is lost: an update delivered again is applied once. (A bot process killed mid-report
and started again: ``tests/e2e/test_channels_e2e.py``, on both channels.)"""

from __future__ import annotations

from sqlalchemy import select
from telegram import Update

from core.enums import Channel
from storage.models import Activity, Member
from tests.harness import Kexie
from tests.steps import next_field, step_label

SLOW = 30.0  # a fresh process needs a moment to import, migrate and start polling


async def test_redelivered_update_is_not_applied_twice(kexie: Kexie) -> None:
    """Telegram re-sends updates a crashed bot never confirmed: each is applied once."""
    org = await kexie.org("温江生物医药科协", district="温江区")
    user = await kexie.member(8002, "reporter", org=org)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.send("昨天")
    await user.expect_any(step_label("name"))
    await user.send("医药政策宣讲")
    following = next_field("name")  # the content's question today
    await user.expect_any(step_label(following))
    # Re-deliver the last update with its id (as after a crash between commit and confirmation).
    async with kexie.session() as session:
        member = await session.scalar(select(Member))
        account = member.account(Channel.TELEGRAM) if member is not None else None
        assert account is not None and account.last_update_id is not None
        last_id = account.last_update_id
    assert kexie.app is not None
    replay = Update.de_json(
        {
            "update_id": last_id,
            "message": {
                "message_id": 999,
                "date": 1_700_000_000,
                "text": "医药政策宣讲",
                "chat": {"id": user.chat_id, "type": "private", "first_name": user.first_name},
                "from": {"id": user.user_id, "is_bot": False, "first_name": user.first_name},
            },
        },
        kexie.app.bot,
    )
    await kexie.app.process_update(replay)
    # the question is asked again; nothing is stored twice
    again = await user.expect_any(step_label(following))
    assert again is not None
    async with kexie.session() as session:
        activity = await session.scalar(select(Activity))
        assert activity is not None
        assert activity.name == "医药政策宣讲" and getattr(activity, following) is None
