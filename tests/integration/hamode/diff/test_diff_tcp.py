"""Differential tests of `mode tcp` (diff_tcp.py): generated configurations with
`tcp-request content` rules, stick tables, tracked counters and the balance algorithms run
under the real `haproxy -db` and under `pylvs run`; the same connections must get the same
answers (the server that took each, its bytes, or a reject), and `show stat` and `show
table` must agree after them.  CI runs a fixed derandomized set; PYLVS_DIFF_EXAMPLES /
PYLVS_DIFF_RANDOM / PYLVS_DIFF_RECORD explore longer (diff_run.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.integration.hamode.diff.diff_run import SETTINGS, Rig, haproxy_accepts, report
from tests.integration.hamode.diff.diff_tcp import (
    TcpConfig,
    TcpEcho,
    run_tcp_both,
    tcp_configs,
    tcp_payloads,
)
from tests.integration.hamode.hamode_helpers import HAPROXY, free_port

pytestmark = [pytest.mark.oracle, pytest.mark.skipif(HAPROXY is None, reason="no haproxy")]

COMMANDS = ["show stat", "show table fe", "show table be"]


@pytest.fixture(scope="module")
def echoes() -> Iterator[list[TcpEcho]]:
    servers = [TcpEcho(f"s{i + 1}") for i in range(3)]
    try:
        yield servers
    finally:
        for s in servers:
            s.close()


@SETTINGS
@given(data=st.data())
def test_generated_tcp_configs_as_haproxy(
    rig: Rig, echoes: list[TcpEcho], data: st.DataObject
) -> None:
    config = data.draw(tcp_configs(), label="config")
    payloads = data.draw(tcp_payloads(), label="payloads")
    ports = [e.port for e in echoes]
    tmp = rig.example_dir()
    check = tmp / "check.cfg"
    check.write_text(config.render(free_port(), ports))
    assume(haproxy_accepts(check) is None)
    text, _, diff = run_tcp_both(tmp, config, ports, payloads, COMMANDS)
    if diff:
        report(text, payloads, diff)


def test_rejected_bytes_stuck_streams_and_connects_count_as_haproxy(
    rig: Rig, echoes: list[TcpEcho]
) -> None:
    """What the runs found, on fixed traffic: a stream the content rules reject counts the
    bytes read in the frontend's bin (stream_process_counters), a stream a stick table
    sends to its server is not an lbtot pick (assign_server's cum_lbconn), every stream
    connects once (connect_server), and a mode tcp server's need_conn_est is the most
    connections it had at once."""
    config = TcpConfig(
        (
            "tcp-request inspect-delay 200ms",
            "tcp-request content reject if { req.payload(0,3) -m str BAD }",
        ),
        ("balance roundrobin", "stick-table type ip size 1k expire 30s", "stick on src"),
        2,
    )
    payloads = [b"hello", b"BAD request", b"ping\n", b"hello"]
    ports = [e.port for e in echoes]
    text, seen, diff = run_tcp_both(rig.example_dir(), config, ports, payloads, COMMANDS)
    assert not diff, "\n".join([text, *diff])
    stats = seen["pylvs"].stats
    assert seen["pylvs"].answers == (b"s1:hello", b"", b"s1:ping\n", b"s1:hello")
    for line in ("fe/FRONTEND bin=26", "be/BACKEND lbtot=1", "be/BACKEND connect=3",
                 "be/s1 need_conn_est=1"):  # fmt: skip
        assert line in stats, line
