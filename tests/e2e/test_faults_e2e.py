"""Fault injection: a whole report survives Bot API failures, every reply arriving exactly once.

The same script (``/report``, every answer, two photos, 完成, 提交) runs twice, each time on a
fresh installation: once with a healthy Bot API, once while the stand-in fails the methods the
bot uses (sendMessage, editMessageText, editMessageReplyMarkup, answerCallbackQuery, getFile and
the file download) with 5xx answers, timeouts and dropped connections at seeded random points.
The user must see the same conversation: nothing missing, nothing twice.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

import bot.app
import channels.telegram.retries
from core.enums import ActivityStatus
from storage.models import Activity, Evidence
from tests.harness import Kexie, seeded
from tests.standin import DOWNLOAD, FakeUser, StandIn, make_jpeg
from tests.steps import step_label

METHODS = (
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "getFile",
    DOWNLOAD,
)
FAULTS = (("status", 500), ("status", 502), ("status", 503), ("timeout", 0), ("reset", 0))
Transcript = list[tuple[str, ...]]


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short backoff and a 1 s read timeout, so a fault costs the test about a second at most."""
    monkeypatch.setattr(channels.telegram.retries, "RETRY_FIRST_DELAY", 0.05)
    monkeypatch.setattr(bot.app, "READ_TIMEOUT", 1.0)


@asynccontextmanager
async def installation(standin: StandIn, path: Path) -> AsyncIterator[Kexie]:
    """A fresh migrated installation whose bot polls ``standin``."""
    kexie = await seeded(Kexie(standin, path))
    await kexie.start()
    try:
        yield kexie
    finally:
        await kexie.stop()
        await kexie.db.dispose()


class Chaos:
    """Before each step of the script, maybe queue faults (seeded) on methods that step calls.

    ``uses`` (from the healthy run) says which methods each step calls; every method fails at
    least once, at a random step that calls it, and half the steps get one more fault.
    """

    def __init__(self, standin: StandIn, seed: int | None, uses: list[set[str]]) -> None:
        self.standin = standin
        self.uses = uses
        self.enabled = seed is not None
        self.step = 0
        self.seen: list[set[str]] = []
        self._mark = 0
        rng = self.rng = random.Random(seed)
        self.planned: dict[int, list[str]] = {}
        for method in METHODS:
            steps = [i for i, used in enumerate(uses) if method in used]
            if self.enabled:
                assert steps, f"the script never calls {method}"
                self.planned.setdefault(rng.choice(steps), []).append(method)

    def before_step(self) -> None:
        self._mark = len(self.standin.calls)
        if not self.enabled:
            return
        methods = list(self.planned.get(self.step, []))
        usable = sorted(m for m in self.uses[self.step] if m in METHODS)
        if usable and self.rng.random() < 0.5:
            methods.append(self.rng.choice(usable))
        for method in methods:
            kind, status = self.rng.choice(FAULTS)
            self.standin.fail_next(method, status or 500, kind=kind)

    def after_step(self) -> None:
        self.seen.append({c.method for c in self.standin.calls[self._mark :]})
        self.step += 1


STEPS = 14


async def script(user: FakeUser, chaos: Chaos) -> None:
    """The whole report, as a user would do it, step by step."""
    steps = [
        # 报送活动 takes the home's buttons away (editMessageReplyMarkup); 昨天 and 主办 are
        # echoed in their questions (editMessageText).
        ("send", "/start", "您好"),
        ("press", "报送活动", step_label("activity_date")),
        ("press", "昨天", step_label("name")),
        ("send", "青少年科技创新大赛辅导", step_label("content")),
        ("send", "组织园区工程师为中小学生讲解机器人搭建与编程。", step_label("role")),
        ("press", "主办", step_label("headcount")),
        ("send", "约80人", step_label("outcome")),
        ("send", "12支队伍完成作品，3支入围市级比赛。", step_label("evidence")),
        ("photo", "1", "现有佐证材料 1 个"),
        ("photo", "2", "现有佐证材料 2 个"),
        ("press", "完成", "请核对报送内容"),
        ("press", "提交", "已提交"),
        ("send", "/mine", "本单位的报送"),
        ("send", "/help", "/report"),
    ]
    assert len(steps) == STEPS
    for action, what, expected in steps:
        chaos.before_step()
        if action == "send":
            await user.send(what)
        elif action == "press":
            await user.press(what)
        else:
            await user.send_photo(make_jpeg(seed=int(what)))
        await user.expect_any(expected, timeout=30)
        await user.standin.wait_until_confirmed(timeout=30)
        chaos.after_step()


def transcript(user: FakeUser) -> Transcript:
    """What the user saw, in order: messages and edits (text, buttons), then the toasts."""
    seen: Transcript = [
        (m.kind, "edit" if m.edited else "new", m.text, *m.button_texts) for m in user._events
    ]
    seen += [("toast", a.text or "", a.data or "") for a in user.callback_answers]
    return seen


async def run(
    standin: StandIn, path: Path, user_id: int, seed: int | None, uses: list[set[str]]
) -> tuple[Transcript, list[set[str]]]:
    async with installation(standin, path) as kexie:
        org = await kexie.org("蓉城机器人科技有限公司科协")
        user = await kexie.member(user_id, "reporter", org=org)
        user.drain()
        before = len(user.callback_answers)
        chaos = Chaos(standin, seed, uses)
        await script(user, chaos)
        async with kexie.session() as session:
            reports = (await session.scalars(select(Activity))).all()
            assert [r.status for r in reports] == [ActivityStatus.SUBMITTED]
            evidence = await session.scalars(select(Evidence))
            assert len(evidence.all()) == 2
        user.callback_answers = user.callback_answers[before:]
        return transcript(user), chaos.seen


@pytest.mark.parametrize("seed", [11, 23, 47])
async def test_report_survives_injected_faults(standin: StandIn, tmp_path: Path, seed: int) -> None:
    healthy, uses = await run(standin, tmp_path / "healthy", 5001, None, [set()] * STEPS)
    assert standin.injected == []
    faulty, _ = await run(standin, tmp_path / "faulty", 5002, seed, uses)
    assert faulty == healthy
    unconsumed = {m: len(q) for m, q in standin._faults.items() if q}
    assert unconsumed == {}, f"faults never met: {unconsumed}"
    assert {c.method for c in standin.injected} == set(METHODS)
