"""The stand-in's record of a callback answer names the pressed button's data.

``CallbackAnswer.data`` used to be looked up in the still-unconfirmed updates, so it was lost
whenever the bot confirmed the update (its next getUpdates) before answering the query, which
python-telegram-bot's polling usually but not always does after the answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from tests.standin import StandIn


@pytest.fixture
async def bot(standin: StandIn) -> AsyncIterator[Bot]:
    """A plain PTB Bot talking to the stand-in."""
    async with Bot(
        standin.token, base_url=standin.base_url, base_file_url=standin.base_file_url
    ) as b:
        yield b


async def test_answer_after_update_confirmed_keeps_data(standin: StandIn, bot: Bot) -> None:
    u = standin.user()
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("乙", callback_data="rep:7:role:2")]])
    await bot.send_message(u.chat_id, "选择", reply_markup=keyboard)
    query_id = await u.press("乙")
    (update,) = await bot.get_updates(timeout=0)
    # Confirm the update before answering, as polling does when its next request wins.
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert standin.pending_updates == []

    await bot.answer_callback_query(query_id, text="好")

    answer = await u.expect_answer(timeout=5)
    assert answer.query_id == query_id
    assert answer.data == "rep:7:role:2"
