"""Self-tests of the local Telegram Bot API stand-in (tests/standin.py)."""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import logging
import os
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from tests.standin import BOT_ID, DOWNLOAD, StandIn, make_jpeg, parse_html, utf16_len


def _keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


@pytest.fixture
async def bot(standin: StandIn) -> AsyncIterator[Bot]:
    """A plain PTB Bot talking to the stand-in."""
    async with Bot(
        standin.token, base_url=standin.base_url, base_file_url=standin.base_file_url
    ) as b:
        yield b


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    name = html.escape(update.effective_user.first_name)
    await update.effective_message.reply_html(
        f"你好，<b>{name}</b>！参数：{html.escape(' '.join(context.args or []))}",
        reply_markup=_keyboard(("提交报送", "submit:1"), ("取消", "cancel")),
    )


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("已收到")
    await query.edit_message_text(f"已选择 {query.data}")


async def _photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None and message.photo
    file = await message.photo[-1].get_file()
    data = await file.download_as_bytearray()
    await message.reply_text(f"收到照片 {len(data)} 字节")


@pytest.fixture
async def app(standin: StandIn) -> AsyncIterator[Application]:
    """A tiny PTB Application long-polling the stand-in."""
    application = (
        Application.builder()
        .token(standin.token)
        .base_url(standin.base_url)
        .base_file_url(standin.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", _start))
    application.add_handler(CallbackQueryHandler(_button))
    application.add_handler(MessageHandler(filters.PHOTO, _photo))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=dtm.timedelta(seconds=5))
        yield application
        await application.updater.stop()
        await application.stop()


# --------------------------------------------------------------------------------------
# Long polling with a real Application
# --------------------------------------------------------------------------------------


async def test_polling_roundtrip_and_press(standin: StandIn, app: Application) -> None:
    u = standin.user(1001, "王芳")
    await u.send("/start abc")
    m = await u.expect("你好，王芳！", timeout=5)
    assert m.kind == "text"
    assert m.html is not None and m.html.startswith("你好，<b>王芳</b>")
    assert m.text == "你好，王芳！参数：abc"
    assert m.entities[0]["type"] == "bold"
    assert m.button_texts == ["提交报送", "取消"]
    assert m.button("取消").callback_data == "cancel"

    await u.press("提交")  # substring match
    answer = await u.expect_answer(timeout=5)
    assert answer.text == "已收到" and not answer.show_alert and answer.data == "submit:1"
    edited = await u.expect("已选择 submit:1", timeout=5)
    assert edited.edited and edited.message_id == m.message_id and edited.buttons == []
    assert u.last.text == "已选择 submit:1"
    await u.expect_nothing(within=0.2)


async def test_user_photo_download_by_bot(standin: StandIn, app: Application) -> None:
    u = standin.user(1002, "李雷")
    data = make_jpeg(seed=7)
    await u.send_photo(data)
    m = await u.expect("收到照片", timeout=5)
    assert m.text == f"收到照片 {len(data)} 字节"


async def test_state_survives_client_restart(standin: StandIn) -> None:
    """Unconfirmed updates are redelivered to a new client; an offset confirms them."""
    u = standin.user()
    await u.send("一")
    await u.send("二")
    async with Bot(standin.token, base_url=standin.base_url) as first:
        got = await first.get_updates(timeout=0)
        assert [x.message.text for x in got if x.message] == ["一", "二"]
    async with Bot(standin.token, base_url=standin.base_url) as second:
        again = await second.get_updates(timeout=0)
        assert [x.update_id for x in again] == [x.update_id for x in got]
        assert await second.get_updates(offset=got[-1].update_id + 1, timeout=0) == ()
    assert standin.pending_updates == []


async def test_long_poll_returns_as_soon_as_update_arrives(standin: StandIn, bot: Bot) -> None:
    u = standin.user()
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    await u.send("hello")
    updates = await poll
    assert loop.time() - started < 2
    assert updates[0].message is not None and updates[0].message.text == "hello"


_SUBPROCESS_BOT = """
import datetime as dtm, os
from telegram.ext import Application, MessageHandler, filters

async def echo(update, context):
    message = update.effective_message
    await message.reply_text(f"{os.environ['TAG']}: {message.text}")

app = Application.builder().token(os.environ["TOKEN"]).base_url(os.environ["URL"]).build()
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling(timeout=dtm.timedelta(seconds=5))
"""


async def _spawn_bot(standin: StandIn, tag: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "TOKEN": standin.token, "URL": standin.base_url, "TAG": tag}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _SUBPROCESS_BOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_subprocess_bot_killed_and_restarted(standin: StandIn) -> None:
    """A bot process SIGKILLed mid-poll; the next one gets what was sent meanwhile."""
    u = standin.user()
    first = await _spawn_bot(standin, "A")
    try:
        await u.send("一")
        assert (await u.expect(timeout=10)).text == "A: 一"
        await asyncio.sleep(0.2)  # let it confirm the update and park in a long poll
    finally:
        first.kill()
        await first.wait()
    await u.send("二")
    second = await _spawn_bot(standin, "B")
    try:
        assert (await u.expect(timeout=10)).text == "B: 二"
        await u.expect_nothing(within=0.3)
    finally:
        second.kill()
        await second.wait()


# --------------------------------------------------------------------------------------
# Rejections
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1 < 2", 'Unsupported start tag ""'),
        ("AT&T", 'Character "&"'),
        ("<foo>x</foo>", 'Unsupported start tag "foo"'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("x</b>", "Unexpected end tag"),
    ],
)
async def test_html_rejections(standin: StandIn, bot: Bot, text: str, fragment: str) -> None:
    standin.allow_errors = True
    u = standin.user()
    with pytest.raises(BadRequest, match=r"^Can't parse entities: "):
        await bot.send_message(u.chat_id, text, parse_mode="HTML")
    # PTB lower-cases the description after its first letter; check the raw wording here.
    assert standin.errors[-1].description.startswith("Bad Request: can't parse entities: ")
    assert fragment in standin.errors[-1].description
    assert standin.errors[-1].method == "sendMessage"
    assert u.messages == []


