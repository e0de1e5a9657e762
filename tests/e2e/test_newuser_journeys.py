"""New-user journeys: a non-technical staff member of a small enterprise S&T association in
Chengdu, on a phone, who got an invite link from the district office.

Plain tests are journeys that work and must keep working. Tests marked
``xfail(strict=True)`` reproduce a problem found while trying the bot as such a user: each
fails now; whoever fixes the problem removes the mark. Run with ``-s`` to read the transcripts
that :func:`say`/:func:`tap` print.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.enums import ActivityStatus
from core.rules import parse_activity_date, parse_headcount
from core.texts import t
from storage.models import Activity
from tests.harness import Kexie
from tests.journeys import answer_until_evidence
from tests.standin import BotMessage, FakeUser, html_to_text, make_jpeg
from tests.steps import step_label

ORG = "成都蓉欣科技有限公司科协"


def catalog(key: str, lang: str = "zh", **params: object) -> str:
    """A catalog sentence as the user's phone shows it (plain text)."""
    return html_to_text(t(lang, key, **params))


async def quiet(user: FakeUser, silence: float = 0.8, limit: float = 8.0) -> list[BotMessage]:
    """Wait until the bot has said nothing for ``silence`` seconds; consume and print it all."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while loop.time() < end and await user.standin._output_signal.wait(silence):
        pass
    got = user.drain()
    for m in got:
        print(f"  BOT#{m.message_id}{' (edit)' if m.edited else ''}: {m.text}")
        if m.button_texts:
            print(f"      [buttons] {m.button_texts}")
    return got


async def say(user: FakeUser, text: str) -> list[BotMessage]:
    """Send a text and return (and print) everything the bot answered."""
    print(f"USER: {text!r}")
    await user.send(text)
    return await quiet(user)


async def tap(user: FakeUser, label: str, message: int | None = None) -> list[BotMessage]:
    """Press a button and return (and print) everything the bot answered."""
    print(f"USER presses [{label}]")
    await user.press(label, message)
    return await quiet(user)


async def newcomer(kexie: Kexie, user_id: int = 8001, lang: str | None = "zh-hans") -> FakeUser:
    """Someone who opened the district's invite link on their phone."""
    org = await kexie.org(ORG)
    token = await kexie.invite_token("reporter", org=org)
    user = kexie.standin.user(user_id, "张丽", language_code=lang)
    await user.send(f"/start {token}")
    await user.expect_any("您好")  # Chinese first, whatever the client's language
    if lang == "en":  # an English reader chooses English in /settings
        await user.send("/settings")
        await user.expect_any("提醒与语言设置")
        await user.press("English")
        await user.expect_any("Language: English")
    return user


async def until_headcount(user: FakeUser) -> None:
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.press("昨天")
    await user.expect_any(step_label("name"))
    await user.send("科技讲座")
    await user.expect_any(step_label("content"))
    await user.send("专家讲解")
    await user.expect_any(step_label("role"))
    await user.press("主办")
    await user.expect_any(step_label("headcount"))


async def activities(kexie: Kexie) -> list[Activity]:
    async with kexie.session() as session:
        return list(
            (
                await session.scalars(
                    select(Activity).options(selectinload(Activity.evidence)).order_by(Activity.id)
                )
            ).all()
        )


# ---------------------------------------------------------------------------------------------
# journeys that work (regression tests)


async def test_newcomer_doing_nothing_sensible_is_pointed_to_report(kexie: Kexie) -> None:
    user = await newcomer(kexie)
    hint = catalog("idle_hint")
    for text in ("你好", "怎么用"):
        replies = await say(user, text)
        assert [m.text for m in replies] == [hint], text
        assert "📝 报送活动" in replies[0].button_texts
    print("USER sends a random photo")
    await user.send_photo()
    replies = await quiet(user)
    assert [m.text for m in replies] == [hint]
    mine = await say(user, "/mine")
    assert len(mine) == 1 and "还没有已提交的报送" in mine[0].text and "/report" in mine[0].text
    helped = await say(user, "/help")
    assert "/report" in helped[0].text and "3日内" in helped[0].text
    cancelled = await say(user, "/cancel")
    assert cancelled[0].text == catalog("cancelled_nothing")
    started = await tap(user, "报送活动")
    assert any(step_label("activity_date") in m.text for m in started)
    [draft] = await activities(kexie)
    assert draft.status == ActivityStatus.DRAFT


