"""/proc/net/ip_vs_conn read as ipvsadm reads it (pure: text in, rows out).

The kernel writes one line per connection or template (net/netfilter/ipvs/ip_vs_conn.c
`ip_vs_conn_seq_show`): protocol name (`ip_vs_proto_name`), client, virtual and destination
address and port, state name, seconds left, and for a persistence engine's entries " NAME
DATA".  IPv4 addresses are 8 hex digits (host order of the network value), IPv6 ones the
full `%pI6` form, ports 4 hex digits.  ipvsadm's `print_conn` splits the line on white
space and prints what it found; `parse_conns` returns the same fields as `ConnEntry` rows,
skipping the title line and any line it cannot read (ipvsadm would print garbage for it;
pylvs leaves it out and counts it in `skipped`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pylvs.model.service import Address
from pylvs.proto.conntrack.states import ConnState
from pylvs.proto.conntrack.table import ConnEntry

_NAMES = {0: "IP", 17: "UDP", 6: "TCP", 132: "SCTP", 1: "ICMP", 58: "ICMPv6"}
_NUMBERS = {v: k for k, v in _NAMES.items()}
_STATES = {s.value: s for s in ConnState}


def proto_name(protocol: int) -> str:
    """ip_vs_proto_name (ip_vs_proto.c): the protocol column of /proc/net/ip_vs_conn."""
    return _NAMES.get(protocol, f"IP_{protocol}")


def proto_number(name: str) -> int | None:
    if name in _NUMBERS:
        return _NUMBERS[name]
    if name.startswith("IP_") and name[3:].isdigit():
        return int(name[3:])
    return None


def _addr(text: str) -> Address:
    if ":" in text:
        return ipaddress.IPv6Address(text)
    return ipaddress.IPv4Address(int(text, 16))


@dataclass(frozen=True, slots=True)
class ConnRows:
    rows: list[ConnEntry]
    skipped: int = 0


def _row(fields: list[str]) -> ConnEntry | None:
    if len(fields) < 9:
        return None
    proto = proto_number(fields[0])
    state = _STATES.get(fields[7])
    if proto is None or state is None:
        return None
    try:
        return ConnEntry(
            protocol=proto,
            caddr=_addr(fields[1]),
            cport=int(fields[2], 16),
            vaddr=_addr(fields[3]),
            vport=int(fields[4], 16),
            daddr=_addr(fields[5]),
            dport=int(fields[6], 16),
            state=state,
            expires=int(fields[8]),
            template=state in (ConnState.ASSURED,) or (proto == 0),
            pe_name=fields[9] if len(fields) > 9 else "",
            pe_data=fields[10] if len(fields) > 10 else "",
        )
    except ValueError:
        return None


def parse_conns(text: str) -> ConnRows:
    """The rows of /proc/net/ip_vs_conn, title line excluded, in the kernel's order."""
    rows: list[ConnEntry] = []
    skipped = 0
    for line in text.splitlines()[1:]:
        if not line.strip():
            continue
        row = _row(line.split())
        if row is None:
            skipped += 1
        else:
            rows.append(row)
    return ConnRows(rows, skipped)