def test_html_parser_accepts_telegram_markup() -> None:
    text, entities = parse_html(
        '<b>粗</b><i>斜</i><u>下</u><s>删</s><a href="https://x.org/?a=1&amp;b=2">链</a>'
        '<tg-spoiler>剧</tg-spoiler><span class="tg-spoiler">透</span><code>c</code>'
        '<pre><code class="language-python">p</code></pre><blockquote expandable>引</blockquote>'
        "&lt;&gt;&amp;&quot;&#20013;&#x6587;😀"
    )
    assert text == '粗斜下删链剧透cp引<>&"中文😀'
    types = [e["type"] for e in entities]
    assert types == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "text_link",
        "spoiler",
        "spoiler",
        "code",
        "pre",
        "expandable_blockquote",
    ]
    assert entities[4]["url"] == "https://x.org/?a=1&b=2"
    assert entities[8]["language"] == "python"
    assert utf16_len("😀") == 2


async def test_length_limits_count_utf16(standin: StandIn, bot: Bot) -> None:
    standin.allow_errors = True
    u = standin.user()
    ok = "界" * 4094 + "😀"  # 4096 UTF-16 code units
    await bot.send_message(u.chat_id, ok)
    assert (await u.expect()).text == ok
    await bot.send_message(u.chat_id, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")
    assert (await u.expect()).text == "&" * 4096
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(u.chat_id, ok + "界")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(u.chat_id, " \n ")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(u.chat_id, make_jpeg(), caption="字" * 1025)
    assert [e.description for e in standin.errors] == [
        "Bad Request: message is too long",
        "Bad Request: message text is empty",
        "Bad Request: message caption is too long",
    ]


async def test_button_validation(standin: StandIn, bot: Bot) -> None:
    standin.allow_errors = True
    u = standin.user()
    await bot.send_message(u.chat_id, "ok", reply_markup=_keyboard(("a", "x" * 64)))
    for data in ("x" * 65, "测" * 22):  # 65 and 66 UTF-8 bytes
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(u.chat_id, "no", reply_markup=_keyboard(("a", data)))
    with pytest.raises(BadRequest, match="text buttons are unallowed"):
        await bot.send_message(
            u.chat_id, "no", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x")]])
        )
    assert [m.text for m in u.messages] == ["ok"]
    assert standin.errors[0].description == "Bad Request: BUTTON_DATA_INVALID"


async def test_edit_not_modified_and_not_found(standin: StandIn, bot: Bot) -> None:
    standin.allow_errors = True
    u = standin.user()
    kb = _keyboard(("确认", "ok"))
    sent = await bot.send_message(u.chat_id, "<b>状态</b>", parse_mode="HTML", reply_markup=kb)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>状态</b>", u.chat_id, sent.message_id, parse_mode="HTML", reply_markup=kb
        )
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(u.chat_id, sent.message_id, reply_markup=kb)
    # Same text without formatting is a modification (entities differ), and dropping
    # reply_markup removes the keyboard, as in Telegram.
    await bot.edit_message_text("状态", u.chat_id, sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", u.chat_id, 999)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "hi")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("123")
    assert [m.edited for m in (await u.expect(), await u.expect())] == [False, True]
    assert u.last.buttons == []
    assert standin.errors[0].description == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )


