"""A headcount of 10 000 or more is confirmed before it is stored; the question survives a
restart because it is conversation state in the database like every other step."""

from __future__ import annotations

from sqlalchemy import select

from core.rules import needs_headcount_confirmation
from storage.models import ChatState
from tests.harness import Kexie
from tests.journeys import only_activity, reporter
from tests.standin import FakeUser
from tests.steps import answer_questions, step_label


def test_the_threshold() -> None:
    assert not needs_headcount_confirmation(9_999)
    assert needs_headcount_confirmation(10_000)
    assert needs_headcount_confirmation(250_000)


async def until_headcount(user: FakeUser) -> None:
    await user.send("/report")
    answers = {"name": "全民科学素质讲座", "content": "面向社区居民的科普讲座。"}
    await answer_questions(user, answers, until="headcount")


async def test_large_headcount_asks_and_the_question_survives_a_restart(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await until_headcount(user)
    await user.send("12000人")
    ask = await user.expect_any("12000")
    assert ask.button_texts == ["确认", "重新填写"]
    assert (await only_activity(kexie)).headcount is None  # not stored before it is confirmed
    async with kexie.session() as session:
        state = await session.scalar(select(ChatState))
    assert state is not None and state.data.get("headcount") == 12000

    await kexie.restart()
    await user.send("嗯")  # neither answer: the confirmation is asked again
    again = await user.expect_any("12000")
    assert again.button_texts == ["确认", "重新填写"]
    await user.press("确认")
    await user.expect_any(step_label("outcome"))
    assert (await only_activity(kexie)).headcount == 12000


async def test_redo_and_typed_answers_at_the_confirmation(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await until_headcount(user)
    await user.send("20000")
    await user.expect_any("20000")
    await user.press("重新填写")
    await user.expect_any(step_label("headcount"))
    assert (await only_activity(kexie)).headcount is None
    await user.send("一万五千人")
    await user.expect_any("15000")
    await user.send("150")  # a new number instead of pressing: the new answer counts
    await user.expect_any(step_label("outcome"))
    assert (await only_activity(kexie)).headcount == 150


async def test_small_headcount_needs_no_confirmation_and_typed_confirm_works(
    kexie: Kexie,
) -> None:
    user = await reporter(kexie)
    await until_headcount(user)
    await user.send("9999")
    await user.expect_any(step_label("outcome"))
    assert (await only_activity(kexie)).headcount == 9999
    await user.send("/cancel")
    await user.expect_any("要放弃")
    await user.press("放弃草稿")
    await user.expect_any("已放弃")
    await until_headcount(user)
    await user.send("30000")
    await user.expect_any("30000")
    await user.send("确认")
    await user.expect_any(step_label("outcome"))
