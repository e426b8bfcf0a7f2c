"""The IPVS connection sync (net/netfilter/ipvs/ip_vs_sync.c) as pure machines.

`wire` holds the protocol's values and `SyncConn`, one synced entry; `codec` builds and
parses messages of versions 0 and 1 byte for byte as the kernel does; `settings` the sync
sysctls (a daemon's own parameters are pylvs.model.syncd.SyncDaemon); `sender` the
master's rules for when an entry is sent and how messages fill; `receiver` the backup's
filters and ip_vs_proc_conn's decisions; `install` carries those out on proto/conntrack's
table; `marks` keeps the per-connection fields the kernel stores in struct ip_vs_conn.
Drivers (sockets, timers) live in pylvs.sync.
"""

from pylvs.proto.sync.codec import Builder, Decoded, Drop, decode, encode
from pylvs.proto.sync.install import TableTarget, find_dest
from pylvs.proto.sync.marks import Marks
from pylvs.proto.sync.receiver import Install, Policy, Receiver, Replace, Stats, Target, Update
from pylvs.proto.sync.sender import Sender, SendMessage
from pylvs.proto.sync.settings import Sysctls
from pylvs.proto.sync.wire import Seq, SyncConn, SyncError, SyncMessage

__all__ = [
    "Builder",
    "Decoded",
    "Drop",
    "Install",
    "Marks",
    "Policy",
    "Receiver",
    "Replace",
    "SendMessage",
    "Sender",
    "Seq",
    "Stats",
    "SyncConn",
    "SyncError",
    "SyncMessage",
    "Sysctls",
    "TableTarget",
    "Target",
    "Update",
    "decode",
    "encode",
    "find_dest",
]
