"""The evidence stores: a local directory and S3-compatible object storage (moto's server on
loopback) answer the same protocol, with the same key layout, and exports stream from either."""

from __future__ import annotations

import asyncio
import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.cli_export import describe
from core.settings import SettingsError, load_settings
from exports.scope import Level, Scope
from exports.service import gather, write_exports
from storage.db import Database
from storage.evidence import (
    CHUNK,
    FILE_NAME_MAX,
    MIME_TYPE_MAX,
    UPLOAD_DEADLINE,
    UPLOAD_WORKERS,
    EvidenceMissing,
    EvidenceStorage,
    EvidenceStore,
    EvidenceUnavailable,
    Stored,
    fit_file_name,
    open_evidence_store,
    put_evidence,
)
from storage.evidence_s3 import S3EvidenceStore, make_client
from storage.models import Evidence
from tests.export_data import YEAR, seed_export_data
from tests.s3_server import S3Server, moto_s3, refusing_endpoint, silent_endpoint
from tests.standin import make_jpeg

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with moto_s3() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EvidenceStorage:
    """Each test runs against both stores, made by the one factory from settings."""
    if request.param == "local":
        return open_evidence_store(load_settings(data_dir=tmp_path))
    server: S3Server = request.getfixturevalue("s3")
    return open_evidence_store(load_settings(data_dir=tmp_path, **server.settings(server.bucket())))


def layout_key(store: EvidenceStorage, sha: str) -> str:
    """Where the bytes of ``sha`` are, relative to the store's root (directory or prefix)."""
    if isinstance(store, EvidenceStore):
        return store.path_for(sha).relative_to(store.root).as_posix()
    assert isinstance(store, S3EvidenceStore)
    key = store.object_key(sha)
    assert key.startswith("evidence/")
    return key.removeprefix("evidence/")


def test_put_is_content_addressed_in_the_same_layout(store: EvidenceStorage) -> None:
    data = make_jpeg(seed=5)
    sha = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert layout_key(store, sha) == f"{sha[:2]}/{sha[2:4]}/{sha}"
    assert store.put(data) == sha  # a second copy is a no-op
    assert list(store.entries()) == [(sha, len(data))]
    assert store.size(sha) == len(data)
    assert store.open(sha) == data


