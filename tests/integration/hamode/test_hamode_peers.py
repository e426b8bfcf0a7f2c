"""pylvs and the real haproxy 2.6 as peers of each other (issue 20, the peers protocol).

Two proxies on loopback share one `stick-table type ip ... peers mesh` through a `peers`
section (pylvs is peer A, haproxy peer B, over real TCP connections) in front of the same two
servers.  A client stuck to a server on one proxy is sent to that server by the other, whose
own round robin would have chosen the other server: the entry was learnt over the peers
protocol, in both directions.  `show table` on each side shows the replicated entries, and
pylvs's `show peers` shows the established session.  Then a reload of pylvs
(`pylvs haproxy -sf OLD`): the old process teaches the new one its table before it goes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    Proxy,
    Servers,
    accepting,
    ask,
    free_port,
    stats_command,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(HAPROXY is None, reason="the real haproxy is not installed"),
]


def _config(me: str, sock: Path, ports: dict[str, int], servers: Servers) -> str:
    return (
        f"global\n    localpeer {me}\n    stats socket {sock} level admin\n"
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n"
        "    timeout server 5s\n"
        f"peers mesh\n    peer A 127.0.0.1:{ports['A']}\n    peer B 127.0.0.1:{ports['B']}\n"
        f"listen app\n    bind 127.0.0.1:{ports['fe' + me]}\n    balance roundrobin\n"
        "    stick-table type ip size 1k expire 5m peers mesh\n    stick on src\n"
        f"    server s1 127.0.0.1:{servers['s1'].port}\n"
        f"    server s2 127.0.0.1:{servers['s2'].port}\n"
    )


def _wait_entry(sock: Path, key: str, server: str) -> str:
    """`show table app` once it lists `key` stuck to `server` (the peers are asynchronous)."""
    deadline = time.monotonic() + 15
    while True:
        table = stats_command(sock, "show table app")
        if any(f"key={key} " in line and f"server_key={server}" in line for line in
               table.splitlines()):  # fmt: skip
            return table
        assert time.monotonic() < deadline, table
        time.sleep(0.1)


def test_entries_learnt_on_one_proxy_are_used_by_the_other_both_ways(
    proxy: Callable[..., Proxy], servers: Servers, tmp_path: Path
) -> None:
    servers.add("s1")
    servers.add("s2")
    ports = {n: free_port() for n in ("A", "B", "feA", "feB")}
    sock_a, sock_b = tmp_path / "a.sock", tmp_path / "b.sock"
    proxy("pylvs", _config("A", sock_a, ports, servers), None)
    proxy("haproxy", _config("B", sock_b, ports, servers), None)
    # haproxy learns: its round robin gives .11 s1 and .12 s2, stored and pushed to pylvs
    assert ask(ports["feB"], source="127.0.0.11") == "s1"
    assert ask(ports["feB"], source="127.0.0.12") == "s2"
    _wait_entry(sock_a, "127.0.0.12", "s2")
    # pylvs's own round robin would start with s1: .12 goes to s2 because of the entry
    assert ask(ports["feA"], source="127.0.0.12") == "s2"
    assert ask(ports["feA"], source="127.0.0.11") == "s1"
    # pylvs learns: .21 and .22 (s1, s2 in turn), pushed to haproxy
    assert ask(ports["feA"], source="127.0.0.21") == "s1"
    assert ask(ports["feA"], source="127.0.0.22") == "s2"
    table = _wait_entry(sock_b, "127.0.0.22", "s2")
    assert "key=127.0.0.21 " in table
    assert ask(ports["feB"], source="127.0.0.22") == "s2"  # haproxy's next pick: s1
    assert ask(ports["feB"], source="127.0.0.21") == "s1"
    peers = stats_command(sock_a, "show peers")
    assert "id=B(remote,active) addr=127.0.0.1:%d last_status=ESTA" % ports["B"] in peers
    assert "id=mesh disabled=0" in peers
    assert stats_command(sock_a, "show peers nowhere") == "No such peers\n\n"


def _haproxy_argv(cfg: Path, *more: str) -> list[str]:
    return [sys.executable, "-m", "pylvs", "haproxy", "-db", "-L", "A", "-f", str(cfg), *more]


def test_a_reloaded_process_learns_the_table_from_the_old_one(
    servers: Servers, tmp_path: Path
) -> None:
    servers.add("s1")
    servers.add("s2")
    ports = {n: free_port() for n in ("A", "B", "feA", "feB")}
    sock = tmp_path / "a.sock"
    cfg = tmp_path / "a.cfg"
    cfg.write_text(_config("A", sock, ports, servers).replace("    localpeer A\n", ""))
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    log = open(tmp_path / "out.log", "w")
    old = subprocess.Popen(_haproxy_argv(cfg), stdout=log, stderr=subprocess.STDOUT, env=env)
    new: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + 20
        while not accepting("127.0.0.1", ports["feA"]):
            assert old.poll() is None and time.monotonic() < deadline, "pylvs did not start"
            time.sleep(0.05)
        for i in range(1, 5):
            ask(ports["feA"], source=f"127.0.0.{30 + i}")
        before = stats_command(sock, "show table app")
        assert before.count("key=127.0.0.3") == 4
        # the new process's own stats socket: the old one removes its path when it goes
        sock2, cfg2 = tmp_path / "a2.sock", tmp_path / "a2.cfg"
        cfg2.write_text(cfg.read_text().replace(str(sock), str(sock2)))
        new = subprocess.Popen(
            _haproxy_argv(cfg2, "-sf", str(old.pid)), stdout=log, stderr=subprocess.STDOUT, env=env
        )
        assert old.wait(30) == 0  # the old one went once it had taught
        deadline = time.monotonic() + 20
        while True:
            with_entries = ""
            if sock2.exists():
                with_entries = stats_command(sock2, "show table app")
            if with_entries.count("key=127.0.0.3") == 4:
                break
            assert time.monotonic() < deadline, with_entries
            time.sleep(0.1)
        shown = {line.split()[1] for line in with_entries.splitlines() if "key=" in line}
        assert shown == {line.split()[1] for line in before.splitlines() if "key=" in line}
        # learnt from the local (old) process: RESYNC_LOCALASSIGN, then LOCALFINISHED, or
        # LOCALPARTIAL when the old one had not finished its own resync (younger than 5 s
        # with its remote peer unreachable), as haproxy's
        head = stats_command(sock2, "show peers").splitlines()[0]
        found = re.search(r" flags=0x([0-9a-f]+) ", head)
        assert found is not None, head
        flags = int(found.group(1), 16)
        assert flags & 0x1000 and flags & (0x100 | 0x400), head
    finally:
        for p in (old, new):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        log.close()
