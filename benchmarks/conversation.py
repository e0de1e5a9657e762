"""Benchmark: N people reporting at once, kexie against a bare python-telegram-bot echo bot.

Both bots poll the same local Bot API stand-in (``tests/standin``) in the same run. A step-aware
load driver plays N users at once; each sends its next update as soon as the reply to the
previous one arrived. Per user 11 updates: ``/report``, six typed answers, two photos, the
完成 and 提交 buttons. The echo bot answers every message with one message (with two buttons,
so the driver can press them) and every button with a toast and one message.

Printed per N, as the median over the repeats with the spread (min–max):

* throughput (updates/s) of each bot and the ratio kexie / echo;
* p50 / p95 / p99 reply latency (update pushed → reply seen) and the ratios to echo;
* Bot API calls per update (getUpdates counted apart), SQL statements per update (a SQLAlchemy
  ``before_cursor_execute`` listener on kexie's engine).

Repeats are interleaved (echo and kexie alternate which goes first); every figure of kexie is
read against the echo bot measured in the same run on the same machine, never as an absolute.

Run::

    .venv/bin/python benchmarks/conversation.py                     # N = 50, 100, 200; 3 repeats
    .venv/bin/python benchmarks/conversation.py --users 20 --repeats 1  # a quick look

Diagnostics (not the shipped configuration): ``--concurrency 1`` handles one update at a time
(as before issue 10), ``--no-rate-limit`` takes the rate limiter (``bot/lanes.py``) out,
``--api-latency 0.1`` makes every Bot API call (both bots') take a 100 ms round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.harness import TOKEN, Kexie, seeded
from tests.standin import FakeUser, StandIn, make_jpeg

FIRST_USER = 50_000_000
REPLY_TIMEOUT = 300.0  # a stuck bot ends the run with an error instead of hanging
ANSWERS = (
    "昨天",
    "技术沙龙{n}",
    "邀请专家讲解政策，面向园区企业。",
    "主办",
    "约50人",
    "形成合作意向2项。",
)
UPDATES_PER_USER = 11


@dataclass
class Run:
    """What one bot did for N users in one repeat."""

    bot: str
    users: int
    seconds: float
    latencies: list[float]
    methods: Counter[str]  # Bot API calls by method ("download": file downloads)
    sql: int | None = None

    @property
    def api_calls(self) -> int:
        """Every call but getUpdates."""
        return sum(c for m, c in self.methods.items() if m != "getUpdates")

    @property
    def get_updates(self) -> int:
        return self.methods["getUpdates"]

    @property
    def updates(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        return self.updates / self.seconds

    def pct(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]


@dataclass
class Step:
    """One update the driver sends and the reply it waits for (None: the next message)."""

    send: Callable[[FakeUser], Awaitable[Any]]
    reply: str | None


def kexie_steps(user: FakeUser) -> list[Step]:
    """The report path, each step with a marker only its own reply contains."""
    n = user.user_id

    def text(value: str) -> Callable[[FakeUser], Awaitable[Any]]:
        return lambda u: u.send(value)

    def photo(seed: int) -> Callable[[FakeUser], Awaitable[Any]]:
        return lambda u: u.send_photo(make_jpeg(seed=seed))

    steps = [Step(text("/report"), "第1步")]
    for number, answer in enumerate(ANSWERS, start=2):
        steps.append(Step(text(answer.format(n=n)), f"第{number}步"))
    steps.append(Step(photo(n * 10), "现有佐证材料 1 个"))
    steps.append(Step(photo(n * 10 + 1), "现有佐证材料 2 个"))
    steps.append(Step(lambda u: u.press("完成"), "请核对报送内容"))
    steps.append(Step(lambda u: u.press("提交"), "已提交"))
    assert len(steps) == UPDATES_PER_USER
    return steps


def echo_steps(user: FakeUser) -> list[Step]:
    """The same kinds of update, in the same order, for the echo bot."""
    steps = kexie_steps(user)
    return [Step(s.send, None) for s in steps]


async def drive(
    standin: StandIn, users: list[FakeUser], plan: Callable[[FakeUser], list[Step]]
) -> tuple[float, list[float], Counter[str]]:
    """Play every user at once; (seconds, latencies, Bot API calls by method)."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    first_call = len(standin.calls)

    async def one(user: FakeUser) -> None:
        user.drain()
        for step in plan(user):
            sent = loop.time()
            await step.send(user)
            if step.reply is None:
                await user.expect(timeout=REPLY_TIMEOUT)
            else:
                await user.expect_any(step.reply, timeout=REPLY_TIMEOUT)
            latencies.append(loop.time() - sent)

    started = loop.time()
    await asyncio.gather(*(one(u) for u in users))
    seconds = loop.time() - started
    calls = standin.calls[first_call:]
    methods = Counter("getUpdates" if c.method.lower() == "getupdates" else c.method for c in calls)
    return seconds, latencies, methods


