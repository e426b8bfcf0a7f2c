"""The IPVS connection table as a pure state machine (net/netfilter/ipvs/ip_vs_conn.c).

`states` holds the TCP/UDP states, timeouts and the proxy-event mapping onto tcp_states[];
`table` the connection and template entries with their timers and dest binding; `persist` the
persistence template rules of ip_vs_sched_persist.  Time is always an argument.
"""

from pylvs.proto.conntrack.persist import masked, schedule_persistent, template_key
from pylvs.proto.conntrack.states import (
    ACTIVE_STATES,
    TCP_TIMEOUTS,
    UDP_TIMEOUT,
    ConnState,
    Direction,
    Flag,
    TcpEvent,
    Timeouts,
    TimeoutValueError,
    tcp_event_next,
    tcp_next,
)
from pylvs.proto.conntrack.table import Conn, ConnEntry, ConnKey, ConnTable

__all__ = [
    "ACTIVE_STATES",
    "TCP_TIMEOUTS",
    "UDP_TIMEOUT",
    "Conn",
    "ConnEntry",
    "ConnKey",
    "ConnState",
    "ConnTable",
    "Direction",
    "Flag",
    "TcpEvent",
    "TimeoutValueError",
    "Timeouts",
    "masked",
    "schedule_persistent",
    "tcp_event_next",
    "tcp_next",
    "template_key",
]
