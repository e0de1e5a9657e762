"""What every handler shares: one database session per update, the member, replies after commit.

A handler is ``async def handler(turn: Turn) -> None`` wrapped by :func:`unit_of_work`. The
wrapper opens the session, skips updates already processed (Telegram re-delivers unconfirmed
updates after a crash), runs the handler, commits, and only then sends the replies the handler
queued: a user never sees the next question for an answer that was not stored.

Replies that fail with a server error, a timeout or a dropped connection are sent again with
backoff (:func:`with_retries`) within :data:`RETRY_BUDGET`; the update is confirmed to Telegram
only after that, so the user gets every reply once the API recovers and the answer is applied
once. 429 "retry after" is not retried here: the Bot API rate limiter (``bot/lanes.py``) honours
it, so each kind of failure has exactly one layer that retries it.
"""

from __future__ import annotations

import asyncio
import html
import logging
import random
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.error import BadRequest, NetworkError
from telegram.ext import ContextTypes

from core.callbacks import Codec
from core.policy import Actor
from core.settings import Settings
from core.texts import Raw, plain, t
from storage.db import Database
from storage.evidence import EvidenceStorage, open_evidence_store
from storage.locks import lock_chat
from storage.members import actor_of_loaded, load_for_update
from storage.models import ChannelAccount, Member, utcnow

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64

Buttons = Sequence[Sequence[tuple[str, str]]]  # rows of (label, callback_data)
Deferred = Callable[[], Awaitable[Any]]
T = TypeVar("T")

# The Bot API is down for a while: keep trying this long per update (the polling loop waits,
# which is right: nothing else could be answered either), then give up; a redelivered update
# asks its question again anyway.
RETRY_BUDGET = 120.0
RETRY_FIRST_DELAY = 0.5
RETRY_MAX_DELAY = 20.0
# A callback query cannot be answered after about 15 seconds; its toast is not worth more.
ANSWER_BUDGET = 10.0


def is_transient(exc: BaseException) -> bool:
    """A failure worth repeating the same request for: 5xx, a timeout, a dropped connection.

    python-telegram-bot raises ``NetworkError`` for all three (``TimedOut`` is one), but
    ``BadRequest`` is a ``NetworkError`` too, and a 400 stays a 400 however often it is sent.
    """
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


async def with_retries(call: Callable[[], Awaitable[T]], *, deadline: float, what: str) -> T:
    """Await ``call()``, repeating it on transient failures with backoff until ``deadline``
    (event-loop time); then the last failure is raised. ``what`` names it in the log (ids only).
    """
    loop = asyncio.get_running_loop()
    delay = RETRY_FIRST_DELAY
    attempt = 1
    while True:
        try:
            return await call()
        except Exception as exc:
            if not is_transient(exc):
                raise
            wait = delay * random.uniform(0.8, 1.2)  # jitter: many chats recover at once
            if loop.time() + wait >= deadline:
                log.warning(
                    "gave up on %s after %d attempts (%s)", what, attempt, type(exc).__name__
                )
                raise
            name = type(exc).__name__
            log.info("%s failed (%s, attempt %d); retrying in %.1fs", what, name, attempt, wait)
            await asyncio.sleep(wait)
            delay = min(delay * 2, RETRY_MAX_DELAY)
            attempt += 1


async def deliver(action: Deferred, *, deadline: float, what: str) -> bool:
    """Run one queued Telegram call with :func:`with_retries`; False if it gave up (failures
    that are not transient, 400, 403..., propagate to the caller)."""
    try:
        await with_retries(action, deadline=deadline, what=what)
    except Exception as exc:
        if is_transient(exc):
            return False
        raise
    return True


def keyboard(rows: Buttons | None) -> InlineKeyboardMarkup | None:
    """Inline keyboard from rows of (label, callback data); data is checked against the limit."""
    if not rows:
        return None
    built = []
    for row in rows:
        buttons = []
        for label, data in row:
            if len(data.encode()) > MAX_CALLBACK_BYTES:
                raise ValueError(f"callback data over 64 bytes: {data!r}")
            buttons.append(InlineKeyboardButton(label, callback_data=data))
        built.append(buttons)
    return InlineKeyboardMarkup(built)


