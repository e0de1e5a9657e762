"""An S3-compatible server for tests: moto's server mode on loopback, on a free port.

Nothing reaches the internet: the endpoint is ``http://127.0.0.1:<port>`` and addressing is
path-style, as with MinIO. moto keeps its buckets per process, so each test makes its own
bucket (``S3Server.bucket()``). Beside it, endpoints of a store that is down: one that accepts
connections and never answers (or drops them), and one that refuses them.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
KEY = "kexie-test-key"
SECRET = "kexie-test-secret"


@dataclass
class S3Server:
    """A running moto S3 server."""

    endpoint: str

    def client(self) -> Any:
        """A boto3 client of this server (for the test's own checks)."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            config=Config(s3={"addressing_style": "path"}),
        )

    def bucket(self) -> str:
        """A new, empty bucket."""
        name = f"kexie-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str, prefix: str = "evidence") -> dict[str, Any]:
        """Settings overrides (``load_settings(**...)``) for an evidence store in ``bucket``."""
        return {
            "evidence_url": f"s3://{bucket}/{prefix}",
            "s3_endpoint": self.endpoint,
            "s3_region": REGION,
            "s3_key": KEY,
            "s3_secret": SECRET,
            "s3_path_style": True,
        }

    def env(self, bucket: str, prefix: str = "evidence") -> dict[str, str]:
        """The same as ``KEXIE_*`` environment variables, for a ``kexie`` subprocess."""
        return {f"KEXIE_{k.upper()}": str(v) for k, v in self.settings(bucket, prefix).items()}

    def keys(self, bucket: str) -> dict[str, int]:
        """Every object key in ``bucket`` with its size."""
        found: dict[str, int] = {}
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                found[item["Key"]] = item["Size"]
        return found


@contextmanager
def moto_s3() -> Iterator[S3Server]:
    """Start moto's S3 server on 127.0.0.1 (a free port) for the duration of the block."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()


@contextmanager
def silent_endpoint(*, close: bool = False) -> Iterator[str]:
    """An endpoint on 127.0.0.1 that accepts connections and never answers (a hung object
    store), or with ``close`` drops each connection at once (a store going down): the URL.

    Sockets are closed when the block ends, which frees any client still waiting on them."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if close:
                conn.close()
            else:
                held.append(conn)

    thread = threading.Thread(target=accept, name="silent-s3", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()
        for conn in held:
            conn.close()


@contextmanager
def refusing_endpoint() -> Iterator[str]:
    """An endpoint on 127.0.0.1 where nothing listens (connections are refused): the URL."""
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # the port stays unused for the test's few seconds
    yield f"http://127.0.0.1:{port}"