def test_reads_are_streamed_in_bounded_chunks(store: EvidenceStorage) -> None:
    data = bytes(range(256)) * (3 * CHUNK // 256 + 7)  # three chunks and a bit
    sha = store.put(data)
    pieces = []
    with store.reader(sha) as stored:
        assert stored.size == len(data)
        while piece := stored.stream.read(CHUNK):
            assert len(piece) <= CHUNK
            pieces.append(piece)
    assert len(pieces) == 4 and b"".join(pieces) == data


def test_missing_evidence(store: EvidenceStorage) -> None:
    absent = hashlib.sha256(b"never stored").hexdigest()
    assert store.size(absent) is None
    with pytest.raises(EvidenceMissing), store.reader(absent):
        pass
    with pytest.raises(EvidenceMissing):
        store.open(absent)


def test_put_file_streams_and_matches_put(store: EvidenceStorage, tmp_path: Path) -> None:
    data = b"%PDF-1.4 sign-in sheet\n" * 50_000
    source = tmp_path / "签到表.pdf"
    source.write_bytes(data)
    sha = store.put_file(source)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.open(sha) == data
    assert store.put_file(source) == sha and len(list(store.entries())) == 1


def test_entries_list_only_evidence(store: EvidenceStorage, s3: S3Server) -> None:
    sha = store.put(b"evidence")
    if isinstance(store, EvidenceStore):
        (store.root / sha[:2] / sha[2:4] / ".incoming-x").write_bytes(b"half")
        (store.root / "README").write_bytes(b"not evidence")
    else:
        assert isinstance(store, S3EvidenceStore)
        client = s3.client()
        client.put_object(Bucket=store.bucket, Key="evidence/README", Body=b"x")
        client.put_object(Bucket=store.bucket, Key=f"other/{sha[:2]}/{sha[2:4]}/{sha}", Body=b"x")
    assert list(store.entries()) == [(sha, len(b"evidence"))]


def test_a_key_must_be_a_sha256(store: EvidenceStorage) -> None:
    with pytest.raises(ValueError):
        store.size("../../etc/passwd")


class Spy:
    """A store that records how exports read it, and refuses whole-file reads."""

    kind = "spy"

    def __init__(self, inner: EvidenceStorage) -> None:
        self.inner = inner
        self.largest_read = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def open(self, sha256: str) -> bytes:
        raise AssertionError("exports must stream evidence, not read it whole")

    @contextmanager
    def reader(self, sha256: str) -> Iterator[Stored]:
        spy = self

        class Counting(io.RawIOBase):
            def __init__(self, stream: IO[bytes]) -> None:
                self.stream = stream

            def readable(self) -> bool:
                return True

            def seekable(self) -> bool:
                return self.stream.seekable()

            def seek(self, offset: int, whence: int = 0) -> int:
                return self.stream.seek(offset, whence)

            def tell(self) -> int:
                return self.stream.tell()

            def read(self, size: int | None = -1) -> bytes:
                data = self.stream.read(-1 if size is None else size)
                spy.largest_read = max(spy.largest_read, len(data))
                return data

        with self.inner.reader(sha256) as stored:
            yield Stored(stored.size, Counting(stored.stream))  # type: ignore[arg-type]


async def test_export_streams_evidence_from_the_store(
    store: EvidenceStorage, db: Database, tmp_path: Path
) -> None:
    big = bytes(range(256)) * (5 * CHUNK // 256)  # a 5 MB sign-in scan among the photos
    async with db.session() as session:
        seeded = await seed_export_data(session, store)
        session.add(
            Evidence(
                activity_id=seeded.submitted[1],
                sha256=store.put(big),
                kind="document",
                file_name="扫描件.pdf",
                mime_type="application/pdf",
                size=len(big),
                position=2,
            )
        )
        await session.flush()
        data = await gather(
            session, Scope(Level.DISTRICT, YEAR, district_id=seeded.district_id), ("1-3",)
        )
    spy = Spy(store)
    result = write_exports(data, tmp_path / "out", spy, TZ)  # type: ignore[arg-type]
    assert result.missing == [] and result.evidence_files == 8
    assert 0 < spy.largest_read <= CHUNK  # never a whole 5 MB file at once
    bundle = next(p for p in result.files if p.suffix == ".zip")
    stored = {sha: store.open(sha) for sha, _ in store.entries()}
    with zipfile.ZipFile(bundle) as zf:
        members = [n for n in zf.namelist() if n.startswith("佐证材料/") and not n.endswith("/")]
        contents = [zf.read(n) for n in members]
    assert len(members) == 8
    assert all(c in stored.values() for c in contents)
    assert big in contents
    workbook = load_workbook(next(p for p in result.files if p.name.startswith("附件1-3")))
    assert len(workbook["明细"]._images) == 3  # one per activity with a photo, from the store


async def test_a_lost_object_is_reported_not_fatal(
    store: EvidenceStorage, db: Database, tmp_path: Path, s3: S3Server
) -> None:
    async with db.session() as session:
        seeded = await seed_export_data(session, store)
        data = await gather(
            session, Scope(Level.DISTRICT, YEAR, district_id=seeded.district_id), ("1-3",)
        )
    lost = data.activities[0].evidence[0].sha256
    if isinstance(store, EvidenceStore):
        store.path_for(lost).unlink()
    else:
        assert isinstance(store, S3EvidenceStore)
        s3.client().delete_object(Bucket=store.bucket, Key=store.object_key(lost))
    result = write_exports(data, tmp_path / "out", store, TZ)
    assert len(result.missing) == 1 and result.evidence_files == 6


# --- choosing the store ---------------------------------------------------------------------


def test_the_default_is_the_data_dirs_evidence_folder(tmp_path: Path) -> None:
    store = open_evidence_store(load_settings(data_dir=tmp_path))
    assert isinstance(store, EvidenceStore) and store.root == tmp_path / "evidence"
    other = open_evidence_store(load_settings(data_dir=tmp_path, evidence_url="file:///srv/ev"))
    assert isinstance(other, EvidenceStore) and other.root == Path("/srv/ev")


def test_an_s3_url_makes_one_client_per_configuration(tmp_path: Path, s3: S3Server) -> None:
    settings = load_settings(data_dir=tmp_path, **s3.settings("kexie-bucket", "a/b/"))
    store = open_evidence_store(settings)
    assert isinstance(store, S3EvidenceStore)
    assert (store.bucket, store.prefix) == ("kexie-bucket", "a/b")
    assert open_evidence_store(settings) is store
    assert "kexie-test-secret" not in store.describe()


def test_addressing_styles_for_minio_oss_and_aws(tmp_path: Path) -> None:
    """Path-style for MinIO; virtual-hosted (OSS's only style, AWS's preferred) otherwise. No
    request is made: a presigned URL shows how the client addresses the bucket."""
    sha = "ab" * 32
    oss = S3EvidenceStore.from_settings(
        load_settings(
            data_dir=tmp_path,
            evidence_url="s3://kexie-evidence/prod",
            s3_endpoint="https://oss-cn-chengdu.aliyuncs.com",
            s3_region="cn-chengdu",
            s3_key="k",
            s3_secret="s",
        )
    )
    url = oss.client.generate_presigned_url(
        "get_object", Params={"Bucket": oss.bucket, "Key": oss.object_key(sha)}
    )
    assert url.startswith(f"https://kexie-evidence.oss-cn-chengdu.aliyuncs.com/prod/ab/ab/{sha}?")
    minio = S3EvidenceStore.from_settings(
        load_settings(
            data_dir=tmp_path,
            evidence_url="s3://kexie-evidence",
            s3_endpoint="http://127.0.0.1:9000",
            s3_region="us-east-1",
            s3_key="k",
            s3_secret="s",
            s3_path_style=True,
        )
    )
    url = minio.client.generate_presigned_url(
        "get_object", Params={"Bucket": minio.bucket, "Key": minio.object_key(sha)}
    )
    assert url.startswith(f"http://127.0.0.1:9000/kexie-evidence/ab/ab/{sha}?")
    # Flexible checksums (boto3 ≥ 1.36) are off: OSS and older MinIO refuse them.
    assert minio.client.meta.config.request_checksum_calculation == "when_required"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"evidence_url": "ftp://host/evidence"}, "KEXIE_EVIDENCE_URL=ftp://host/evidence"),
        ({"evidence_url": "s3://"}, "KEXIE_EVIDENCE_URL=s3://"),
        ({"evidence_url": "s3://Bad_Bucket/x"}, "KEXIE_EVIDENCE_URL=s3://Bad_Bucket/x"),
        ({"evidence_url": "s3://bucket/../x"}, "KEXIE_EVIDENCE_URL=s3://bucket/../x"),
        ({"evidence_url": "file://relative/dir"}, "KEXIE_EVIDENCE_URL=file://relative/dir"),
        ({"s3_endpoint": "minio:9000"}, "KEXIE_S3_ENDPOINT"),
        ({"s3_key": "only-the-key"}, "KEXIE_S3_SECRET"),
        ({"s3_secret": "only-the-secret"}, "KEXIE_S3_SECRET"),
    ],
)
def test_bad_storage_settings_stop_with_one_line(
    tmp_path: Path, overrides: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(data_dir=tmp_path, **overrides)
    assert len(caught.value.problems) == 1
    assert named in caught.value.problems[0]
    assert "only-the-secret" not in caught.value.problems[0]


# --- a store that hangs, drops connections or refuses them (issue 19, item 2) -----------------


def test_object_store_calls_are_bounded(tmp_path: Path) -> None:
    """Each call gives up after a few seconds and one retry: a hung store cannot hold a sender
    (or a thread) for minutes."""
    settings = load_settings(
        data_dir=tmp_path, **S3Server("http://127.0.0.1:9").settings("kexie-b")
    )
    config = make_client(settings).meta.config
    assert config.connect_timeout <= 2 and config.read_timeout <= 5
    assert config.retries["total_max_attempts"] <= 2  # the first try included
    worst = config.retries["total_max_attempts"] * (config.connect_timeout + config.read_timeout)
    assert worst <= UPLOAD_DEADLINE <= 15


class Hanging:
    """A store whose every put blocks until released (a hung object store)."""

    kind = "s3"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = 0

    def put(self, data: bytes) -> str:
        self.started += 1
        self.release.wait(30)
        return hashlib.sha256(data).hexdigest()


async def test_uploads_wait_on_a_bounded_pool_of_their_own() -> None:
    """Seven uploads to a hung store each give up by the deadline (none waits behind the others
    for longer), and the event loop's default pool stays free for everybody else's work."""
    store = Hanging()
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        uploads = [
            asyncio.ensure_future(put_evidence(store, b"x%d" % k, deadline=1.0))  # type: ignore[arg-type]
            for k in range(7)
        ]
        await asyncio.sleep(0.2)
        assert await asyncio.wait_for(asyncio.to_thread(lambda: "free"), 0.5) == "free"
        outcomes = await asyncio.gather(*uploads, return_exceptions=True)
        assert all(isinstance(o, EvidenceUnavailable) for o in outcomes), outcomes
        assert loop.time() - start < 2
        assert store.started <= UPLOAD_WORKERS  # the queued ones were dropped, never started
    finally:
        store.release.set()  # the hung threads end with the test


@pytest.mark.parametrize("dropping", [False, True], ids=["refusing", "dropping"])
async def test_an_unreachable_store_is_reported_not_fatal(
    dropping: bool, db: Database, tmp_path: Path, s3: S3Server
) -> None:
    """The export names every file it could not read (as it does a lost one) and finishes."""
    bucket = s3.bucket()
    store = open_evidence_store(load_settings(data_dir=tmp_path, **s3.settings(bucket)))
    async with db.session() as session:
        seeded = await seed_export_data(session, store)
        data = await gather(
            session, Scope(Level.DISTRICT, YEAR, district_id=seeded.district_id), ("1-3",)
        )
    down = silent_endpoint(close=True) if dropping else refusing_endpoint()
    with down as endpoint:
        settings = load_settings(data_dir=tmp_path, **S3Server(endpoint).settings(bucket))
        result = write_exports(data, tmp_path / "out", open_evidence_store(settings), TZ)
    assert result.evidence_files == 0 and len(result.missing) == 7
    assert all(name.startswith("佐证材料/") for name in result.missing)
    lines = describe(result)
    assert any("7 个佐证文件" in line for line in lines)
    assert all(f"  {name}" in lines for name in result.missing)  # each named for the operator
    assert any(p.suffix == ".zip" for p in result.files)


# --- file names (issue 19, item 6) -------------------------------------------------------------


def test_file_names_are_cut_to_the_column_keeping_the_extension() -> None:
    assert Evidence.__table__.c.file_name.type.length == FILE_NAME_MAX  # type: ignore[attr-defined]
    assert Evidence.__table__.c.mime_type.type.length == MIME_TYPE_MAX  # type: ignore[attr-defined]
    name = "签到表" * 90 + ".docx"
    cut = fit_file_name(name)
    assert cut is not None and len(cut) == FILE_NAME_MAX
    assert cut.startswith("签到表签到表") and cut.endswith("签到表.docx") and "…" in cut
    assert fit_file_name("签到表.pdf") == "签到表.pdf" and fit_file_name(None) is None
    odd = "a." + "b" * 300  # an "extension" longer than the column: cut like the rest
    assert len(fit_file_name(odd) or "") == FILE_NAME_MAX
