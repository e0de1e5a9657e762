"""Benchmark (issue 23): N people reporting at once, each bot in its own process.

``benchmarks/conversation.py`` runs the bots, the Bot API stand-in and the load driver in one
process, so the stand-in's and the driver's CPU is charged to both bots alike. Here, as in
production (Telegram's servers are elsewhere), each bot runs alone in its own process:

* kexie as the real ``kexie run`` console script, pointed by ``KEXIE_*`` variables at the
  stand-in's URL and at a fresh database (SQLite, or PostgreSQL when ``KEXIE_TEST_POSTGRES_URL``
  is set: ``source scripts/postgres.sh``), as ``tests/harness.py``'s ``Kexie.env`` does;
* the bare python-telegram-bot echo bot as ``benchmarks/echo_bot.py``;
* with ``--floor``, also ``benchmarks/floor_bot.py``: a bare python-telegram-bot bot that does
  only the work kexie's report path owes its guarantees (each answer committed before its reply,
  each photo fetched, checked and stored with ``fsync``, the card escaped, the submit audited),
  without kexie's layers (no ORM), on a database of the same kind; kexie / floor is the part of
  kexie's CPU that is its own doing, floor / echo the part no implementation can skip;
* the stand-in and the load driver (conversation.py's: the same 11-update report walk per user)
  in this process.

Printed per database, as the median over the repeats with the spread (min–max): throughput,
p50/p95/p99 reply latency, and each bot process's **CPU seconds per update** (utime + stime of
``/proc/PID/stat``, every thread of the process, read just before and just after the measured
window, so start-up and the members joining are not counted) and how much of it was spent outside
the event loop's thread (``/proc/PID/task/PID/stat``: with SQLite, its connections' threads run
the database's own work, which PostgreSQL does in its server, a process not counted); then issue
23's targets, each "met" or "NOT met": throughput ≥ 0.5 × echo's, CPU per update ≤ 2 × echo's,
p95 ≤ 2.5 × echo's.
Repeats are interleaved (which bot runs first alternates); every kexie figure is read against the
echo bot measured beside it, never as an absolute.

``--profile DIR`` samples each bot process with py-spy (``pip install -e .[dev]``) during the
measured window of the first repeat and writes ``DIR/<bot>-<db>.txt`` (collapsed stacks, for a
flame graph) and ``DIR/<bot>-<db>-top.txt`` (the top 25 functions by cumulative and by self
samples). Sampling slows the bot down: the figures of a profiled run are not the benchmark's.

Run::

    source scripts/postgres.sh   # optional: PostgreSQL as well as SQLite
    .venv/bin/python benchmarks/processes.py                    # N = 100, 3 repeats
    .venv/bin/python benchmarks/processes.py --users 20 --repeats 1 --db sqlite
    .venv/bin/python benchmarks/processes.py --repeats 1 --profile /tmp/prof
    .venv/bin/python benchmarks/processes.py --floor      # kexie against the floor bot too
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.conversation import (
    FIRST_USER,
    REPLY_METHODS,
    UPDATES_PER_USER,
    Run,
    Step,
    drive,
    echo_steps,
    kexie_steps,
    spread,
)
from tests.harness import (
    REPO,
    TOKEN,
    Kexie,
    drop_postgres_database,
    postgres_database,
    seeded,
)
from tests.standin import FakeUser, StandIn

# Issue 23's targets, each kexie figure against the echo bot's measured beside it.
TARGET_THROUGHPUT = 0.5  # kexie's throughput ≥ this × echo's
TARGET_CPU = 2.0  # kexie's CPU per update ≤ this × echo's
TARGET_P95 = 2.5  # kexie's p95 ≤ this × echo's
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ECHO_BOT = Path(__file__).resolve().parent / "echo_bot.py"
DB_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
TOP = 25
SYSTEM_SHARE: dict[str, list[float]] = {"kexie": [], "echo": []}  # kernel share of each run
FLOOR_BOT = Path(__file__).resolve().parent / "floor_bot.py"
CONCURRENCY: int | None = None  # --concurrency: KEXIE_CONCURRENCY (diagnostic)
PER_STEP = False  # --per-step: a lockstep walk instead, its CPU per update by step printed


def cpu_times(pid: int, thread: int | None = None) -> tuple[float, float]:
    """User and system CPU seconds the process ``pid`` has used (all its threads), or only its
    thread ``thread`` (the main thread's id is the process's)."""
    where = f"/proc/{pid}/task/{thread}/stat" if thread is not None else f"/proc/{pid}/stat"
    stat = Path(where).read_text()
    # Fields after the command name (which may hold spaces, hence the last ")"): state is
    # field 3, utime and stime fields 14 and 15.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds the process ``pid`` has used (all its threads)."""
    return sum(cpu_times(pid))


