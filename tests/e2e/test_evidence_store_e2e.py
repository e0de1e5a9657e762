"""End-to-end over both evidence stores: a report with photos is submitted through the real bot,
its files land in the store (a local directory, or a bucket of moto's S3 server on loopback),
and both ``kexie export`` and the chat's /export put them in the zip."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from storage.evidence import open_evidence_store
from storage.models import Activity, Evidence
from tests.harness import CliResult, Kexie
from tests.journeys import reporter, submit_report_with_album
from tests.s3_server import S3Server, moto_s3


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with moto_s3() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
async def installation(
    request: pytest.FixtureRequest, kexie_idle: Kexie
) -> AsyncIterator[tuple[Kexie, dict[str, str], str | None]]:
    """A running bot whose evidence store is the data dir's folder or an S3 bucket; with the
    environment a ``kexie`` process needs for the same store, and the bucket."""
    env: dict[str, str] = {}
    bucket = None
    if request.param == "s3":
        server: S3Server = request.getfixturevalue("s3")
        bucket = server.bucket()
        overrides = server.settings(bucket)
        overrides["s3_secret"] = SecretStr(overrides["s3_secret"])
        kexie_idle.settings = kexie_idle.settings.model_copy(update=overrides)
        env = server.env(bucket)
    await kexie_idle.start()
    yield kexie_idle, env, bucket
    await kexie_idle.stop()


async def cli(kexie: Kexie, env: dict[str, str], *args: str) -> CliResult:
    """The real ``kexie`` console script, pointed at this installation and its store."""
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "kexie"),
        *args,
        env={**kexie.env, **env},
        cwd=kexie.data_dir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return CliResult(proc.returncode, out.decode(), err.decode())


def evidence_in(zip_bytes: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        assert zf.testzip() is None
        return sorted(
            zf.read(n) for n in zf.namelist() if n.startswith("佐证材料/") and not n.endswith("/")
        )


async def test_report_evidence_is_stored_and_exported(
    installation: tuple[Kexie, dict[str, str], str | None], s3: S3Server, tmp_path: Path
) -> None:
    kexie, env, bucket = installation
    user = await reporter(kexie, 6001)
    await submit_report_with_album(user, "园区技术交流会")
    async with kexie.session() as session:
        rows = (await session.scalars(select(Evidence))).all()
        activity = await session.scalar(select(Activity))
    assert activity is not None and len(rows) == 3  # two photos and a sign-in sheet
    store = open_evidence_store(kexie.settings)
    stored = sorted(store.open(row.sha256) for row in rows)
    if bucket is not None:
        assert s3.keys(bucket) == {
            f"evidence/{r.sha256[:2]}/{r.sha256[2:4]}/{r.sha256}": r.size for r in rows
        }
        assert not kexie.settings.evidence_dir.exists()  # nothing on this machine's disk
    else:
        assert all(kexie.settings.evidence_dir.joinpath(r.sha256[:2]).is_dir() for r in rows)

    year = str(kexie.settings.years.year_of(activity.activity_date))
    out = tmp_path / "export"
    result = await cli(kexie, env, "export", "1-3", "--year", year, "--district", "锦江区",
                       "--out", str(out))  # fmt: skip
    assert result.rc == 0, result.err
    assert "佐证文件 3 个" in result.out and "找不到" not in result.out
    (bundle,) = [p for p in out.iterdir() if p.suffix == ".zip"]
    assert evidence_in(bundle.read_bytes()) == stored

    admin = await kexie.member(6002, "district_admin", district="锦江区")
    await admin.send("/export")
    await admin.expect_any("请选择要导出的附件")
    await admin.press("附件1-3")
    await admin.expect_any("请选择年度")
    await admin.send(year)
    done = await admin.expect_any("已导出", timeout=60)
    assert "活动 1 项" in done.text
    (sent,) = [m for m in admin.messages if (m.file_name or "").endswith(".zip")]
    assert evidence_in(sent.file_bytes or b"") == stored
    assert os.environ.get("KEXIE_EVIDENCE_URL") is None  # the test set nothing globally
