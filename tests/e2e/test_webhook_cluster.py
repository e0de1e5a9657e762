"""Acceptance test of issue 11: two ``kexie run --webhook`` processes on one PostgreSQL behind
nginx (round robin, no chat affinity), the stand-in delivering updates to nginx.

30 reporters answer the whole report flow at once (an album of two photos and a sign-in sheet
each); in the middle one instance is SIGKILLed and started again 5 s later. Afterwards every
report is submitted with every answer, no user was asked a question twice beyond the one in
flight at the kill, the district admin received each delivery card exactly once, both
instances' /metrics parse, and the exported evidence zip holds every file. A request with a
wrong or missing secret is refused with 403 through nginx and changes nothing.

Evidence goes to an S3 bucket on moto's server (loopback), which both instances share. Needs
PostgreSQL (``KEXIE_TEST_POSTGRES_URL``) and nginx (``scripts/nginx.sh``);
skipped with a notice otherwise.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import zipfile
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from core.enums import ActivityStatus
from storage.models import Activity, ChannelAccount, Evidence, OutboxMessage
from tests.harness import Kexie, drop_postgres_database, postgres_database, seeded
from tests.ports import free_port
from tests.s3_server import S3Server, moto_s3
from tests.standin import FakeUser, StandIn, make_jpeg
from tests.steps import step_label

SECRET = "cluster-secret_0123456789"
USERS = 30
KILL_AFTER_DELIVERIES = 120  # of about 12 per user: most users are mid-flow by then
STEP = 60.0  # generous per-answer wait: two cores shared by many processes
QUESTIONS = [f"第{n}步" for n in range(1, 8)]


def _nginx() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )


@dataclass
class Cluster:
    """Two kexie processes and nginx in front of them."""

    kexie: Kexie
    front: str  # nginx's base URL
    ports: list[int]
    env: dict[str, str]
    logs: Path
    s3: S3Server
    bucket: str
    procs: list[asyncio.subprocess.Process | None] = field(default_factory=list)

    async def start(self, n: int) -> None:
        kexie = Path(sys.executable).parent / "kexie"
        env = dict(self.env, KEXIE_WEBHOOK_LISTEN=f"127.0.0.1:{self.ports[n]}")
        log = open(self.logs / f"instance{n}.log", "ab")  # noqa: SIM115 - the process owns it
        proc = await asyncio.create_subprocess_exec(
            str(kexie), "run", "--webhook", env=env, cwd=self.kexie.data_dir, stdout=log, stderr=log
        )
        log.close()
        if n < len(self.procs):
            self.procs[n] = proc
        else:
            self.procs.append(proc)
        await self.until_healthy(n)

    async def until_healthy(self, n: int) -> None:
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                proc = self.procs[n]
                assert proc is not None and proc.returncode is None, self.log_tail(n)
                try:
                    answer = await client.get(f"http://127.0.0.1:{self.ports[n]}/healthz")
                    if answer.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"instance {n} never became healthy\n{self.log_tail(n)}")

    def kill(self, n: int) -> None:
        proc = self.procs[n]
        assert proc is not None
        proc.send_signal(signal.SIGKILL)

    def log_tail(self, n: int) -> str:
        path = self.logs / f"instance{n}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    async def stop(self) -> None:
        for proc in self.procs:
            if proc is not None and proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            if proc is not None:
                try:
                    await asyncio.wait_for(proc.wait(), 15)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


def _nginx_conf(tmp: Path, listen: int, upstreams: list[int]) -> Path:
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=0;" for p in upstreams)
    temp = "\n".join(
        f"    {kind}_temp_path {tmp}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"""{user}worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
{temp}
    upstream kexie {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{listen};
        location / {{
            proxy_pass http://kexie;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_read_timeout 180s;
            # A refused connection (a killed instance) goes to the other one; a request
            # already sent is not repeated by nginx: the Bot API redelivers it.
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""
    )
    return conf


@pytest.fixture
async def cluster(standin: StandIn, tmp_path: Path) -> AsyncIterator[Cluster]:
    nginx = _nginx()
    if nginx is None:
        pytest.skip("nginx not installed (scripts/nginx.sh installs it as root)")
    made = await postgres_database()
    if made is None:
        pytest.skip("PostgreSQL not available (KEXIE_TEST_POSTGRES_URL unset)")
    url, name = made
    kexie = await seeded(Kexie(standin, tmp_path / "kexie", url))
    front_port, ports = free_port(), [free_port(), free_port()]
    conf = _nginx_conf(tmp_path, front_port, ports)
    front = f"http://127.0.0.1:{front_port}"
    env = dict(
        kexie.env,
        KEXIE_WEBHOOK_URL=f"{front}/telegram",
        KEXIE_WEBHOOK_SECRET=SECRET,
        KEXIE_WEBHOOK_MAX_CONNECTIONS="20",
        KEXIE_CONCURRENCY="16",
        KEXIE_QUIET_HOURS="00:00-00:00",  # deliveries at any hour the test runs
    )
    proxy = await asyncio.create_subprocess_exec(
        nginx, "-c", str(conf), "-p", str(tmp_path), stderr=asyncio.subprocess.PIPE
    )
    with moto_s3() as s3:
        bucket = s3.bucket()
        env.update(s3.env(bucket))
        made_cluster = Cluster(kexie, front, ports, env, tmp_path, s3, bucket)
        try:
            await made_cluster.start(0)
            await made_cluster.start(1)
            yield made_cluster
        finally:
            await made_cluster.stop()
            proxy.send_signal(signal.SIGQUIT)
            await proxy.wait()
            await kexie.db.dispose()
            await drop_postgres_database(name)


async def _report(user: FakeUser, name: str, restarted: asyncio.Event) -> None:
    """The whole flow; the final press waits until the killed instance is back, so every
    delivery card is claimed after the kill."""
    await user.send("/report")
    await user.expect_any(step_label("activity_date"), STEP)
    await user.press("昨天")
    await user.expect_any(step_label("name"), STEP)
    await user.send(name)
    await user.expect_any(step_label("content"), STEP)
    await user.send("面向园区企业的技术交流。")
    await user.expect_any(step_label("role"), STEP)
    await user.press("主办")
    await user.expect_any(step_label("headcount"), STEP)
    await user.send("40人")
    await user.expect_any(step_label("outcome"), STEP)
    await user.send("8家企业提出合作需求。")
    await user.expect_any(step_label("evidence"), STEP)
    await user.send_album([make_jpeg(seed=user.user_id * 3), make_jpeg(seed=user.user_id * 3 + 1)])
    await user.expect_any("已收到 2 个文件", STEP)
    await user.send_document(file_name="签到表.pdf")
    await user.expect_any("现有佐证材料 3 个", STEP)
    await user.press("完成")
    await user.expect_any("请核对报送内容", STEP)
    await restarted.wait()
    await user.press("提交")
    await user.expect_any("已提交", STEP)


async def _kill_and_restart(cluster: Cluster, start: int, restarted: asyncio.Event) -> None:
    standin = cluster.kexie.standin
    while len(standin.delivered_ok()) - start < KILL_AFTER_DELIVERIES:
        await asyncio.sleep(0.05)
    cluster.kill(0)
    killed = cluster.procs[0]
    assert killed is not None and await killed.wait() == -signal.SIGKILL
    await asyncio.sleep(5)
    await cluster.start(0)
    restarted.set()


async def test_two_instances_behind_nginx_survive_a_kill(
    cluster: Cluster, standin: StandIn
) -> None:
    kexie = cluster.kexie
    # One association each: reports of one association and day with alike names ask first.
    orgs = [await kexie.org(f"蓉城第{n}电子科技有限公司科协") for n in range(USERS)]
    admin = await kexie.member(4000, "district_admin", district="锦江区", first_name="赵主任")
    users = [
        await kexie.member(5000 + n, "reporter", org=orgs[n], first_name=f"报送员{n}")
        for n in range(USERS)
    ]
    names = [f"第{n:02d}场产学研对接会" for n in range(USERS)]

    # A wrong or missing secret, through nginx: 403, and nothing happens.
    async with kexie.session() as session:
        accounts_before = await session.scalar(select(func.count()).select_from(ChannelAccount))
    stranger = {"message_id": 1, "date": 1700000000, "text": "/start"}
    stranger["chat"] = {"id": 6999, "type": "private", "first_name": "X"}
    stranger["from"] = {"id": 6999, "is_bot": False, "first_name": "X"}
    async with httpx.AsyncClient() as client:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "nope"}):
            answer = await client.post(
                f"{cluster.front}/telegram",
                json={"update_id": 10**9, "message": stranger},
                headers=headers,
            )
            assert answer.status_code == 403
    async with kexie.session() as session:
        accounts_after = await session.scalar(select(func.count()).select_from(ChannelAccount))
    assert accounts_after == accounts_before

    restarted = asyncio.Event()
    killer = asyncio.create_task(_kill_and_restart(cluster, len(standin.delivered_ok()), restarted))
    await asyncio.gather(
        *(_report(user, name, restarted) for user, name in zip(users, names, strict=True))
    )
    await killer

    # Every report submitted, with every answer and its three files.
    async with kexie.session() as session:
        activities = (await session.scalars(select(Activity))).all()
        files = await session.scalar(select(func.count()).select_from(Evidence))
    assert sorted(a.name for a in activities) == sorted(names)
    for activity in activities:
        assert activity.status == ActivityStatus.SUBMITTED
        assert activity.activity_date and activity.content and activity.role
        assert activity.headcount == 40 and activity.outcome
    assert files == 3 * USERS

    # No question asked twice, beyond the one in flight at the kill (at most one per user).
    for user in users:
        asked = Counter(q for m in user.messages for q in QUESTIONS if q in m.text)
        assert set(asked) == set(QUESTIONS), user
        assert sum(n - 1 for n in asked.values()) <= 1, (user, asked)

    # The district admin: each card exactly once (the tick runs every minute in each instance).
    async def cards() -> Counter[str]:
        return Counter(
            n for m in admin.messages if "新报送" in m.text for n in names if n in m.text
        )

    # Wait until the outbox holds nothing unsent (both senders idle), then count.
    for _ in range(3000):
        async with kexie.session() as session:
            unsent = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(["pending", "sending"]))
            )
        if unsent == 0 and len(await cards()) == USERS:
            break
        await asyncio.sleep(0.1)
    assert await cards() == Counter({n: 1 for n in names})

    # Both instances' metrics parse, and count what they did.
    async with httpx.AsyncClient() as client:
        for port in cluster.ports:
            scraped = await client.get(f"http://127.0.0.1:{port}/metrics")
            assert scraped.status_code == 200
            families = {f.name: f for f in text_string_to_metric_families(scraped.text)}
            assert "kexie_updates_handled" in families
            reports = families["kexie_reports_submitted"].samples[0].value
            assert reports == USERS

    # Every evidence file is in the bucket, and the export's evidence zip holds them.
    async with kexie.session() as session:
        hashes = set((await session.scalars(select(Evidence.sha256))).all())
    stored_keys = await asyncio.to_thread(cluster.s3.keys, cluster.bucket)
    assert hashes and hashes <= {key.rsplit("/", 1)[-1] for key in stored_keys}
    out = cluster.kexie.data_dir / "export"
    year = str(cluster.kexie.settings.years.year_of(activities[0].activity_date))
    exporter = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "kexie"),
        *("export", "all", "--year", year, "--district", "锦江区", "--out", str(out)),
        env=cluster.env,
        cwd=kexie.data_dir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(exporter.communicate(), 300)
    assert exporter.returncode == 0, err.decode()
    bundles = list(out.rglob("*.zip"))
    assert bundles, list(out.rglob("*"))
    with zipfile.ZipFile(bundles[0]) as bundle:
        stored = [i for i in bundle.infolist() if not i.is_dir()]
    assert len(stored) >= 3 * USERS
    assert not standin.dropped
    # A button pressed while its update waited for a redelivery may be too old to answer by
    # then (as on Telegram); the bot ignores that. Nothing else may have been refused.
    standin.allow_errors = True
    assert all("query is too old" in e.description for e in standin.errors), standin.errors
