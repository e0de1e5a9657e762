"""One unit of work per update: one database session, the member, replies after commit.

Every handler (``async def handler(turn: Turn) -> None``, channel-free) is wrapped by
:func:`unit_of_work`. The wrapper turns the update into the port's event, opens the session,
skips updates already processed (Telegram re-delivers unconfirmed updates after a crash), runs
the handler, commits, and only then performs the outputs the handler queued: a user never sees
the next question for an answer that was not stored.

Replies that fail with a server error, a timeout or a dropped connection are sent again with
backoff (:func:`channels.telegram.retries.with_retries`) within its ``RETRY_BUDGET``; the update
is confirmed to Telegram only after that, so the user gets every reply once the API recovers
and the answer is applied once. 429 "retry after" is not retried here: the Bot API rate
limiter (``bot/lanes.py``) honours it, so each kind of failure has exactly one layer that
retries it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Bot, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from channels.telegram import retries
from channels.telegram.front import TelegramFront, keyboard
from channels.telegram.incoming import address_of, incoming_of
from core.enums import Channel
from core.settings import Settings
from handlers.common import Handler, Turn
from handlers.port import CloseButtons, EditCard, Later, Output, Reply, SendPhoto
from storage.db import Database
from storage.locks import lock_chat
from storage.members import actor_of_loaded, load_for_update
from storage.models import ChannelAccount

log = logging.getLogger(__name__)

# A callback query cannot be answered after about 15 seconds; its toast is not worth more.
ANSWER_BUDGET = 10.0

#: ``bot_data`` key of the handler that asks the current question again when an update comes a
#: second time (``handlers.router.reprompt``, set by the assembly: the router knows the flows).
REPROMPT = "reprompt"


def unit_of_work(
    original: Handler,
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    """Wrap a handler: one session per update, exactly-once processing, replies after commit."""

    async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_user is None or update.effective_chat is None:
            return
        if update.effective_chat.type != "private":
            return  # the bot works in private chats only
        db: Database = context.bot_data["db"]
        settings: Settings = context.bot_data["settings"]
        front = TelegramFront(context.application)
        incoming = incoming_of(update, context.bot, context.args)
        handler = original
        async with db.session() as session:
            # Several instances: one chat's updates take turns, so the check below sees the
            # last one applied by any of them (PostgreSQL; a no-op on SQLite).
            await lock_chat(session, incoming.sender)
            # One query: member, accounts, roles, conversation state and its activity.
            member = await load_for_update(session, incoming.sender)
            account = member.account(Channel.TELEGRAM) if member is not None else None
            fresh = _is_fresh(account, update.update_id)
            if not fresh:
                # Processed before a crash, but perhaps never answered: ask the current
                # question again instead of applying the answer twice.
                log.info("re-delivered update %s: re-asking", update.update_id)
                handler = context.bot_data.get(REPROMPT, _nothing)
            actor = actor_of_loaded(member)
            # Telegram has no official Chinese interface, so most of our users run it in
            # English: the client's language says nothing about theirs. Chinese until they
            # choose in /settings.
            lang = member.language if member else "zh"
            turn = Turn(incoming, front, db, session, settings, member, actor, lang)
            await handler(turn)
            # Last, in the commit of the effects: SQLite's write transaction starts at the
            # handler's first write, after its reads and downloads. Never lowered: several
            # updates of a chat may come again after a crash, and each must be recognised.
            if account is not None and fresh:
                account.last_update_id = update.update_id
            if member is not None and member.unreachable:
                member.unreachable = False  # they are talking to us again
        # Committed: now tell the user.
        await _send_replies(update, turn)

    run.__name__ = original.__name__
    run.__doc__ = original.__doc__
    return run


async def _send_replies(update: Update, turn: Turn) -> None:
    """The toast, then the queued replies in order, each retried within one shared budget."""
    front = turn.front
    assert isinstance(front, TelegramFront)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + retries.RETRY_BUDGET
    query = update.callback_query
    if query is not None:
        text, alert = (turn.answer.text, turn.answer.alert) if turn.answer else ("", False)
        try:
            await retries.deliver(
                lambda: query.answer(text or None, show_alert=alert),
                deadline=min(deadline, loop.time() + ANSWER_BUDGET),
                what=f"the answer to the button of update {update.update_id}",
            )
        except BadRequest:
            log.debug("callback query of update %s too old to answer", update.update_id)
    for index, output in enumerate(turn.outbox):
        what = f"reply {index + 1}/{len(turn.outbox)} to update {update.update_id}"
        action = _action(update, front.bot, front, output)
        if action is None:
            continue
        if not await retries.deliver(action, deadline=deadline, what=what):
            # Later replies would make no sense without this one.
            return


def _action(
    update: Update, bot: Bot, front: TelegramFront, output: Output
) -> Callable[[], Awaitable[Any]] | None:
    """The Bot API call that performs one output (None: nothing to do)."""
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    if isinstance(output, Reply):
        markup = keyboard(output.buttons)
        return lambda: bot.send_message(
            chat_id, output.text, reply_markup=markup, disable_web_page_preview=True
        )
    if isinstance(output, Later):
        return output.action
    if isinstance(output, SendPhoto):
        to = address_of(chat_id)
        return lambda: front.photo(
            to, output.png, output.caption, html=output.html, filename=output.filename
        )
    query = update.callback_query
    message = query.message if query is not None else None
    if query is None or not isinstance(message, Message):
        return None
    if isinstance(output, CloseButtons):

        async def _strip() -> None:
            try:
                await query.edit_message_reply_markup(reply_markup=None)
            except BadRequest as exc:
                if edit_refusal(exc) is None:
                    raise  # a message that is gone has no buttons left to press

        return _strip
    assert isinstance(output, EditCard)
    markup = keyboard(output.buttons)

    async def _edit() -> None:
        try:
            await query.edit_message_text(
                output.text, reply_markup=markup, disable_web_page_preview=True
            )
        except BadRequest as exc:
            reason = edit_refusal(exc)
            if reason == "gone" and output.resend_if_gone:
                log.info("update %s: pressed message gone, sending anew", update.update_id)
                await bot.send_message(
                    message.chat.id, output.text, reply_markup=markup,
                    disable_web_page_preview=True,
                )  # fmt: skip
            elif reason is None:
                raise

    return _edit


def edit_refusal(exc: BadRequest) -> str | None:
    """Why Telegram refused an edit, when that is no error of ours: "same" (nothing to change)
    or "gone" (deleted, or too old to edit); None otherwise."""
    text = str(exc).lower()
    if "not modified" in text:
        return "same"
    if "message to edit not found" in text or "can't be edited" in text:
        return "gone"
    return None


def _is_fresh(account: ChannelAccount | None, update_id: int) -> bool:
    """Whether this update was not applied before (ids only grow within a chat)."""
    return account is None or account.last_update_id is None or update_id > account.last_update_id


async def _nothing(turn: Turn) -> None:
    """No flow re-asks its question: an update seen before is simply not applied again."""
