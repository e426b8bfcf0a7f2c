"""IPVS connection states, their timeouts, and the full-NAT proxy's view of the TCP machine.

The TCP states, their order and their timeouts are those of net/netfilter/ipvs/ip_vs_proto_tcp.c
(`tcp_state_name_table`, `tcp_timeouts`, `tcp_state_active_table`, `tcp_states[]`); UDP has the
single state `UDP` (ip_vs_proto_udp.c, 300 s).  `ipvsadm --set tcp tcpfin udp` changes the
ESTABLISHED, FIN_WAIT and UDP entries (ip_vs_ctl.c `ip_vs_set_timeout`; 0 = leave unchanged).
Reference §1.1 and §1.6.

A user-space full-NAT proxy never sees TCP segments, only socket events.  Each event is mapped
onto the packets the kernel would have seen for it and those packets are run through the kernel's
normal `tcp_states[]` table (INPUT = client -> director, OUTPUT = real server -> client), so the
states, timeouts and active/inactive accounting follow what IPVS would show:

| proxy event          | packets fed to tcp_states[]    | from sNO / sES        |
|----------------------|--------------------------------|-----------------------|
| CLIENT_CONNECTED     | INPUT syn                      | sNO -> SYN_RECV       |
| BACKEND_CONNECTED    | OUTPUT syn (SYN-ACK), INPUT ack| SYN_RECV -> ESTABLISHED |
| CLIENT_DATA          | INPUT ack                      | ESTABLISHED stays     |
| SERVER_DATA          | OUTPUT ack                     | ESTABLISHED stays     |
| CLIENT_EOF           | INPUT fin                      | ES -> CLOSE_WAIT      |
| SERVER_EOF           | OUTPUT fin                     | ES -> FIN_WAIT        |
| CLOSED               | INPUT fin, OUTPUT fin          | ES -> TIME_WAIT       |
| CLIENT_RESET         | INPUT rst                      | ES -> CLOSE           |
| SERVER_RESET         | OUTPUT rst                     | ES -> CLOSE           |

So a client that half-closes first goes ES -> CLOSE_WAIT (INPUT fin) -> TIME_WAIT when the
server's FIN follows (OUTPUT fin); a server that closes first goes ES -> FIN_WAIT -> TIME_WAIT;
a refused or timed-out real server is a reset from the server side (SYN_RECV -> CLOSE).  CLOSED is
the proxy closing both sides itself (FIN to the client is an OUTPUT fin, FIN to the server an
INPUT fin).  As in IPVS the entry outlives the sockets: it stays in TIME_WAIT (120 s) or CLOSE
(10 s), counted as an inactive connection, until its timer expires.
"""

from __future__ import annotations

import enum

# The state names and timeouts are values snapshots carry too: they live in the model.
from pylvs.model.conn import MAX_TIMEOUT as MAX_TIMEOUT
from pylvs.model.conn import TCP_TIMEOUTS as TCP_TIMEOUTS
from pylvs.model.conn import UDP_TIMEOUT as UDP_TIMEOUT
from pylvs.model.conn import ConnState as ConnState
from pylvs.model.conn import Timeouts as Timeouts
from pylvs.model.conn import TimeoutValueError as TimeoutValueError

NEW_CONN_TIMEOUT = 3  # ip_vs_conn_new: "cp->timeout = 3*HZ" until the protocol sets a state
TEMPLATE_REARM = 60  # ip_vs_conn_expire: a template still controlling conns lives 60 s more

# tcp_state_active_table (ip_vs_proto_tcp.c): the states counted in ActiveConn.
ACTIVE_STATES = frozenset(
    {ConnState.ESTABLISHED, ConnState.SYN_SENT, ConnState.SYN_RECV, ConnState.SYNACK}
)

# -- the kernel's normal tcp_states[] table ----------------------------------------------

_COLUMNS = (
    ConnState.NONE,
    ConnState.ESTABLISHED,
    ConnState.SYN_SENT,
    ConnState.SYN_RECV,
    ConnState.FIN_WAIT,
    ConnState.TIME_WAIT,
    ConnState.CLOSE,
    ConnState.CLOSE_WAIT,
    ConnState.LAST_ACK,
    ConnState.LISTEN,
    ConnState.SYNACK,
)

_S = {
    "NO": ConnState.NONE,
    "ES": ConnState.ESTABLISHED,
    "SS": ConnState.SYN_SENT,
    "SR": ConnState.SYN_RECV,
    "FW": ConnState.FIN_WAIT,
    "TW": ConnState.TIME_WAIT,
    "CL": ConnState.CLOSE,
    "CW": ConnState.CLOSE_WAIT,
    "LA": ConnState.LAST_ACK,
    "LI": ConnState.LISTEN,
    "SA": ConnState.SYNACK,
}


