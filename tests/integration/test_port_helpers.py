"""The tests' port helper (tests/port_helpers.py): ports below the kernel's ephemeral range,
a block per process (another process gets another block), a bound port skipped."""

from __future__ import annotations

import socket
import subprocess
import sys

from tests import port_helpers
from tests.port_helpers import free_port, free_udp_port


def test_ports_come_from_below_the_ephemeral_range_and_a_bound_one_is_skipped() -> None:
    first = free_port()
    assert port_helpers.LOW <= first < port_helpers._ephemeral_low()
    start = port_helpers._BLOCK.start
    assert start <= first < start + port_helpers.BLOCK
    # bind the port the helper would hand out next: it hands out another
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", start + port_helpers._BLOCK.next))
    try:
        got = free_port()
        assert got != blocker.getsockname()[1]
        assert got != first
    finally:
        blocker.close()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a UDP port is skipped for TCP too
    udp.bind(("127.0.0.1", start + port_helpers._BLOCK.next))
    try:
        assert free_port() != udp.getsockname()[1]
        assert free_udp_port() != udp.getsockname()[1]
    finally:
        udp.close()


def test_another_process_gets_another_block() -> None:
    mine = port_helpers._BLOCK.start if port_helpers._BLOCK.fd >= 0 else None
    if mine is None:
        free_port()
        mine = port_helpers._BLOCK.start
    code = "from tests.port_helpers import free_port, _BLOCK; free_port(); print(_BLOCK.start)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert int(out) != mine
