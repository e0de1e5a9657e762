"""A second channel, in memory: people send text, press buttons and send files; the bot's
answers are recorded per person. Events go through the same routing table as Telegram's
(:func:`handlers.routes.handler_for`) and the same unit of work
(:func:`handlers.unit_of_work.run_turn`), with a real database and no HTTP and no
python-telegram-bot (issue 21, item 7)::

    channel = MemoryChannel(db, settings)
    user = channel.user(7001, "王芳")
    await user.send_text(f"/start {token}")
    await user.send_text("/report")
    await user.press("昨天")
    await channel.deliver()  # the outbox, once, through the channel's messenger

What happens after the commit happens in order, as the Telegram adapter does it: the queued
outputs, then (on :meth:`MemoryChannel.settle`) the debounced jobs and the background tasks.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from core.address import Address
from core.enums import Channel
from core.policy import Actor
from core.settings import Settings
from handlers.common import Turn
from handlers.port import (
    AppButton,
    Button,
    Buttons,
    Capabilities,
    Card,
    CloseButtons,
    Deferred,
    EditCard,
    Incoming,
    IncomingFile,
    Kind,
    Later,
    Reply,
    SendPhoto,
    html_to_plain,
    normal_rows,
)
from handlers.routes import REPROMPT, handler_for, register_flows
from handlers.unit_of_work import run_turn
from scheduler.clock import ManualClock
from scheduler.jobs import Scheduler
from scheduler.messenger import Album, Outgoing, Picture
from scheduler.sender import DrainStats
from storage.db import Database

T = TypeVar("T")

CAPS = Capabilities(
    max_text=4096, max_button_data=64, max_album=10, max_file_bytes=50_000_000, max_caption=1024
)


@dataclass
class Message:
    """One message the bot sent a person: text (the catalog's HTML), buttons, a picture or a
    file. An edit changes it in place (``edits`` counts them)."""

    ref: str
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    kind: Literal["text", "photo", "file", "album"] = "text"
    data: bytes | None = None  # the picture's or the file's bytes
    file_name: str | None = None
    edits: int = 0

    @property
    def plain(self) -> str:
        """The text as the person reads it."""
        return html_to_plain(self.text)

    @property
    def labels(self) -> list[str]:
        """The labels of its buttons, row by row."""
        return [b.label if isinstance(b, AppButton) else b[0] for row in self.buttons for b in row]


@dataclass
class MemoryUser:
    """One person talking to the bot through the memory channel."""

    channel: MemoryChannel
    user_id: int
    name: str
    messages: list[Message] = field(default_factory=list)
    toasts: list[str] = field(default_factory=list)  # the answers to pressed buttons
    menus: list[str] = field(default_factory=list)  # the languages their menu was set in
    seen: int = 0  # messages[:seen] were returned by an earlier new_messages()

    @property
    def address(self) -> Address:
        return Address(Channel.TELEGRAM, str(self.user_id))  # storage knows one channel today

    # --- what the person does ---
    async def send_text(self, text: str) -> Turn:
        """A text, or a command when it starts with ``/``."""
        if text.startswith("/"):
            word, *args = text.split()
            return await self._event("command", text=text, command=word[1:], args=tuple(args))
        return await self._event("text", text=text)

    async def press(self, label: str, card: Message | None = None, *, shown: bool = True) -> Turn:
        """Press the button ``label`` (exactly, else the one label containing it) on ``card``
        (default: the newest message that has such a button). ``shown=False``: the event
        carries the button's data only, not the pressed message (a channel that hands over
        none, or a message too old to be shown)."""
        for message in [card] if card is not None else reversed(self.messages):
            pairs = [b for row in message.buttons for b in row if not isinstance(b, AppButton)]
            found = [b for b in pairs if b[0] == label] or [b for b in pairs if label in b[0]]
            assert len(found) < 2, f"{label!r} is ambiguous: {[b[0] for b in found]}"
            if found:
                card, data = message, found[0][1]
                break
        else:
            raise AssertionError(f"no button {label!r} in {[m.labels for m in self.messages]}")
        pressed = Card(
            ref=card.ref,
            text=card.plain,
            text_html=card.text,
            buttons=normal_rows(card.buttons) or None,
        )
        return await self._event("button", pressed=data, card=pressed if shown else None)

    async def send_photo(self, data: bytes, *, album: str | None = None) -> Turn:
        """A photo (JPEG bytes)."""
        return await self._event("photo", files=(self._file("photo", data, None, album),))

    async def send_file(self, name: str, data: bytes) -> Turn:
        """A document under ``name``."""
        return await self._event("file", files=(self._file("document", data, name, None),))

    async def redeliver(self, turn: Turn) -> Turn:
        """The event of ``turn`` once more, under its own number, as Telegram re-delivers an
        update that was applied but not confirmed before a crash."""
        return await self._event(
            turn.incoming.kind, ordinal=int(turn.incoming.key), **_fields(turn.incoming)
        )

    # --- what the person sees ---
    def last(self) -> Message:
        """The newest message."""
        assert self.messages, f"user {self.user_id} got nothing"
        return self.messages[-1]

    def new_messages(self) -> list[Message]:
        """The messages since the last call (edited ones are not new)."""
        fresh, self.seen = self.messages[self.seen :], len(self.messages)
        return fresh

    def find(self, text: str) -> Message:
        """The newest message whose plain text contains ``text``."""
        found = next((m for m in reversed(self.messages) if text in m.plain), None)
        assert found is not None, f"no {text!r} in {[m.plain[:60] for m in self.messages]}"
        return found

    def files(self) -> list[Message]:
        return [m for m in self.messages if m.kind == "file"]

    # --- the channel's side ---
    def _file(
        self, kind: Literal["photo", "document"], data: bytes, name: str | None, album: str | None
    ) -> IncomingFile:
        digest = hashlib.sha256(data).hexdigest()[:16]

        async def fetch() -> bytes:
            return data

        async def save(path: Path) -> None:
            path.write_bytes(data)

        mime = "image/jpeg" if kind == "photo" else None
        return IncomingFile(
            kind, digest, f"file-{digest}", fetch, save, name, len(data), mime, album
        )  # fmt: skip

    async def _event(self, kind: Kind, *, ordinal: int | None = None, **fields: Any) -> Turn:
        channel = self.channel
        if ordinal is None:
            channel.ordinal += 1
            ordinal = channel.ordinal
        event = Incoming(
            kind=kind,
            key=str(ordinal),
            sender=self.address,
            sender_name=self.name,
            time=datetime.now(UTC),
            **fields,
        )
        turn = await run_turn(
            handler_for(event),
            event,
            front=channel,
            db=channel.db,
            settings=channel.settings,
            ordinal=ordinal,
            reprompt=REPROMPT,
        )
        # Committed: now perform the outputs, in order, as the Telegram adapter does.
        if turn.answer is not None:
            self.toasts.append(turn.answer.text)
        card = event.card
        for output in turn.outbox:
            if isinstance(output, Reply):
                await channel.send(self.address, output.text, output.buttons)
            elif isinstance(output, Later):
                await output.action()
            elif isinstance(output, SendPhoto):
                self._add(Message("", output.caption or "", kind="photo", data=output.png))
            elif isinstance(output, CloseButtons) and card is not None:
                self._message(card.ref).buttons = ()
            elif isinstance(output, EditCard) and card is not None:
                await channel.edit(self.address, card.ref, output.text, output.buttons)
        return turn

    def _add(self, message: Message) -> str:
        self.channel.refs += 1
        message.ref = str(self.channel.refs)
        self.messages.append(message)
        return message.ref

    def _message(self, ref: str) -> Message:
        return next(m for m in self.messages if m.ref == ref)


@dataclass
class MemoryChannel:
    """The channel: its people, and the :class:`handlers.port.Front` the flows reach it by."""

    db: Database
    settings: Settings
    caps: Capabilities = CAPS
    channel: Channel = Channel.TELEGRAM
    people: dict[str, MemoryUser] = field(default_factory=dict)
    ordinal: int = 0  # the events' numbers, growing (Telegram's update ids)
    refs: int = 0  # the messages' ids
    jobs: dict[str, Deferred] = field(default_factory=dict)  # debounced, by name
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    wakes: int = 0  # how often a flow woke the outbox sender

    def __post_init__(self) -> None:
        register_flows()

    def user(self, user_id: int, name: str = "王芳") -> MemoryUser:
        """The person with this id (created on first use)."""
        key = str(user_id)
        if key not in self.people:
            self.people[key] = MemoryUser(self, user_id, name)
        return self.people[key]

    def _to(self, to: Address | int) -> MemoryUser:
        key = to.external_id if isinstance(to, Address) else str(to)
        return self.user(int(key))

    async def settle(self) -> None:
        """Run the debounced jobs now and wait for the background tasks (an export)."""
        while self.jobs or self.tasks:
            jobs, self.jobs = list(self.jobs.values()), {}
            for job in jobs:
                await job()
            tasks, self.tasks = self.tasks, []
            await asyncio.gather(*tasks)

    async def deliver(self, *, at: datetime | None = None, tick: bool = False) -> DrainStats:
        """Send the outbox once through this channel (``tick``: run the scheduler first), on a
        clock at ``at`` (default: tomorrow 10:00 local, outside the quiet hours)."""
        if at is None:
            tomorrow = datetime.now(self.settings.tz).date() + timedelta(days=1)
            at = datetime.combine(tomorrow, datetime.min.time(), tzinfo=self.settings.tz)
            at += timedelta(hours=10)
        scheduler = Scheduler(self.db, self.settings, ManualClock(at))
        if tick:
            await scheduler.tick()
        sender = scheduler.sender(
            {Channel.TELEGRAM: MemoryMessenger(self)}, rate=None, per_chat_interval=0.0
        )
        return await sender.drain()

    # --- handlers.port.Front ---
    async def send(self, to: Address, text: str, buttons: Buttons | None = None) -> str | None:
        """See :meth:`handlers.port.Front.send`."""
        return self._to(to)._add(Message("", text, normal_rows(buttons)))

    async def edit(self, to: Address, ref: str, text: str, buttons: Buttons | None = None) -> None:
        """See :meth:`handlers.port.Front.edit`."""
        message = self._to(to)._message(ref)
        message.text, message.buttons = text, normal_rows(buttons)
        message.edits += 1

    async def send_photo(
        self, to: Address, png: bytes, caption: str | None, *, html: bool = True
    ) -> None:
        """See :meth:`handlers.port.Front.send_photo`."""
        self._to(to)._add(Message("", caption or "", kind="photo", data=png))

    async def send_file(self, to: Address, path: Path) -> None:
        """See :meth:`handlers.port.Front.send_file` (read now: the file may go after)."""
        message = Message("", "", kind="file", data=path.read_bytes(), file_name=path.name)
        self._to(to)._add(message)

    async def set_menu(self, to: Address, actor: Actor, lang: str) -> None:
        """See :meth:`handlers.port.Front.set_menu`."""
        self._to(to).menus.append(lang)

    def start_link(self, token: str) -> str:
        """See :meth:`handlers.port.Front.start_link`."""
        return f"memory://start/{token}"

    def wake_sender(self) -> None:
        """See :meth:`handlers.port.Front.wake_sender` (tests send with :meth:`deliver`)."""
        self.wakes += 1

    def debounce(self, name: str, delay: float, job: Deferred) -> None:
        """See :meth:`handlers.port.Front.debounce` (run on :meth:`settle`)."""
        self.jobs[name] = job

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """See :meth:`handlers.port.Front.spawn` (awaited on :meth:`settle`)."""
        self.tasks.append(asyncio.create_task(work, name=name))

    async def retrying(self, call: Callable[[], Awaitable[T]], *, what: str) -> T:
        """See :meth:`handlers.port.Front.retrying` (nothing fails here)."""
        return await call()


@dataclass
class MemoryMessenger:
    """The outbox sender's :class:`scheduler.messenger.Messenger` for the memory channel."""

    channel: MemoryChannel

    async def send_message(self, address: Address, message: Outgoing) -> str | None:
        buttons = tuple(tuple((b.label, b.data) for b in row) for row in message.buttons)
        return self.channel._to(address)._add(Message("", message.text, buttons))

    async def send_album(self, address: Address, album: Album) -> str | None:
        return self.channel._to(address)._add(Message("", album.caption or "", kind="album"))

    async def send_photo(self, address: Address, picture: Picture) -> str | None:
        buttons = tuple(tuple((b.label, b.data) for b in row) for row in picture.buttons)
        message = Message("", picture.caption or "", buttons, kind="photo", data=picture.png)
        return self.channel._to(address)._add(message)


def _fields(event: Incoming) -> dict[str, Any]:
    """What the person sent in ``event`` (to send it again)."""
    return {
        "text": event.text, "command": event.command, "args": event.args,
        "pressed": event.pressed, "card": event.card, "files": event.files,
    }  # fmt: skip


def make_jpeg(seed: int = 0) -> bytes:
    """A small valid JPEG (Pillow), different for each ``seed``."""
    from PIL import Image

    image = Image.new("RGB", (320, 240), ((seed * 53) % 256, 108, 176))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()