async def test_html_quotes_and_wechat_paste_are_kept_literally(kexie: Kexie) -> None:
    user = await newcomer(kexie)
    name = "“科技<创新>&发展”讲座 '第2期' \"下午场\""
    wechat = (
        "【活动简讯】🎉🎉\n\n11月3日下午，我会联合区科协在三楼会议室举办了"
        "“科技赋能·创新发展”专题讲座👏👏\n\n一、活动背景\n……\n二、活动内容\n"
        "1. 专家授课 <PPT>\n2. 互动交流😊 & 合影\n\n（来源：蓉欣科技公众号）"
    )
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.press("昨天")
    await user.expect_any(step_label("name"))
    await user.send(name)
    await user.expect_any(step_label("content"))
    await user.send(wechat)
    await user.expect_any(step_label("role"))
    await user.press("协办")
    await user.expect_any(step_label("headcount"))
    await user.send("50 人左右")
    await user.expect_any(step_label("outcome"))
    await user.send("服务企业12家 & 达成合作意向3项")
    await user.expect_any(step_label("evidence"))
    await user.send_photo()
    await user.expect_any("已收到")
    await user.press("完成")
    card = await user.expect_any("请核对报送内容")
    assert name in card.text and wechat in card.text
    assert "50人" in card.text
    [activity] = await activities(kexie)
    assert (activity.name, activity.content, activity.headcount) == (name, wechat, 50)


async def test_cancel_at_every_step_keeps_the_draft_and_resumes_there(kexie: Kexie) -> None:
    """/cancel → 保留草稿 → /report → 继续填写 must come back to the same question each time."""
    user = await newcomer(kexie)

    async def photo_and_done() -> None:
        await user.send_photo()
        await user.expect_any("已收到")
        await user.press("完成")

    steps = [
        (step_label("activity_date"), lambda: user.press("昨天")),
        (step_label("name"), lambda: user.send("科技讲座")),
        (step_label("content"), lambda: user.send("专家讲解政策")),
        (step_label("role"), lambda: user.press("承办")),
        (step_label("headcount"), lambda: user.send("三十多人")),
        (step_label("outcome"), lambda: user.send("企业了解了政策")),
        (step_label("evidence"), photo_and_done),
        ("请核对报送内容", lambda: user.press("提交")),
    ]
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    for marker, answer in steps:
        await user.send("/cancel")
        ask = await user.expect_any("要放弃")
        await user.press("保留草稿", ask)
        await user.expect_any("草稿已保存")
        await user.send("/report")
        # a draft with no answer yet simply starts again at step 1
        if marker != step_label("activity_date"):
            await user.expect_any("未完成的报送草稿")
            await user.press("继续填写")
        await user.expect_any(marker)
        await answer()
    await user.expect_any("🎉 已提交")
    [activity] = await activities(kexie)
    assert activity.status == ActivityStatus.SUBMITTED
    assert (activity.role, activity.headcount) == ("承办", 30)


async def test_old_buttons_are_refused_quietly(kexie: Kexie) -> None:
    user = await newcomer(kexie)
    await answer_until_evidence(user)
    await user.send_album([make_jpeg(seed=k) for k in range(10)])
    ack = await user.expect("已收到 10 个文件")
    await user.expect_nothing(within=1.5)  # one acknowledgement for an album of ten
    await user.send("好了")
    await user.expect_any("请核对报送内容")
    first_question = next(m for m in user.messages if step_label("activity_date") in m.text)
    for label, message in (("今天", first_question), ("清空重传", ack), ("完成", ack)):
        user._answer_cursor = len(user.callback_answers)
        if label not in message.button_texts and not any(label in b for b in message.button_texts):
            continue  # the bot removed that button: even better
        await user.press(label, message)
        answer = await user.expect_answer()
        assert answer.text == catalog("button_expired"), label
        await user.expect_nothing(within=0.5)
    [activity] = await activities(kexie)
    assert activity.status == ActivityStatus.DRAFT and len(activity.evidence) == 10


