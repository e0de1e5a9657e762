"""Benchmark: 10 000 due reminders through the Bot API stand-in with Telegram's limits enforced.

10 000 reporters (in 100 associations) each planned an activity yesterday; at 10:00 today every
one of them is due the morning-after question (``plan_ask``). Measured in one run:

* ``baseline``  — raw sendMessage throughput against the same stand-in with its limits off
  (sequential, no pacing): what the HTTP path could do, so the sender is known not to be the
  bottleneck;
* ``enqueue``   — one scheduler tick: load the snapshot, apply the rules, render 10 000
  messages, insert them into the outbox (insert-or-ignore);
* ``re-tick``   — a second tick at the same moment (every key already queued: nothing inserted);
* ``drain``     — the sender empties the outbox as shipped (no pacing of its own, through a bot
  whose broadcast lane, ``bot/lanes.py``, keeps to ``KEXIE_BROADCAST_RATE``) with the stand-in
  enforcing 30 msg/s overall and 1 msg/s per chat; the figure is messages/s achieved against
  the configured rate (target ≥ 0.95), and the count of 429s the stand-in produced and the
  sender handled (must be 0 unhandled: every row ends up sent).

With ``--repeats`` the whole run is repeated on a fresh database and the drain ratio is printed
as the median with its spread (min–max).

Run::

    .venv/bin/python benchmarks/reminders.py                          # 10 000 reminders (~7 min)
    .venv/bin/python benchmarks/reminders.py --count 1000 --repeats 3 # ratio with its spread
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select
from telegram import Bot
from telegram.ext import ExtBot

from bot.lanes import LaneRateLimiter
from channels.telegram.messenger import TelegramMessenger
from core.enums import Channel, OrgKind, Role
from core.settings import load_settings
from scheduler import outbox
from scheduler.clock import ShiftedClock
from scheduler.jobs import Scheduler
from storage.db import Database
from storage.migrate import upgrade
from storage.models import ChannelAccount, Member, Membership, OutboxMessage, Plan
from storage.registry import create_organisation, district_by_name, seed_districts
from tests.standin import DEFAULT_TOKEN, StandIn

TZ = ZoneInfo("Asia/Shanghai")
CEILING = 30.0  # Telegram's broadcast limit, messages per second
ORGS = 100
FIRST_USER = 10_000_000


async def seed(db: Database, count: int, yesterday: date) -> None:
    """Associations, reporters and one plan per reporter for yesterday."""
    async with db.session() as session:
        await seed_districts(session)
        district = await district_by_name(session, "锦江区")
        assert district is not None
        org_ids = []
        for n in range(ORGS):
            org = await create_organisation(
                session, district, OrgKind.ENTERPRISE, f"测试科协{n:03d}"
            )
            org_ids.append(org.id)
        await session.execute(insert(Member), [{"first_name": f"报送员{i}"} for i in range(count)])
        ids = (await session.scalars(select(Member.id).order_by(Member.id))).all()
        await session.execute(
            insert(ChannelAccount),
            [
                {"member_id": m, "channel": Channel.TELEGRAM, "external_id": str(FIRST_USER + i)}
                for i, m in enumerate(ids)
            ],
        )
        await session.execute(
            insert(Membership),
            [
                {"member_id": m, "role": Role.REPORTER, "org_id": org_ids[i % ORGS]}
                for i, m in enumerate(ids)
            ],
        )
        await session.execute(
            insert(Plan),
            [
                {
                    "org_id": org_ids[i % ORGS],
                    "member_id": m,
                    "name": f"技术交流会{i}",
                    "planned_date": yesterday,
                }
                for i, m in enumerate(ids)
            ],
        )


async def baseline(standin: StandIn, bot: Bot, n: int) -> float:
    """Raw sequential sendMessage rate with the stand-in's limits off."""
    standin.enforce_limits = False
    chat = standin.user(FIRST_USER - 1).user_id
    started = time.perf_counter()
    for i in range(n):
        await bot.send_message(chat, f"baseline {i}")
    return n / (time.perf_counter() - started)


async def run(count: int) -> dict[str, object]:
    work = Path(tempfile.mkdtemp(prefix="kexie-bench-"))
    url = f"sqlite+aiosqlite:///{work / 'kexie.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = load_settings(data_dir=work, database_url=url)
    db = Database(url)
    today = date(2026, 11, 20)
    await seed(db, count, today - timedelta(days=1))
    clock = ShiftedClock(datetime(2026, 11, 20, 10, 0, tzinfo=TZ))
    scheduler = Scheduler(db, settings, clock=clock)
    results: dict[str, object] = {"reminders": count}
    async with StandIn() as standin:
        for i in range(count):
            standin.user(FIRST_USER + i)
        async with Bot(DEFAULT_TOKEN, base_url=standin.base_url) as bot:
            results["baseline_msgs_per_s"] = round(await baseline(standin, bot, 300), 1)

            started = time.perf_counter()
            tick = await scheduler.tick()
            results["enqueue_s"] = round(time.perf_counter() - started, 2)
            results["enqueued"] = tick.enqueued
            started = time.perf_counter()
            again = await scheduler.tick()
            results["retick_s"] = round(time.perf_counter() - started, 2)
            results["retick_enqueued"] = again.enqueued

            standin.enforce_limits = True
            rate = settings.broadcast_rate
            lanes = LaneRateLimiter(rate)
            shipped = ExtBot(DEFAULT_TOKEN, base_url=standin.base_url, rate_limiter=lanes)
            await shipped.initialize()
            sender = scheduler.sender({Channel.TELEGRAM: TelegramMessenger(shipped)}, rate=None)
            before = len(standin.calls_of("sendMessage"))
            started = time.perf_counter()
            stats = await sender.drain(wait_retries=30)
            elapsed = time.perf_counter() - started
            calls = len(standin.calls_of("sendMessage")) - before
            results["drain_s"] = round(elapsed, 1)
            results["sent"] = stats.sent
            results["api_calls"] = calls
            results["msgs_per_s"] = round(stats.sent / elapsed, 2)
            results["broadcast_rate"] = rate
            results["ratio_to_rate"] = round(stats.sent / elapsed / rate, 3)
            results["ratio_to_30_ceiling"] = round(stats.sent / elapsed / CEILING, 3)
            await shipped.shutdown()
            results["standin_429s"] = standin.rate_limited + len(standin.injected)
            results["429s_handled_by_sender"] = stats.retried_429
            async with db.session() as session:
                unsent = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status != outbox.SENT)
                )
            results["rows_not_sent"] = int(unsent or 0)
            results["unhandled_429s"] = results["standin_429s"] - stats.retried_429  # type: ignore[operator]
    await db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000, help="due reminders (default 10 000)")
    parser.add_argument("--repeats", type=int, default=1, help="runs on fresh databases")
    args = parser.parse_args()
    ok = True
    ratios: list[float] = []
    for n in range(args.repeats):
        results = asyncio.run(run(args.count))
        print(f"repeat {n + 1}:", json.dumps(results, ensure_ascii=False, indent=2))
        ok = ok and results["rows_not_sent"] == 0 and results["unhandled_429s"] == 0
        ratios.append(float(results["ratio_to_rate"]))  # type: ignore[arg-type]
    median = statistics.median(ratios)
    print(
        f"drain / KEXIE_BROADCAST_RATE: median {median:.3f} "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f}, n={len(ratios)}); "
        f"target >= 0.95: {'met' if median >= 0.95 else 'NOT met'}"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
