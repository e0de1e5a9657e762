"""The floor under kexie's CPU per update: a bare python-telegram-bot bot doing only the work
kexie's report path owes its guarantees, with nothing of kexie's.

The echo bot (``benchmarks/echo_bot.py``) answers each update and does nothing else, so the ratio
kexie / echo (issue 23's "CPU per update ≤ 2 × echo") charges kexie for work no implementation of
the report path can skip. This bot does that work and nothing more, each piece without a layer of
kexie's (no ORM, no handler framework of its own), so kexie / floor is the part of kexie's CPU
that is its own doing, and floor / echo the part no implementation can leave out:

* every answer is committed before its reply, with the chat's step and the update's id in the same
  transaction (one ``UPDATE … RETURNING`` statement; SQLite in WAL mode with its default
  ``synchronous=FULL``, as kexie's, its statements on the event loop and its COMMIT, with the
  fsync, in a thread, so the loop is not held; or PostgreSQL through asyncpg's pool);
* a photo is fetched from the Bot API (``getFile`` and the download), checked to be a JPEG by its
  first bytes, stored under its sha256 (written, ``fsync``'d, renamed into place) and recorded
  with the update in one transaction;
* 完成 answers the button and sends the card (every answer HTML-escaped), 提交 answers the button,
  marks the report submitted with an audit row in one transaction, and edits the card: the same
  Bot API calls as kexie's walk (10 ``sendMessage``, 1 ``editMessageText``, 2 ``getFile``, 2
  downloads, 2 ``answerCallbackQuery``; ``tests/e2e/test_floor_bot_e2e.py`` holds it to that).

Left out, because a floor may leave them out: who the sender is (no members, associations or
permissions), the rules of each answer, the question table, texts in two languages, the outbox,
the duplicate check, the rate limiter, the lock that lets several instances take turns on a chat,
and the evidence file's own thread (it is written on the loop). Its Bot API calls go through
python-telegram-bot's default HTTP client, as echo's do; kexie's own (aiohttp, ``bot/http.py``)
costs less, so kexie / floor under-states kexie's own part a little. The figure is its CPU per
update; its latencies mean little (python-telegram-bot runs one update at a time by default).
``benchmarks/processes.py --floor`` runs it as a separate process beside kexie and echo::

    python benchmarks/floor_bot.py TOKEN BASE_URL BASE_FILE_URL DATABASE FILES

``DATABASE`` is a SQLite file's path or a ``postgresql://`` URL; ``FILES`` the evidence directory.
Nothing of kexie is imported here.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import os
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any, Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

BUTTONS = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("✅ 完成", callback_data="done"),
            InlineKeyboardButton("提交", callback_data="submit"),
        ],
        [InlineKeyboardButton("取消", callback_data="cancel")],
    ]
)
# About as long as kexie's question prompts and card.
PROMPT = (
    "第{step}步：请回答本项（活动日期、名称、内容、角色、人数、成效依次填写），"
    "可随时发送照片作为佐证材料。"
)
CARD = (
    "<b>请核对报送内容</b>\n{rows}\n现有佐证材料 {files} 个。"
    "确认无误请按「提交」，需要修改请按「修改」。"
)
JPEG = b"\xff\xd8\xff"

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS floor_drafts (chat TEXT PRIMARY KEY, step INTEGER NOT NULL,"
    " answers TEXT NOT NULL, files INTEGER NOT NULL, status TEXT NOT NULL,"
    " last_update BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS floor_evidence (sha TEXT NOT NULL, chat TEXT NOT NULL,"
    " size INTEGER NOT NULL, PRIMARY KEY (chat, sha))",
    "CREATE TABLE IF NOT EXISTS floor_audit (chat TEXT NOT NULL, action TEXT NOT NULL,"
    " update_id BIGINT NOT NULL)",
]
START = (
    "INSERT INTO floor_drafts VALUES ($1, 1, '', 0, 'draft', $2) ON CONFLICT (chat) DO UPDATE"
    " SET step = 1, answers = '', files = 0, status = 'draft', last_update = $2"
)
# The answers as lines of JSON strings, each appended by the statement that stores it.
ANSWER = (
    "UPDATE floor_drafts SET step = step + 1, answers = answers || $2, last_update = $3"
    " WHERE chat = $1 RETURNING step"
)
EVIDENCE = "INSERT INTO floor_evidence VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
COUNTED = (
    "UPDATE floor_drafts SET files = files + 1, last_update = $2 WHERE chat = $1"
    " RETURNING step, files"
)
REVIEW = "UPDATE floor_drafts SET last_update = $2 WHERE chat = $1 RETURNING answers, files"
SUBMIT = (
    "UPDATE floor_drafts SET status = 'submitted', last_update = $2 WHERE chat = $1"
    " AND status = 'draft' RETURNING answers, files"
)
AUDIT = "INSERT INTO floor_audit VALUES ($1, 'submit', $2)"


class Store(Protocol):
    """One transaction per call: the statements in order, the last one's first row returned."""

    async def run(self, *statements: tuple[str, tuple[Any, ...]]) -> tuple[Any, ...] | None: ...


