"""The port's :class:`~handlers.port.Front` for DingTalk, and how a turn's outputs are performed.

A reply without buttons goes through the message's ``sessionWebhook`` while it is valid: it
is no metered API call (DingTalk's free edition counts about 10 000 a month). A reply with
buttons is an interactive card (StandardCard, no template made by hand), whose presses come
back over the Stream connection and which is updated in place after a press. DingTalk has no
toast: the answer to a press that says something is a short message.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import random
import time
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from channels.dingtalk.api import DingTalkApi, DingTalkError
from channels.dingtalk.render import card_data, markdown_of, title_of
from core.address import Address
from core.enums import Channel
from core.policy import Actor
from core.settings import Settings
from handlers.common import Turn
from handlers.port import (
    Buttons,
    Capabilities,
    Card,
    ChannelFailure,
    CloseButtons,
    Deferred,
    EditCard,
    Later,
    Reply,
    SendPhoto,
    html_to_plain,
    normal_rows,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_TEXT = 5000  # characters of one markdown message or card text
MAX_FILE = 20 * 1024 * 1024  # media/upload's limit for one file
CAPABILITIES = Capabilities(
    max_text=MAX_TEXT,
    max_button_data=64,  # our codecs' limit; DingTalk takes the id as it is
    max_album=9,  # pictures go one message each; an album is only a batch of them
    max_file_bytes=MAX_FILE,
    max_caption=MAX_TEXT,  # a caption is a message of its own after the picture
    can_edit=True,  # cards are updated in place
    has_menu=False,  # robots have no command menu: /help shows the commands as buttons
)

# A session webhook is used until shortly before DingTalk says it expires.
WEBHOOK_MARGIN_MS = 60_000
# Cards remembered per process (their text and buttons, for the flows that read the pressed
# card); a card not remembered (another instance sent it, or a restart) reads as unknown.
CARDS_REMEMBERED = 5000
RETRY_BUDGET = 60.0
# A download runs inside the handler, with its database session open: retried more briefly.
READ_RETRY_BUDGET = 30.0


@dataclass
class _Webhook:
    url: str
    expires_ms: int


@contextlib.contextmanager
def ported() -> Iterator[None]:
    """DingTalk's refusals as the port's failure, for the methods the flows call (the
    adapter's own sends raise :class:`DingTalkError`, which the scheduler's messenger reads)."""
    try:
        yield
    except DingTalkError as exc:
        raise ChannelFailure(str(exc), transient=exc.transient) from exc


class DingTalkFront:
    """One app's :class:`~handlers.port.Front`; ``wake``: have the outbox sender look now."""

    channel = Channel.DINGTALK
    caps = CAPABILITIES

    def __init__(self, api: DingTalkApi, settings: Settings, wake: Callable[[], None]) -> None:
        self.api = api
        self.settings = settings
        self._wake = wake
        self._cards: OrderedDict[str, Card] = OrderedDict()
        self._webhooks: dict[str, _Webhook] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._debounced: dict[str, asyncio.TimerHandle] = {}

    # --- what the flows call -------------------------------------------------------------
    async def send(self, to: Address, text: str, buttons: Buttons | None = None) -> str | None:
        """See :meth:`handlers.port.Front.send`: always a card, so that it can be edited."""
        with ported():
            return await self.send_card(to, text, buttons, urgent=True)

    async def edit(self, to: Address, ref: str, text: str, buttons: Buttons | None = None) -> None:
        """See :meth:`handlers.port.Front.edit`."""
        with ported():
            await self.api.update_card(ref, card_data(text, buttons), urgent=True)
        self.remember(Card(ref, html_to_plain(text), text, normal_rows(buttons) or None))

    async def send_photo(
        self, to: Address, png: bytes, caption: str | None, *, html: bool = True
    ) -> None:
        """See :meth:`handlers.port.Front.send_photo`: the picture, then its caption."""
        with ported():
            media = await self.api.upload(png, "chart.png", "image", urgent=True)
            await self.api.send_image(_user(to), media, urgent=True)
            if caption:
                await self.send_text(to, caption if html else _escaped(caption), urgent=True)

    async def send_file(self, to: Address, path: Path) -> None:
        """See :meth:`handlers.port.Front.send_file`."""
        data = await asyncio.to_thread(path.read_bytes)
        with ported():
            media = await self.api.upload(data, path.name, "file", urgent=True)
            await self.api.send_file(_user(to), media, path.name, urgent=True)

    async def set_menu(self, to: Address, actor: Actor, lang: str) -> None:
        """See :meth:`handlers.port.Front.set_menu`: DingTalk's robots have no command menu
        (the help card's buttons stand in for it)."""

    def start_link(self, token: str) -> str:
        """See :meth:`handlers.port.Front.start_link`: the invite's page, which joins inside
        DingTalk (免登) when the console is served; else what to send to the robot."""
        if self.settings.web_url:
            return f"{self.settings.web_url}/dingtalk/join/{token}"
        return f"/start {token}"

    def wake_sender(self) -> None:
        """See :meth:`handlers.port.Front.wake_sender`."""
        self._wake()

    def debounce(self, name: str, delay: float, job: Deferred) -> None:
        """See :meth:`handlers.port.Front.debounce`."""
        queued = self._debounced.pop(name, None)
        if queued is not None:
            queued.cancel()
        loop = asyncio.get_running_loop()

        async def run() -> None:
            await job()

        def fire() -> None:
            self._debounced.pop(name, None)
            self.spawn(run(), name)

        self._debounced[name] = loop.call_later(delay, fire)

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """See :meth:`handlers.port.Front.spawn`."""
        task = asyncio.get_running_loop().create_task(_logged(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def retrying(
        self, call: Callable[[], Awaitable[T]], *, what: str, budget: float = RETRY_BUDGET
    ) -> T:
        """See :meth:`handlers.port.Front.retrying` (``budget``: seconds to keep trying)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        delay = 0.5
        while True:
            try:
                return await call()
            except (ChannelFailure, DingTalkError) as exc:
                if not exc.transient or loop.time() + delay >= deadline:
                    raise
                log.info("%s failed (%s); retrying in %.1fs", what, type(exc).__name__, delay)
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 20.0)

    async def stop(self) -> None:
        """Cancel the background work and the debounced jobs (the bot is stopping)."""
        for handle in self._debounced.values():
            handle.cancel()
        self._debounced.clear()
        pending = [task for task in self._tasks if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)

    # --- the adapter's own ---------------------------------------------------------------
    def card(self, ref: str) -> Card | None:
        """The card ``ref`` as this process sent or last edited it (None: not known here)."""
        return self._cards.get(ref)

    def remember(self, card: Card) -> None:
        """Keep what a card reads, for the flows that read the pressed card."""
        self._cards[card.ref] = card
        self._cards.move_to_end(card.ref)
        while len(self._cards) > CARDS_REMEMBERED:
            self._cards.popitem(last=False)

    def note_webhook(self, to: Address, url: str, expires_ms: int) -> None:
        """The session webhook of the person's last message (free replies until it expires)."""
        if url.startswith(("http://", "https://")):
            self._webhooks[to.external_id] = _Webhook(url, expires_ms)

    async def send_card(
        self, to: Address, text: str, buttons: Buttons | None, *, urgent: bool
    ) -> str:
        """A card with ``text`` (catalog HTML) and ``buttons``; its id (``cardBizId``).
        Raises :class:`DingTalkError`."""
        ref = uuid.uuid4().hex
        await self.api.send_card(_user(to), ref, card_data(text, buttons), urgent=urgent)
        self.remember(Card(ref, html_to_plain(text), text, normal_rows(buttons) or None))
        return ref

    async def send_text(self, to: Address, text: str, *, urgent: bool) -> None:
        """A message without buttons: through the session webhook while it is valid (free),
        else the robot's one-to-one API. Raises :class:`DingTalkError`."""
        markdown, title = markdown_of(text), title_of(text)
        hook = self._webhooks.get(to.external_id)
        now_ms = int(time.time() * 1000)
        if hook is not None and hook.expires_ms - WEBHOOK_MARGIN_MS > now_ms:
            try:
                await self.api.reply_webhook(hook.url, title, markdown, urgent=urgent)
                return
            except DingTalkError as exc:
                if exc.transient:
                    raise
                self._webhooks.pop(to.external_id, None)  # expired early: the API instead
        await self.api.send_markdown(_user(to), title, markdown, urgent=urgent)

    async def perform(self, turn: Turn) -> None:
        """The turn's answer and outputs, in order, after its commit (each retried on
        transient failures within one budget; a refusal ends the rest, as on Telegram)."""
        to = turn.incoming.sender
        answer = turn.answer.text if turn.answer is not None else ""
        if answer:
            # No toast on DingTalk: what the press answered is a short message.
            await self._attempt(lambda: self.send_text(to, _escaped(answer), urgent=True), turn)
        pressed = turn.incoming.card
        for output in turn.outbox:
            action = self._action(to, pressed, output)
            if action is not None and not await self._attempt(action, turn):
                return

    def _action(
        self, to: Address, pressed: Card | None, output: object
    ) -> Callable[[], Awaitable[Any]] | None:
        if isinstance(output, Reply):
            if output.buttons:
                return lambda: self.send_card(to, output.text, output.buttons, urgent=True)
            return lambda: self.send_text(to, output.text, urgent=True)
        if isinstance(output, Later):
            return output.action
        if isinstance(output, SendPhoto):
            return lambda: self.send_photo(to, output.png, output.caption, html=output.html)
        if pressed is None:
            return None
        if isinstance(output, CloseButtons):
            known = self.card(pressed.ref)
            if known is None or known.text_html is None:
                return None  # what it reads is not known here: its buttons are refused anyway
            return lambda: self.edit(to, pressed.ref, known.text_html or "", None)
        if isinstance(output, EditCard):
            return lambda: self._edit_or_resend(to, pressed.ref, output)
        return None

    async def _edit_or_resend(self, to: Address, ref: str, output: EditCard) -> None:
        try:
            await self.edit(to, ref, output.text, output.buttons)
        except ChannelFailure as exc:
            if exc.transient:
                raise
            if output.resend_if_gone:
                await self.send_card(to, output.text, output.buttons, urgent=True)

    async def _attempt(self, action: Callable[[], Awaitable[Any]], turn: Turn) -> bool:
        what = f"a reply to event {turn.update_key}"
        try:
            await self.retrying(action, what=what)
        except (ChannelFailure, DingTalkError) as exc:
            log.warning("%s not sent (%s)", what, type(exc).__name__)
            return False
        return True


def _user(to: Address) -> str:
    if to.channel != Channel.DINGTALK:
        raise ChannelFailure(f"not a DingTalk address: {to.channel}")
    return to.external_id


def _escaped(text: str) -> str:
    """Plain text (a label) as catalog HTML."""
    return html.escape(text, quote=False)


async def _logged(work: Coroutine[Any, Any, None], name: str) -> None:
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.error("background task %s failed: %s", name, described(exc))


def described(exc: BaseException) -> str:
    """An exception for the log: its type and where it was raised, never its message (which
    may quote what a person wrote, or a name)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where}"
