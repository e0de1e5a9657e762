"""Each role's home (issue 20, role-shaped chat): /start greets with the buttons of the member's
work (an association's: 报送活动 / 我的报送; a district's or the city's desk: 待审核 (n) with the
live count, 报送情况, 催报, 导出), the Telegram menu and /help offer exactly the commands the role
may use, its main ones first, and none of them, nor any home button, answers with a refusal.

Run with ``-s`` to read the transcripts."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from core.texts import t
from tests.harness import Kexie
from tests.journeys import pending_report
from tests.standin import BotMessage, FakeUser, html_to_text

ORG = "成都蓉欣科技有限公司科协"
# Transcripts for eyes (git-ignored): what each role reads on /start, /help and every command.
OUTPUT = Path(__file__).resolve().parents[1] / "output" / "role-shaped-chat"
# Everything a member is told when a command or button is not theirs to use.
REFUSAL_KEYS = (
    "reg_admins_only",
    "not_allowed",
    "report_no_org",
    "stranger",
    "reg_denied",
    "not_found_or_denied",
    "unknown_command",
    "button_expired",
)
REFUSALS = [html_to_text(t("zh", key)) for key in REFUSAL_KEYS]

DESK = [
    "start", "review", "status", "chase", "export", "org", "district", "members", "invite",
    "invites", "settings", "help", "cancel",
]  # fmt: skip
MENUS = {
    "reporter": ["start", "report", "mine", "plan", "settings", "help", "cancel"],
    "org_admin": [
        "start", "report", "mine", "plan", "org", "members", "invite", "invites", "settings",
        "help", "cancel",
    ],
    "district_admin": DESK,
    "city_admin": DESK,
}  # fmt: skip
HOMES = {
    "reporter": [["📝 报送活动", "📋 我的报送"]],
    "org_admin": [["📝 报送活动", "📋 我的报送"], ["🏢 登记信息", "👥 成员", "🔗 邀请"]],
    "district_admin": [["📥 待审核（1）", "📊 报送情况"], ["📣 催报", "📤 导出"]],
    # One report waits in 锦江区 and one in 青羊区: the city reviews both.
    "city_admin": [["📥 待审核（2）", "📊 报送情况"], ["📣 催报", "📤 导出"]],
}


async def quiet(user: FakeUser, silence: float = 0.8, limit: float = 20.0) -> list[BotMessage]:
    """Wait for the bot's first word (a chart takes a while), then until it has said nothing
    for ``silence`` seconds; consume and print it all."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not user.pending() and loop.time() < end:
        await user.standin._output_signal.wait(end - loop.time())
    while loop.time() < end and await user.standin._output_signal.wait(silence):
        pass
    got = user.drain()
    for m in got:
        print(f"  BOT#{m.message_id}{' (edit)' if m.edited else ''}: {m.text[:160]!r}")
        if m.button_texts:
            print(f"      [buttons] {m.button_texts}")
    return got


def refusals_in(replies: list[BotMessage], toasts: list[str] = []) -> list[str]:  # noqa: B006
    said = [m.text for m in replies] + toasts
    return [text for text in said for refusal in REFUSALS if refusal and refusal in text]