@dataclass
class Profiler:
    """py-spy sampling one process into collapsed stacks."""

    process: asyncio.subprocess.Process
    out: Path


async def start_profile(pid: int, out: Path) -> Profiler:
    """Attach py-spy to ``pid`` (every thread, idle frames left out)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    process = await asyncio.create_subprocess_exec(
        spy,
        "record",
        "--pid",
        str(pid),
        "--rate",
        "250",
        "--format",
        "raw",
        "--output",
        str(out),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(1.0)  # attached before the window opens
    return Profiler(process, out)


async def stop_profile(profiler: Profiler) -> None:
    """Stop sampling (py-spy writes its file on SIGINT) and write the top table beside it."""
    profiler.process.send_signal(signal.SIGINT)
    await asyncio.wait_for(profiler.process.wait(), 60)
    top = profiler.out.with_name(profiler.out.stem + "-top.txt")
    top.write_text(top_table(profiler.out.read_text()))


# Frames py-spy samples as busy although the thread waits in them (blocked in C on a lock or in
# epoll): aiosqlite's worker waiting for the next statement, an idle thread-pool worker, the event
# loop waiting for input. Samples ending in them are left out of the tables.
IDLE = (
    "_connection_worker_thread (aiosqlite/core.py:59)",
    "_worker (concurrent/futures/thread.py:81)",
    "EpollSelector.select (selectors.py:468)",
)


LINE = re.compile(r":\d+\)$")


def top_table(collapsed: str, top: int = TOP) -> str:
    """The ``top`` functions by cumulative samples (the function anywhere on the stack) and by
    self samples (the function on top), from py-spy's collapsed stacks, waits (:data:`IDLE`)
    left out."""
    total = idle = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        # The thread name is the first frame py-spy writes; it is no function.
        frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        if frames and frames[-1] in IDLE:
            idle += count
            continue
        # Per function, not per line: "f (path:12)" and "f (path:15)" are one row.
        frames = [LINE.sub(")", f) for f in frames]
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            own[frames[-1]] += count
    lines = [f"{total} busy samples ({idle} more waiting, left out)"]
    for title, table in (("cumulative", inclusive), ("self (tottime)", own)):
        lines += [
            "",
            f"top {top} by {title}:",
            f"{'samples':>8} {'share':>6}  function (file)",
        ]
        for frame, count in table.most_common(top):
            lines.append(f"{count:>8} {count / max(total, 1):>6.1%}  {frame}")
    return "\n".join(lines) + "\n"


@asynccontextmanager
async def bot_process(
    argv: list[str], env: dict[str, str], log: Path, standin: StandIn
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run a bot process until the block ends (SIGTERM, then wait); yield it once it polls.
    Its output goes to ``log`` (a pipe nobody reads would fill and stop it)."""
    polled = len(standin.calls_of("getUpdates"))
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            *argv, env=env, cwd=log.parent, stdout=out, stderr=out
        )
    try:
        await standin.wait_for_call("getUpdates", polled + 1, timeout=120)
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()


