"""Synced NAT connections as conntrack entries with their NAT binding (ctnetlink).

A NAT flow on this plane is a conntrack entry whose original tuple is the client's
(client:cport -> VIP:vport) and whose DNAT binding sends it to the real server; the ct mark is
the dest's mark (counters, the `gone` drop rule; nat.py).  A backup creates that entry from
a sync record, as the packet path would have after the first packet, so that after a
takeover the next packet of an open connection finds it (the nat chains are not consulted
for an entry that has its binding: nf_nat_core.c nf_nat_inet_fn) and is DNATed to the same
real server, and the real server's replies are un-NATed (the gateway is a VRRP address).

IPCTNL_MSG_CT_NEW with the original tuple, its inverse as the reply tuple (the NAT setup
rewrites it to come from the real server), CTA_NAT_DST (the real server's address and port:
ctnetlink_setup_nat -> nf_nat_setup_info, plus the null source binding), CTA_TIMEOUT (the
sender's remaining time), CTA_MARK, CTA_STATUS SEEN_REPLY|ASSURED (with CONFIRMED) and, for
TCP, the state with both directions marked "be liberal" (IP_CT_TCP_FLAG_BE_LIBERAL: the
entry has no window data; the first packets would otherwise be judged against windows it
never saw). An entry that exists is updated in place (state, timeout); a Replace deletes the
old one first (net/netfilter/nf_conntrack_netlink.c ctnetlink_new_conntrack /
ctnetlink_create_conntrack).

The conntrack timeout policies pylvs attaches to its NAT flows (nat.py, `ct timeout set`)
cannot be attached through ctnetlink: a synced entry lives on conntrack's own timeouts from
its next packet on (the tcp / udp values the sender announced hold until then).
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from pyroute2 import NFCTSocket  # type: ignore[import-untyped]
from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]
from pyroute2.netlink.nfnetlink.nfctsocket import NFCTAttrTuple  # type: ignore[import-untyped]

from pylvs.proto.conntrack.states import ConnState

from .conntrack import CtFlow

IPS_SEEN_REPLY = 1 << 1
IPS_ASSURED = 1 << 2
# The kernel compares the status given with the entry's as it will be once inserted, which
# is CONFIRMED: without that bit the create is refused (EBUSY, ctnetlink_change_status).
IPS_CONFIRMED = 1 << 3
STATUS = IPS_SEEN_REPLY | IPS_ASSURED | IPS_CONFIRMED
BE_LIBERAL = 0x08  # IP_CT_TCP_FLAG_BE_LIBERAL
# enum tcp_conntrack (include/uapi/linux/netfilter/nf_conntrack_tcp.h)
TCP_CONNTRACK = {
    ConnState.SYN_SENT: 1,
    ConnState.SYN_RECV: 2,
    ConnState.ESTABLISHED: 3,
    ConnState.FIN_WAIT: 4,
    ConnState.CLOSE_WAIT: 5,
    ConnState.LAST_ACK: 6,
    ConnState.TIME_WAIT: 7,
    ConnState.CLOSE: 8,
}


@dataclass(frozen=True, slots=True)
class CtEntry:
    """One NAT flow to create or update: `flow.expires` is the time it has left, `flow.mark`
    the dest's mark; `replace`: delete the entry under its tuple first (bound elsewhere)."""

    flow: CtFlow
    replace: bool = False

    def _tuples(self) -> tuple[NFCTAttrTuple, NFCTAttrTuple]:
        f = self.flow
        family = socket.AF_INET if f.caddr.version == 4 else socket.AF_INET6
        orig = NFCTAttrTuple(family=family, saddr=str(f.caddr), daddr=str(f.vaddr),
                             proto=f.protocol, sport=f.cport, dport=f.vport)  # fmt: skip
        # the reply tuple before NAT (the original's inverse): nf_nat_setup_info rewrites it
        # to come from the real server and marks the entry DST_NAT only when it changed it
        reply = NFCTAttrTuple(family=family, saddr=str(f.vaddr), daddr=str(f.caddr),
                              proto=f.protocol, sport=f.vport, dport=f.cport)  # fmt: skip
        return orig, reply

    def _nat(self) -> dict[str, object]:
        f = self.flow
        v = "V4" if f.daddr.version == 4 else "V6"
        return {
            "attrs": [
                [f"CTA_NAT_{v}_MINIP", str(f.daddr)],
                [f"CTA_NAT_{v}_MAXIP", str(f.daddr)],
                ["CTA_NAT_PROTO", {"attrs": [["CTA_PROTONAT_PORT_MIN", f.dport],
                                             ["CTA_PROTONAT_PORT_MAX", f.dport]]}],
            ]
        }  # fmt: skip

    def _protoinfo(self) -> dict[str, object] | None:
        if self.flow.protocol != socket.IPPROTO_TCP:
            return None
        liberal = {"value": (BE_LIBERAL, BE_LIBERAL)}
        tcp = [
            ["CTA_PROTOINFO_TCP_STATE", TCP_CONNTRACK.get(self.flow.state, 3)],
            ["CTA_PROTOINFO_TCP_FLAGS_ORIGINAL", liberal],
            ["CTA_PROTOINFO_TCP_FLAGS_REPLY", liberal],
        ]
        return {"attrs": [["CTA_PROTOINFO_TCP", {"attrs": tcp}]]}


def write_entries(entries: list[CtEntry]) -> int:
    """Create or update each entry (in a worker thread: netlink calls block); how many the
    kernel refused."""
    if not entries:
        return 0
    refused = 0
    families = {e.flow.caddr.version for e in entries}
    for version in families:
        family = socket.AF_INET if version == 4 else socket.AF_INET6
        with NFCTSocket(nfgen_family=family) as ct:
            for e in (x for x in entries if x.flow.caddr.version == version):
                if not _write_one(ct, e):
                    refused += 1
    return refused


def _write_one(ct: NFCTSocket, e: CtEntry) -> bool:
    orig, reply = e._tuples()
    info = e._protoinfo()
    try:
        if e.replace:
            try:
                ct.entry("del", tuple_orig=orig)
            except NetlinkError as exc:
                if exc.code != errno.ENOENT:
                    raise
        try:
            ct.entry("add", tuple_orig=orig, tuple_reply=reply, nat_dst=e._nat(),
                     timeout=e.flow.expires, mark=e.flow.mark, status=STATUS,
                     protoinfo=info)  # fmt: skip
        except NetlinkError as exc:
            if exc.code != errno.EEXIST:
                raise
            ct.entry("set", tuple_orig=orig, timeout=e.flow.expires, protoinfo=info)
    except NetlinkError:
        return False
    return True