async def test_english_client_gets_chinese_until_they_choose(kexie: Kexie) -> None:
    """Most Chinese users run Telegram in English (it has no Chinese interface): the bot
    speaks Chinese first and switches only when asked in /settings."""
    user = kexie.standin.user(8002, "Ann", language_code="en")
    token = await kexie.invite_token("reporter", org=await kexie.org(ORG))
    await user.send(f"/start {token}")
    joined = await user.expect_any("已加入")
    assert ORG in joined.text
    welcome = await user.expect_any("您好")
    assert welcome.button_texts == ["📝 报送活动", "📋 我的报送"]
    await user.send("/settings")
    await user.expect_any("提醒与语言设置")
    await user.press("English")
    await user.expect_any("Language: English")
    replies = await say(user, "/report")
    ask = next(m for m in replies if "Step 1 of 7" in m.text)
    assert ask.button_texts[0].startswith("Today")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("三十多人", 30), ("50 人左右", 50), ("50余名", 50), ("约 50 人", 50), ("大约五十人", 50)],
)
def test_headcounts_people_write(typed: str, expected: int) -> None:
    assert parse_headcount(typed) == (expected, None)


# ---------------------------------------------------------------------------------------------
# problems found (each fails now)


async def test_album_before_evidence_step_is_answered_once(kexie: Kexie) -> None:
    user = await newcomer(kexie)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.send_album([make_jpeg(seed=k) for k in range(10)])
    # The first answer may take longer than the silence on a loaded machine (ten downloads):
    # wait for it, then count what follows until the bot is quiet.
    first = await user.expect(timeout=30)
    replies = [first, *await quiet(user, silence=2.0)]
    assert 1 <= len(replies) <= 2, [m.text[:20] for m in replies]


async def test_resent_album_says_already_received(kexie: Kexie) -> None:
    user = await newcomer(kexie)
    await answer_until_evidence(user)
    album = [make_jpeg(seed=k) for k in range(3)]
    await user.send_album(album)
    await user.expect_any("已收到 3 个文件")
    await user.send_album(album)
    again = await user.expect(timeout=5)
    assert "已收到 0 个文件" not in again.text
    assert "已经收到过" in again.text


async def test_typing_submit_on_the_card(kexie: Kexie) -> None:
    user = await newcomer(kexie)
    await answer_until_evidence(user)
    await user.send_photo()
    await user.expect_any("已收到")
    await user.press("完成")
    await user.expect_any("请核对报送内容")
    await user.send("提交")
    reply = await user.expect()
    assert reply.text != catalog("expect_button_or_text")
    assert "提交" in reply.text


async def test_typing_at_the_resume_question(kexie: Kexie) -> None:
    user = await newcomer(kexie)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.press("昨天")
    await user.expect_any(step_label("name"))
    await user.send("/report")
    await user.expect_any("未完成的报送草稿")
    replies = await say(user, "继续")
    assert all(m.text != catalog("expect_button_or_text") for m in replies)
    assert any("继续填写" in m.button_texts for m in replies) or any(
        step_label("name") in m.text for m in replies
    )


async def test_date_with_time_of_day_typed_in_the_chat(kexie: Kexie) -> None:
    user = await newcomer(kexie)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.send("11月3号下午")
    reply = await user.expect()
    assert reply.text != catalog("date_unreadable")


@pytest.mark.parametrize(
    "typed", ["2021年11月3日下午", "11月3日（周三）", "2021-11-03 14:30", "11月3日 上午9:00"]
)
def test_dates_with_time_or_weekday(typed: str) -> None:
    from datetime import date

    value, error = parse_activity_date(typed, date(2021, 11, 25))
    assert (value, error) == (date(2021, 11, 3), None)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("50个人", 50), ("約50人", 50), ("五十来人", 50), ("二十几个人", 20), ("约莫50人", 50)],
)
def test_headcount_common_forms(typed: str, expected: int) -> None:
    assert parse_headcount(typed) == (expected, None)


async def test_headcount_with_ge_in_the_chat(kexie: Kexie) -> None:
    user = await newcomer(kexie)
    await until_headcount(user)
    await user.send("50个人")
    reply = await user.expect()
    assert reply.text != catalog("headcount_unreadable")


