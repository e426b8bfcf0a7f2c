"""The IPVS sync protocol's values: flags, states, option types, and one synced entry.

Numbers come from include/uapi/linux/ip_vs.h (the IP_VS_CONN_F_* flags and the masks the
backup applies), net/netfilter/ipvs/ip_vs_sync.c (message and record layouts, option
types, the group 224.0.0.81 and port 8848), include/net/ip_vs.h (the state numbers:
IP_VS_TCP_S_*, IP_VS_SCTP_S_*, IP_VS_CTPL_S_*) and ip_vs_proto_*.c (how many states each
protocol has, which is what a backup checks a received state against).  Reference §1.9.

`SyncConn` is one record as it travels: the sender's flags, state number and timeout
exactly as the kernel writes them, the three address/port pairs, and the optional
sequence-adjust data and persistence-engine data.  An invalid one cannot be built.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.model.service import Address
from pylvs.model.syncd import SYNC_GROUP_V4 as SYNC_GROUP_V4
from pylvs.model.syncd import SYNC_PORT as SYNC_PORT

SYNC_PROTO_VER = 1

# -- connection flags (include/uapi/linux/ip_vs.h) --------------------------------------
F_FWD_MASK = 0x0007
F_MASQ = 0x0000
F_LOCALNODE = 0x0001
F_TUNNEL = 0x0002
F_DROUTE = 0x0003
F_BYPASS = 0x0004
F_SYNC = 0x0020  # entry created by sync
F_HASHED = 0x0040
F_NOOUTPUT = 0x0080
F_INACTIVE = 0x0100  # not established
F_OUT_SEQ = 0x0200
F_IN_SEQ = 0x0400
F_SEQ_MASK = 0x0600
F_NO_CPORT = 0x0800
F_TEMPLATE = 0x1000
F_ONE_PACKET = 0x2000
F_NFCT = 1 << 16  # "flags that are not sent to backup server start from bit 16"
# Initial bits allowed in backup server
F_BACKUP_MASK = F_FWD_MASK | F_NOOUTPUT | F_INACTIVE | F_SEQ_MASK | F_NO_CPORT | F_TEMPLATE
# Bits allowed to update in backup server
F_BACKUP_UPD_MASK = F_INACTIVE | F_SEQ_MASK

# -- version 1 record type and options (ip_vs_sync.c) ----------------------------------
STYPE_F_INET6 = 0x01
SVER_SHIFT = 12
SVER_MASK = 0x0FFF
OPT_SEQ_DATA = 1
OPT_PE_DATA = 2
OPT_PE_NAME = 3
OPT_F_PARAM = 1 << (7 - 1)  # IPVS_OPT_F_PARAM: an option a receiver may skip
PEDATA_MAXLEN = 255  # IP_VS_PEDATA_MAXLEN
PENAME_MAXLEN = 16  # IP_VS_PENAME_MAXLEN

# -- protocols and state numbers (include/net/ip_vs.h, ip_vs_proto_*.c) ----------------
IPPROTO_IP = 0  # fwmark templates
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_ESP = 50
IPPROTO_AH = 51
IPPROTO_SCTP = 132

TCP_STATE_NAMES = (
    "NONE",
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "SYNACK",
)
SCTP_STATE_NAMES = (
    "NONE",
    "INIT1",
    "INIT",
    "COOKIE_SENT",
    "COOKIE_REPLIED",
    "COOKIE_WAIT",
    "COOKIE_ECHOED",
    "ESTABLISHED",
    "SHUTDOWN_SENT",
    "SHUTDOWN_RECEIVED",
    "SHUTDOWN_ACK_SENT",
    "REJECTED",
    "CLOSED",
)
TPL_STATE_NAMES = ("NONE", "ASSURED")  # IP_VS_CTPL_S_*

TCP_S_ESTABLISHED = 1
TCP_S_FIN_WAIT = 4
TCP_S_TIME_WAIT = 5
TCP_S_CLOSE = 6
TCP_S_CLOSE_WAIT = 7
SCTP_S_ESTABLISHED = 7
SCTP_S_SHUTDOWN_SENT = 8
SCTP_S_SHUTDOWN_RECEIVED = 9
SCTP_S_SHUTDOWN_ACK_SENT = 10
SCTP_S_CLOSED = 12

# The protocols a kernel backup knows (ip_vs_proto_get) and their num_states; a state at or
# above it is refused for a connection (templates are only logged).
NUM_STATES = {
    IPPROTO_TCP: len(TCP_STATE_NAMES),
    IPPROTO_UDP: 1,  # IP_VS_UDP_S_LAST
    IPPROTO_SCTP: len(SCTP_STATE_NAMES),
    IPPROTO_AH: 1,
    IPPROTO_ESP: 1,
}

# -- record sizes -------------------------------------------------------------------------
V0_HEADER = 4  # ip_vs_sync_mesg_v0
V1_HEADER = 8  # ip_vs_sync_mesg
V0_CONN = 24  # SIMPLE_CONN_SIZE
SEQ_OPTIONS = 24  # struct ip_vs_sync_conn_options: two struct ip_vs_seq
V0_FULL_CONN = V0_CONN + SEQ_OPTIONS  # FULL_CONN_SIZE
V1_CONN4 = 36  # struct ip_vs_sync_v4
V1_CONN6 = 72  # struct ip_vs_sync_v6
MAX_CONNS = 255  # nr_conns is a u8


def state_name(protocol: int, state: int, *, template: bool) -> str:
    """The name /proc/net/ip_vs_conn prints (ip_vs_state_name), "ERR" when out of range."""
    if template:
        names: tuple[str, ...] = TPL_STATE_NAMES
    elif protocol == IPPROTO_TCP:
        names = TCP_STATE_NAMES
    elif protocol == IPPROTO_SCTP:
        names = SCTP_STATE_NAMES
    elif protocol == IPPROTO_UDP:
        names = ("UDP",)
    else:
        names = ("NONE",)
    return names[state] if 0 <= state < len(names) else "ERR"


class SyncError(ValueError):
    """A record or message that the protocol cannot carry."""


@dataclass(frozen=True, slots=True)
class Seq:
    """struct ip_vs_seq: the sequence-number adjustment of an application helper."""

    init_seq: int = 0
    delta: int = 0
    previous_delta: int = 0

    def __post_init__(self) -> None:
        for value in (self.init_seq, self.delta, self.previous_delta):
            if not 0 <= value <= 0xFFFFFFFF:
                raise SyncError(f"sequence value {value} does not fit 32 bits")


@dataclass(frozen=True, slots=True)
class SyncConn:
    """One synced connection or template (struct ip_vs_sync_v4 / _v6 / _conn_v0).

    `flags` and `state` are the wire values.  `timeout` is whole seconds (version 1 only;
    version 0 carries none and a receiver takes its own).  `seq` is (in_seq, out_seq).
    `pe_name` only travels together with `pe_data`, as the kernel sends them.
    """

    protocol: int
    caddr: Address
    cport: int
    vaddr: Address
    vport: int
    daddr: Address
    dport: int
    flags: int = 0
    state: int = 0
    timeout: int = 0
    fwmark: int = 0
    seq: tuple[Seq, Seq] | None = None
    pe_data: bytes = b""
    pe_name: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.protocol <= 255:
            raise SyncError(f"protocol {self.protocol} does not fit 8 bits")
        for port in (self.cport, self.vport, self.dport, self.state):
            if not 0 <= port <= 0xFFFF:
                raise SyncError(f"value {port} does not fit 16 bits")
        for value in (self.flags, self.timeout, self.fwmark):
            if not 0 <= value <= 0xFFFFFFFF:
                raise SyncError(f"value {value} does not fit 32 bits")
        if len({self.caddr.version, self.vaddr.version, self.daddr.version}) != 1:
            raise SyncError("the three addresses of a synced entry share one family")
        if len(self.pe_data) > PEDATA_MAXLEN or len(self.pe_name) > PENAME_MAXLEN:
            raise SyncError("persistence-engine data or name too long")
        if self.pe_name and not self.pe_data:
            raise SyncError("a persistence-engine name travels with its data")

    @property
    def af(self) -> int:
        return self.caddr.version

    @property
    def template(self) -> bool:
        return bool(self.flags & F_TEMPLATE)

    @property
    def key(self) -> tuple[int, Address, int, Address, int]:
        """What the backup looks the entry up by (ip_vs_conn_fill_param)."""
        return (self.protocol, self.caddr, self.cport, self.vaddr, self.vport)


@dataclass(frozen=True, slots=True)
class SyncMessage:
    """One datagram's content: the header's version and syncid, and its records."""

    version: int
    syncid: int
    conns: tuple[SyncConn, ...]

    def __post_init__(self) -> None:
        if self.version not in (0, 1):
            raise SyncError(f"sync version {self.version} is neither 0 nor 1")
        if not 0 <= self.syncid <= 255:
            raise SyncError(f"syncid {self.syncid} is outside 0..255")
        if len(self.conns) > MAX_CONNS:
            raise SyncError(f"at most {MAX_CONNS} entries fit one message")
