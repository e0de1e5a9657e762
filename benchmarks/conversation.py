"""Benchmark: N people reporting at once, kexie against a bare python-telegram-bot echo bot.

Both bots poll the same local Bot API stand-in (``tests/standin``) in the same run, all in this
one process: the stand-in's and the driver's CPU is charged to both bots alike, which hides the
difference between them (issue 23). ``benchmarks/processes.py`` runs each bot in its own process
and measures its CPU per update; this one stays for the drain and the diagnostics below.

A step-aware load driver plays N users at once; each sends its next update as soon as the reply
to the previous one arrived. Per user 11 updates: ``/report``, six typed answers, two photos, the
完成 and 提交 buttons. The echo bot answers every message with one message (with two buttons,
so the driver can press them) and every button with a toast and one message.

Printed per N, as the median over the repeats with the spread (min–max):

* throughput (updates/s) of each bot and the ratio kexie / echo;
* p50 / p95 / p99 reply latency (update pushed → reply seen) and the ratios to echo;
* Bot API calls per update (getUpdates counted apart), SQL statements per update (a SQLAlchemy
  ``before_cursor_execute`` listener on kexie's engine), replies per update;
* at N = 100, issue 10's targets, each "met" or "NOT met".

Repeats are interleaved (echo and kexie alternate which goes first); every figure of kexie is
read against the echo bot measured in the same run on the same machine, never as an absolute.

Then the drain: the p95 reply latency of 20 reporters (the same report path) while 5 000
reminders drain, against the same 20 with nothing queued (target ≤ 1.5×), repeats interleaved.
The reminders are real: 5 000 members each planned an activity the day before; the app's own
scheduler queues the morning-after question for each (its clock at 10:00 on a working day, and
ticking) and the app's own sender drains them through the broadcast lane while the 20 report,
each pausing a second after every reply (see ``DRAIN_THINK``); the reminders sent meanwhile are
printed, so a drain that stopped would show.

Run::

    .venv/bin/python benchmarks/conversation.py                     # N = 50, 100, 200; 3 repeats
    .venv/bin/python benchmarks/conversation.py --users 20 --repeats 1  # a quick look
    .venv/bin/python benchmarks/conversation.py --users --repeats 3     # the drain only
    .venv/bin/python benchmarks/conversation.py --reminders 0           # no drain

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
from datetime import date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, insert, select

from benchmarks.delivery_latency import measure_submit_to_delivery
from benchmarks.delivery_latency import summary as delivery_summary
from benchmarks.echo_bot import build_echo
from core.enums import Channel, OrgKind, Role
from scheduler.clock import ShiftedClock
from scheduler.notices import WAKE
from storage.models import ChannelAccount, Member, Membership, Plan
from storage.registry import create_organisation, district_by_name
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
# Issue 10's targets, read at N = 100: throughput against echo's, p95 against echo's, and the
# replies (getFile, downloads and button toasts are no replies) per update.
TARGET_USERS = 100
TARGET_RATIO = 0.4
TARGET_P95 = 4.0
REPLY_METHODS = ("sendMessage", "editMessageText", "editMessageReplyMarkup")
DRAIN_USERS = 20
# Seconds each of them pauses after a reply, as a person reading it would: without a pause 20
# users make over 30 replies a second, and the broadcast lane, which only takes what replies
# leave of Telegram's 30/s, sends (by design) nothing at all while they report.
DRAIN_THINK = 1.0
REMINDERS = 5_000
REMINDED_USER = 70_000_000
REMINDER_ORGS = 50
REMINDER_DAY = date(2026, 11, 20)  # a working Friday: the morning-after question is due at 10:00
TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class Run:
    """What one bot did for N users in one repeat."""

    bot: str
    users: int
    seconds: float
    latencies: list[float]
    methods: Counter[str]  # Bot API calls by method ("download": file downloads)
    sql: int | None = None
    reminders_sent: int = 0  # while the users reported (the drain)
    cpu: float | None = None  # the bot process's CPU seconds (benchmarks/processes.py)
    cpu_loop: float | None = None  # of which its main thread's: the event loop's (ditto)

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

    async def take(self, user: FakeUser, timeout: float = REPLY_TIMEOUT) -> None:
        """Send the update as ``user``, then wait for its reply."""
        await self.send(user)
        if self.reply is None:
            await user.expect(timeout=timeout)
        else:
            await user.expect_any(self.reply, timeout=timeout)


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
    standin: StandIn,
    users: list[FakeUser],
    plan: Callable[[FakeUser], list[Step]],
    aside: frozenset[int] = frozenset(),
    think: float = 0.0,
) -> tuple[float, list[float], Counter[str]]:
    """Play every user at once, each pausing ``think`` seconds after every reply; (seconds,
    latencies, Bot API calls by method); calls to the ``aside`` chats (the reminded) are counted
    as method "reminder"."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    first_call = len(standin.calls)

    async def one(user: FakeUser) -> None:
        user.drain()
        for step in plan(user):
            sent = loop.time()
            await step.take(user)
            latencies.append(loop.time() - sent)
            if think:
                await asyncio.sleep(think)

    started = loop.time()
    await asyncio.gather(*(one(u) for u in users))
    seconds = loop.time() - started
    calls = standin.calls[first_call:]
    methods = Counter(
        "getUpdates"
        if c.method.lower() == "getupdates"
        else "reminder"
        if c.params.get("chat_id") in aside
        else c.method
        for c in calls
    )
    return seconds, latencies, methods


