"""Loopback ports for servers a test starts by port number (a ``kexie run --webhook`` process,
nginx, the console under uvicorn), safe when the suite runs in several pytest-xdist workers.

Asking the kernel for a free port (bind to port 0, close, hand the number on) leaves a window in
which the kernel can give the same port to someone else: another worker's server bound to port
0, or the local end of any outgoing connection (the suite makes thousands). So the ports come
from below the kernel's ephemeral range (``/proc/sys/net/ipv4/ip_local_port_range``, 32768 and
up on Linux), which the kernel never hands out by itself, and each worker has its own slice of
that range (``PYTEST_XDIST_WORKER``: gw0, gw1, …), so two workers never offer the same port.
Within its slice a process starts at a random place and checks that nothing holds a port before
offering it (another test session on the same machine may be running).
"""

from __future__ import annotations

import itertools
import os
import random
import socket

FIRST = 10_000  # below PostgreSQL's test cluster (scripts/postgres.sh: 20000 and up)
SLICE = 400  # ports per worker: 25 workers fit below 20000
_SLICES = 25


def worker_ports(worker: str | None) -> range:
    """The ports of an xdist worker (``gw3``; None when the run is not parallel)."""
    name = worker or "gw0"
    number = int(name[2:]) if name[2:].isdigit() else 0
    start = FIRST + (number % _SLICES) * SLICE
    return range(start, start + SLICE)


_ports = worker_ports(os.environ.get("PYTEST_XDIST_WORKER"))
_next = itertools.cycle(_ports)
for _ in range(random.randrange(len(_ports))):
    next(_next)


def free_port() -> int:
    """A loopback TCP port nobody listens on now, and that no other worker of this run and no
    port-0 bind or outgoing connection will take in the meantime."""
    for _ in range(len(_ports)):
        port = next(_next)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # taken (a test's server still closing, another session): the next
        return port
    raise RuntimeError(f"no free loopback port in {_ports.start}–{_ports.stop - 1}")
