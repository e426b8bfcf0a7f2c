"""IPVS connection states and their timeouts, as values every layer may name.

The state names, the TCP timeouts and the three values `ipvsadm --set tcp tcpfin udp` changes
are net/netfilter/ipvs/ip_vs_proto_tcp.c (`tcp_state_name_table`, `tcp_timeouts`) and
ip_vs_proto_udp.c (300 s); `--set` follows ip_vs_ctl.c `ip_vs_set_timeout` (0 = leave unchanged,
values above INT_MAX / HZ refused).  They live in the model because snapshots (what `ipvsadm -L`,
`pylvs status` and metrics render) carry them; the connection machine itself is
proto/conntrack, which re-exports these names.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ConnState(enum.Enum):
    """State names as /proc/net/ip_vs_conn (and `ipvsadm -c`) print them."""

    # Members are singletons compared by identity: hash them by identity too (C speed)
    # rather than Enum's Python-level hash of the name, since every proxied connection
    # looks states up several times.
    __hash__ = object.__hash__

    NONE = "NONE"
    ESTABLISHED = "ESTABLISHED"
    SYN_SENT = "SYN_SENT"
    SYN_RECV = "SYN_RECV"
    FIN_WAIT = "FIN_WAIT"
    TIME_WAIT = "TIME_WAIT"
    CLOSE = "CLOSE"
    CLOSE_WAIT = "CLOSE_WAIT"
    LAST_ACK = "LAST_ACK"
    LISTEN = "LISTEN"
    SYNACK = "SYNACK"
    UDP = "UDP"  # ip_vs_proto_udp.c udp_state_name_table
    ASSURED = "ASSURED"  # templates only (ip_vs_ctpl_state_name_table)
    # SCTP (ip_vs_proto_sctp.c sctp_state_name_table), as the kernel data plane reads them
    # from /proc/net/ip_vs_conn; the user-space planes do not relay SCTP.
    INIT1 = "INIT1"
    INIT = "INIT"
    COOKIE_SENT = "COOKIE_SENT"
    COOKIE_REPLIED = "COOKIE_REPLIED"
    COOKIE_WAIT = "COOKIE_WAIT"
    COOKIE_ECHOED = "COOKIE_ECHOED"
    SHUTDOWN_SENT = "SHUTDOWN_SENT"
    SHUTDOWN_RECEIVED = "SHUTDOWN_RECEIVED"
    SHUTDOWN_ACK_SENT = "SHUTDOWN_ACK_SENT"
    REJECTED = "REJECTED"
    CLOSED = "CLOSED"
    ERROR = "ERR!"  # ip_vs_state_name: a state out of its protocol's table


# tcp_timeouts[] in seconds (ip_vs_proto_tcp.c), before `--set`.
TCP_TIMEOUTS: dict[ConnState, int] = {
    ConnState.NONE: 2,
    ConnState.ESTABLISHED: 15 * 60,
    ConnState.SYN_SENT: 2 * 60,
    ConnState.SYN_RECV: 1 * 60,
    ConnState.FIN_WAIT: 2 * 60,
    ConnState.TIME_WAIT: 2 * 60,
    ConnState.CLOSE: 10,
    ConnState.CLOSE_WAIT: 60,
    ConnState.LAST_ACK: 30,
    ConnState.LISTEN: 2 * 60,
    ConnState.SYNACK: 2 * 60,
}
UDP_TIMEOUT = 5 * 60

# ip_vs_set_timeout rejects values above INT_MAX / HZ; HZ = 1000 is assumed here.
MAX_TIMEOUT = (2**31 - 1) // 1000


class TimeoutValueError(ValueError):
    """A `--set` value out of range."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    """The three timeouts `ipvsadm --set` / `--timeout` handle, in seconds."""

    tcp: int = TCP_TIMEOUTS[ConnState.ESTABLISHED]
    tcp_fin: int = TCP_TIMEOUTS[ConnState.FIN_WAIT]
    udp: int = UDP_TIMEOUT

    def __post_init__(self) -> None:
        for name in ("tcp", "tcp_fin", "udp"):
            value = getattr(self, name)
            if not 1 <= value <= MAX_TIMEOUT:
                raise TimeoutValueError(f"invalid {name} timeout {value}")

    def with_set(self, tcp: int, tcp_fin: int, udp: int) -> Timeouts:
        """`ipvsadm --set tcp tcpfin udp`: 0 leaves a value unchanged (ip_vs_set_timeout)."""
        for value in (tcp, tcp_fin, udp):
            if not 0 <= value <= MAX_TIMEOUT:
                raise TimeoutValueError(f"invalid timeout value {value}")
        return Timeouts(tcp or self.tcp, tcp_fin or self.tcp_fin, udp or self.udp)

    def tcp_timeout(self, state: ConnState) -> int:
        """timeout_table[state] after `--set`."""
        if state is ConnState.ESTABLISHED:
            return self.tcp
        if state is ConnState.FIN_WAIT:
            return self.tcp_fin
        return TCP_TIMEOUTS[state]
