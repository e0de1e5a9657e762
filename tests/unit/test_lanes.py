"""The Bot API's two lanes (bot/lanes.py), on a fake clock: waits are counted, never timed."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.lanes import LaneRateLimiter
from channels.telegram.messenger import BROADCAST


class FakeTime:
    """A clock that moves only when someone sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def limiter(time: FakeTime, **kwargs: Any) -> LaneRateLimiter:
    return LaneRateLimiter(clock=time.clock, sleep=time.sleep, **kwargs)


class Api:
    """A Bot API that records when each request ran and can answer 429 first."""

    def __init__(self, time: FakeTime) -> None:
        self.time = time
        self.calls: list[tuple[str, float]] = []
        self.refuse: list[float] = []  # retry_after of the next requests to refuse

    def call(self, name: str) -> Any:
        async def run() -> bool:
            self.calls.append((name, self.time.now))
            if self.refuse:
                raise RetryAfter(int(self.refuse.pop(0)))
            return True

        return run


async def send(
    lanes: LaneRateLimiter, api: Api, name: str, chat: int | None = 1, *, broadcast: bool = False
) -> Any:
    data: dict[str, Any] = {} if chat is None else {"chat_id": chat}
    token = BROADCAST.set(broadcast)
    try:
        return await lanes.process_request(api.call(name), (), {}, "sendMessage", data, None)
    finally:
        BROADCAST.reset(token)


async def test_a_chat_may_burst_then_is_paced_to_one_a_second() -> None:
    time = FakeTime()
    lanes, api = limiter(time, burst=3, per_chat_rate=1.0), Api(time)
    for n in range(5):
        await send(lanes, api, f"r{n}", chat=7)
    starts = [at - 1000.0 for _, at in api.calls]
    assert starts[:3] == [0.0, 0.0, 0.0]  # the burst goes at once
    assert starts[3] == pytest.approx(1.0)  # then one per second
    assert starts[4] == pytest.approx(2.0)


async def test_other_chats_are_not_held_by_a_busy_one() -> None:
    time = FakeTime()
    lanes, api = limiter(time, burst=1, per_chat_rate=1.0), Api(time)
    await send(lanes, api, "a1", chat=1)
    for chat in range(2, 60):  # more chats than the overall ceiling: replies are not capped
        await send(lanes, api, f"x{chat}", chat=chat)
    assert time.sleeps == []
    await send(lanes, api, "a2", chat=1)
    assert time.sleeps == [pytest.approx(1.0)]


async def test_broadcasts_keep_to_their_budget() -> None:
    time = FakeTime()
    lanes, api = limiter(time, broadcast_rate=5.0), Api(time)
    for n in range(11):
        await send(lanes, api, f"b{n}", chat=100 + n, broadcast=True)
    starts = [at - 1000.0 for _, at in api.calls]
    # Evenly spaced at the budget: 10 intervals of 0.2 s, whatever the chats.
    assert starts[-1] == pytest.approx(2.0)
    assert all(b - a == pytest.approx(0.2) for a, b in itertools.pairwise(starts))


async def test_an_album_counts_one_message_per_file() -> None:
    time = FakeTime()
    lanes = limiter(time, broadcast_rate=5.0)
    token = BROADCAST.set(True)
    try:
        await lanes.acquire_broadcast(5)
        await lanes.acquire_broadcast(1)
    finally:
        BROADCAST.reset(token)
    assert time.now - 1000.0 == pytest.approx(1.0)


async def test_broadcasts_yield_to_replies() -> None:
    """Replies that fill the overall ceiling go at once; the broadcast waits for what is left."""
    time = FakeTime()
    lanes, api = limiter(time, broadcast_rate=25.0, overall=30), Api(time)
    for chat in range(30):
        await send(lanes, api, f"reply{chat}", chat=chat)
    await send(lanes, api, "broadcast", chat=999, broadcast=True)
    await send(lanes, api, "late reply", chat=31)
    names = [n for n, _ in api.calls]
    assert names[:30] == [f"reply{c}" for c in range(30)]
    assert time.sleeps  # the broadcast waited ...
    broadcast_at = dict(api.calls)["broadcast"]
    assert broadcast_at - 1000.0 == pytest.approx(1.0)  # ... until the replies' second passed


async def test_a_waiting_broadcast_does_not_hold_a_reply() -> None:
    time = FakeTime()
    lanes, api = limiter(time, broadcast_rate=1.0), Api(time)
    await send(lanes, api, "b1", chat=500, broadcast=True)
    waiting = asyncio.create_task(send(lanes, api, "b2", chat=501, broadcast=True))
    await asyncio.sleep(0)
    # The reply is sent before the waiting broadcast, without waiting itself.
    await send(lanes, api, "reply", chat=3)
    await waiting
    assert [n for n, _ in api.calls] == ["b1", "reply", "b2"]


async def test_a_429_on_a_reply_pauses_that_chat_and_is_sent_once_more() -> None:
    time = FakeTime()
    lanes, api = limiter(time), Api(time)
    api.refuse = [3]
    assert await send(lanes, api, "reply", chat=9) is True
    assert [n for n, _ in api.calls] == ["reply", "reply"]  # one retry, by this layer only
    assert api.calls[1][1] - api.calls[0][1] == pytest.approx(3.0)
    # Another chat was never paused.
    before = time.now
    await send(lanes, api, "other", chat=10)
    assert time.now == before


async def test_a_429_repeated_on_a_reply_is_raised_after_one_retry() -> None:
    time = FakeTime()
    lanes, api = limiter(time), Api(time)
    api.refuse = [1, 1]
    with pytest.raises(RetryAfter):
        await send(lanes, api, "reply", chat=9)
    assert len(api.calls) == 2


async def test_a_429_on_a_broadcast_pauses_that_chat_retries_once_then_is_raised() -> None:
    time = FakeTime()
    lanes, api = limiter(time, broadcast_rate=100.0), Api(time)
    api.refuse = [5, 5]
    with pytest.raises(RetryAfter):
        await send(lanes, api, "b1", chat=200, broadcast=True)
    assert len(api.calls) == 2  # once more here; then the sender postpones the row
    assert api.calls[1][1] - api.calls[0][1] == pytest.approx(5.0)
    before = time.now
    await send(lanes, api, "reply", chat=201)  # other chats are not paused by it
    await send(lanes, api, "b2", chat=202, broadcast=True)
    assert time.now - before < 0.1


async def test_get_updates_is_never_paced() -> None:
    time = FakeTime()
    lanes, api = limiter(time, burst=1), Api(time)
    for _ in range(5):
        await lanes.process_request(api.call("poll"), (), {}, "getUpdates", {}, None)
    assert time.sleeps == [] and len(api.calls) == 5


async def test_idle_chats_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.lanes.MAX_CHATS", 10)
    time = FakeTime()
    lanes, api = limiter(time, burst=2), Api(time)
    for chat in range(10):
        await send(lanes, api, "r", chat=chat)
    time.now += 5.0  # everyone has refilled
    await send(lanes, api, "r", chat=99)
    assert len(lanes._chats) <= 10