def save_transcript(user: FakeUser, name: str) -> None:
    """Everything the bot showed ``user``, messages and edits with their buttons, as text."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    lines = []
    for m in user._events:
        lines.append(f"BOT#{m.message_id}{' (edit)' if m.edited else ''} [{m.kind}]\n{m.text}")
        lines += [" | ".join(f"[{b.text}]" for b in row) for row in m.buttons]
        lines.append("")
    (OUTPUT / f"{name}.txt").write_text("\n".join(lines), encoding="utf-8")


async def people(kexie: Kexie) -> dict[str, FakeUser]:
    """One member of each role, a pending report in 锦江区 and one in 青羊区."""
    org = await kexie.org(ORG)
    far = await kexie.org("成都青羊智造科技有限公司科协", "青羊区")
    users = {
        "reporter": await kexie.member(8201, "reporter", org=org, first_name="张丽"),
        "org_admin": await kexie.member(8202, "org_admin", org=org, first_name="刘强"),
        "district_admin": await kexie.member(
            8203, "district_admin", district="锦江区", first_name="陈静"
        ),
        "city_admin": await kexie.member(8204, "city_admin", first_name="周敏"),
    }
    await pending_report(kexie, org)
    await pending_report(kexie, far)
    return users


async def menu_of(kexie: Kexie, user: FakeUser) -> list[str]:
    """The command menu the bot set for this chat (after the reply: poll for it)."""
    for _ in range(100):
        menu = kexie.standin.commands_for(f"chat:{user.chat_id}")
        if menu:
            return menu
        await asyncio.sleep(0.05)
    raise AssertionError(f"no command menu for {user.chat_id}")


async def leave(user: FakeUser) -> None:
    """/cancel whatever the last command started (a report draft is discarded)."""
    await user.send("/cancel")
    replies = await quiet(user)
    if any("放弃草稿" in m.button_texts for m in replies):
        await user.press("放弃草稿")
        await quiet(user)


@pytest.mark.parametrize("role", list(MENUS))
async def test_start_help_and_menu_offer_exactly_the_roles_commands(
    kexie: Kexie, role: str
) -> None:
    user = (await people(kexie))[role]
    user.drain()
    await user.send("/start")
    [home] = await quiet(user)
    assert [[b.text for b in row] for row in home.buttons] == HOMES[role]
    menu = await menu_of(kexie, user)
    assert menu == MENUS[role]

    await user.send("/help")
    [helped] = await quiet(user)
    save_transcript(user, f"home-{role}")
    named = re.findall(r"/([a-z]+)", helped.text)
    assert set(named) == set(menu) - {"start", "help"}
    # The role's main command comes first: reporting for an association, review for a desk.
    assert named[0] == menu[1]
    if role in ("district_admin", "city_admin"):
        assert "报送一项活动" not in helped.text and "3日内" not in helped.text
        assert "3日内" not in home.text  # a desk is not told how to report
    else:
        assert "3日内" in home.text


@pytest.mark.parametrize("role", list(MENUS))
async def test_no_offered_command_or_home_button_refuses(kexie: Kexie, role: str) -> None:
    user = (await people(kexie))[role]
    user.drain()
    await user.send("/start")
    [home] = await quiet(user)
    buttons = [(b.text, b.callback_data) for row in home.buttons for b in row]
    menu = await menu_of(kexie, user)
    wrong: list[str] = []
    for name in menu:
        print(f"USER: /{name}")
        await user.send(f"/{name}")
        replies = await quiet(user)
        if not replies:
            wrong.append(f"/{name}: no answer")
        wrong += [f"/{name}: {text!r}" for text in refusals_in(replies)]
        await leave(user)
    for label, data in buttons:
        assert data is not None
        print(f"USER presses [{label}]")
        before = len(user.callback_answers)
        await user.press_data(data, home.message_id)
        replies = await quiet(user)
        toasts = [a.text or "" for a in user.callback_answers[before:]]
        if not replies:
            wrong.append(f"[{label}]: no answer")
        wrong += [f"[{label}]: {text!r}" for text in refusals_in(replies, toasts)]
        await leave(user)
    save_transcript(user, f"walk-{role}")
    assert wrong == []
    assert kexie.standin.errors == []


async def test_the_review_count_is_live_and_the_idle_hint_is_the_desks(kexie: Kexie) -> None:
    org = await kexie.org(ORG)
    admin = await kexie.member(8211, "district_admin", district="锦江区", first_name="陈静")
    await admin.send("/start")
    home = await admin.expect_any("您好")
    assert "📥 待审核（0）" in home.button_texts
    await pending_report(kexie, org)
    await pending_report(kexie, org)
    await admin.send("随便说一句")
    hint = await admin.expect()
    assert hint.text == html_to_text(t("zh", "idle_hint_desk"))
    assert "📥 待审核（2）" in hint.button_texts and "📝 报送活动" not in hint.button_texts
    await admin.press("📥 待审核（2）")
    queue = await admin.expect_any("待审核")
    assert "科技政策解读会" in queue.text
    assert admin.message(home.message_id).button_texts == home.button_texts  # the home stays


async def test_a_desk_that_also_reports_gets_both(kexie: Kexie) -> None:
    org = await kexie.org(ORG)
    user = await kexie.member(8221, "district_admin", district="锦江区", first_name="陈静")
    await user.send(f"/start {await kexie.invite_token('reporter', org=org)}")
    home = await user.expect_any("您好")
    assert [[b.text for b in row] for row in home.buttons] == [
        ["📥 待审核（0）", "📊 报送情况"],
        ["📣 催报", "📤 导出"],
        ["📝 报送活动", "📋 我的报送"],
    ]
    await user.send("/help")
    helped = await user.expect()
    named = re.findall(r"/([a-z]+)", helped.text)
    assert named[:2] == ["review", "status"] and {"report", "mine", "plan"} <= set(named)


async def test_strangers_are_offered_only_how_to_join(kexie: Kexie) -> None:
    stranger = kexie.standin.user(8231, "路人")
    await stranger.send("/help")
    assert "您还不是任何科协的成员" in (await stranger.expect()).text
    assert kexie.standin.commands_for("default") == ["start", "help"]


async def test_english_desk_home(kexie: Kexie) -> None:
    admin = await kexie.member(8241, "district_admin", district="锦江区", first_name="Chen")
    await admin.send("/settings")
    await admin.expect_any("提醒与语言设置")
    await admin.press("English")
    await admin.expect_any("Language: English")
    await admin.send("/start")
    home = await admin.expect_any("Hello")
    assert home.button_texts == ["📥 To review (0)", "📊 Progress", "📣 Chase", "📤 Export"]
    await admin.send("/help")
    helped = await admin.expect()
    assert "/review" in helped.text and "/report" not in helped.text


async def test_a_district_without_associations_is_told_what_comes_first(kexie: Kexie) -> None:
    admin = await kexie.member(8251, "district_admin", district="青白江区", first_name="陈静")
    await admin.send("/members")
    said = await admin.expect()
    assert said.text == html_to_text(t("zh", "members_no_orgs"))
    assert not refusals_in([said])
