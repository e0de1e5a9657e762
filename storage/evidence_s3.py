"""Evidence in S3-compatible object storage (AWS S3, MinIO, Alibaba Cloud OSS).

Objects are named ``<prefix>/ab/cd/<sha256>``, the local store's layout under a key prefix, so
a directory copied into a bucket (or a bucket synced to a directory) is a valid store of the
other kind. Calls are boto3's, so they block: async callers use ``asyncio.to_thread`` (uploads:
:func:`storage.evidence.put_evidence`).

Every call is bounded: a store that accepts connections and never answers holds one call at most
MAX_ATTEMPTS × (CONNECT_TIMEOUT + READ_TIMEOUT) seconds (plus a back-off under a second), and
whatever fails for a reason other than a missing object is raised as
:class:`~storage.evidence.EvidenceUnavailable`, never as botocore's own exception.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from storage.evidence import (
    CHUNK,
    SHA256_RE,
    EvidenceMissing,
    EvidenceUnavailable,
    Stored,
    key_of,
)

if TYPE_CHECKING:
    from core.settings import Settings

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
# Seconds. The read timeout bounds each wait for the next bytes, not a whole transfer: a 20 MB
# upload or download that keeps moving is not cut. One retry: a blip is ridden out, while a store
# that is down is reported within about 2 × (2 + 5) = 14 s at worst (the usual case, refused or
# dropped connections, within a second or two).
CONNECT_TIMEOUT = 2
READ_TIMEOUT = 5
MAX_ATTEMPTS = 2  # the first try included


def make_client(settings: Settings) -> Any:
    """An S3 client for the configured endpoint, credentials and addressing style."""
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",
        # MinIO without wildcard DNS wants path-style; OSS accepts only virtual-hosted names.
        s3={"addressing_style": "path" if settings.s3_path_style else "virtual"},
        # boto3 ≥ 1.36 adds CRC checksums to every upload by default, which OSS and older MinIO
        # reject; Content-MD5 (below) is the integrity check all of them understand.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        # total_max_attempts counts the first try; botocore's max_attempts counts only retries
        # (the former 5 meant six tries of up to 60 s each: the six minutes of issue 19).
        retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        max_pool_connections=32,
    )
    secret = settings.s3_secret.get_secret_value() if settings.s3_secret else None
    # A session per client: boto3's default session is not safe to share between threads.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint or None,
        region_name=settings.s3_region or None,
        aws_access_key_id=settings.s3_key or None,
        aws_secret_access_key=secret,
        config=config,
    )


def _missing(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    error = exc.response.get("Error", {})
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(error.get("Code")) in _NOT_FOUND or status == 404


@contextmanager
def _unavailable(what: str, subject: str) -> Iterator[None]:
    """botocore's failures (timeouts, dropped or refused connections, 5xx, access denied) as
    :class:`EvidenceUnavailable`; a missing object is the caller's to tell apart first."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise EvidenceUnavailable(f"{what} {subject}: {type(exc).__name__}") from exc


class _BodyReader(io.RawIOBase):
    """botocore's streaming body as a standard binary stream (read in chunks, not seekable)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with _unavailable("reading", "the body"):  # the store stalled or went away mid-stream
            data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3EvidenceStore:
    """A content-addressed store in one bucket under one key prefix."""

    kind = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str = "", endpoint: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint = endpoint

    @classmethod
    def from_settings(cls, settings: Settings) -> S3EvidenceStore:
        """The store ``KEXIE_EVIDENCE_URL=s3://bucket/prefix`` and the S3 settings name."""
        location = settings.evidence_location
        return cls(
            make_client(settings), location.bucket, location.prefix, settings.s3_endpoint or ""
        )

    def object_key(self, sha256: str) -> str:
        """The object key of ``sha256``."""
        key = key_of(sha256)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _upload(self, sha256: str, body: bytes | IO[bytes], size: int, md5: bytes) -> None:
        with _unavailable("put", sha256):
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.object_key(sha256),
                Body=body,
                ContentLength=size,
                ContentMD5=base64.b64encode(md5).decode(),
                ContentType="application/octet-stream",
            )

    def put(self, data: bytes) -> str:
        """Upload bytes unless an object of that content is already there; return the sha256."""
        digest = hashlib.sha256(data).hexdigest()
        if self.size(digest) is None:
            self._upload(digest, data, len(data), hashlib.md5(data).digest())
        return digest

    def put_file(self, source: Path) -> str:
        """Upload a file (hashed first, then streamed from disk); return its sha256."""
        sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
        with source.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                sha.update(chunk)
                md5.update(chunk)
                size += len(chunk)
        digest = sha.hexdigest()
        if self.size(digest) is None:
            with source.open("rb") as fh:
                self._upload(digest, fh, size, md5.digest())
        return digest

    def size(self, sha256: str) -> int | None:
        """The object's size, or None when there is none."""
        with _unavailable("head", sha256):
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=self.object_key(sha256))
            except Exception as exc:
                if _missing(exc):
                    return None
                raise
        return int(head["ContentLength"])

    @contextmanager
    def reader(self, sha256: str) -> Iterator[Stored]:
        """The object's body as a stream (one GET; read in chunks, never whole)."""
        with _unavailable("get", sha256):
            try:
                got = self.client.get_object(Bucket=self.bucket, Key=self.object_key(sha256))
            except Exception as exc:
                if _missing(exc):
                    raise EvidenceMissing(sha256) from exc
                raise
        with io.BufferedReader(_BodyReader(got["Body"]), CHUNK) as stream:
            yield Stored(int(got["ContentLength"]), stream)

    def open(self, sha256: str) -> bytes:
        """The object's bytes, whole (uploads to a channel: at most 20 MB)."""
        with self.reader(sha256) as stored:
            return stored.stream.read()

    def entries(self) -> Iterator[tuple[str, int]]:
        """Every object laid out as ``<prefix>/ab/cd/<sha256>`` (others are not evidence)."""
        base = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base
        )
        with _unavailable("list", base or "/"):  # pages are fetched as the loop asks for them
            for page in pages:
                for item in page.get("Contents", []):
                    rest = str(item["Key"])[len(base) :]
                    name = rest.rpartition("/")[2]
                    if SHA256_RE.fullmatch(name) and rest == key_of(name):
                        yield name, int(item["Size"])

    def describe(self) -> str:
        """``s3://bucket/prefix`` (and the endpoint), never the credentials."""
        where = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{where} ({self.endpoint})" if self.endpoint else where
