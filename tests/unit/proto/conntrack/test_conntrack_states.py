"""TCP states, timeouts and the proxy-event mapping (ip_vs_proto_tcp.c, reference §1.6)."""

import pytest

from pylvs.proto.conntrack import (
    ConnState as S,
)
from pylvs.proto.conntrack import (
    Direction,
    Flag,
    TcpEvent,
    Timeouts,
    TimeoutValueError,
    tcp_event_next,
    tcp_next,
)
from pylvs.proto.conntrack.states import ACTIVE_STATES, TCP_TIMEOUTS


def test_default_timeouts_print_as_ipvsadm_does() -> None:
    t = Timeouts()
    assert (t.tcp, t.tcp_fin, t.udp) == (900, 120, 300)


def test_timeout_table() -> None:
    expected = {
        S.NONE: 2,
        S.ESTABLISHED: 900,
        S.SYN_SENT: 120,
        S.SYN_RECV: 60,
        S.FIN_WAIT: 120,
        S.TIME_WAIT: 120,
        S.CLOSE: 10,
        S.CLOSE_WAIT: 60,
        S.LAST_ACK: 30,
        S.LISTEN: 120,
        S.SYNACK: 120,
    }
    assert expected == TCP_TIMEOUTS


def test_set_zero_leaves_a_value_unchanged() -> None:
    t = Timeouts().with_set(0, 60, 0)
    assert (t.tcp, t.tcp_fin, t.udp) == (900, 60, 300)
    t = t.with_set(30, 0, 5)
    assert (t.tcp, t.tcp_fin, t.udp) == (30, 60, 5)
    # --set changes ESTABLISHED and FIN_WAIT only; the others keep the kernel table.
    assert t.tcp_timeout(S.ESTABLISHED) == 30
    assert t.tcp_timeout(S.FIN_WAIT) == 60
    assert t.tcp_timeout(S.CLOSE_WAIT) == 60
    assert t.tcp_timeout(S.TIME_WAIT) == 120


@pytest.mark.parametrize("bad", [-1, 2**31])
def test_set_rejects_out_of_range(bad: int) -> None:
    with pytest.raises(TimeoutValueError):
        Timeouts().with_set(bad, 0, 0)


def test_active_states() -> None:
    assert {S.ESTABLISHED, S.SYN_SENT, S.SYN_RECV, S.SYNACK} == ACTIVE_STATES


def test_some_cells_of_tcp_states() -> None:
    assert tcp_next(S.NONE, Direction.INPUT, Flag.SYN) is S.SYN_RECV
    assert tcp_next(S.SYN_RECV, Direction.INPUT, Flag.RST) is S.SYN_RECV
    assert tcp_next(S.TIME_WAIT, Direction.OUTPUT, Flag.RST) is S.TIME_WAIT
    assert tcp_next(S.LISTEN, Direction.OUTPUT, Flag.ACK) is S.ESTABLISHED
    assert tcp_next(S.LAST_ACK, Direction.INPUT, Flag.ACK) is S.CLOSE


@pytest.mark.parametrize(
    ("start", "event", "end"),
    [
        (S.NONE, TcpEvent.CLIENT_CONNECTED, S.SYN_RECV),
        (S.SYN_RECV, TcpEvent.BACKEND_CONNECTED, S.ESTABLISHED),
        (S.ESTABLISHED, TcpEvent.CLIENT_DATA, S.ESTABLISHED),
        (S.ESTABLISHED, TcpEvent.SERVER_DATA, S.ESTABLISHED),
        (S.ESTABLISHED, TcpEvent.CLIENT_EOF, S.CLOSE_WAIT),
        (S.CLOSE_WAIT, TcpEvent.SERVER_EOF, S.TIME_WAIT),
        (S.ESTABLISHED, TcpEvent.SERVER_EOF, S.FIN_WAIT),
        (S.FIN_WAIT, TcpEvent.CLIENT_EOF, S.TIME_WAIT),
        (S.ESTABLISHED, TcpEvent.CLOSED, S.TIME_WAIT),
        (S.ESTABLISHED, TcpEvent.CLIENT_RESET, S.CLOSE),
        (S.ESTABLISHED, TcpEvent.SERVER_RESET, S.CLOSE),
        # A refused real server: the kernel sees the server's RST in SYN_RECV.
        (S.SYN_RECV, TcpEvent.SERVER_RESET, S.CLOSE),
        # ... but a client RST in SYN_RECV leaves it there (tcp_states[] INPUT rst, sSR).
        (S.SYN_RECV, TcpEvent.CLIENT_RESET, S.SYN_RECV),
        # Data after the client's FIN (server still sending) keeps CLOSE_WAIT.
        (S.CLOSE_WAIT, TcpEvent.SERVER_DATA, S.CLOSE_WAIT),
    ],
)
def test_proxy_events(start: S, event: TcpEvent, end: S) -> None:
    assert tcp_event_next(start, event) is end
