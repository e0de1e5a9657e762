"""The permission matrix through the real handlers: role × action × (own association, another
association of the same district, an association of another district, an id that does not
exist). Every cell is a button press with the target's id in its callback data (forged where
the user never saw such a button); a refusal must be the same sentence whether the id exists
or not."""

from __future__ import annotations

from sqlalchemy import select

from core.enums import Role
from storage.models import Member
from tests.accounts import at_telegram
from tests.harness import Kexie
from tests.journeys import pending_report
from tests.standin import FakeUser

REFUSALS = {
    "找不到该项，或者您没有权限。",
    "找不到这条报送，或者您没有权限查看。",
    # Only to someone who may read the report anyway: it reveals nothing they cannot see.
    "您没有权限进行这个操作。",
}
TARGETS = ("own", "other_org", "other_district", "missing")
MISSING_ID = 987654

# callback data per action; {org}, {district} or {activity} is filled per target.
ACTIONS: dict[str, str] = {
    "view_reports": "mine:open:{activity}",
    "edit_report": "mine:withdraw:{activity}",
    "manage_registry": "org:open:{org}",
    "manage_members": "mem:org:{org}",
    "invite_reporter": "inv:role:{org}:r",
    "invite_org_admin": "inv:role:{org}:a",
    "create_org": "org:new:{district}:o",
    "district_figures": "dst:open:{district}",
    "view_status": "sts:open:{district}",
    # 退回 asks for the reason (nothing changes yet), so every cell sees a pending report.
    "review_report": "rev:back:{activity}",
}
DISTRICT_WIDE = {"own", "other_org"}
EVERYWHERE = {"own", "other_org", "other_district"}
# Which targets each role may act on; every other cell (and "missing" always) is refused.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "reporter": {"view_reports": {"own"}, "edit_report": {"own"}},  # own report, own org
    "org_admin": {
        "view_reports": {"own"},
        "edit_report": {"own"},
        "manage_registry": {"own"},
        "manage_members": {"own"},
        "invite_reporter": {"own"},
    },
    "district_admin": {
        **{action: DISTRICT_WIDE for action in ACTIONS},
        "edit_report": set(),  # districts read reports; only the association changes them
    },
    "city_admin": {**{action: EVERYWHERE for action in ACTIONS}, "edit_report": set()},
}


async def _member_id(kexie: Kexie, telegram_id: int) -> int:
    async with kexie.session() as session:
        found = await session.scalar(select(Member.id).where(at_telegram(telegram_id)))
        assert found is not None
        return found


async def test_permission_matrix_through_the_handlers(kexie: Kexie) -> None:
    own = await kexie.org("成都甲科技有限公司科协", "锦江区")
    other_org = await kexie.org("成都乙科技有限公司科协", "锦江区")
    other_district = await kexie.org("成都丙科技有限公司科协", "青羊区")
    jinjiang, qingyang = await kexie.district("锦江区"), await kexie.district("青羊区")

    users: dict[str, FakeUser] = {
        "reporter": await kexie.member(4001, "reporter", org=own),
        "org_admin": await kexie.member(4002, "org_admin", org=own),
        "district_admin": await kexie.member(4003, "district_admin", district="锦江区"),
    }
    city = kexie.standin.user(4004, "市科协")
    await city.send(f"/start {await kexie.invite_token(Role.CITY_ADMIN)}")
    await city.expect_any("您好")
    users["city_admin"] = city
    # The own association's report is the reporter's; the others' are someone else's.
    author = await kexie.member(4005, "reporter", org=other_org)
    del author
    reporter_id, other_author = await _member_id(kexie, 4001), await _member_id(kexie, 4005)
    activities = {
        "own": await pending_report(kexie, own, reporter_id),
        "other_org": await pending_report(kexie, other_org, other_author),
        "other_district": await pending_report(kexie, other_district, other_author),
        "missing": MISSING_ID,
    }
    ids = {
        "own": {"org": own, "district": jinjiang.id},
        "other_org": {"org": other_org, "district": jinjiang.id},
        "other_district": {"org": other_district, "district": qingyang.id},
        "missing": {"org": MISSING_ID, "district": MISSING_ID},
    }

    wrong: list[str] = []
    refusals: dict[tuple[str, str, str], str] = {}
    cells = 0
    for role, user in users.items():
        user.drain()
        for action, pattern in ACTIONS.items():
            for target in TARGETS:
                data = pattern.format(activity=activities[target], **ids[target])
                await user.press_data(data)
                answer = await user.expect_answer()
                refused = answer.text in REFUSALS
                should = target in EXPECTED[role].get(action, set())
                cells += 1
                if should:
                    if refused:
                        wrong.append(f"{role} {action} {target}: refused, expected allowed")
                        continue
                    shown = await user.expect()  # the allowed action answered with content
                    assert shown.text, (role, action, target)
                    if action == "view_status":  # the card is followed by its chart
                        chart = await user.expect()
                        assert chart.kind == "photo", (role, action, target)
                elif not refused or not answer.show_alert:
                    wrong.append(f"{role} {action} {target}: {answer.text!r}, expected refusal")
                else:
                    refusals[(role, action, target)] = answer.text or ""
                user.drain()
    # A refusal reads the same as for an id that does not exist, unless the user may see the
    # target anyway (a district admin reading a report they may not change).
    for (role, action, target), text in refusals.items():
        readable = action == "edit_report" and target in EXPECTED[role]["view_reports"]
        if not readable and text != refusals[(role, action, "missing")]:
            wrong.append(f"{role} {action} {target}: refusal {text!r} differs from a missing id")
    assert cells == len(users) * len(ACTIONS) * len(TARGETS)
    assert not wrong, "\n".join(wrong)


async def test_admin_commands_refuse_non_admins(kexie: Kexie) -> None:
    org = await kexie.org("成都甲科技有限公司科协")
    reporter = await kexie.member(4101, "reporter", org=org)
    for command in ("/org", "/invite", "/members", "/district", "/status", "/invites"):
        await reporter.send(command)
        reply = await reporter.expect()
        assert reply.text == "这个命令供科协管理员使用。", (command, reply.text)
    stranger = kexie.standin.user(4102, "路人")
    await stranger.send("/org")
    assert "您还不是任何科协的成员" in (await stranger.expect()).text


async def test_org_admin_invites_reporters_only(kexie: Kexie) -> None:
    org = await kexie.org("成都甲科技有限公司科协")
    admin = await kexie.member(4201, "org_admin", org=org)
    await admin.send("/invite")
    await admin.expect_any("为哪个科协生成邀请链接")
    await admin.press("成都甲科技有限公司科协")
    roles = await admin.expect_any("邀请什么身份")
    assert roles.button_texts == ["报送员"]