async def per_step_cpu(
    process: asyncio.subprocess.Process, people: list[FakeUser], plan: str
) -> list[float]:
    """Diagnostic (``--per-step``): every user takes step 1, then every user step 2, and so on;
    the bot process's CPU milliseconds per update of each step."""
    plans = [(kexie_steps if plan == "kexie" else echo_steps)(u) for u in people]
    costs = []
    for number in range(UPDATES_PER_USER):

        async def one(user: FakeUser, steps: list[Step], number: int = number) -> None:
            user.drain()
            await steps[number].take(user)

        before = cpu_seconds(process.pid)
        await asyncio.gather(*(one(u, p) for u, p in zip(people, plans, strict=True)))
        costs.append((cpu_seconds(process.pid) - before) / len(people) * 1000)
    return costs


async def measure_per_step(
    process: asyncio.subprocess.Process, bot: str, people: list[FakeUser], plan: str
) -> Run:
    """The lockstep walk (``--per-step``) in place of the measured one (a second report of the
    same users would meet the duplicate check): CPU per update by step, printed."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    costs = await per_step_cpu(process, people, plan)
    seconds = loop.time() - started
    print(f"  {bot} CPU ms per update by step: " + " ".join(f"{c:.2f}" for c in costs))
    cpu = sum(costs) * len(people) / 1000
    return Run(
        bot, len(people), seconds, [0.0] * len(people) * UPDATES_PER_USER, Counter(), cpu=cpu
    )


async def measure(
    standin: StandIn,
    process: asyncio.subprocess.Process,
    bot: str,
    people: list[FakeUser],
    plan: str,
    profile: Path | None,
) -> Run:
    """Drive ``people`` through the report walk; the bot process's CPU over that window."""
    if PER_STEP:
        return await measure_per_step(process, bot, people, plan)
    profiler = await start_profile(process.pid, profile) if profile else None
    user, system = cpu_times(process.pid)
    loop_before = sum(cpu_times(process.pid, process.pid))
    steps = kexie_steps if plan == "kexie" else echo_steps
    seconds, latencies, methods = await drive(standin, people, steps)
    user_after, system_after = cpu_times(process.pid)
    cpu_loop = sum(cpu_times(process.pid, process.pid)) - loop_before
    cpu = user_after + system_after - user - system
    # How much of it is the kernel's (socket writes, fsync), for the record.
    SYSTEM_SHARE.setdefault(bot, []).append((system_after - system) / cpu if cpu else 0.0)
    if profiler is not None:
        await stop_profile(profiler)
    return Run(bot, len(people), seconds, latencies, methods, cpu=cpu, cpu_loop=cpu_loop)


