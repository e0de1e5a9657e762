"""Staged column writes (storage/column_writes.py, issue 23): the hot path's few columns per
update are written without the ORM's unit of work, and still exactly as the ORM would — before
any query of the session sees the row, with the commit (on SQLite in the COMMIT's trip to the
connection's thread), never after a rollback, never out of order with an ORM change."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from storage import chat_state, reports
from storage.column_writes import STAGED, set_columns
from storage.db import Database, _OneTripConnection
from storage.models import Activity, ChannelAccount, ChatState
from tests.drafts import draft_at_name_step
from tests.sql import statements

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)


async def _stored(db: Database, member_id: int) -> tuple[str, Any]:
    async with db.session() as session:
        row = (
            await session.execute(
                select(ChatState.step, ChatState.updated_at).where(ChatState.member_id == member_id)
            )
        ).one()
        return row[0], row[1]


async def test_written_with_the_commit_and_seen_at_once(db: Database) -> None:
    _, member_id = await draft_at_name_step(db)
    _, stamped_before = await _stored(db, member_id)
    async with db.session() as session:
        state = await chat_state.get_state(session, member_id)
        assert state is not None
        with statements(db) as seen:
            await chat_state.set_state(session, member_id, "report", "content", None, {"a": 1})
        assert seen == []  # nothing yet: it waits for the commit (or a query)
        assert state.step == "content" and state.data == {"a": 1}  # on the object at once
        assert state.updated_at > stamped_before  # its onupdate column too
        with statements(db) as seen:
            pass
    step, stamped = await _stored(db, member_id)
    assert step == "content" and stamped == state.updated_at


async def test_a_query_after_the_write_sees_it(db: Database) -> None:
    activity_id, member_id = await draft_at_name_step(db)
    async with db.session() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None
        reports.set_field(session, activity, "name", "技术沙龙", member_id, tz=None)  # type: ignore[arg-type]
        assert session.info.get(STAGED)
        found = await session.scalar(select(Activity.id).where(Activity.name == "技术沙龙"))
        assert found == activity_id
        assert not session.info.get(STAGED)


async def test_a_rollback_drops_it(db: Database) -> None:
    _, member_id = await draft_at_name_step(db)
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            await chat_state.set_state(session, member_id, "report", "content")
            raise RuntimeError("the handler failed")
    assert (await _stored(db, member_id))[0] == "name"
    # The connection carries nothing over into the next session that uses it.
    async with db.session() as session:
        account = await session.scalar(select(ChannelAccount))
        assert account is not None
    assert (await _stored(db, member_id))[0] == "name"


async def test_an_orm_change_of_the_column_keeps_its_order(db: Database) -> None:
    _, member_id = await draft_at_name_step(db)
    async with db.session() as session:
        state = await chat_state.get_state(session, member_id)
        assert state is not None
        state.step = "role"  # the ORM's change, pending
        set_columns(session, state, {"step": "outcome"})  # later: must win
        assert not session.info.get(STAGED)  # written through the ORM instead
    assert (await _stored(db, member_id))[0] == "outcome"
    async with db.session() as session:
        state = await chat_state.get_state(session, member_id)
        assert state is not None
        set_columns(session, state, {"step": "content"})
        state.flow = "plan"  # another column through the ORM: both are written
    async with db.session() as session:
        state = await chat_state.get_state(session, member_id)
        assert state is not None and (state.flow, state.step) == ("plan", "content")


async def test_on_sqlite_the_writes_go_with_the_commit_in_one_trip(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not db.is_sqlite:
        pytest.skip("the trips to aiosqlite's thread are SQLite's")
    activity_id, member_id = await draft_at_name_step(db)
    trips: list[str] = []
    original = _OneTripConnection._execute  # aiosqlite's, inherited

    async def counted(self: _OneTripConnection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", "?"))
        return await original(self, fn, *args, **kwargs)

    # monkeypatch deletes the subclass's attribute afterwards: assigning the inherited method
    # back would leave it shadowing aiosqlite's for every later test in this process.
    monkeypatch.setattr(_OneTripConnection, "_execute", counted)
    async with db.session() as session:
        activity = await session.get(Activity, activity_id)
        assert activity is not None
        state = await chat_state.get_state(session, member_id)  # loaded, as a turn has it
        assert state is not None
        trips.clear()
        with statements(db) as seen:
            reports.set_field(session, activity, "name", "技术沙龙", member_id, tz=None)  # type: ignore[arg-type]
            await chat_state.set_state(session, member_id, "report", "content", activity_id)
    # Before: a trip for each UPDATE and one for the COMMIT.
    assert trips == ["_run_and_commit"], (trips, seen)
    async with db.session() as session:
        stored = await session.get(Activity, activity_id)
        assert stored is not None and stored.name == "技术沙龙"
    assert (await _stored(db, member_id))[0] == "content"


async def test_several_rows_and_two_writes_of_one_row(db: Database) -> None:
    """Two writes to one row before the commit are one; on PostgreSQL the rows go in one
    statement (the others as data-modifying CTEs); each ends as written."""
    activity_id, member_id = await draft_at_name_step(db)
    with statements(db) as seen:
        async with db.session() as session:
            activity = await session.get(Activity, activity_id)
            state = await chat_state.get_state(session, member_id)
            account = await session.scalar(select(ChannelAccount))
            assert activity is not None and state is not None and account is not None
            loads = len(seen)
            reports.set_field(session, activity, "name", "技术沙龙", member_id, tz=None)  # type: ignore[arg-type]
            await chat_state.set_state(session, member_id, "report", "content", activity_id)
            reports.set_field(session, activity, "content", "内容", member_id, tz=None)  # type: ignore[arg-type]
            set_columns(session, account, {"last_update_id": 77})
            assert len(seen) == loads  # nothing yet
    seen = [s for s in seen[loads:] if s.upper().startswith(("UPDATE", "WITH"))]
    expected = 1 if not db.is_sqlite else 3  # PostgreSQL: one statement; SQLite: one per row
    assert len(seen) == expected, seen
    async with db.session() as session:
        stored = await session.get(Activity, activity_id)
        assert stored is not None and (stored.name, stored.content) == ("技术沙龙", "内容")
        stored_account = await session.scalar(select(ChannelAccount))
        assert stored_account is not None and stored_account.last_update_id == 77
    assert (await _stored(db, member_id))[0] == "content"
