"""kexie served on DingTalk against the DingTalk stand-in, and a person chatting with its robot.

:class:`DingTalkKexie` is :class:`tests.harness.Kexie` with DingTalk as its only channel: the
same data set-up, the same ``cli``/``start_process``/``kill_process``, and in this process the
same pieces ``kexie run`` assembles (``bot.dingtalk``). :class:`DingTalkUser` speaks like
:class:`tests.standin.FakeUser` (``send``, ``send_photo``, ``send_document``, ``press``,
``expect_any`` …), so one journey can run on either channel.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bot.dingtalk import (
    DingTalkChannel,
    build_dingtalk,
    close_dingtalk,
    run_scheduler,
    serve_dingtalk,
)
from core.enums import Channel
from core.settings import load_settings
from scheduler.jobs import Scheduler
from storage.db import Database
from tests.dingtalk_standin.records import card_buttons, card_text
from tests.dingtalk_standin.server import DingTalkStandIn
from tests.harness import Kexie, clock_env

_ESCAPED = re.compile(r"\\([\\`*_\[\]<>~|#>+=\-.!()])")


def plain(markdown: str) -> str:
    """What a DingTalk client shows of our markdown, near enough to compare texts."""
    text = markdown.replace("**", "").replace("  \n", "\n")
    text = _ESCAPED.sub(r"\1", text)
    return text


@dataclass
class DingMessage:
    """One thing the robot sent a user: a message, a card, or a card's update."""

    kind: str  # "text" (webhook or one-to-one), "card", "card_update", "image", "file"
    text: str
    card_id: str | None = None
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)

    @property
    def button_texts(self) -> list[str]:
        """The labels, row after row."""
        return [label for row in self.buttons for label, _ in row]

    def describe(self) -> str:
        """One line for assertion messages."""
        return f"{self.kind} {self.text[:120]!r} buttons={self.button_texts}"


class DingTalkUser:
    """A member of the organisation chatting with the robot (one-to-one)."""

    def __init__(self, standin: DingTalkStandIn, user_id: str, nick: str) -> None:
        self.standin = standin
        self.user_id = user_id
        self.first_name = nick
        standin.add_user(user_id, nick)
        self._cursor = 0

    # --- what the person does ---
    async def send(self, text: str) -> str:
        """Type ``text`` to the robot."""
        return await self.standin.send_text(self.user_id, text)

    async def send_photo(self, data: bytes, **_: Any) -> str:
        """Send a picture."""
        return await self.standin.send_picture(self.user_id, data)

    async def send_document(self, data: bytes, file_name: str = "file.pdf", **_: Any) -> str:
        """Send a file."""
        return await self.standin.send_file(self.user_id, data, file_name)

    async def press(self, label: str, message: DingMessage | None = None) -> str:
        """Press the button labelled ``label`` (exact first, then a part of it) on ``message``'s
        card as it is now, else on the newest card that has one."""
        cards = [message.card_id] if message is not None and message.card_id else self._cards()
        for card_id in cards:
            rows = card_buttons(self.standin.cards[card_id].data)
            found = [i for row in rows for (text, i) in row if text == label] or [
                i for row in rows for (text, i) in row if label in text
            ]
            if found:
                return await self.standin.press(self.user_id, card_id, found[0])
        shown = [self.standin.cards[c].buttons() for c in cards[:3]]
        raise AssertionError(f"no button {label!r} for {self.user_id}; newest cards: {shown}")

    def _cards(self) -> list[str]:
        ids = [
            s.body["cardBizId"]
            for s in self.standin.sent
            if s.kind == "card" and s.user_id == self.user_id
        ]
        return list(reversed(ids))

    # --- what the robot sent ---
    @property
    def messages(self) -> list[DingMessage]:
        """Everything the robot sent this user, oldest first (cards as they were sent)."""
        out: list[DingMessage] = []
        for sent in self.standin.sent:
            if sent.user_id != self.user_id:
                continue
            body = sent.body
            if sent.kind == "webhook":
                inner = body.get("markdown") or body.get("text") or {}
                said = inner.get("text") or inner.get("content", "")
                out.append(DingMessage("text", plain(said)))
            elif sent.kind == "otm":
                key, param = body["msgKey"], body["msgParam"]
                if key == "sampleMarkdown":
                    out.append(DingMessage("text", plain(param["text"])))
                elif key == "sampleText":
                    out.append(DingMessage("text", param["content"]))
                elif key == "sampleImageMsg":
                    out.append(DingMessage("image", ""))
                elif key == "sampleFile":
                    out.append(DingMessage("file", param.get("fileName", "")))
            elif sent.kind in ("card", "card_update"):
                data = body["cardData"]
                out.append(
                    DingMessage(
                        sent.kind, plain(card_text(data)), body["cardBizId"], card_buttons(data)
                    )
                )
        return out

    @property
    def last(self) -> DingMessage:
        """The newest thing sent."""
        return self.messages[-1]

    async def expect_any(self, contains: str, timeout: float = 10.0) -> DingMessage:
        """Skip (consume) what came until something contains ``contains``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            messages = self.messages
            while self._cursor < len(messages):
                message = messages[self._cursor]
                self._cursor += 1
                if contains in message.text:
                    return message
            if loop.time() > deadline:
                seen = "; ".join(m.describe() for m in messages[-6:])
                raise AssertionError(f"nothing containing {contains!r} for {self.user_id}: {seen}")
            await asyncio.sleep(0.02)

    async def expect(self, contains: str | None = None, timeout: float = 10.0) -> DingMessage:
        """The next thing sent (which must contain ``contains``, when given)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            messages = self.messages
            if self._cursor < len(messages):
                message = messages[self._cursor]
                self._cursor += 1
                assert contains is None or contains in message.text, message.describe()
                return message
            if loop.time() > deadline:
                raise AssertionError(f"nothing for {self.user_id} within {timeout}s")
            await asyncio.sleep(0.02)

    async def expect_nothing(self, within: float = 1.0) -> None:
        """Nothing new arrives within ``within`` seconds."""
        await asyncio.sleep(within)
        messages = self.messages
        new, self._cursor = messages[self._cursor :], len(messages)
        assert not new, "; ".join(m.describe() for m in new)

    def drain(self) -> list[DingMessage]:
        """Consume everything that came so far."""
        messages = self.messages
        new, self._cursor = messages[self._cursor :], len(messages)
        return new

    def message(self, card_id: str) -> DingMessage:
        """A card as it reads now."""
        card = self.standin.cards[card_id]
        return DingMessage("card", plain(card.text()), card_id, card.buttons())