def _row(text: str) -> dict[ConnState, ConnState]:
    cells = [_S[c] for c in text.split()]
    return dict(zip(_COLUMNS, cells, strict=True))


class Direction(enum.Enum):
    INPUT = "input"  # client -> real server
    OUTPUT = "output"  # real server -> client


class Flag(enum.Enum):
    SYN = "syn"
    FIN = "fin"
    ACK = "ack"
    RST = "rst"


# Copied cell for cell from tcp_states[] (ip_vs_proto_tcp.c), columns in _COLUMNS order.
TCP_STATES: dict[tuple[Direction, Flag], dict[ConnState, ConnState]] = {
    (Direction.INPUT, Flag.SYN): _row("SR ES ES SR SR SR SR SR SR SR SR"),
    (Direction.INPUT, Flag.FIN): _row("CL CW SS TW TW TW CL CW LA LI TW"),
    (Direction.INPUT, Flag.ACK): _row("ES ES SS ES FW TW CL CW CL LI ES"),
    (Direction.INPUT, Flag.RST): _row("CL CL CL SR CL CL CL CL LA LI SR"),
    (Direction.OUTPUT, Flag.SYN): _row("SS ES SS SR SS SS SS SS SS LI SR"),
    (Direction.OUTPUT, Flag.FIN): _row("TW FW SS TW FW TW CL TW LA LI TW"),
    (Direction.OUTPUT, Flag.ACK): _row("ES ES SS ES FW TW CL CW LA ES ES"),
    (Direction.OUTPUT, Flag.RST): _row("CL CL SS CL CL TW CL CL CL CL CL"),
}


def tcp_next(state: ConnState, direction: Direction, flag: Flag) -> ConnState:
    """The kernel's next state for one packet of class `flag` seen in `direction`."""
    return TCP_STATES[(direction, flag)][state]


class TcpEvent(enum.Enum):
    """What a full-NAT proxy observes on one relayed TCP connection."""

    __hash__ = object.__hash__  # identity hash, as for ConnState

    CLIENT_CONNECTED = "client-connected"
    BACKEND_CONNECTED = "backend-connected"
    CLIENT_DATA = "client-data"
    SERVER_DATA = "server-data"
    CLIENT_EOF = "client-eof"
    SERVER_EOF = "server-eof"
    CLOSED = "closed"
    CLIENT_RESET = "client-reset"
    SERVER_RESET = "server-reset"


_IN, _OUT = Direction.INPUT, Direction.OUTPUT

# The packets each event stands for (see the module docstring).
EVENT_PACKETS: dict[TcpEvent, tuple[tuple[Direction, Flag], ...]] = {
    TcpEvent.CLIENT_CONNECTED: ((_IN, Flag.SYN),),
    TcpEvent.BACKEND_CONNECTED: ((_OUT, Flag.SYN), (_IN, Flag.ACK)),
    TcpEvent.CLIENT_DATA: ((_IN, Flag.ACK),),
    TcpEvent.SERVER_DATA: ((_OUT, Flag.ACK),),
    TcpEvent.CLIENT_EOF: ((_IN, Flag.FIN),),
    TcpEvent.SERVER_EOF: ((_OUT, Flag.FIN),),
    TcpEvent.CLOSED: ((_IN, Flag.FIN), (_OUT, Flag.FIN)),
    TcpEvent.CLIENT_RESET: ((_IN, Flag.RST),),
    TcpEvent.SERVER_RESET: ((_OUT, Flag.RST),),
}


def _event_table() -> dict[tuple[ConnState, TcpEvent], ConnState]:
    table: dict[tuple[ConnState, TcpEvent], ConnState] = {}
    for event, packets in EVENT_PACKETS.items():
        for start in _COLUMNS:
            state = start
            for direction, flag in packets:
                state = tcp_next(state, direction, flag)
            table[(start, event)] = state
    return table


# Precomputed so the proxy's per-read bookkeeping is one dict lookup.
EVENT_NEXT: dict[tuple[ConnState, TcpEvent], ConnState] = _event_table()

# The same table indexed by event then state, which spares the hot path building a key tuple.
EVENT_STEPS: dict[TcpEvent, dict[ConnState, ConnState]] = {
    event: {state: EVENT_NEXT[(state, event)] for state in _COLUMNS} for event in TcpEvent
}


def tcp_event_next(state: ConnState, event: TcpEvent) -> ConnState:
    """The state after the proxy observed `event` on a connection in `state`."""
    return EVENT_NEXT[(state, event)]
