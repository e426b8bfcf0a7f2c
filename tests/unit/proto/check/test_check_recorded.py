"""pylvs's check machine against the real haproxy 2.6.12, scenario by scenario.

Each scenario (tests/data/haproxy/checks/check_scenarios.py) was recorded from haproxy by
tests/data/haproxy/checks/capture.py: its log lines, and when each check reached each
server.  The replay runs the same configuration and server timelines on simulated time: the
log lines must be the same, in the same order, and the checks must run at the same moments
(within the scheduling jitter of the recording).
"""

from __future__ import annotations

import pytest

from pylvs.sched.haproxy.server import State
from tests.unit.proto.check.check_replay import (
    recorded,
    replay,
    same_lines,
    syn_times,
    syslog_messages,
    trace_messages,
)

JITTER = 0.030  # seconds: haproxy's own scheduling noise in the recordings

TIMED = ["tcp_updown", "tcp_states", "tcp_rise3", "spread"]


@pytest.mark.parametrize("name", TIMED)
def test_checks_run_when_haproxy_runs_them(name: str) -> None:
    """Every check the recording saw (a SYN to the server) has one of pylvs's at the same
    moment; the raw socket may miss a SYN now and then, never more than one here."""
    rec = recorded(name)
    trace = replay(name)
    for server in rec["segments"]:
        want = syn_times(rec, server)
        got = [o.t for o in trace.opened.get(server, [])]
        assert 0 <= len(got) - len(want) <= 1, (server, got, want)
        for i, w in enumerate(want):
            slack = JITTER + 0.005 * i  # the recording drifts a little with each check
            assert any(abs(g - w) < slack for g in got), (server, w, got)


HTTP = ["http_requests", "http_responses"]
RULES = ["tcp_check_rules", "protocols"]
ADMIN = ["agent", "maint"]
SESSIONS = ["sessions", "port_addr"]


@pytest.mark.parametrize("name", TIMED + HTTP + RULES + ADMIN + SESSIONS)
def test_log_lines_match(name: str) -> None:
    same_lines(trace_messages(replay(name)), syslog_messages(recorded(name)))


@pytest.mark.parametrize("name", HTTP + RULES)
def test_checks_send_the_same_bytes(name: str) -> None:
    """HTTP requests, tcp-check sends and the protocol checks' packets, byte for byte."""
    rec = recorded(name)
    trace = replay(name)
    for server, conns in rec["servers"].items():
        want = [c["received"].encode("latin-1") for c in conns]
        got = [bytes(b) for b in trace.received.get(server, [])]
        n = min(len(want), len(got))
        assert n or name not in HTTP, server  # every HTTP check server was asked
        if server.startswith("ssl"):  # the hello carries the date
            want, got = [w[:11] + w[15:] for w in want], [g[:11] + g[15:] for g in got]
        assert got[:n] == want[:n], server


def test_timeout_check_waits_for_the_connect_deadline() -> None:
    """`timeout check` shorter than the connect deadline: set after the connect, it is seen
    when the task wakes at its place in the timers (recorded: 1000 ms, not 300 ms)."""
    got = trace_messages(replay("timeout_scan"))
    same_lines(got, syslog_messages(recorded("timeout_scan")))
    alone = next(text for _lvl, text in got if "alone/a failed" in text)
    assert "check duration: 1000ms" in alone


def test_agent_words_leave_the_servers_as_haproxy_does() -> None:
    """`show servers state` at the end: operational state, admin flags, weights, the health
    check's status and health (columns 6-9, 11, 13 of version 1)."""
    rec = recorded("agent")
    answer = next(c["answer"] for c in rec["cli"] if c["command"] == "show servers state")
    at = next(c["t"] for c in rec["cli"] if c["command"] == "show servers state")
    trace = replay("agent", until=at)
    assert trace.checks is not None
    for row in answer.splitlines()[2:]:
        if not row:
            continue
        f = row.split()
        sh = trace.checks.servers[f[1], f[3]]
        s, check = sh.srv, sh.check
        assert check is not None
        got = [int(s.cur_state), int(s.cur_admin), s.uweight, s.iweight]
        got += [int(check.status), check.health]
        assert got == [int(f[5]), int(f[6]), int(f[7]), int(f[8]), int(f[10]), int(f[12])], row


def test_state_changes_cut_sessions_when_haproxy_cuts_them() -> None:
    """on-marked-down shutdown-sessions cuts the client on s when s goes down;
    on-marked-up shutdown-backup-sessions cuts the one the backup took meanwhile; the
    client that came after stays."""
    rec = recorded("sessions")
    trace = replay("sessions")
    got = [(s.server.name if s.server else None, s.cut) for s in trace.sessions]
    assert [name for name, _cut in got] == ["s", "b", "s"]
    for (_name, cut), client in zip(got, rec["clients"], strict=True):
        if client["end_t"] >= rec_duration(rec) - 0.1:
            assert cut is None, client
        else:
            assert cut is not None and abs(cut - client["end_t"]) < JITTER, (cut, client)


def rec_duration(rec: dict[str, object]) -> float:
    return max(float(c["end_t"]) for c in rec["clients"])  # type: ignore[attr-defined]


def test_slowstart_ramps_the_weight_as_haproxy_does() -> None:
    """show stat's weight column for be/s while it warms up after coming back."""
    rec = recorded("sessions")
    for c in rec["cli"]:
        row = next(r.split(",") for r in c["answer"].splitlines() if r.startswith("be,s,"))
        trace = replay("sessions", until=c["t"])
        assert trace.checks is not None
        sh = trace.checks.servers["be", "s"]
        lb = sh.pool.lb
        shown = (sh.srv.cur_eweight * lb.wmult + lb.wdiv - 1) // lb.wdiv  # stats.c's weight
        state = "DOWN" if sh.srv.cur_state is State.STOPPED else "UP"
        assert (state, shown) == (row[17], int(row[18])), c["t"]