_TAG = re.compile(r"<[^>]+>")


def html_to_plain(text: str) -> str:
    """Catalog HTML as plain text, for places that take no markup (toasts)."""
    return html.unescape(_TAG.sub("", text))


def fit(text: str, limit: int = MAX_TEXT) -> str:
    """Last guard: never send more than Telegram accepts (callers shorten user text first)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Turn:
    """One update being handled: its session, its member, its language, its queued replies."""

    update: Update
    context: ContextTypes.DEFAULT_TYPE
    session: AsyncSession
    settings: Settings
    member: Member | None
    actor: Actor
    lang: str
    outbox: list[Deferred] = field(default_factory=list)

    # --- what came in ---
    @property
    def user(self) -> User:
        """The Telegram user who sent the update."""
        assert self.update.effective_user is not None
        return self.update.effective_user

    @property
    def chat_id(self) -> int:
        """The chat to answer in."""
        assert self.update.effective_chat is not None
        return self.update.effective_chat.id

    @property
    def message(self) -> Message | None:
        """The incoming message, if the update is one."""
        return self.update.message

    @property
    def query(self) -> CallbackQuery | None:
        """The pressed button, if the update is one."""
        return self.update.callback_query

    def button(self, codec: Codec[T]) -> T | None:
        """The pressed button's typed value; ``None`` (answered as an expired button) when the
        data is not this kind of button or names nothing a database could hold."""
        value = codec.parse(self.query.data if self.query is not None else None)
        if value is None:
            self.notice(self.t("button_expired"))
        return value

    @property
    def now(self) -> datetime:
        """The current moment (aware UTC)."""
        return utcnow()

    @property
    def today(self) -> date:
        """Today in the configured time zone."""
        return utcnow().astimezone(self.settings.tz).date()

    @property
    def this_year(self) -> int:
        """The statistical year open today (from 1 December, by default, the next one)."""
        return self.settings.years.year_of(self.today)

    @property
    def evidence(self) -> EvidenceStorage:
        """The evidence file store."""
        return open_evidence_store(self.settings)

    # --- texts ---
    def t(self, key: str, /, **params: Any) -> Raw:
        """A catalog sentence in the member's language (HTML, parameters escaped)."""
        return t(self.lang, key, **params)

    def label(self, key: str, /, **params: Any) -> str:
        """A catalog sentence for a button label (plain text)."""
        return plain(self.lang, key, **params)

    # --- replies, sent after commit ---
    def reply(self, text: str, buttons: Buttons | None = None) -> None:
        """Queue a new message to this chat (HTML: the application's default parse mode)."""
        chat_id, markup = self.chat_id, keyboard(buttons)
        self.outbox.append(
            lambda: self.context.bot.send_message(
                chat_id, fit(text), reply_markup=markup, disable_web_page_preview=True
            )
        )

    def edit(self, text: str, buttons: Buttons | None = None) -> None:
        """Queue an edit of the message whose button was pressed.

        Nothing is sent when the message already reads so (a button pressed twice); a message
        that is gone or can no longer be edited gets the text as a new message instead.
        """
        query = self.query
        message = query.message if query is not None else None
        if query is None or not isinstance(message, Message):  # none, or inaccessible
            self.reply(text, buttons)
            return
        markup = keyboard(buttons)
        body = fit(text)
        if _reads_as(message, body, markup):
            return

        async def _edit() -> None:
            try:
                await query.edit_message_text(
                    body,
                    reply_markup=markup,
                    disable_web_page_preview=True,
                )
            except BadRequest as exc:
                reason = edit_refusal(exc)
                if reason == "gone":
                    log.info("update %s: pressed message gone, sending anew", self.update.update_id)
                    await self.context.bot.send_message(
                        message.chat.id, body, reply_markup=markup, disable_web_page_preview=True
                    )
                elif reason is None:
                    raise

        self.outbox.append(_edit)

    def close_buttons(self) -> None:
        """Queue removing the keyboard of the pressed message, so a button works only once."""
        query = self.query
        if query is None or query.message is None:
            return
        message = query.message
        if not isinstance(message, Message) or message.reply_markup is None:
            return

        async def _strip() -> None:
            try:
                await query.edit_message_reply_markup(reply_markup=None)
            except BadRequest as exc:
                if edit_refusal(exc) is None:
                    raise  # a message that is gone has no buttons left to press

        self.outbox.append(_strip)

    def notice(self, text: str, *, alert: bool = False) -> None:
        """Queue the answer to the pressed button (a short toast; plain text, 200 chars)."""
        self._answer = (fit(html_to_plain(text), 200), alert)

    def later(self, action: Deferred) -> None:
        """Queue any other Telegram call to run after the commit."""
        self.outbox.append(action)

    _answer: tuple[str, bool] | None = None


