"""tests/ports.py: ports for servers started by number, apart per pytest-xdist worker."""

from __future__ import annotations

import os
import socket

from tests.ports import _ports, free_port, worker_ports


def _ephemeral_floor() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except OSError:
        return 32768


def test_workers_get_disjoint_slices_below_the_ephemeral_range() -> None:
    slices = [set(worker_ports(f"gw{n}")) for n in range(8)]
    for n, ports in enumerate(slices):
        for other in slices[n + 1 :]:
            assert not ports & other
    assert max(max(s) for s in slices) < _ephemeral_floor()
    assert worker_ports(None) == worker_ports("gw0")


def test_a_port_is_in_this_worker_s_slice_and_free() -> None:
    port = free_port()
    assert port in worker_ports(os.environ.get("PYTEST_XDIST_WORKER"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # nobody holds it


def test_a_held_port_is_passed_over() -> None:
    # Hold every port of the slice but one: that one is offered, whatever the starting place.
    held: list[socket.socket] = []
    try:
        for port in list(_ports)[1:]:
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            held.append(sock)
        assert free_port() == _ports[0]
    finally:
        for sock in held:
            sock.close()
