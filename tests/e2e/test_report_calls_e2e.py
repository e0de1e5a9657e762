"""One Bot API call per step of the report (issue 10): /report and the date answer each answer
with one message (the question, with what used to come in a message of its own above it); 完成
answers with the card alone, and the evidence question's buttons, left on screen, are refused once
the report moved on. Over the whole report, at most 1.1 replies per update."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from core.report_steps import Step
from storage.models import ChatState
from tests.harness import Kexie
from tests.journeys import answer_until_evidence, reporter, toast
from tests.standin import FakeUser, make_jpeg
from tests.steps import step_label

# Replies: what the user sees arrive or change (toasts and file downloads are not replies).
REPLY_METHODS = ("sendmessage", "editmessagetext", "editmessagereplymarkup", "sendphoto")
REPLIES_PER_UPDATE = 1.1  # issue 10's budget on the report path
LONGEST_ORG_NAME = 200  # organisations.name is String(200)


def _replies(kexie: Kexie, since: int) -> list[str]:
    return [c.method for c in kexie.standin.calls[since:] if c.method.lower() in REPLY_METHODS]


Send = Callable[[FakeUser], Awaitable[Any]]


def _text(value: str) -> Send:
    return lambda u: u.send(value)


def _report_path() -> list[tuple[str, Send, str]]:
    """(name, send, marker of its reply): the benchmark's report path, 11 updates."""
    return [
        ("/report", _text("/report"), step_label("activity_date")),
        ("date", _text("昨天"), step_label("name")),
        ("name", _text("技术沙龙"), step_label("content")),
        ("content", _text("邀请专家讲解政策，面向园区企业。"), step_label("role")),
        ("role", _text("主办"), step_label("headcount")),
        ("headcount", _text("约50人"), step_label("outcome")),
        ("outcome", _text("形成合作意向2项。"), step_label("evidence")),
        ("photo 1", lambda u: u.send_photo(make_jpeg(seed=1)), "现有佐证材料 1 个"),
        ("photo 2", lambda u: u.send_photo(make_jpeg(seed=2)), "现有佐证材料 2 个"),
        ("完成", lambda u: u.press("完成"), "请核对报送内容"),
        ("提交", lambda u: u.press("提交"), "已提交"),
    ]


async def test_the_report_path_costs_at_most_1_1_replies_per_update(kexie: Kexie) -> None:
    user = await reporter(kexie)
    per_step: dict[str, list[str]] = {}
    for name, send, marker in _report_path():
        await kexie.standin.wait_until_confirmed()
        before = len(kexie.standin.calls)
        await send(user)
        await user.expect_any(marker)
        await kexie.standin.wait_until_confirmed()
        per_step[name] = _replies(kexie, before)
    total = sum(len(r) for r in per_step.values())
    assert total <= REPLIES_PER_UPDATE * len(per_step), per_step
    # Every step but 提交 (its own budget: the card's edit and the confirmation) is one call.
    several = {n: r for n, r in per_step.items() if len(r) != 1 and n != "提交"}
    assert several == {}, several
    assert kexie.standin.errors == []


async def test_report_start_is_one_message_with_the_date_buttons(kexie: Kexie) -> None:
    org_name = "蓉" * LONGEST_ORG_NAME
    user = await reporter(kexie, org_name=org_name)
    await user.send("/report")
    first = await user.expect()
    # What the start said before (whose report, how to leave) and the first question, together.
    assert org_name in first.text and "/cancel" in first.text
    assert step_label("activity_date") in first.text and len(first.text) <= 4096
    assert any("昨天" in label for label in first.button_texts)
    await user.expect_nothing(0.5)
    assert kexie.standin.errors == []


async def test_date_answer_is_one_message_saying_when_the_window_closes(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.send("昨天")
    reply = await user.expect()
    # the deadline, then question 2
    assert "前提交" in reply.text and step_label("name") in reply.text
    assert reply.text.index("前提交") < reply.text.index(step_label("name"))
    await user.expect_nothing(0.5)
    await user.send("技术沙龙")
    await user.expect_any(step_label("content"))
    await user.send("/cancel")
    await user.expect_any("要放弃")


async def test_a_late_date_is_one_message_with_the_late_warning(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.send("2021-11-03")
    reply = await user.expect()
    assert (
        "逾期" in reply.text and "2021年11月6日" in reply.text and step_label("name") in reply.text
    )
    await user.expect_nothing(0.5)


async def test_done_answers_with_one_call_and_its_old_buttons_are_refused(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await answer_until_evidence(user)
    await user.send_photo(make_jpeg(seed=3))
    question = await user.expect_any("现有佐证材料 1 个")
    await kexie.standin.wait_until_confirmed()
    before = len(kexie.standin.calls)
    await user.press("完成")
    await user.expect_any("请核对报送内容")
    await kexie.standin.wait_until_confirmed()
    replies = [
        c.method
        for c in kexie.standin.calls[before:]
        if c.method.lower() not in ("getupdates", "answercallbackquery")
    ]
    assert replies == ["sendMessage"]

    # The evidence question still shows 完成, but pressing it again changes nothing.
    assert "✅ 完成" in [b.text for row in user.message(question.message_id).buttons for b in row]
    before = len(kexie.standin.calls)
    said = await toast(user, "✅ 完成")
    assert "失效" in said  # answered as a stale button
    await user.expect_nothing(0.5)
    async with kexie.session() as session:
        state = await session.scalar(select(ChatState))
    assert state is not None and state.step == Step.REVIEW
    assert not [c for c in kexie.standin.calls[before:] if c.method == "sendMessage"]


async def test_a_pressed_answer_is_echoed_in_its_question_for_the_same_one_call(
    kexie: Kexie,
) -> None:
    # Issue 20: after 昨天 or 主办 the question shows "✅ 昨天 …" or "✅ 主办" instead of buttons,
    # costing the one edit that removing the buttons took before: press + next question = 2.
    user = await reporter(kexie)
    await user.send("/report")
    first = await user.expect_any(step_label("activity_date"))
    pressed: dict[str, list[str]] = {}
    for label, marker in (("昨天", step_label("name")), ("主办", step_label("headcount"))):
        if label == "主办":
            await user.send("技术沙龙")
            await user.expect_any(step_label("content"))
            await user.send("邀请专家讲解政策，面向园区企业。")
            question = await user.expect_any(step_label("role"))
        else:
            question = first
        await kexie.standin.wait_until_confirmed()
        before = len(kexie.standin.calls)
        await user.press(label, question)
        await user.expect_any(marker)
        await kexie.standin.wait_until_confirmed()
        pressed[label] = _replies(kexie, before)
        echoed = user.message(question.message_id)
        assert echoed.buttons == [] and echoed.text.splitlines()[-1].startswith(f"✅ {label}")
        assert question.text in echoed.text  # the question is kept, bold and all
        assert echoed.entities == question.entities
    assert pressed == {
        "昨天": ["editMessageText", "sendMessage"],
        "主办": ["editMessageText", "sendMessage"],
    }
    assert kexie.standin.errors == []