async def test_press_and_answer_with_plain_bot(standin: StandIn, bot: Bot) -> None:
    standin.allow_errors = True
    u = standin.user()
    await bot.send_message(u.chat_id, "选择", reply_markup=_keyboard(("甲", "a"), ("乙", "b")))
    query_id = await u.press("乙")
    (update,) = await bot.get_updates(timeout=1)
    assert update.callback_query is not None
    assert update.callback_query.id == query_id and update.callback_query.data == "b"
    assert update.callback_query.message is not None
    with pytest.raises(BadRequest, match="Message_too_long"):
        await bot.answer_callback_query(query_id, text="长" * 201)
    await bot.answer_callback_query(query_id, text="好", show_alert=True)
    assert u.callback_answers[-1].show_alert and u.callback_answers[-1].text == "好"
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(AssertionError, match="no inline button matching '丙'"):
        await u.press("丙")


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------


async def test_photo_sizes_get_file_and_too_big(standin: StandIn, bot: Bot) -> None:
    standin.allow_errors = True
    u = standin.user()
    data = make_jpeg(seed=3)
    await u.send_photo(data, caption="现场")
    await u.send_photo(data)
    await u.send_document(b"x" * 10, "big.zip", "application/zip", file_size=25 * 1024 * 1024)
    first, second, doc = await bot.get_updates(timeout=1)
    assert first.message is not None and second.message is not None and doc.message is not None
    assert len(first.message.photo) >= 3 and first.message.caption == "现场"
    assert first.message.photo[-1].file_unique_id == second.message.photo[-1].file_unique_id
    file = await bot.get_file(first.message.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == data
    assert doc.message.document is not None
    assert doc.message.document.file_size == 25 * 1024 * 1024
    with pytest.raises(BadRequest, match="File is too big"):
        await bot.get_file(doc.message.document.file_id)


async def test_send_document_and_photo_by_bot(standin: StandIn, bot: Bot) -> None:
    u = standin.user()
    await bot.send_document(u.chat_id, b"PK\x03\x04 xlsx bytes", filename="报表.xlsx")
    m = await u.expect()
    assert m.kind == "document" and m.file_name == "报表.xlsx"
    assert m.file_bytes == b"PK\x03\x04 xlsx bytes"
    sent = await bot.send_photo(
        u.chat_id, make_jpeg(seed=4), caption="<i>图</i>", parse_mode="HTML"
    )
    p = await u.expect("图")
    assert p.kind == "photo" and p.caption == "图" and p.file_bytes == make_jpeg(seed=4)
    await bot.send_photo(u.chat_id, sent.photo[-1].file_id)  # resend by file_id
    assert (await u.expect()).file_bytes == make_jpeg(seed=4)


async def test_albums_both_ways(standin: StandIn, bot: Bot) -> None:
    u = standin.user()
    ids = await u.send_album([make_jpeg(seed=k) for k in range(3)], caption="活动照片")
    updates = await bot.get_updates(timeout=1)
    messages = [x.message for x in updates if x.message]
    assert [m.message_id for m in messages] == ids
    assert len({m.media_group_id for m in messages}) == 1 and messages[0].media_group_id
    assert messages[0].caption == "活动照片" and messages[1].caption is None
    await bot.send_media_group(
        u.chat_id,
        [InputMediaPhoto(make_jpeg(seed=5), caption="一"), InputMediaPhoto(messages[1].photo[-1])],
    )
    a, b = await u.expect(), await u.expect()
    assert a.kind == b.kind == "media_group item" and a.media_group_id == b.media_group_id
    assert a.caption == "一" and b.file_bytes == make_jpeg(seed=1)


# --------------------------------------------------------------------------------------
# Faults and limits
# --------------------------------------------------------------------------------------


async def test_injected_faults_and_blocking(standin: StandIn, bot: Bot) -> None:
    u = standin.user()
    standin.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(u.chat_id, "a")
    assert "Retry in 3 seconds" in str(info.value)
    standin.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError):
        await bot.send_message(u.chat_id, "b")
    await bot.send_message(u.chat_id, "c")
    standin.block(u.user_id)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(u.chat_id, "d")
    assert [m.text for m in u.messages] == ["c"]
    assert len(standin.injected) == 2 and len(standin.blocked_hits) == 1
    assert standin.errors == []


