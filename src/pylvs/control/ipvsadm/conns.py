"""`ipvsadm -L -c [--persistent-conn]`: the connection table (ipvsadm.c `list_conn`,
`print_conn`), from the rows of /proc/net/ip_vs_conn (ip_vs_conn.c `ip_vs_conn_seq_show`).

The expiry is `"%02d:%02d"` of minutes and seconds (minutes may pass 99); addresses and
ports go through `addrport_to_anyname` with the row's protocol (TCP/UDP/SCTP, else none, so
`IP` template rows keep numeric ports).  With --persistent-conn the header gains
"pe name"/"pe_data" columns, and rows that carry a persistence engine's data use the long
row format; other rows keep the short one.
"""

# The printf formats of ipvsadm.c are kept as %-formats on purpose: they are the spec.
# ruff: noqa: UP031

from __future__ import annotations

from pylvs.control.ipvsadm.command import Fmt
from pylvs.control.ipvsadm.names import addrport
from pylvs.control.ipvsadm.resolver import Resolver
from pylvs.model.snapshot import ConnView

_PROTO = {"TCP": 6, "UDP": 17, "SCTP": 132}


def expire_text(seconds: int) -> str:
    return "%02d:%02d" % (seconds // 60, seconds % 60)


def conn_row(conn: ConnView, fmt: Fmt, resolver: Resolver) -> str:
    proto = _PROTO.get(conn.protocol, 0)
    cname = addrport(conn.caddr, conn.cport, proto, fmt, resolver)
    vname = addrport(conn.vaddr, conn.vport, proto, fmt, resolver)
    dname = addrport(conn.daddr, conn.dport, proto, fmt, resolver)
    expire = expire_text(conn.expires)
    if fmt & Fmt.PERSISTENTCONN and conn.pe_name:
        return "%-3s %-6s %-11s %-18s %-18s %-16s %-18s %s\n" % (
            conn.protocol, expire, conn.state, cname, vname, dname, conn.pe_name, conn.pe_data,
        )  # fmt: skip
    return "%-3s %-6s %-11s %-18s %-18s %s\n" % (
        conn.protocol, expire, conn.state, cname, vname, dname,
    )  # fmt: skip


def list_conn(conns: tuple[ConnView, ...], fmt: Fmt, resolver: Resolver) -> str:
    out = "IPVS connection entries\n"
    if fmt & Fmt.PERSISTENTCONN:
        out += "pro expire %-11s %-18s %-18s %-18s %-16s %s\n" % (
            "state", "source", "virtual", "destination", "pe name", "pe_data",
        )  # fmt: skip
    else:
        out += "pro expire %-11s %-18s %-18s %s\n" % ("state", "source", "virtual", "destination")
    for conn in conns:
        out += conn_row(conn, fmt, resolver)
    return out
