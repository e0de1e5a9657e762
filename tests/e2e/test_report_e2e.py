"""End-to-end: the reporting conversation through the real application and the stand-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.enums import ActivityStatus
from core.rules import format_date
from storage.models import Activity, Evidence, utcnow
from tests.harness import Kexie
from tests.journeys import answer_until_evidence
from tests.standin import make_jpeg

TZ_TODAY = lambda k: utcnow().astimezone(k.settings.tz).date()  # noqa: E731


@pytest.mark.real_clock  # a smoke test on the machine's date: the product works today
async def test_readme_steps_then_report_with_photos(kexie: Kexie) -> None:
    """The acceptance path: CLI set-up as in the README, then a report from start to submit."""
    seeded = await kexie.cli("districts", "seed")
    assert seeded.rc == 0, seeded.err
    assert "共 23 个" in seeded.out
    made = await kexie.cli(
        "org",
        "add",
        "--district",
        "锦江区",
        "--kind",
        "enterprise",
        "--name",
        "成都智造科技有限公司科协",
    )
    assert made.rc == 0, made.err
    org_id = int(made.out.strip())
    invited = await kexie.cli("invite", "--org", str(org_id), "--role", "reporter", "--uses", "3")
    assert invited.rc == 0, invited.err
    link = invited.out.strip()
    assert link.startswith("https://t.me/kexie_test_bot?start=")
    token = link.rsplit("=", 1)[1]

    user = kexie.standin.user(2001, "李明")
    await user.send(f"/start {token}")
    joined = await user.expect_any("已加入")
    assert "成都智造科技有限公司科协" in joined.text
    welcome = await user.expect_any("您好")
    assert "报送员" in welcome.text

    await answer_until_evidence(user)
    await user.send_photo(make_jpeg(color=(200, 10, 10)))
    got = await user.expect_any("已收到")
    assert "现有佐证材料 1 个" in got.text
    await user.send_photo(make_jpeg(color=(10, 200, 10)))
    await user.expect_any("现有佐证材料 2 个")
    await user.press("完成")
    card = await user.expect_any("请核对报送内容")
    yesterday = TZ_TODAY(kexie) - timedelta(days=1)
    for part in (format_date(yesterday), "科技政策解读会", "主办", "50人", "2 张照片", "按时"):
        assert part in card.text, part
    assert card.button_texts == ["✅ 提交", "✏️ 修改", "✖️ 取消"]
    await user.press("提交")
    done = await user.expect_any("🎉 已提交")
    assert "锦江区" in done.text

    async with kexie.session() as session:
        activity = await session.scalar(select(Activity))
        assert activity is not None
        assert activity.status == ActivityStatus.SUBMITTED
        assert activity.ref_no and activity.ref_no in done.text
        assert activity.on_time is True
        assert (activity.headcount, activity.role, activity.activity_date) == (
            50,
            "主办",
            yesterday,
        )
        files = (await session.scalars(select(Evidence))).all()
    assert len(files) == 2
    for row in files:
        stored = kexie.settings.evidence_dir / row.sha256[:2] / row.sha256[2:4] / row.sha256
        assert stored.exists()


@pytest.mark.real_clock
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_happy_path_on_postgres(kexie: Kexie) -> None:
    """The same code on PostgreSQL."""
    org = await kexie.org("天府软件园科协", kind="zone", district="成都高新区")
    user = await kexie.member(2002, "reporter", org=org)
    await answer_until_evidence(user)
    await user.send_photo()
    await user.expect_any("已收到")
    await user.press("完成")
    await user.expect_any("请核对报送内容")
    await user.press("提交")
    await user.expect_any("已提交")
    async with kexie.session() as session:
        activity = await session.scalar(select(Activity))
        assert activity is not None and activity.status == ActivityStatus.SUBMITTED
        assert activity.submitted_at is not None and activity.submitted_at.tzinfo is not None