Handler = Callable[[Turn], Awaitable[None]]

#: ``bot_data`` key of the handler that asks the current question again when an update comes a
#: second time (``handlers.router.reprompt``, set by the assembly: the router knows the flows and
#: sits above this module).
REPROMPT = "reprompt"


def _reads_as(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Whether ``message`` already shows this text and these buttons (Telegram would refuse the
    edit as "not modified"). Compared as the user sees it: plain text, trimmed."""
    shown = message.text if message.text is not None else message.caption
    if shown is None or shown.strip() != html_to_plain(text).strip():
        return False
    current = message.reply_markup
    if markup is None or current is None:
        return markup is None and (current is None or not current.inline_keyboard)
    return current == markup


def edit_refusal(exc: BadRequest) -> str | None:
    """Why Telegram refused an edit, when that is no error of ours: "same" (nothing to change)
    or "gone" (deleted, or too old to edit); None otherwise."""
    text = str(exc).lower()
    if "not modified" in text:
        return "same"
    if "message to edit not found" in text or "can't be edited" in text:
        return "gone"
    return None


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
        handler = original
        async with db.session() as session:
            # Several instances: one chat's updates take turns, so the check below sees the
            # last one applied by any of them (PostgreSQL; a no-op on SQLite).
            await lock_chat(session, update.effective_chat.id)
            # One query: member, account, roles, conversation state and its activity.
            member = await load_for_update(session, update.effective_user.id)
            account = member.telegram_account if member is not None else None
            fresh = _is_fresh(account, update.update_id)
            if not fresh:
                # Processed before a crash, but perhaps never answered: ask the current
                # question again instead of applying the answer twice.
                log.info("re-delivered update %s: re-asking", update.update_id)
                handler = context.bot_data.get(REPROMPT, _nothing)
            actor = actor_of_loaded(member)
            lang = member.language if member else _guess_lang(update.effective_user)
            turn = Turn(update, context, session, settings, member, actor, lang)
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
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RETRY_BUDGET
    query = update.callback_query
    if query is not None:
        text, alert = turn._answer or ("", False)
        try:
            await deliver(
                lambda: query.answer(text or None, show_alert=alert),
                deadline=min(deadline, loop.time() + ANSWER_BUDGET),
                what=f"the answer to the button of update {update.update_id}",
            )
        except BadRequest:
            log.debug("callback query of update %s too old to answer", update.update_id)
    for index, action in enumerate(turn.outbox):
        what = f"reply {index + 1}/{len(turn.outbox)} to update {update.update_id}"
        if not await deliver(action, deadline=deadline, what=what):
            # Later replies would make no sense without this one.
            return


def _is_fresh(account: ChannelAccount | None, update_id: int) -> bool:
    """Whether this update was not applied before (ids only grow within a chat)."""
    return account is None or account.last_update_id is None or update_id > account.last_update_id


async def _nothing(turn: Turn) -> None:
    """No flow re-asks its question: an update seen before is simply not applied again."""


def _guess_lang(user: User) -> str:
    # Telegram has no official Chinese interface, so most of our users run it in English:
    # the client's language says nothing about theirs. Chinese until they choose in /settings.
    return "zh"