@pytest.mark.parametrize(
    ("typed", "expected"), [("二百五", 250), ("一万五", 15000), ("一二〇", 120)]
)
def test_chinese_numerals_read_right(typed: str, expected: int) -> None:
    assert parse_headcount(typed) == (expected, None)


@pytest.mark.parametrize("typed", ["五六十人", "两三百人", "十五六人"])
def test_spoken_range_is_not_stored_silently(typed: str) -> None:
    value, error = parse_headcount(typed)
    assert value is None and error is not None


async def test_english_client_may_type_yesterday(kexie: Kexie) -> None:
    user = await newcomer(kexie, 8003, "en")
    await user.send("/report")
    await user.expect_any("Step 1 of 7")
    await user.send("yesterday")
    reply = await user.expect()
    assert reply.text != catalog("date_unreadable", lang="en")


async def test_every_command_in_the_members_menu_exists(kexie: Kexie) -> None:
    user = await newcomer(kexie)
    menu: list[str] = []
    for _ in range(50):
        menu = kexie.standin.commands_for(f"chat:{user.chat_id}")
        if menu:
            break
        await asyncio.sleep(0.1)
    assert "report" in menu
    unknown = catalog("unknown_command")
    missing = []
    for name in menu:
        replies = await say(user, f"/{name}")
        if any(m.text == unknown for m in replies):
            missing.append(name)
        await say(user, "/cancel")
        if user.messages and "放弃草稿" in user.messages[-1].button_texts:
            await tap(user, "放弃草稿")
    assert missing == []


@pytest.mark.parametrize("kind", ["voice", "sticker"])
async def test_voice_or_sticker_at_a_typing_step(kexie: Kexie, kind: str) -> None:
    user = await newcomer(kexie)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.press("昨天")
    await user.expect_any(step_label("name"))
    await (user.send_voice() if kind == "voice" else user.send_sticker())
    reply = await user.expect()
    assert "还不需要上传文件" not in reply.text


async def test_photo_sent_at_the_card(kexie: Kexie) -> None:
    user = await newcomer(kexie)
    await answer_until_evidence(user)
    await user.send_photo()
    await user.expect_any("已收到")
    await user.press("完成")
    await user.expect_any("请核对报送内容")
    await user.send_photo(make_jpeg(seed=42))
    reply = await user.expect()
    assert "还不需要上传文件" not in reply.text


async def test_long_paste_split_by_the_client_is_not_stored_as_its_tail(kexie: Kexie) -> None:
    user = await newcomer(kexie)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.press("昨天")
    await user.expect_any(step_label("name"))
    await user.send("科技政策讲座")
    await user.expect_any(step_label("content"))
    article = "【活动简讯】" + "专家讲解了科技政策。" * 500  # 5006 characters
    await user.send(article[:4096])
    await user.send(article[4096:])
    await quiet(user)
    [activity] = await activities(kexie)
    assert activity.content != article[4096:]


async def test_org_admin_help_lists_only_their_commands(kexie: Kexie) -> None:
    token = await kexie.invite_token("org_admin", org=await kexie.org(ORG))
    user = kexie.standin.user(8005, "刘强")
    await user.send(f"/start {token}")
    await user.expect_any("您好")
    helped = await say(user, "/help")
    menu = kexie.standin.commands_for(f"chat:{user.chat_id}")
    for name in ("district", "status", "export"):
        if name not in menu:
            assert f"/{name}" not in helped[0].text, name


async def until_name(user: FakeUser) -> None:
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.press("昨天")
    await user.expect_any(step_label("name"))


async def test_template_pasted_at_the_name_step(kexie: Kexie) -> None:
    user = await newcomer(kexie)
    await until_name(user)
    await user.send("活动名称：科技讲座\n活动内容：专家讲政策\n参与人数：50人")
    await quiet(user)
    [activity] = await activities(kexie)
    assert activity.name is None or "\n" not in activity.name


async def test_too_long_name_is_called_a_name(kexie: Kexie) -> None:
    user = await newcomer(kexie)
    await until_name(user)
    await user.send("科" * 120)
    reply = await user.expect()
    assert "名称" in reply.text and "内容" not in reply.text