class SQLiteStore:
    """The stdlib driver: the statements on the event loop (no thread trip each), the COMMIT in
    a thread, as it must be: its fsync would hold every other chat's update meanwhile."""

    def __init__(self, path: str) -> None:
        # One transaction at a time (python-telegram-bot runs one update at a time by default),
        # its COMMIT in another thread than its statements.
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        for ddl in SCHEMA:
            self.conn.execute(ddl)

    async def run(self, *statements: tuple[str, tuple[Any, ...]]) -> tuple[Any, ...] | None:
        row = None
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for sql, args in statements:
                # $n placeholders as SQLite's ?n.
                row = self.conn.execute(sql.replace("$", "?"), args).fetchone()
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        await asyncio.to_thread(self.conn.execute, "COMMIT")
        return tuple(row) if row is not None else None


class PostgresStore:
    """asyncpg's pool, one connection per transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: Any = None

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.url, min_size=10, max_size=40)
        async with self.pool.acquire() as conn:
            for ddl in SCHEMA:
                await conn.execute(ddl)

    async def run(self, *statements: tuple[str, tuple[Any, ...]]) -> tuple[Any, ...] | None:
        async with self.pool.acquire() as conn:
            if len(statements) == 1:  # one statement is its own transaction
                sql, args = statements[0]
                row = await conn.fetchrow(sql, *args)
            else:
                async with conn.transaction():
                    for sql, args in statements:
                        row = await conn.fetchrow(sql, *args)
        return tuple(row) if row is not None else None


def store_file(root: Path, data: bytes) -> str:
    """Write ``data`` under its sha256 as kexie's local evidence store does; return the sha."""
    digest = hashlib.sha256(data).hexdigest()
    target = root / digest[:2] / digest[2:4] / digest
    if target.exists():
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return digest


class Floor:
    """The handlers, with their store and evidence directory passed in."""

    def __init__(self, store: Store, files: Path) -> None:
        self.store = store
        self.files = files

    async def message(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """/report starts a draft; a text is the current step's answer; a photo is evidence."""
        message = update.effective_message
        assert message is not None
        chat = str(message.chat_id)
        if message.photo:
            file = await message.photo[-1].get_file()
            data = bytes(await file.download_as_bytearray())
            if not data.startswith(JPEG):
                await message.reply_text("不是照片")
                return
            sha = store_file(self.files, data)
            row = await self.store.run(
                (EVIDENCE, (sha, chat, len(data))), (COUNTED, (chat, update.update_id))
            )
            files = row[1] if row else 0
            await message.reply_text(f"已收到，现有佐证材料 {files} 个。", reply_markup=BUTTONS)
            return
        text = message.text or ""
        if text == "/report":
            await self.store.run((START, (chat, update.update_id)))
            step = 1
        else:
            line = json.dumps(text, ensure_ascii=False) + "\n"
            row = await self.store.run((ANSWER, (chat, line, update.update_id)))
            step = row[0] if row else 1
        await message.reply_text(PROMPT.format(step=step), reply_markup=BUTTONS)

    async def pressed(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """完成 sends the card; 提交 submits and edits it."""
        query = update.callback_query
        assert query is not None and query.message is not None
        chat = str(query.message.chat.id)
        await query.answer()
        if query.data == "submit":
            row = await self.store.run(
                (AUDIT, (chat, update.update_id)), (SUBMIT, (chat, update.update_id))
            )
            text = card(row) + "\n\n已提交。"
            await query.edit_message_text(text, parse_mode=ParseMode.HTML)
            return
        row = await self.store.run((REVIEW, (chat, update.update_id)))
        await query.get_bot().send_message(
            query.message.chat.id, card(row), parse_mode=ParseMode.HTML, reply_markup=BUTTONS
        )


def card(row: tuple[Any, ...] | None) -> str:
    """The review card of a draft's (answers, files): every answer escaped."""
    answers, files = ([json.loads(a) for a in row[0].splitlines()], row[1]) if row else ([], 0)
    rows = "\n".join(f"{n}. {html.escape(a)}" for n, a in enumerate(answers, start=1))
    return CARD.format(rows=rows, files=files)


def build_floor(token: str, base_url: str, base_file_url: str, store: Store, files: Path) -> Any:
    """The floor bot's application (not yet initialised) against a Bot API at ``base_url``."""
    floor = Floor(store, files)
    app = Application.builder().token(token).base_url(base_url).base_file_url(base_file_url)
    if isinstance(store, PostgresStore):
        app = app.post_init(lambda _app: store.open())
    built = app.build()
    built.add_handler(MessageHandler(filters.ALL, floor.message))
    built.add_handler(CallbackQueryHandler(floor.pressed))
    return built


def main() -> None:
    """Poll until SIGINT/SIGTERM (python-telegram-bot's ``run_polling`` stops on either)."""
    token, base_url, base_file_url, database, files = sys.argv[1:6]
    store: Store = (
        PostgresStore(database) if database.startswith("postgresql") else SQLiteStore(database)
    )
    app = build_floor(token, base_url, base_file_url, store, Path(files))
    app.run_polling(poll_interval=0.0, timeout=1)


if __name__ == "__main__":
    main()
