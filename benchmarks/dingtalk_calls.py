"""Benchmark: DingTalk API calls per report and per reminder (issue 22).

DingTalk's free edition meters API calls (about 10 000 a month per organisation). This runs the
real application on DingTalk against the stand-in (``tests/dingtalk_standin``) and counts, by
endpoint, the calls each of these costs:

* a whole report by a reporter (/report, the seven answers, two photos and a PDF, 完成, 提交);
* its delivery to one district admin (the 通过/退回 card, then the evidence);
* one reminder (a 催报 nudge to one reporter).

The session webhook (a reply while the person's last message is fresh) is printed apart: it is
not a metered API call. Access tokens are fetched once per two hours and printed apart too.

Run::

    .venv/bin/python benchmarks/dingtalk_calls.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.dingtalk_harness import DingTalkKexie
from tests.dingtalk_standin.server import DingTalkStandIn
from tests.harness import seeded
from tests.journeys import local_today, run_scheduler_at, submit_report_with_photos_and_pdf

FREE = ("webhook", "accessToken", "connectionsOpen")  # not metered, or once per two hours


def _line(what: str, calls: Counter[str]) -> str:
    metered = {k: v for k, v in sorted(calls.items()) if k not in FREE and v}
    free = {k: v for k, v in sorted(calls.items()) if k in FREE and v}
    total = sum(metered.values())
    return f"{what:<34} {total:>3} metered calls  {metered}   besides: {free}"


async def _counted(ding: DingTalkStandIn, work: asyncio.Future[object] | object) -> Counter[str]:
    before = Counter(ding.calls)
    await work  # type: ignore[misc]
    await asyncio.sleep(0.3)  # replies still in flight after the last one awaited
    return Counter(ding.calls) - before


async def main() -> None:
    """Print the calls of each measured journey."""
    with tempfile.TemporaryDirectory() as tmp:
        async with DingTalkStandIn() as ding:
            kexie = await seeded(DingTalkKexie(ding, Path(tmp) / "kexie"))
            await kexie.start()
            try:
                org = await kexie.org("锦江光电科技科协", district="锦江区")
                quiet_org = await kexie.org("锦江安静材料科协", district="锦江区")
                joined = await _counted(ding, kexie.member(1101, "reporter", org=org))
                reporter = kexie.user(1101)
                quiet = await kexie.member(1102, "reporter", org=quiet_org)
                admin = await kexie.member(1201, "district_admin", district="锦江区")
                report = await _counted(
                    ding, submit_report_with_photos_and_pdf(reporter, "光电产业技术交流会")
                )
                morning = local_today(kexie) + timedelta(days=1, hours=9)
                delivery = await _counted(ding, run_scheduler_at(kexie, morning))
                await admin.send("/chase")
                await admin.expect_any("锦江区 · 催报")
                await admin.press("提醒 1")
                await admin.expect_any("已提醒")
                nudge = await _counted(
                    ding, run_scheduler_at(kexie, morning + timedelta(minutes=30))
                )
                await quiet.expect_any("锦江区科协提醒")
            finally:
                await kexie.stop()
                await kexie.db.dispose()
    print("DingTalk API calls (stand-in, counted by endpoint)")
    print(_line("joining with an invite token", joined))
    print(_line("a whole report (11 messages/presses)", report))
    print(_line("its delivery to one district admin", delivery))
    print(_line("one reminder (a 催报 nudge)", nudge))


if __name__ == "__main__":
    asyncio.run(main())
