"""The kernel backup's listings in tests/data/sync (see its README), read back, and a pylvs
backup built from the same services to replay the same datagrams into.

`ipvsadm -Ln` gives the services and real servers (and ActiveConn / InActConn), `-Ln
--persistent-conn` the PersistConn counts, `-Lnc` the connection entries.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.service import (
    ForwardMethod,
    Protocol,
    RealServer,
    ServiceFlags,
    ServiceKey,
    VirtualService,
)
from pylvs.proto.conntrack import ConnTable, Timeouts
from pylvs.proto.sync import Marks, Policy, Receiver, TableTarget

METHODS = {"Masq": ForwardMethod.MASQ, "Route": ForwardMethod.ROUTE, "Tunnel": ForwardMethod.TUNNEL}
_ADDR = re.compile(r"^\[?(?P<addr>[0-9a-fA-F:.]+?)\]?:(?P<port>\d+)$")


def addr_port(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    m = _ADDR.match(text)
    assert m, text
    return ipaddress.ip_address(m["addr"]), int(m["port"])


@dataclass(frozen=True)
class Row:
    """One `ipvsadm -Lnc` line, the expiry in seconds."""

    protocol: str
    expires: int
    state: str
    source: str
    virtual: str
    destination: str


def conn_rows(lnc: str) -> list[Row]:
    rows = []
    for line in lnc.splitlines():
        parts = line.split()
        if len(parts) != 6 or parts[0] == "pro":
            continue
        minutes, seconds = parts[1].split(":")
        rows.append(Row(parts[0], int(minutes) * 60 + int(seconds), *parts[2:]))
    return rows


def services(ln: str) -> list[tuple[VirtualService, list[tuple[RealServer, int, int]]]]:
    """The services of an `ipvsadm -Ln` listing, each with (real server, active, inactive)."""
    out: list[tuple[VirtualService, list[tuple[RealServer, int, int]]]] = []
    for line in ln.splitlines():
        parts = line.split()
        if parts and parts[0] in ("TCP", "UDP", "FWM"):
            if parts[0] == "FWM":
                key = ServiceKey.mark(int(parts[1]))
            else:
                addr, port = addr_port(parts[1])
                key = ServiceKey(protocol=Protocol[parts[0]], address=addr, port=port)
            flags, timeout = ServiceFlags.NONE, 0
            if "persistent" in parts:
                flags, timeout = ServiceFlags.PERSISTENT, int(parts[parts.index("persistent") + 1])
            out.append((VirtualService(key, parts[2], flags, timeout), []))
        elif parts and parts[0] == "->" and parts[1] != "RemoteAddress:Port":
            addr, port = addr_port(parts[1])
            server = RealServer(addr, port, int(parts[3]), METHODS[parts[2]])
            out[-1][1].append((server, int(parts[4]), int(parts[5])))
    return out


def persist_counts(listing: str) -> dict[tuple[str, str], int]:
    """(service, real server) -> PersistConn, from `ipvsadm -Ln --persistent-conn`."""
    counts: dict[tuple[str, str], int] = {}
    service = ""
    for line in listing.splitlines():
        parts = line.split()
        if parts and parts[0] in ("TCP", "UDP", "FWM"):
            service = " ".join(parts[:2])
        elif parts and parts[0] == "->" and parts[1] != "RemoteAddress:Port":
            counts[(service, parts[1])] = int(parts[3])
    return counts


class Backup:
    """A pylvs backup: the services of a kernel listing, a connection table, a receiver."""

    def __init__(self, ln: str, timeouts: Timeouts, policy: Policy) -> None:
        self.runtimes: dict[ServiceKey, ServiceRuntime] = {}
        for service, dests in services(ln):
            rt = ServiceRuntime(service, 0.0)
            for server, _, _ in reversed(dests):  # -Ln lists newest first
                rt.add_dest(server, 0.0)
            self.runtimes[service.key] = rt
        self.table = ConnTable(timeouts)
        self.marks = Marks()
        self.target = TableTarget(self.table, self.runtimes.get, self.marks)
        self.receiver = Receiver(policy, self.target)

    def rows(self, now: float) -> set[tuple[str, str, str, str, str]]:
        return table_rows(self.table, now)

    def expiries(self, now: float) -> dict[tuple[str, str], int]:
        entries = self.table.entries(now)
        return {(_ap(e.caddr, e.cport), _ap(e.daddr, e.dport)): e.expires for e in entries}

    def counts(self) -> dict[tuple[str, str], tuple[int, int, int]]:
        """(service, real server) -> (active, inactive, persistent), as -Ln names them."""
        out = {}
        for key, rt in self.runtimes.items():
            if key.is_fwmark:
                name = f"FWM {key.fwmark}"
            else:
                assert key.protocol is not None and key.address is not None
                name = f"{key.protocol.name} {_ap(key.address, key.port)}"
            for d in rt.dests:
                out[(name, _ap(d.address, d.port))] = (
                    d.activeconns,
                    d.inactconns,
                    d.persistconns,
                )
        return out


def table_rows(table: ConnTable, now: float) -> set[tuple[str, str, str, str, str]]:
    """A pylvs table as -Lnc rows without the expiry."""
    out = set()
    for e in table.entries(now):
        proto = {6: "TCP", 17: "UDP", 132: "SCTP"}.get(e.protocol, "IP")
        out.add(
            (
                proto,
                e.state.value,
                _ap(e.caddr, e.cport),
                _ap(e.vaddr, e.vport),
                _ap(e.daddr, e.dport),
            )
        )
    return out


def kernel_counts(ln: str, persistent: str) -> dict[tuple[str, str], tuple[int, int, int]]:
    persist = persist_counts(persistent)
    out = {}
    service = ""
    for line in ln.splitlines():
        parts = line.split()
        if parts and parts[0] in ("TCP", "UDP", "FWM"):
            service = " ".join(parts[:2])
        elif parts and parts[0] == "->" and parts[1] != "RemoteAddress:Port":
            out[(service, parts[1])] = (int(parts[4]), int(parts[5]), persist[(service, parts[1])])
    return out


def kernel_rows(lnc: str) -> set[tuple[str, str, str, str, str]]:
    return {(r.protocol, r.state, r.source, r.virtual, r.destination) for r in conn_rows(lnc)}


def _ap(addr: object, port: int) -> str:
    a = ipaddress.ip_address(str(addr))
    return f"[{a}]:{port}" if a.version == 6 else f"{a}:{port}"
