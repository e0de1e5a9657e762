"""The benchmarks' floor bot (``benchmarks/floor_bot.py``) does the Bot API work of kexie's report
walk, call for call, and stores what kexie must store: otherwise kexie / floor in
``benchmarks/processes.py --floor`` would read against a yardstick that skips work."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.conversation import echo_steps, kexie_steps
from benchmarks.floor_bot import PostgresStore, SQLiteStore, Store, build_floor
from tests.harness import TOKEN, Kexie
from tests.journeys import reporter
from tests.standin import FakeUser, StandIn

IGNORED = {"getupdates"}


async def _walk(user: FakeUser, kexie: bool) -> None:
    for step in kexie_steps(user) if kexie else echo_steps(user):
        await step.take(user, timeout=10.0)


def _calls(standin: StandIn, since: int) -> Counter[str]:
    return Counter(c.method for c in standin.calls[since:] if c.method.lower() not in IGNORED)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_the_floor_bot_makes_kexies_calls_and_stores_every_answer(
    kexie: Kexie, backend: str | None, tmp_path: Path
) -> None:
    user = await reporter(kexie, user_id=50_000_000)
    await kexie.standin.wait_until_confirmed()
    since = len(kexie.standin.calls)
    await _walk(user, kexie=True)
    await kexie.standin.wait_until_confirmed()
    walked = _calls(kexie.standin, since)

    store: Store
    if backend is None:
        store = SQLiteStore(str(tmp_path / "floor.sqlite3"))
    else:  # the same fresh database as kexie's: the floor's tables have names of their own
        store = PostgresStore(backend.replace("postgresql+asyncpg://", "postgresql://"))
    async with StandIn(TOKEN) as standin:
        app = build_floor(TOKEN, standin.base_url, standin.base_file_url, store, tmp_path / "files")
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        since = len(standin.calls)
        try:
            await _walk(standin.user(50_000_000, "用户"), kexie=False)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
        floor = _calls(standin, since)
        assert standin.errors == []

    assert floor == walked, (floor, walked)
    assert floor["getFile"] == 2 and floor["editMessageText"] == 1
    row = await store.run(
        ("SELECT answers, files, status FROM floor_drafts WHERE chat = $1", ("50000000",))
    )
    assert row is not None
    answers, files, status = row
    assert [json.loads(a) for a in answers.splitlines()][1] == "技术沙龙50000000"
    assert (len(answers.splitlines()), files, status) == (6, 2, "submitted")
    assert len([p for p in (tmp_path / "files").rglob("*") if p.is_file()]) == 2
    if isinstance(store, PostgresStore):
        await store.pool.close()
