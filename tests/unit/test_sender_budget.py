"""The sender's periodic run keeps to its budget while a chat waits its second.

Two messages to one chat: the second must wait the per-chat interval (1 s). A run with a budget
shorter than that must not sleep past its budget waiting for it (the JobQueue would then skip
its next run as "maximum number of running instances reached", and the card waits a second
more); the next run sends it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

import scheduler.sender as sender_module
from core.address import Address
from core.enums import Channel
from scheduler import outbox
from scheduler.clock import ManualClock
from scheduler.messenger import Album, Outgoing
from scheduler.outbox import OutRow
from scheduler.sender import Sender
from storage.db import Database
from storage.models import Member
from tests.accounts import tg

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
BUDGET = 0.5  # seconds: the run's budget, well under the per-chat interval (1 s)


class Recorder:
    """A messenger that sends everything and records the chats."""

    def __init__(self) -> None:
        self.sent: list[Address] = []

    async def send_message(self, address: Address, message: Outgoing) -> str | None:
        self.sent.append(address)
        return str(len(self.sent))

    async def send_album(self, address: Address, album: Album) -> str | None:
        self.sent.append(address)
        return str(len(self.sent))


async def test_drain_never_sleeps_past_its_budget_for_a_waiting_chat(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.session() as session:
        member = Member(first_name="陈静")
        session.add(member)
        await session.flush()
        rows = [OutRow(k, tg(501), "test", {"text": k}, member.id) for k in ("first", "second")]
        await outbox.enqueue(session, rows, NOW)

    # Every sleep the sender asks for, as asked (then slept for real).
    asked: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float, *args: object) -> None:
        asked.append(delay)
        await real_sleep(delay)

    monkeypatch.setattr(sender_module.asyncio, "sleep", sleep)
    messenger = Recorder()
    the_sender = Sender(
        db, {Channel.TELEGRAM: messenger}, clock=ManualClock(NOW), rate=None, per_chat_interval=1.0
    )
    stats = await the_sender.drain(budget=BUDGET)
    assert stats.sent == 1 and messenger.sent == [tg(501)]
    # It waited for the chat's second only as long as its budget allowed.
    assert asked, "the run never waited for the chat"
    assert max(asked) <= BUDGET, f"slept {max(asked):.2f} s with a budget of {BUDGET} s"
    monkeypatch.setattr(sender_module.asyncio, "sleep", real_sleep)
    # The second message is sent by a later run, once the chat's second has passed.
    stats = await the_sender.drain(budget=2.0)
    assert stats.sent == 1 and messenger.sent == [tg(501), tg(501)]


async def test_a_run_beside_another_tolerates_the_waiting_chats_being_pruned(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's periodic run and a second drain share one Sender: while one awaits the
    database, the other may prune the chats waiting their second down to none (seen once in a
    loaded suite run as ``ValueError: min() arg is an empty sequence``)."""
    async with db.session() as session:
        member = Member(first_name="陈静")
        session.add(member)
        await session.flush()
        rows = [OutRow(k, tg(502), "test", {"text": k}, member.id) for k in ("first", "second")]
        await outbox.enqueue(session, rows, NOW)

    the_sender = Sender(
        db, {Channel.TELEGRAM: Recorder()}, clock=ManualClock(NOW), rate=None, per_chat_interval=1.0
    )
    real_due_rows = outbox.due_rows
    calls = 0

    async def due_rows(*args: object, **kwargs: object) -> list[outbox.Claimable]:
        nonlocal calls
        calls += 1
        found = await real_due_rows(*args, **kwargs)  # type: ignore[arg-type]
        if calls == 3:  # the "anything held for the waiting chats?" query: the other run prunes
            the_sender._chat_ready = {}
        return found

    monkeypatch.setattr(sender_module.outbox, "due_rows", due_rows)
    stats = await the_sender.drain(budget=2.0)
    assert stats.sent == 2