class DingTalkKexie(Kexie):
    """One installation with DingTalk as its only channel."""

    def __init__(self, standin: DingTalkStandIn, data_dir: Path, db_url: str | None = None) -> None:
        self.ding = standin
        self.data_dir = data_dir
        self.settings = load_settings(
            bot_token="",
            data_dir=data_dir,
            database_url=db_url,
            dingtalk_client_id=standin.client_id,
            dingtalk_client_secret=standin.client_secret,
            dingtalk_corp_id=standin.corp_id,
            dingtalk_api_url=standin.api_url,
            dingtalk_oapi_url=standin.oapi_url,
            web_listen="off",
        )
        data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.settings.db_url)
        self.app: Any = None
        self.process: asyncio.subprocess.Process | None = None
        self.channel: DingTalkChannel | None = None
        self._users: dict[str, DingTalkUser] = {}

    @property
    def env(self) -> dict[str, str]:
        """Environment that points a ``kexie`` process at this installation and the stand-in."""
        import os

        env = {k: v for k, v in os.environ.items() if not k.startswith("KEXIE_")}
        env.update(
            KEXIE_DATA_DIR=str(self.data_dir),
            KEXIE_DATABASE_URL=self.settings.db_url,
            KEXIE_DINGTALK_CLIENT_ID=self.ding.client_id,
            KEXIE_DINGTALK_CLIENT_SECRET=self.ding.client_secret,
            KEXIE_DINGTALK_API_URL=self.ding.api_url,
            KEXIE_DINGTALK_OAPI_URL=self.ding.oapi_url,
            KEXIE_WEB_LISTEN="off",
            PYTHONUNBUFFERED="1",
            **clock_env(),
        )
        return env

    async def start(self) -> None:
        """What ``kexie run`` assembles for DingTalk alone, in this process."""
        self._stop = asyncio.Event()
        wake = asyncio.Event()
        self.channel = build_dingtalk(self.settings, self.db, wake.set)
        scheduler = Scheduler(self.db, self.settings)
        sender = scheduler.sender({Channel.DINGTALK: self.channel.messenger}, rate=None)
        # tests.journeys.run_scheduler_at reads these as from a Telegram application.
        self.app = SimpleNamespace(bot_data={"scheduler": scheduler, "sender": sender})
        self._tasks = [
            asyncio.create_task(serve_dingtalk(self.channel, self.db, self._stop)),
            asyncio.create_task(run_scheduler(scheduler, sender, wake, self._stop)),
        ]
        await self.ding.wait_for(lambda: self.ding.connected)

    async def stop(self) -> None:
        """Close the connection, finish the replies in flight."""
        if self.app is None:
            return
        self.app = None
        self._stop.set()
        await asyncio.gather(*self._tasks)
        assert self.channel is not None
        await close_dingtalk(self.channel)

    def user(self, user_id: int | str, nick: str = "王芳") -> DingTalkUser:  # type: ignore[override]
        """A person of the organisation (the same object for the same id); they join, as
        :meth:`Kexie.member` has them do, by sending the invite's token to the robot."""
        key = f"staff{user_id}"
        if key not in self._users:
            self._users[key] = DingTalkUser(self.ding, key, nick)
        return self._users[key]
