"""Simulated Telegram users: they inject updates and observe what the bot sent them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tests.standin.html import utf16_len
from tests.standin.media import make_jpeg
from tests.standin.types import BotMessage, CallbackAnswer, JSONDict

if TYPE_CHECKING:
    from tests.standin.server import StandIn


class FakeUser:
    """A simulated Telegram user with a private chat to the bot (chat id == user id).

    Create with :meth:`StandIn.user`.  The ``send*``/``press*`` coroutines inject updates;
    :meth:`expect` and friends consume the bot's output to this chat in order.
    """

    def __init__(
        self,
        standin: StandIn,
        user_id: int,
        first_name: str,
        username: str | None,
        language_code: str | None,
        last_name: str | None,
        opened: bool,
    ) -> None:
        self.standin = standin
        self.user_id = user_id
        self.first_name = first_name
        self.username = username
        self.language_code = language_code
        self.last_name = last_name
        self.opened = opened
        self.callback_answers: list[CallbackAnswer] = []
        self.chat_actions: list[str] = []
        self.reply_keyboard: list[list[str]] | None = None
        self._next_message_id = 1
        self._raw: dict[int, JSONDict] = {}
        self._bot_messages: dict[int, BotMessage] = {}
        self._events: list[BotMessage] = []
        self._cursor = 0
        self._answer_cursor = 0

    # -- identity -------------------------------------------------------------------

    @property
    def chat_id(self) -> int:
        """The private chat id (equal to the user id)."""
        return self.user_id

    @property
    def display(self) -> str:
        """``first_name (id)``, for messages."""
        return f"{self.first_name} ({self.user_id})"

    def user_json(self) -> JSONDict:
        """The Telegram ``User`` object of this user."""
        d: JSONDict = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        return d

    def chat_json(self) -> JSONDict:
        """The Telegram ``Chat`` object of the private chat."""
        d: JSONDict = {"id": self.user_id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        return d

    def __repr__(self) -> str:
        return f"FakeUser({self.user_id}, {self.first_name!r})"

    # -- state ----------------------------------------------------------------------

    @property
    def messages(self) -> list[BotMessage]:
        """Current state of every (not deleted) bot message in this chat, oldest first."""
        return [m for _, m in sorted(self._bot_messages.items()) if not m.deleted]

    @property
    def last(self) -> BotMessage:
        """The newest bot message in this chat (AssertionError if there is none)."""
        msgs = self.messages
        if not msgs:
            raise AssertionError(f"the bot has not sent anything to {self.display}")
        return msgs[-1]

    @property
    def blocked(self) -> bool:
        """Whether this user has blocked the bot (see :meth:`StandIn.block`)."""
        return self.user_id in self.standin._blocked

    def message(self, message_id: int) -> BotMessage:
        """Current state of the bot message ``message_id`` in this chat."""
        try:
            return self._bot_messages[message_id]
        except KeyError:
            raise AssertionError(f"no bot message #{message_id} in chat {self.display}") from None

    # -- injecting updates ------------------------------------------------------------

    def _alloc_message_id(self) -> int:
        mid = self._next_message_id
        self._next_message_id += 1
        return mid

    def _new_message(self, reply_to: int | None = None, **content: Any) -> JSONDict:
        msg: JSONDict = {
            "message_id": self._alloc_message_id(),
            "from": self.user_json(),
            "chat": self.chat_json(),
            "date": int(time.time()),
        }
        if reply_to is not None:
            replied = self._raw.get(reply_to)
            if replied is None:
                raise AssertionError(f"cannot reply to unknown message #{reply_to}")
            msg["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        msg.update({k: v for k, v in content.items() if v is not None})
        self._raw[msg["message_id"]] = msg
        return msg

    async def _deliver(self, msg: JSONDict) -> int:
        self.opened = True
        self.standin.push_update("message", msg)
        await asyncio.sleep(0)
        return int(msg["message_id"])

    async def send(self, text: str, *, reply_to: int | None = None) -> int:
        """Send a text message (a ``/command`` gets a ``bot_command`` entity).

        Returns the new message's id.
        """
        entities: list[JSONDict] = []
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else text
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
        return await self._deliver(
            self._new_message(reply_to, text=text, entities=entities or None)
        )

    async def send_photo(
        self,
        data: bytes | None = None,
        media_group_id: str | None = None,
        caption: str | None = None,
        *,
        reply_to: int | None = None,
    ) -> int:
        """Send a photo (default: a small valid JPEG); returns the message id.

        The photo arrives as several ``PhotoSize`` objects, the largest holding ``data``.
        """
        sizes = self.standin._store_photo(make_jpeg() if data is None else data, strict=False)
        return await self._deliver(
            self._new_message(
                reply_to,
                photo=[self.standin._photo_size_json(f) for f in sizes],
                caption=caption,
                media_group_id=media_group_id,
            )
        )

    async def send_album(
        self, photos: Sequence[bytes] | None = None, caption: str | None = None
    ) -> list[int]:
        """Send an album: one message update per photo, all sharing a ``media_group_id``.

        ``photos`` defaults to three distinct generated JPEGs; ``caption`` goes on the first.
        Returns the message ids.
        """
        items = list(photos) if photos is not None else [make_jpeg(seed=k) for k in (1, 2, 3)]
        group_id = self.standin._new_media_group_id()
        msgs = []
        for k, data in enumerate(items):
            sizes = self.standin._store_photo(data, strict=False)
            msgs.append(
                self._new_message(
                    photo=[self.standin._photo_size_json(f) for f in sizes],
                    caption=caption if k == 0 else None,
                    media_group_id=group_id,
                )
            )
        self.opened = True
        for msg in msgs:
            self.standin.push_update("message", msg)
        await asyncio.sleep(0)
        return [int(m["message_id"]) for m in msgs]

    async def send_document(
        self,
        data: bytes = b"%PDF-1.4\n% kexie stand-in document\n%%EOF\n",
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        file_size: int | None = None,
        *,
        caption: str | None = None,
        media_group_id: str | None = None,
        reply_to: int | None = None,
    ) -> int:
        """Send a document; ``file_size`` may claim more than ``len(data)`` (e.g. 25 MB)."""
        stored = self.standin._store_file(
            "document", data, file_name=file_name, mime_type=mime_type, file_size=file_size
        )
        return await self._deliver(
            self._new_message(
                reply_to,
                document=self.standin._document_json(stored),
                caption=caption,
                media_group_id=media_group_id,
            )
        )

    async def send_sticker(self, emoji: str = "👍") -> int:
        """Send a (regular, static) sticker."""
        stored = self.standin._store_file(
            "sticker",
            b"RIFF\x00\x00\x00\x00WEBPVP8 stand-in sticker" + emoji.encode(),
            mime_type="image/webp",
            width=512,
            height=512,
        )
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.file_size,
        }
        return await self._deliver(self._new_message(sticker=sticker))

    async def send_voice(self, duration: int = 3) -> int:
        """Send a voice note of ``duration`` seconds."""
        stored = self.standin._store_file(
            "voice",
            b"OggS\x00stand-in voice " + str(duration).encode() * 32,
            mime_type="audio/ogg",
        )
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": stored.file_size,
        }
        return await self._deliver(self._new_message(voice=voice))

    async def send_location(self, latitude: float = 30.6586, longitude: float = 104.0647) -> int:
        """Send a location (default: Tianfu Square, Chengdu)."""
        return await self._deliver(
            self._new_message(location={"latitude": latitude, "longitude": longitude})
        )

    async def send_contact(self, phone_number: str = "+8613800000000") -> int:
        """Share the user's own contact (as the "share phone number" keyboard button does)."""
        contact: JSONDict = {
            "phone_number": phone_number,
            "first_name": self.first_name,
            "user_id": self.user_id,
        }
        return await self._deliver(self._new_message(contact=contact))

    async def press(self, text: str, message: BotMessage | int | None = None) -> str:
        """Press the inline button labelled ``text`` (exact match first, then substring).

        Looks in ``message`` if given, else in the newest bot message of the chat that has
        such a button.  Injects a ``callback_query`` update and returns the query id.
        """
        if message is not None:
            mid = message if isinstance(message, int) else message.message_id
            candidates = [self.message(mid)]
        else:
            candidates = list(reversed(self.messages))
        for msg in candidates:
            if msg.deleted:
                continue
            buttons = [b for row in msg.buttons for b in row]
            matches = [b for b in buttons if b.text == text]
            if not matches:
                matches = [b for b in buttons if text in b.text]
                if len(matches) > 1:
                    raise AssertionError(
                        f"button text {text!r} is ambiguous in {msg.describe()}: "
                        f"{[b.text for b in matches]}"
                    )
            if matches:
                button = matches[0]
                if button.callback_data is None:
                    raise AssertionError(
                        f"button {button.text!r} in {msg.describe()} has no callback_data "
                        f"(url={button.url!r})"
                    )
                return await self.press_data(button.callback_data, msg.message_id)
        shown = "\n  ".join(m.describe() for m in candidates if m.buttons) or "(no buttons at all)"
        raise AssertionError(
            f"no inline button matching {text!r} for {self.display}; buttons present:\n  {shown}"
        )

    async def press_data(self, callback_data: str, message_id: int | None = None) -> str:
        """Inject a callback query with arbitrary ``callback_data`` (e.g. a forged one).

        ``message_id`` defaults to the newest bot message; a missing/deleted message is sent
        as an inaccessible message (``date`` 0) like Telegram does.  Returns the query id.
        """
        if message_id is None:
            message_id = self.last.message_id
        bm = self._bot_messages.get(message_id)
        raw = self._raw.get(message_id)
        if raw is None or (bm is not None and bm.deleted):
            msg_json: JSONDict = {"chat": self.chat_json(), "message_id": message_id, "date": 0}
        else:
            msg_json = raw
        query_id = self.standin._new_query_id(self, callback_data)
        self.opened = True
        self.standin.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": self.user_json(),
                "message": msg_json,
                "chat_instance": str(-(self.user_id * 7919) % 10**18),
                "data": callback_data,
            },
        )
        await asyncio.sleep(0)
        return query_id

    # -- observing the bot ------------------------------------------------------------

    def _record(self, bm: BotMessage) -> None:
        self._bot_messages[bm.message_id] = bm
        if not bm.deleted:
            self._events.append(bm)
        self.standin._output_signal.notify()

    def pending(self) -> list[BotMessage]:
        """Bot outputs that arrived but were not consumed by ``expect`` yet."""
        return self._events[self._cursor :]

    def drain(self) -> list[BotMessage]:
        """Consume and return every pending bot output without waiting."""
        out = self.pending()
        self._cursor = len(self._events)
        return out

    def _timeout_report(self, what: str, timeout: float) -> str:
        lines = [f"no {what} for {self.display} within {timeout:g}s."]
        consumed = self._events[max(0, self._cursor - 3) : self._cursor]
        if consumed:
            lines.append("Last consumed: " + "; ".join(m.describe() for m in consumed))
        if self.standin.errors:
            lines.append("Stand-in rejected requests:")
            lines += [f"  {e.method}: {e.description}" for e in self.standin.errors[-5:]]
        return "\n".join(lines)

    async def expect(self, contains: str | None = None, timeout: float = 10.0) -> BotMessage:
        """Wait for the next unconsumed bot output to this chat (new message or edit).

        If ``contains`` is given, the output's plain ``text`` must contain it; otherwise an
        AssertionError shows what arrived instead (the output is consumed either way).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._cursor < len(self._events):
                bm = self._events[self._cursor]
                self._cursor += 1
                if contains is not None and contains not in bm.text:
                    raise AssertionError(
                        f"expected a bot message to {self.display} containing {contains!r}, "
                        f"got {bm.describe()}"
                    )
                return bm
            if not await self.standin._output_signal.wait(deadline - loop.time()):
                what = "bot message" + (f" containing {contains!r}" if contains else "")
                raise AssertionError(self._timeout_report(what, timeout))

    async def expect_any(self, contains: str, timeout: float = 10.0) -> BotMessage:
        """Like :meth:`expect` but skip (consume) outputs until one contains ``contains``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        skipped: list[BotMessage] = []
        while True:
            while self._cursor < len(self._events):
                bm = self._events[self._cursor]
                self._cursor += 1
                if contains in bm.text:
                    return bm
                skipped.append(bm)
            if not await self.standin._output_signal.wait(deadline - loop.time()):
                report = self._timeout_report(f"bot message containing {contains!r}", timeout)
                if skipped:
                    report += "\nSkipped: " + "; ".join(m.describe() for m in skipped)
                raise AssertionError(report)

    async def expect_nothing(self, within: float = 1.0) -> None:
        """Assert that no new bot output to this chat arrives within ``within`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            if self._cursor < len(self._events):
                unexpected = self._events[self._cursor :]
                self._cursor = len(self._events)
                raise AssertionError(
                    f"expected no bot output to {self.display}, got: "
                    + "; ".join(m.describe() for m in unexpected)
                )
            if not await self.standin._output_signal.wait(deadline - loop.time()):
                return

    async def expect_answer(self, timeout: float = 10.0) -> CallbackAnswer:
        """Wait for the bot's next (unconsumed) ``answerCallbackQuery`` to this user."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._answer_cursor < len(self.callback_answers):
                self._answer_cursor += 1
                return self.callback_answers[self._answer_cursor - 1]
            if not await self.standin._output_signal.wait(deadline - loop.time()):
                raise AssertionError(self._timeout_report("callback query answer", timeout))
