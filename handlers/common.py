"""What every handler shares: the :class:`Turn` of one event — its session, its member, what
came in (:class:`handlers.port.Incoming`) and the replies queued for after the commit.

A handler is ``async def handler(turn: Turn) -> None``. The channel's adapter (for Telegram,
``channels/telegram/unit.py``) picks it from ``handlers/routes.py`` and runs it with
``handlers.unit_of_work.run_turn``, which opens the session, skips events already processed,
builds the turn, runs the handler and commits; only then does the adapter perform the queued
outputs: a user never sees the next question for an answer that was not stored. Nothing here
knows the channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from core.address import Address
from core.callbacks import Codec
from core.policy import Actor
from core.settings import Settings
from core.texts import Raw, plain, t
from handlers.port import (
    AppButton,
    Buttons,
    Capabilities,
    Card,
    CloseButtons,
    Deferred,
    EditCard,
    Front,
    Incoming,
    IncomingFile,
    Later,
    Notice,
    Output,
    Reply,
    SendPhoto,
    fit,
    html_to_plain,
    normal_rows,
)
from storage.db import AsyncSession, Database
from storage.evidence import EvidenceStorage, open_evidence_store
from storage.models import Member, utcnow

__all__ = ["Handler", "Turn"]

T = TypeVar("T")


@dataclass
class Turn:
    """One event being handled: its session, its member, its language, its queued replies."""

    incoming: Incoming
    front: Front
    db: Database
    session: AsyncSession
    settings: Settings
    member: Member | None
    actor: Actor
    lang: str
    outbox: list[Output] = field(default_factory=list)
    answer: Notice | None = None  # the toast answering a pressed button

    # --- what came in ---
    @property
    def address(self) -> Address:
        """The chat to answer in (the sender's: the bot works in private chats only)."""
        return self.incoming.sender

    @property
    def caps(self) -> Capabilities:
        """What the channel accepts."""
        return self.front.caps

    @property
    def text(self) -> str | None:
        """The message's text (None for a file, a button, …)."""
        return self.incoming.text

    @property
    def command_args(self) -> tuple[str, ...]:
        """The words after the command (``/start <token>``)."""
        return self.incoming.args

    @property
    def pressed(self) -> str | None:
        """The pressed button's raw data; None when the event is no button press."""
        return self.incoming.pressed

    @property
    def is_button(self) -> bool:
        """Whether the event is a button press (to be answered with a toast or an alert)."""
        return self.incoming.kind == "button"

    @property
    def card(self) -> Card | None:
        """The message whose button was pressed, as it reads now (None: none, or gone)."""
        return self.incoming.card

    @property
    def files(self) -> tuple[IncomingFile, ...]:
        """The files that came with the message."""
        return self.incoming.files

    @property
    def sent_at(self) -> datetime | None:
        """When the message was sent (the channel's clock)."""
        return self.incoming.time

    @property
    def update_key(self) -> str:
        """The event's idempotency key, as text."""
        return self.incoming.key

    def button(self, codec: Codec[T]) -> T | None:
        """The pressed button's typed value; ``None`` (answered as an expired button) when the
        data is not this kind of button or names nothing a database could hold."""
        value = codec.parse(self.pressed)
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

    def fit(self, text: str) -> str:
        """``text`` cut to the channel's message length (callers shorten user text first)."""
        return fit(text, self.caps.max_text)

    # --- replies, sent after commit ---
    def _checked(self, buttons: Buttons | None) -> Buttons | None:
        """The buttons, their data checked against the channel's limit now (a bug found before
        the commit, not after it)."""
        limit = self.caps.max_button_data
        for row in buttons or ():
            for button in row:
                if not isinstance(button, AppButton) and len(button[1].encode()) > limit:
                    raise ValueError(f"callback data over {limit} bytes: {button[1]!r}")
        return buttons or None

    def reply(self, text: str, buttons: Buttons | None = None) -> None:
        """Queue a new message to this chat (the catalog's HTML)."""
        self.outbox.append(Reply(self.fit(text), self._checked(buttons)))

    def edit(self, text: str, buttons: Buttons | None = None) -> None:
        """Queue an edit of the message whose button was pressed.

        Nothing is sent when the message already reads so (a button pressed twice); a message
        that is gone or can no longer be edited gets the text as a new message instead.
        """
        card = self.card
        if not self.is_button or card is None:  # no button, or its message is inaccessible
            self.reply(text, buttons)
            return
        rows, body = self._checked(buttons), self.fit(text)
        if _reads_as(card, body, rows):
            return
        self.outbox.append(EditCard(body, rows))

    def replace_card(self, text: str) -> None:
        """Queue replacing the pressed card's text, without buttons; a card that is gone or can
        no longer be edited is left as it is (its buttons are refused anyway)."""
        self.outbox.append(EditCard(self.fit(text), None, resend_if_gone=False))

    def close_buttons(self) -> None:
        """Queue removing the keyboard of the pressed message, so a button works only once."""
        card = self.card
        if not self.is_button or card is None or card.buttons is None:
            return
        self.outbox.append(CloseButtons())

    def send_photo(
        self, png: bytes, caption: str | None, *, html: bool = True, filename: str | None = None
    ) -> None:
        """Queue a picture to this chat, after the replies queued before it."""
        self.outbox.append(SendPhoto(png, caption, html, filename))

    def notice(self, text: str, *, alert: bool = False) -> None:
        """Queue the answer to the pressed button (a short toast; plain text)."""
        self.answer = Notice(fit(html_to_plain(text), self.caps.max_notice), alert)

    def later(self, action: Deferred) -> None:
        """Queue anything else (through :attr:`front`) to run after the commit."""
        self.outbox.append(Later(action))

    def set_menu_later(self, to: Address, actor: Actor, lang: str) -> None:
        """Queue giving the member at ``to`` the command menu of their roles."""
        front = self.front
        self.later(lambda: front.set_menu(to, actor, lang))


Handler = Callable[[Turn], Awaitable[None]]


def _reads_as(card: Card, text: str, rows: Buttons | None) -> bool:
    """Whether ``card`` already shows this text and these buttons (the channel would refuse
    the edit as "not modified"). Compared as the user sees it: plain text, trimmed."""
    if card.text is None or card.text.strip() != html_to_plain(text).strip():
        return False
    if rows is None or card.buttons is None:
        return rows is None and not card.buttons
    return card.buttons == normal_rows(rows)
