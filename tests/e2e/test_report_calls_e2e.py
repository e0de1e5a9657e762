"""One Bot API call per step of the report (issue 10): 完成 answers with the card alone, and the
evidence question's buttons, left on screen, are refused once the report moved on."""

from __future__ import annotations

from sqlalchemy import select

from core.report_steps import Step
from storage.models import ChatState
from tests.harness import Kexie
from tests.journeys import answer_until_evidence, reporter, toast
from tests.standin import make_jpeg


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
