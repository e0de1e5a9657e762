"""SQL statements of the report path's photo and button steps, one by one.

The activity of the conversation comes with the update (``storage.members.load_for_update``):
a button on it (完成) must not load it again, no step loads the evidence's channel file ids,
and the first photo has no earlier file to compare with, so no duplicate query. Each bound
below is one statement under what the step cost before those three were saved.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from tests.harness import Kexie
from tests.journeys import reporter
from tests.standin import make_jpeg
from tests.steps import step_label

# The update's member (one joined query), the two inserts, the update id.
SQL_FIRST_PHOTO = 4
# As the first, plus the check by Telegram's file_unique_id that saves a download.
SQL_SECOND_PHOTO = 5
# The update's member, the conversation's step, the update id.
SQL_DONE_BUTTON = 3


async def test_photos_and_done_button_reuse_what_the_update_loaded(kexie: Kexie) -> None:
    user = await reporter(kexie)
    for answer, marker in (
        ("/report", step_label("activity_date")),
        ("昨天", step_label("name")),
        ("技术沙龙", step_label("content")),
        ("邀请专家讲解政策，面向园区企业。", step_label("role")),
        ("主办", step_label("headcount")),
        ("约50人", step_label("outcome")),
        ("形成合作意向2项。", step_label("evidence")),
    ):
        await user.send(answer)
        await user.expect_any(marker)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split())[:90])

    engine = kexie.db.engine.sync_engine
    costs: dict[str, list[str]] = {}
    event.listen(engine, "before_cursor_execute", count)
    try:
        for name, send, marker in (
            ("photo 1", lambda: user.send_photo(make_jpeg(seed=1)), "现有佐证材料 1 个"),
            ("photo 2", lambda: user.send_photo(make_jpeg(seed=2)), "现有佐证材料 2 个"),
            ("完成", lambda: user.press("完成"), "请核对报送内容"),
        ):
            await kexie.standin.wait_until_confirmed()
            before = len(statements)
            await send()
            await user.expect_any(marker)
            await kexie.standin.wait_until_confirmed()
            costs[name] = statements[before:]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    for name, done in costs.items():
        print(name, len(done), *done, sep="\n  ")
    assert len(costs["photo 1"]) <= SQL_FIRST_PHOTO, costs["photo 1"]
    assert len(costs["photo 2"]) <= SQL_SECOND_PHOTO, costs["photo 2"]
    assert len(costs["完成"]) <= SQL_DONE_BUTTON, costs["完成"]