async def test_enforced_rate_limits(standin: StandIn, bot: Bot) -> None:
    standin.enforce_limits = True
    u = standin.user()
    outcomes = []
    for k in range(5):
        try:
            await bot.send_message(u.chat_id, str(k))
            outcomes.append("ok")
        except RetryAfter:
            outcomes.append("429")
    assert outcomes == ["ok", "ok", "ok", "429", "429"]
    assert standin.rate_limited == 2


# --------------------------------------------------------------------------------------
# Protocol details
# --------------------------------------------------------------------------------------


async def test_raw_http_json_and_query_and_unknown_method(standin: StandIn, bot: Bot) -> None:
    standin.allow_errors = True
    u = standin.user()
    base = f"{standin.base_url}{standin.token}"
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{base}/sendMessage", json={"chat_id": u.chat_id, "text": "json"})
        assert r.json()["ok"] is True and r.json()["result"]["text"] == "json"
        r = await client.get(f"{base}/getMe", params={"x": "1"})
        assert r.json()["result"]["id"] == BOT_ID
        r = await client.post(f"{base}/noSuchMethod")
        assert r.status_code == 404
        assert r.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_commands_recorded(standin: StandIn, bot: Bot) -> None:
    from telegram import BotCommand, BotCommandScopeChat

    await bot.set_my_commands([BotCommand("start", "开始"), BotCommand("report", "报送活动")])
    await bot.set_my_commands(
        [BotCommand("admin", "管理")], scope=BotCommandScopeChat(1001), language_code="zh"
    )
    assert standin.commands_for() == ["start", "report"]
    assert standin.commands[("chat:1001", "zh")] == [("admin", "管理")]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "report"]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


async def test_expect_is_strict(standin: StandIn, bot: Bot) -> None:
    u = standin.user()
    await bot.send_message(u.chat_id, "第一条")
    await bot.send_message(u.chat_id, "第二条")
    with pytest.raises(AssertionError, match="got #1 text: '第一条'"):
        await u.expect("第二条")
    assert (await u.expect_any("第二条")).message_id == 2
    with pytest.raises(AssertionError, match="no bot message"):
        await u.expect(timeout=0.05)


async def test_fixture_reports_errors() -> None:
    async with StandIn() as s, Bot(s.token, base_url=s.base_url) as b:
        with pytest.raises(BadRequest):
            await b.send_message(1, "x")
    with pytest.raises(AssertionError, match="chat not found"):
        s.assert_no_errors()
    s.allow_errors = True
    s.assert_no_errors()


async def test_injected_timeout_reset_and_download_faults(
    standin: StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """A held request times out, a reset drops the connection unanswered; neither has an
    effect, both are counted, and the next request goes through on the same client."""
    u = standin.user()
    standin.timeout_hold = 1.5
    async with Bot(
        standin.token,
        base_url=standin.base_url,
        base_file_url=standin.base_file_url,
        request=HTTPXRequest(read_timeout=0.5),
    ) as quick:
        standin.fail_next("sendMessage", kind="timeout")
        with pytest.raises(TimedOut):
            await quick.send_message(u.chat_id, "held")
        standin.fail_next("sendMessage", kind="reset", times=2)
        for _ in range(2):
            with pytest.raises(NetworkError) as info:
                await quick.send_message(u.chat_id, "reset")
            assert not isinstance(info.value, TimedOut)
        await quick.send_message(u.chat_id, "through")
        assert [m.text for m in u.messages] == ["through"]

        await u.send_photo(make_jpeg())
        updates = await quick.get_updates()
        photo = updates[-1].message
        assert photo is not None and photo.photo
        standin.fail_next("getFile", status=500)
        with pytest.raises(NetworkError):
            await quick.get_file(photo.photo[-1].file_id)
        tg_file = await quick.get_file(photo.photo[-1].file_id)
        standin.fail_next(DOWNLOAD, kind="reset")
        with pytest.raises(NetworkError):
            await tg_file.download_as_bytearray()
        standin.fail_next(DOWNLOAD, status=502)
        with pytest.raises(NetworkError):
            await tg_file.download_as_bytearray()
        assert len(await tg_file.download_as_bytearray()) > 0
    assert [c.method for c in standin.injected] == [
        "sendMessage",
        "sendMessage",
        "sendMessage",
        "getFile",
        DOWNLOAD,
        DOWNLOAD,
    ]
    assert standin.errors == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    with pytest.raises(ValueError, match="unknown fault kind"):
        standin.fail_next("sendMessage", kind="slow")
