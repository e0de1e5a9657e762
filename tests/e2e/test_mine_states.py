"""/mine leads each report with where it stands (issue 20, role-shaped chat): 待审核, 已通过,
已退回 (with its reason, in words above the list and on the card), 已撤回, and the member's own
草稿 at the top, which a tap continues. A returned report never reads as 已提交."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from core.enums import ActivityStatus
from core.review_rules import ReviewState
from core.rules import reference_number
from storage.models import Activity, Member, utcnow
from tests.harness import Kexie
from tests.steps import next_field, step_label, stored_answers

ORG = "成都蓉欣科技有限公司科协"
REASON = "照片看不清签到人数，请补充签到表。"


async def report(
    kexie: Kexie,
    org_id: int,
    name: str,
    days_ago: int,
    status: ActivityStatus = ActivityStatus.SUBMITTED,
    state: ReviewState | None = ReviewState.PENDING,
) -> None:
    """A report of the only member, ``days_ago`` days before today, in the given state."""
    async with kexie.session() as session:
        author = await session.scalar(select(Member.id).limit(1))
        day = utcnow().astimezone(kexie.settings.tz).date() - timedelta(days=days_ago)
        submitted = status != ActivityStatus.DRAFT
        # A sent report answers every question of the table (tests/steps.stored_answers); the
        # draft only the date and the name.
        answers: dict[str, Any] = {"activity_date": day, "name": name}
        if submitted:
            answers = dict(
                stored_answers(
                    day, content="内容", role="主办", headcount=30, outcome="成效", **answers
                )
            )
        activity = Activity(
            org_id=org_id,
            author_id=author,
            status=status,
            **answers,
            submitted_at=utcnow() if submitted else None,
            on_time=True if submitted else None,
            review_state=state if submitted else None,
            review_reason=REASON if state == ReviewState.RETURNED else None,
        )
        session.add(activity)
        await session.flush()
        if submitted:
            activity.ref_no = reference_number(activity.id, kexie.settings.years.year_of(day))


async def test_mine_leads_each_report_with_its_state(kexie: Kexie) -> None:
    org = await kexie.org(ORG)
    user = await kexie.member(8301, "reporter", org=org)
    await report(kexie, org, "科技政策解读会", 1)
    await report(kexie, org, "专利申报培训", 2, state=ReviewState.APPROVED)
    await report(kexie, org, "产学研对接会", 3, state=ReviewState.RETURNED)
    await report(kexie, org, "科普进园区", 4, status=ActivityStatus.WITHDRAWN)
    await report(kexie, org, "院士专家讲座", 0, status=ActivityStatus.DRAFT, state=None)

    await user.send("/mine")
    listing = await user.expect_any("本单位的报送")
    states = [label.split(" · ")[0] for label in listing.button_texts]
    assert states == ["📝 草稿", "⏳ 待审核", "✅ 已通过", "↩️ 已退回", "⏸ 已撤回"]
    assert not any("已提交" in label for label in listing.button_texts)
    assert listing.button_texts[0].endswith("院士专家讲座")
    # The returned one is said in words too, with its reason and what to do.
    assert "已退回" in listing.text and REASON in listing.text and "重新提交" in listing.text

    await user.press("↩️ 已退回")
    card = await user.expect_any("产学研对接会")
    assert "状态：已退回" in card.text and f"退回原因：{REASON}" in card.text
    assert "📤 重新提交" in card.button_texts

    await user.press("📝 草稿", listing)
    # the draft has a date and a name: it goes on from there
    await user.expect_any(step_label(next_field("name")))


async def test_an_approved_card_says_approved(kexie: Kexie) -> None:
    org = await kexie.org(ORG)
    user = await kexie.member(8311, "reporter", org=org)
    await report(kexie, org, "专利申报培训", 2, state=ReviewState.APPROVED)
    await user.send("/mine")
    await user.expect_any("本单位的报送")
    await user.press("✅ 已通过")
    card = await user.expect_any("专利申报培训")
    assert "状态：已通过" in card.text and "退回原因" not in card.text


async def test_mine_in_english(kexie: Kexie) -> None:
    org = await kexie.org(ORG)
    user = await kexie.member(8321, "reporter", org=org)
    await report(kexie, org, "产学研对接会", 3, state=ReviewState.RETURNED)
    await user.send("/settings")
    await user.expect_any("提醒与语言设置")
    await user.press("English")
    await user.expect_any("Language: English")
    await user.send("/mine")
    listing = await user.expect_any("Your organisation's reports")
    assert listing.button_texts[0].startswith("↩️ Returned · ")
    assert "Returned" in listing.text and REASON in listing.text