def bare_env() -> dict[str, str]:
    """The environment of a bot that is not kexie (echo, floor): this one's, without KEXIE_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEXIE_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


async def run_echo(users: int, root: Path, profile: Path | None) -> Run:
    """The echo bot in its own process, N users."""
    async with StandIn(TOKEN) as standin:
        env = bare_env()
        argv = [sys.executable, str(ECHO_BOT), TOKEN, standin.base_url, standin.base_file_url]
        root.mkdir(parents=True, exist_ok=True)
        async with bot_process(argv, env, root / "echo.log", standin) as process:
            people = [standin.user(FIRST_USER + i, f"用户{i}") for i in range(users)]
            return await measure(standin, process, "echo", people, "echo", profile)


async def run_floor(users: int, root: Path, db: str) -> Run:
    """The floor bot (``benchmarks/floor_bot.py``) in its own process, N users, on a fresh SQLite
    file or PostgreSQL database of its own."""
    made = await postgres_database() if db == "postgres" else None
    try:
        async with StandIn(TOKEN) as standin:
            data = root / f"floor-{db}-{users}-{time.monotonic_ns()}"
            data.mkdir(parents=True)
            database = (
                made[0].replace("postgresql+asyncpg://", "postgresql://")
                if made
                else str(data / "floor.sqlite3")
            )
            env = bare_env()
            argv = [sys.executable, str(FLOOR_BOT), TOKEN, standin.base_url]
            argv += [standin.base_file_url, database, str(data / "evidence")]
            async with bot_process(argv, env, data / "floor.log", standin) as process:
                people = [standin.user(FIRST_USER + i, f"用户{i}") for i in range(users)]
                return await measure(standin, process, "floor", people, "echo", None)
    finally:
        if made is not None:
            await drop_postgres_database(made[1])


async def run_kexie(
    users: int, root: Path, db: str, profile: Path | None, code: Path = REPO
) -> Run:
    """``kexie run`` of the code tree ``code`` in its own process (as shipped, the console server
    off), N reporters of N associations, on a fresh SQLite or PostgreSQL database."""
    made = await postgres_database() if db == "postgres" else None
    if db == "postgres" and made is None:
        raise SystemExit(
            "PostgreSQL: KEXIE_TEST_POSTGRES_URL is unset (source scripts/postgres.sh)"
        )
    try:
        async with StandIn(TOKEN) as standin:
            data = root / f"kexie-{db}-{users}-{time.monotonic_ns()}"
            kexie = await seeded(Kexie(standin, data, made[0] if made else None))
            env = kexie.env
            # The real clock (no test clock shim), the worktree's code, no console server (its
            # port may be taken by a test running beside; it serves nothing here).
            env.pop("KEXIE_TEST_NOW", None)
            env["PYTHONPATH"] = str(code)
            env["KEXIE_WEB_LISTEN"] = "off"
            if CONCURRENCY is not None:
                env["KEXIE_CONCURRENCY"] = str(CONCURRENCY)
            argv = [str(Path(sys.executable).parent / "kexie"), "run"]
            try:
                async with bot_process(argv, env, data / "kexie.log", standin) as process:
                    # One association each (similar names on one day in one association would
                    # meet the duplicate check, another path); joining is set-up, not measured.
                    orgs = [await kexie.org(f"测试科协{k}") for k in range(users)]
                    people: list[FakeUser] = []
                    for start in range(0, users, 20):
                        people += await asyncio.gather(
                            *(
                                kexie.member(
                                    FIRST_USER + i, "reporter", org=orgs[i], first_name=f"用户{i}"
                                )
                                for i in range(start, min(users, start + 20))
                            )
                        )
                    return await measure(standin, process, "kexie", people, "kexie", profile)
            finally:
                await kexie.db.dispose()
    finally:
        if made is not None:
            await drop_postgres_database(made[1])


def per_update_ms(run: Run) -> float:
    """The bot process's CPU per update, in milliseconds."""
    assert run.cpu is not None
    return run.cpu / run.updates * 1000


def outside_loop_ms(run: Run) -> float:
    """The bot process's CPU per update outside its event loop's thread (database connection
    threads, evidence files, the thread pool), in milliseconds."""
    assert run.cpu is not None and run.cpu_loop is not None
    # The two readings are a moment apart: a thread-less bot may come out a tick below zero.
    return max(0.0, run.cpu - run.cpu_loop) / run.updates * 1000