# --- the echo bot ------------------------------------------------------------------------------

BUTTONS = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("✅ 完成", callback_data="done"),
            InlineKeyboardButton("提交", callback_data="submit"),
        ]
    ]
)


async def _echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    await message.reply_text(message.text or "photo", reply_markup=BUTTONS)


async def _pressed(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    await query.get_bot().send_message(query.message.chat.id, f"pressed {query.data}")


async def run_echo(users: int) -> Run:
    """A bare python-telegram-bot bot (defaults: Updater, no rate limiter) echoing N users."""
    async with StandIn(TOKEN) as standin:
        app = (
            Application.builder()
            .token(TOKEN)
            .base_url(standin.base_url)
            .base_file_url(standin.base_file_url)
            .build()
        )
        app.add_handler(MessageHandler(filters.ALL, _echo))
        app.add_handler(CallbackQueryHandler(_pressed))
        await app.initialize()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        await app.start()
        people = [standin.user(FIRST_USER + i, f"用户{i}") for i in range(users)]
        try:
            seconds, latencies, methods = await drive(standin, people, echo_steps)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
    return Run("echo", users, seconds, latencies, methods)


# --- kexie ------------------------------------------------------------------------------------


async def run_kexie(users: int, root: Path, concurrency: int | None) -> Run:
    """kexie as shipped (SQLite, rate limiter, scheduler), N reporters of N associations."""
    async with StandIn(TOKEN) as standin:
        kexie = await seeded(Kexie(standin, root / f"kexie-{users}-{time.monotonic_ns()}"))
        if concurrency is not None:
            kexie.settings.concurrency = concurrency
        try:
            await kexie.start()
            # One association each: similar names on one day in one association would meet
            # the duplicate check (a different path, not the one measured).
            orgs = [await kexie.org(f"测试科协{k}") for k in range(users)]
            people: list[FakeUser] = []
            for start in range(0, users, 20):  # joining is set-up, not measured
                people += await asyncio.gather(
                    *(
                        kexie.member(FIRST_USER + i, "reporter", org=orgs[i], first_name=f"用户{i}")
                        for i in range(start, min(users, start + 20))
                    )
                )
            statements = 0

            def count(*_args: Any) -> None:
                nonlocal statements
                statements += 1

            engine = kexie.db.engine.sync_engine
            event.listen(engine, "before_cursor_execute", count)
            try:
                seconds, latencies, methods = await drive(standin, people, kexie_steps)
            finally:
                event.remove(engine, "before_cursor_execute", count)
        finally:
            await kexie.stop()
            await kexie.db.dispose()
    return Run("kexie", users, seconds, latencies, methods, statements)


# --- report ------------------------------------------------------------------------------------


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """Median (min–max) of the repeats."""
    med = statistics.median(values)
    if len(values) == 1:
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def report(results: dict[int, list[tuple[Run, Run]]]) -> None:
    print()
    for n, pairs in sorted(results.items()):
        kx = [k for k, _ in pairs]
        ec = [e for _, e in pairs]
        print(f"N = {n} users, {n * UPDATES_PER_USER} updates per bot, {len(pairs)} repeat(s)")
        print(
            f"  throughput  kexie {spread([r.throughput for r in kx], '{:.1f}')} updates/s"
            f"   echo {spread([r.throughput for r in ec], '{:.1f}')} updates/s"
        )
        ratios = [k.throughput / e.throughput for k, e in pairs]
        print(f"  ratio kexie/echo throughput: {spread(ratios)}")
        for p in (50, 95, 99):
            print(
                f"  p{p} latency  kexie {spread([r.pct(p) for r in kx], '{:.3f}')} s"
                f"   echo {spread([r.pct(p) for r in ec], '{:.3f}')} s"
                f"   ratio {spread([k.pct(p) / e.pct(p) for k, e in pairs], '{:.1f}')}"
            )
        print(
            f"  Bot API calls per update (without getUpdates): kexie "
            f"{spread([r.api_calls / r.updates for r in kx])}   echo "
            f"{spread([r.api_calls / r.updates for r in ec])}"
        )
        print(
            f"  getUpdates per update: kexie {spread([r.get_updates / r.updates for r in kx])}"
            f"   echo {spread([r.get_updates / r.updates for r in ec])}"
        )
        sql = [(r.sql or 0) / r.updates for r in kx]
        print(f"  SQL statements per update (kexie): {spread(sql, '{:.1f}')}")
        methods: Counter[str] = Counter()
        for r in kx:
            methods.update({m: c for m, c in r.methods.items() if m != "getUpdates"})
        total = sum(r.updates for r in kx)
        shown = ", ".join(f"{m} {c / total:.2f}" for m, c in methods.most_common())
        print(f"  kexie's calls per update by method: {shown}")
        print()


async def main_async(users: list[int], repeats: int, concurrency: int | None) -> None:
    results: dict[int, list[tuple[Run, Run]]] = {n: [] for n in users}
    with tempfile.TemporaryDirectory(prefix="kexie-bench-") as tmp:
        for repeat in range(repeats):
            for n in users:
                # Interleaved: which bot runs first alternates, so drift on a shared machine
                # is spread over both.
                if repeat % 2 == 0:
                    echo = await run_echo(n)
                    kx = await run_kexie(n, Path(tmp), concurrency)
                else:
                    kx = await run_kexie(n, Path(tmp), concurrency)
                    echo = await run_echo(n)
                results[n].append((kx, echo))
                print(
                    f"repeat {repeat + 1}, N={n}: kexie {kx.throughput:.1f}/s"
                    f" p95 {kx.pct(95):.3f}s; echo {echo.throughput:.1f}/s"
                    f" p95 {echo.pct(95):.3f}s",
                    flush=True,
                )
    report(results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--users", type=int, nargs="+", default=[50, 100, 200], help="N (default 50 100 200)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each N (default 3)")
    parser.add_argument("--concurrency", type=int, help="diagnostic: KEXIE_CONCURRENCY")
    parser.add_argument(
        "--no-rate-limit", action="store_true", help="diagnostic: kexie without its rate limiter"
    )
    parser.add_argument(
        "--api-latency",
        type=float,
        default=0.0,
        help="diagnostic: seconds the stand-in waits before answering any call but getUpdates"
        " (Telegram is a round trip away, the stand-in is not)",
    )
    args = parser.parse_args()
    if args.api_latency > 0:
        handle = StandIn._handle

        async def far(self: StandIn, request: Any) -> Any:
            if not request.path.lower().endswith("/getupdates"):
                await asyncio.sleep(args.api_latency)
            return await handle(self, request)

        StandIn._handle = far  # type: ignore[method-assign]
    logging.basicConfig(level=logging.ERROR)  # the bots' errors are shown; routine logs are not
    if args.no_rate_limit:
        import bot.app

        bot.app.LaneRateLimiter = lambda *_args, **_kwargs: None  # type: ignore[assignment,misc]
    print(
        f"kexie: concurrency {args.concurrency or 'as shipped (KEXIE_CONCURRENCY)'}, "
        f"rate limiter {'OFF (diagnostic)' if args.no_rate_limit else 'as shipped'}, "
        f"Bot API latency {args.api_latency * 1000:.0f} ms"
    )
    asyncio.run(main_async(args.users, args.repeats, args.concurrency))


if __name__ == "__main__":
    main()