# --- the echo bot ------------------------------------------------------------------------------


async def run_echo(users: int) -> Run:
    """A bare python-telegram-bot bot (defaults: Updater, no rate limiter) echoing N users."""
    async with StandIn(TOKEN) as standin:
        app = build_echo(TOKEN, standin.base_url, standin.base_file_url)
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


async def queue_reminders(kexie: Kexie, count: int) -> frozenset[int]:
    """``count`` members planned an activity the day before :data:`REMINDER_DAY`; the app's own
    scheduler queues the morning-after question of each, and its sender starts sending them.
    Returns their chats once the drain is under way."""
    assert kexie.app is not None
    async with kexie.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district is not None
        orgs = [
            (await create_organisation(session, district, OrgKind.ENTERPRISE, f"提醒科协{n}")).id
            for n in range(REMINDER_ORGS)
        ]
        first = await session.scalar(select(Member.id).order_by(Member.id.desc()).limit(1)) or 0
        await session.execute(insert(Member), [{"first_name": f"提醒{i}"} for i in range(count)])
        ids = (
            await session.scalars(select(Member.id).where(Member.id > first).order_by(Member.id))
        ).all()
        assert len(ids) == count
        await session.execute(
            insert(ChannelAccount),
            [
                {"member_id": m, "channel": Channel.TELEGRAM, "external_id": str(REMINDED_USER + i)}
                for i, m in enumerate(ids)
            ],
        )
        await session.execute(
            insert(Membership),
            [
                {"member_id": m, "role": Role.REPORTER, "org_id": orgs[i % len(orgs)]}
                for i, m in enumerate(ids)
            ],
        )
        await session.execute(
            insert(Plan),
            [
                {
                    "org_id": orgs[i % len(orgs)],
                    "member_id": m,
                    "name": f"技术交流会{i}",
                    "planned_date": REMINDER_DAY - timedelta(days=1),
                }
                for i, m in enumerate(ids)
            ],
        )
    chats = frozenset(REMINDED_USER + i for i in range(count))
    for chat in chats:
        kexie.standin.user(chat, f"提醒{chat - REMINDED_USER}")
    clock = ShiftedClock(datetime.combine(REMINDER_DAY, day_time(10), tzinfo=TZ))
    scheduler, sender = kexie.app.bot_data["scheduler"], kexie.app.bot_data["sender"]
    scheduler.clock = clock
    sender.clock = clock
    tick = await scheduler.tick()
    assert tick.enqueued >= count, tick
    kexie.app.bot_data[WAKE].set()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while sum(1 for c in kexie.standin.calls if c.params.get("chat_id") in chats) < 50:
        assert loop.time() < deadline, "the sender did not start draining"
        await asyncio.sleep(0.05)
    return chats


