"""Self-tests of the stand-in's Mini App surface (tests/standin/): ``setChatMenuButton`` with a
``web_app`` button and ``web_app`` inline buttons are accepted over https and refused otherwise,
with Telegram's wording, as the real Bot API does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)
from telegram.error import BadRequest

from tests.standin import StandIn

URL = "https://kexie.example.org/console/"


@pytest.fixture
async def bot(standin: StandIn) -> AsyncIterator[Bot]:
    """A plain PTB Bot talking to the stand-in."""
    async with Bot(
        standin.token, base_url=standin.base_url, base_file_url=standin.base_file_url
    ) as b:
        yield b


async def test_a_web_app_menu_button_is_kept_per_chat_and_read_back(
    standin: StandIn, bot: Bot
) -> None:
    user = standin.user(8101, "陈静")
    await user.send("/start")
    await bot.set_chat_menu_button(
        chat_id=8101, menu_button=MenuButtonWebApp("控制台", WebAppInfo(URL))
    )
    assert standin.menu_buttons[8101] == {
        "type": "web_app",
        "text": "控制台",
        "web_app": {"url": URL},
    }
    shown = await bot.get_chat_menu_button(chat_id=8101)
    assert isinstance(shown, MenuButtonWebApp) and shown.web_app.url == URL
    # Another chat still has the default, and the default can be given back.
    assert isinstance(await bot.get_chat_menu_button(chat_id=8102), MenuButtonCommands)
    await bot.set_chat_menu_button(chat_id=8101, menu_button=MenuButtonDefault())
    assert standin.menu_buttons[8101] == {"type": "default"}


@pytest.mark.parametrize(
    "url", ["http://kexie.example.org/console/", "kexie.example.org/console/", "https://", ""]
)
async def test_a_menu_button_web_app_url_that_is_not_https_is_refused(
    standin: StandIn, bot: Bot, url: str
) -> None:
    standin.allow_errors = True
    await standin.user(8111, "陈静").send("/start")
    with pytest.raises(BadRequest, match=r"(?i)only https links are allowed"):
        await bot.set_chat_menu_button(
            chat_id=8111, menu_button=MenuButtonWebApp("控制台", WebAppInfo(url))
        )
    assert 8111 not in standin.menu_buttons
    (error,) = standin.errors
    assert error.method == "setChatMenuButton" and error.status == 400
    assert error.description.startswith("Bad Request: menu button Web App URL")


async def test_a_menu_button_without_text_is_refused(standin: StandIn, bot: Bot) -> None:
    standin.allow_errors = True
    await standin.user(8112, "陈静").send("/start")
    with pytest.raises(BadRequest, match=r"(?i)menu button text is empty"):
        await bot.set_chat_menu_button(
            chat_id=8112, menu_button=MenuButtonWebApp(" ", WebAppInfo(URL))
        )


async def test_a_web_app_inline_button_is_shown_with_its_url(standin: StandIn, bot: Bot) -> None:
    user = standin.user(8121, "陈静")
    await user.send("/start")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("控制台", web_app=WebAppInfo(URL))]])
    await bot.send_message(8121, "状态", reply_markup=markup)
    message = await user.expect(contains="状态")
    button = message.button("控制台")
    assert button.web_app == URL and button.callback_data is None and button.url is None


@pytest.mark.parametrize("url", ["http://kexie.example.org/console/", "tg://resolve?domain=x"])
async def test_a_web_app_inline_button_that_is_not_https_is_refused(
    standin: StandIn, bot: Bot, url: str
) -> None:
    standin.allow_errors = True
    user = standin.user(8131, "陈静")
    await user.send("/start")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("控制台", web_app=WebAppInfo(url))]])
    with pytest.raises(BadRequest, match=r"(?i)web app url .* is invalid: only https links"):
        await bot.send_message(8131, "状态", reply_markup=markup)
    assert [e.method for e in standin.errors] == ["sendMessage"]
    assert not [m for m in user.messages if "状态" in m.text]