def report(db: str, pairs: list[tuple[Run, Run]], floors: list[Run]) -> None:
    """The figures and the targets of one database (``--per-step``: its CPU by step only,
    printed by :func:`measure_per_step`; a lockstep walk has no latencies and no targets);
    ``floors``: the floor bot's runs, one per repeat, when it ran (``--floor``)."""
    if PER_STEP:
        return
    kx = [k for k, _ in pairs]
    ec = [e for _, e in pairs]
    n = kx[0].users
    print(
        f"{DB_NAMES[db]}: N = {n} users, {n * UPDATES_PER_USER} updates per bot,"
        f" {len(pairs)} repeat(s), each bot in its own process"
    )
    print(
        f"  throughput  kexie {spread([r.throughput for r in kx], '{:.1f}')} updates/s"
        f"   echo {spread([r.throughput for r in ec], '{:.1f}')} updates/s"
        f"   ratio {spread([k.throughput / e.throughput for k, e in pairs])}"
    )
    for p in (50, 95, 99):
        print(
            f"  p{p} latency  kexie {spread([r.pct(p) for r in kx], '{:.3f}')} s"
            f"   echo {spread([r.pct(p) for r in ec], '{:.3f}')} s"
            f"   ratio {spread([k.pct(p) / e.pct(p) for k, e in pairs], '{:.1f}')}"
        )
    cpu = [per_update_ms(k) / per_update_ms(e) for k, e in pairs]
    print(
        f"  bot process CPU per update  kexie {spread([per_update_ms(r) for r in kx])} ms"
        f"   echo {spread([per_update_ms(r) for r in ec])} ms   ratio {spread(cpu)}"
    )
    print(
        f"    of which outside the event loop's thread (database connection threads, files)"
        f"  kexie {spread([outside_loop_ms(r) for r in kx])} ms"
        f"   echo {spread([outside_loop_ms(r) for r in ec])} ms"
    )
    if floors:
        runs = list(zip(kx, ec, floors, strict=True))
        print(
            f"  floor bot (only the work the guarantees demand) CPU per update"
            f" {spread([per_update_ms(f) for f in floors])} ms"
            f"   floor / echo {spread([per_update_ms(f) / per_update_ms(e) for _, e, f in runs])}"
            f"   kexie / floor {spread([per_update_ms(k) / per_update_ms(f) for k, _, f in runs])}"
            f"   (floor throughput {spread([f.throughput for f in floors], '{:.1f}')} updates/s)"
        )
    print(
        f"  Bot API calls per update (without getUpdates): kexie "
        f"{spread([r.api_calls / r.updates for r in kx])}   echo "
        f"{spread([r.api_calls / r.updates for r in ec])};  replies per update (kexie): "
        f"{spread([sum(r.methods[m] for m in REPLY_METHODS) / r.updates for r in kx])}"
    )
    throughput = [k.throughput / e.throughput for k, e in pairs]
    p95 = [k.pct(95) / e.pct(95) for k, e in pairs]
    verdicts = (
        (f"throughput >= {TARGET_THROUGHPUT} x echo", throughput, True, TARGET_THROUGHPUT),
        (f"bot CPU per update <= {TARGET_CPU:g} x echo", cpu, False, TARGET_CPU),
        (f"p95 <= {TARGET_P95} x echo", p95, False, TARGET_P95),
    )
    for what, values, at_least, bound in verdicts:
        median = statistics.median(values)
        met = median >= bound if at_least else median <= bound
        print(f"  target ({DB_NAMES[db]}) {what}: {'met' if met else 'NOT met'} ({spread(values)})")
    print()


def compare(db: str, runs: list[Run], base: list[Run], path: Path) -> None:
    """This tree's kexie against another tree's, measured in the same repeats."""
    print(f"{DB_NAMES[db]}: this tree against {path} (same repeats, same echo runs)")
    ratios = [per_update_ms(r) / per_update_ms(b) for r, b in zip(runs, base, strict=True)]
    print(
        f"  CPU per update  this {spread([per_update_ms(r) for r in runs])} ms"
        f"   that {spread([per_update_ms(r) for r in base])} ms"
        f"   ratio this/that {spread(ratios)}"
    )
    print(
        f"  throughput  this {spread([r.throughput for r in runs], '{:.1f}')}"
        f"   that {spread([b.throughput for b in base], '{:.1f}')} updates/s;"
        f"  p95 this {spread([r.pct(95) for r in runs], '{:.3f}')}"
        f"   that {spread([b.pct(95) for b in base], '{:.3f}')} s"
    )
    print()


