"""The report path's cost per update: SQL statements (a SQLAlchemy ``before_cursor_execute``
listener on the app's engine) and Bot API calls (the stand-in's record), step by step.

Issue 10's budgets: at most 4 SQL statements per typed answer; replies (sendMessage and edits) at
most 1.1 per update over the whole report (12 for these 11 updates: /report and the date answer
each send one message). The per-step counts are printed (``-s``) so a regression shows where it
happened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event

from tests.harness import Kexie
from tests.journeys import reporter
from tests.standin import FakeUser, make_jpeg
from tests.steps import step_label

SQL_PER_TEXT_ANSWER = 4
# A photo: the update's member (and, once there are files, their channel handles), the check
# that saves a download, the two inserts and the update id.
SQL_PER_PHOTO = 6
# /report: the member, the open draft, the new draft and its state, the update id (the member's
# associations come with the member: issue 23).
SQL_REPORT_START = 6
REPLIES_PER_REPORT = 12  # issue 10's budget: 1.1 per update, 12.1 for these 11 updates
REPLY_METHODS = ("sendmessage", "editmessagetext", "editmessagereplymarkup")

Step = tuple[str, bool, Callable[[FakeUser], Awaitable[Any]], str]


def steps() -> list[Step]:
    """(name, typed answer?, send, marker of its reply): the load driver's report path."""

    def text(value: str) -> Callable[[FakeUser], Awaitable[Any]]:
        return lambda u: u.send(value)

    return [
        ("/report", False, text("/report"), step_label("activity_date")),
        ("date", True, text("昨天"), step_label("name")),
        ("name", True, text("技术沙龙"), step_label("content")),
        ("content", True, text("邀请专家讲解政策，面向园区企业。"), step_label("role")),
        ("role", True, text("主办"), step_label("headcount")),
        ("headcount", True, text("约50人"), step_label("outcome")),
        ("outcome", True, text("形成合作意向2项。"), step_label("evidence")),
        ("photo 1", False, lambda u: u.send_photo(make_jpeg(seed=1)), "现有佐证材料 1 个"),
        ("photo 2", False, lambda u: u.send_photo(make_jpeg(seed=2)), "现有佐证材料 2 个"),
        ("完成", False, lambda u: u.press("完成"), "请核对报送内容"),
        ("提交", False, lambda u: u.press("提交"), "已提交"),
    ]


async def test_a_report_stays_within_its_sql_and_call_budget(kexie: Kexie) -> None:
    user = await reporter(kexie)
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    engine = kexie.db.engine.sync_engine
    per_step: list[tuple[str, bool, int, int]] = []
    event.listen(engine, "before_cursor_execute", count)
    try:
        for name, typed, send, marker in steps():
            await kexie.standin.wait_until_confirmed()
            sql_before = statements
            calls_before = len(kexie.standin.calls)
            await send(user)
            await user.expect_any(marker)
            await kexie.standin.wait_until_confirmed()
            replies = sum(
                1 for c in kexie.standin.calls[calls_before:] if c.method.lower() in REPLY_METHODS
            )
            per_step.append((name, typed, statements - sql_before, replies))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    for name, typed, sql, replies in per_step:
        print(f"{name:10} {'typed' if typed else '     '} SQL {sql:3}  replies {replies}")
    over = [(n, sql) for n, typed, sql, _ in per_step if typed and sql > SQL_PER_TEXT_ANSWER]
    assert over == [], f"typed answers over {SQL_PER_TEXT_ANSWER} SQL statements: {over}"
    photos = [(n, sql) for n, _, sql, _ in per_step if n.startswith("photo")]
    assert all(sql <= SQL_PER_PHOTO for _, sql in photos), photos
    assert per_step[0][2] <= SQL_REPORT_START, per_step[0]
    replies = sum(r for *_, r in per_step)
    assert replies <= REPLIES_PER_REPORT, f"{replies} replies for {len(per_step)} updates"