async def run_kexie(
    users: int, root: Path, concurrency: int | None, reminders: int = 0, think: float = 0.0
) -> Run:
    """kexie as shipped (SQLite, rate limiter, scheduler), N reporters of N associations
    (pausing ``think`` seconds after each reply); with ``reminders`` morning-after questions
    draining meanwhile."""
    async with StandIn(TOKEN) as standin:
        kexie = await seeded(Kexie(standin, root / f"kexie-{users}-{time.monotonic_ns()}"))
        if concurrency is not None:
            kexie.settings.concurrency = concurrency
        statements = 0

        def count(*_args: Any) -> None:
            nonlocal statements
            statements += 1

        # Listening from the start: adding a listener while the sender runs a statement would
        # change the engine's listeners under it.
        engine = kexie.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
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
            reminded = await queue_reminders(kexie, reminders) if reminders else frozenset()
            before = statements
            seconds, latencies, methods = await drive(standin, people, kexie_steps, reminded, think)
            statements -= before
        finally:
            await kexie.stop()
            event.remove(engine, "before_cursor_execute", count)
            await kexie.db.dispose()
    sent = methods.pop("reminder", 0)
    return Run("kexie", users, seconds, latencies, methods, statements, sent)


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
        print(
            f"N = {n} users, {n * UPDATES_PER_USER} updates per bot, {len(pairs)} repeat(s);"
            " IN ONE PROCESS with the stand-in and the driver (each bot in its own:"
            " benchmarks/processes.py)"
        )
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
        replies = [sum(r.methods[m] for m in REPLY_METHODS) / r.updates for r in kx]
        print(f"  replies (messages sent or edited) per update (kexie): {spread(replies)}")
        if n == TARGET_USERS:
            ratio = statistics.median(k.throughput / e.throughput for k, e in pairs)
            p95 = statistics.median(k.pct(95) / e.pct(95) for k, e in pairs)
            verdicts = (
                (f"throughput >= {TARGET_RATIO} x echo", ratio >= TARGET_RATIO, f"{ratio:.2f}"),
                (f"p95 <= {TARGET_P95} x echo", p95 <= TARGET_P95, f"{p95:.1f}"),
                ("replies per update <= 1.1", max(replies) <= 1.1, f"{max(replies):.2f}"),
            )
            for what, met, value in verdicts:
                print(f"  target N={n} {what}: {'met' if met else 'NOT met'} ({value})")
        print()


def report_drain(pairs: list[tuple[Run, Run]], reminders: int) -> None:
    """The same users' p95 with the drain against without it."""
    users = pairs[0][0].users
    print(
        f"Drain: {users} users reporting (each pausing {DRAIN_THINK:g} s after a reply) while"
        f" {reminders} reminders drain, against the same {users} with none queued;"
        f" {len(pairs)} repeat(s)"
    )
    for p in (50, 95, 99):
        print(
            f"  p{p} latency  during the drain {spread([d.pct(p) for d, _ in pairs], '{:.3f}')} s"
            f"   without {spread([q.pct(p) for _, q in pairs], '{:.3f}')} s"
            f"   ratio {spread([d.pct(p) / q.pct(p) for d, q in pairs])}"
        )
    ratio = statistics.median(d.pct(95) / q.pct(95) for d, q in pairs)
    print(
        f"  reminders sent while they reported:"
        f" {spread([d.reminders_sent / d.seconds for d, _ in pairs], '{:.1f}')}/s"
        f" ({spread([float(d.reminders_sent) for d, _ in pairs], '{:.0f}')} in"
        f" {spread([d.seconds for d, _ in pairs], '{:.1f}')} s)"
    )
    print(f"  target p95 ratio <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'} ({ratio:.2f})")
    print()


async def main_async(
    users: list[int], repeats: int, concurrency: int | None, reminders: int, deliveries: int = 5
) -> None:
    results: dict[int, list[tuple[Run, Run]]] = {n: [] for n in users}
    drains: list[tuple[Run, Run]] = []
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
        for repeat in range(repeats if reminders else 0):
            quiet = drained = None
            for which in (0, 1) if repeat % 2 == 0 else (1, 0):
                if which:
                    drained = await run_kexie(
                        DRAIN_USERS, Path(tmp), concurrency, reminders, DRAIN_THINK
                    )
                else:
                    quiet = await run_kexie(DRAIN_USERS, Path(tmp), concurrency, 0, DRAIN_THINK)
            assert quiet is not None and drained is not None
            drains.append((drained, quiet))
            print(
                f"repeat {repeat + 1}, drain: p95 {drained.pct(95):.3f}s while"
                f" {drained.reminders_sent} reminders were sent; {quiet.pct(95):.3f}s without",
                flush=True,
            )
    report(results)
    if drains:
        report_drain(drains, reminders)
    if deliveries:
        # 提交 → the district admin's card (benchmarks/delivery_latency.py), as shipped.
        print(delivery_summary(await measure_submit_to_delivery(deliveries)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--users", type=int, nargs="*", default=[50, 100, 200], help="N (default 50 100 200)"
    )
    parser.add_argument(
        "--reminders",
        type=int,
        default=REMINDERS,
        help=f"reminders draining while {DRAIN_USERS} users report (default 5000; 0: no drain)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each N (default 3)")
    parser.add_argument(
        "--deliveries",
        type=int,
        default=5,
        help="提交 → delivery card latencies measured (default 5; 0: none)",
    )
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
    asyncio.run(
        main_async(args.users, args.repeats, args.concurrency, args.reminders, args.deliveries)
    )


if __name__ == "__main__":
    main()