async def main_async(
    users: int,
    repeats: int,
    dbs: list[str],
    profile: Path | None,
    other: Path | None = None,
    floor: bool = False,
) -> None:
    results: dict[str, list[tuple[Run, Run]]] = {db: [] for db in dbs}
    others: dict[str, list[Run]] = {db: [] for db in dbs}
    floors: dict[str, list[Run]] = {db: [] for db in dbs}
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kexie-bench-") as tmp:
        root = Path(tmp)
        for repeat in range(repeats):
            for db in dbs:

                def where(bot: str, db: str = db, repeat: int = repeat) -> Path | None:
                    return profile / f"{bot}-{db}.txt" if profile and repeat == 0 else None

                # Interleaved: which bot runs first alternates, so drift on a shared machine
                # is spread over both (and over the other tree's kexie, with --compare).
                if repeat % 2 == 0:
                    echo = await run_echo(users, root / "echo", where("echo"))
                    kx = await run_kexie(users, root, db, where("kexie"))
                    if other is not None:
                        others[db].append(await run_kexie(users, root, db, None, other))
                    if floor:
                        floors[db].append(await run_floor(users, root, db))
                else:
                    if floor:
                        floors[db].append(await run_floor(users, root, db))
                    if other is not None:
                        others[db].append(await run_kexie(users, root, db, None, other))
                    kx = await run_kexie(users, root, db, where("kexie"))
                    echo = await run_echo(users, root / "echo", where("echo"))
                results[db].append((kx, echo))
                if other is not None:
                    that = others[db][-1]
                    print(
                        f"repeat {repeat + 1}, {DB_NAMES[db]}: kexie of {other}"
                        f" {that.throughput:.1f}/s p95 {that.pct(95):.3f}s"
                        f" cpu {per_update_ms(that):.2f} ms/update",
                        flush=True,
                    )
                if floor:
                    low = floors[db][-1]
                    print(
                        f"repeat {repeat + 1}, {DB_NAMES[db]}: floor {low.throughput:.1f}/s"
                        f" cpu {per_update_ms(low):.2f} ms/update",
                        flush=True,
                    )
                print(
                    f"repeat {repeat + 1}, {DB_NAMES[db]}: kexie {kx.throughput:.1f}/s"
                    f" p95 {kx.pct(95):.3f}s cpu {per_update_ms(kx):.2f} ms/update;"
                    f" echo {echo.throughput:.1f}/s p95 {echo.pct(95):.3f}s"
                    f" cpu {per_update_ms(echo):.2f} ms/update",
                    flush=True,
                )
    print()
    for db in dbs:
        report(db, results[db], floors[db])
        if other is not None:
            compare(db, [k for k, _ in results[db]], others[db], other)
    if all(SYSTEM_SHARE.values()):
        print(
            "share of the bots' CPU spent in the kernel (all runs): "
            + "   ".join(
                f"{bot} {spread(shares, '{:.0%}')}" for bot, shares in SYSTEM_SHARE.items()
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100, help="N (default 100)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats (default 3)")
    parser.add_argument(
        "--db",
        nargs="*",
        choices=sorted(DB_NAMES),
        help="databases (default: sqlite, and postgres when KEXIE_TEST_POSTGRES_URL is set)",
    )
    parser.add_argument(
        "--profile", type=Path, help="py-spy each bot in the first repeat; files into this dir"
    )
    parser.add_argument(
        "--per-step",
        action="store_true",
        help="diagnostic: a lockstep walk (all users step 1, then step 2...) instead of the"
        " measured one; CPU per update by step (latency figures then mean nothing)",
    )
    parser.add_argument("--concurrency", type=int, help="diagnostic: KEXIE_CONCURRENCY for kexie")
    parser.add_argument(
        "--compare",
        type=Path,
        help="another kexie code tree (a git worktree of the commit before a change): its kexie"
        " runs in the same repeats, and its CPU per update is set against this tree's",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also run benchmarks/floor_bot.py (only the work kexie's guarantees demand) in the"
        " same repeats, and set kexie's and echo's CPU per update against it",
    )
    args = parser.parse_args()
    global PER_STEP, CONCURRENCY
    PER_STEP = args.per_step
    CONCURRENCY = args.concurrency
    dbs = args.db or ["sqlite"] + (
        ["postgres"] if os.environ.get("KEXIE_TEST_POSTGRES_URL") else []
    )
    print(
        f"each bot in its own process; N = {args.users}; {args.repeats} repeat(s);"
        f" databases: {', '.join(DB_NAMES[d] for d in dbs)}; {os.cpu_count()} CPUs;"
        f" load average at start {os.getloadavg()[0]:.2f}"
        + ("; PROFILED (py-spy), figures slowed" if args.profile else "")
        + (f"; KEXIE_CONCURRENCY={args.concurrency} (diagnostic)" if args.concurrency else ""),
        flush=True,
    )
    asyncio.run(main_async(args.users, args.repeats, dbs, args.profile, args.compare, args.floor))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
