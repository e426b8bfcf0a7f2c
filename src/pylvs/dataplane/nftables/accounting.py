"""Kernel counters and connection tables -> the IPVS numbers `ipvsadm -L/-c` prints (pure).

* Packets and bytes per dest come from the nft counters named after the dest (`in-*` for
  client -> real server, `out-*` for the replies; DR has no `out`, as IPVS-DR counts no
  outgoing packets because replies bypass the director), and new connections from `conns-*`.
  The service's numbers are the sum of its dests', which is what IPVS's per-packet updates of
  both add up to (ip_vs_core.c `ip_vs_in_stats` / `ip_vs_conn_stats`).  `-Z` is a baseline
  subtracted from the kernel's monotonic values.
* Active / inactive connections: NAT from conntrack (ESTABLISHED and the SYN states are active,
  tcp_state_active_table in ip_vs_proto_tcp.c; UDP flows are inactive), DR from the flow map
  (flows put on the tcpfin timeout after a FIN / RST are inactive).  Persistent ones are the
  clients in a dest's affinity set or persistence map.
"""

from __future__ import annotations

import ipaddress
from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pylvs.model.service import Address, ServiceKey
from pylvs.proto.conntrack.states import ACTIVE_STATES, ConnState
from pylvs.proto.conntrack.table import ConnEntry

from .conntrack import CtFlow
from .counters import CounterValue, Element
from .plan import DestPlan, Mode, ServicePlan

ZERO = CounterValue(0, 0)


@dataclass(frozen=True, slots=True)
class DestNumbers:
    conns: int = 0
    inpkts: int = 0
    inbytes: int = 0
    outpkts: int = 0
    outbytes: int = 0
    active: int = 0
    inactive: int = 0
    persistent: int = 0


def _delta(now: CounterValue, base: CounterValue) -> CounterValue:
    # A counter recreated by a restart starts again from zero: show it from there.
    if now.packets < base.packets or now.bytes < base.bytes:
        return now
    return CounterValue(now.packets - base.packets, now.bytes - base.bytes)


def counter(
    counters: Mapping[str, CounterValue], base: Mapping[str, CounterValue], name: str
) -> CounterValue:
    return _delta(counters.get(name, ZERO), base.get(name, ZERO))


def flow_counts(flows: Iterable[CtFlow]) -> dict[int, tuple[int, int]]:
    """mark -> (active, inactive) from conntrack."""
    active: Tally[int] = Tally()
    inactive: Tally[int] = Tally()
    for f in flows:
        if f.protocol == 6 and f.state in ACTIVE_STATES:
            active[f.mark] += 1
        else:
            inactive[f.mark] += 1
    return {m: (active[m], inactive[m]) for m in set(active) | set(inactive)}


def dr_flow_counts(
    plan: ServicePlan, flows: Iterable[Element], fins: Iterable[Element] = ()
) -> dict[int, tuple[int, int]]:
    """mark -> (active, inactive) from a DR flow map and its fin set (dr.py): a TCP flow is
    active unless it sent a FIN or RST (ip_vs_proto_tcp.c tcp_state_active_table), UDP never."""
    out: dict[int, tuple[int, int]] = {}
    tcp = plan.key.protocol is not None and plan.key.protocol.name == "TCP"
    closing = {e.key for e in fins}
    for e in flows:
        if not isinstance(e.value, int):
            continue
        act, inact = out.get(e.value, (0, 0))
        if tcp and e.key not in closing:
            act += 1
        else:
            inact += 1
        out[e.value] = (act, inact)
    return out


def dest_numbers(
    plan: ServicePlan,
    dest: DestPlan,
    counters: Mapping[str, CounterValue],
    base: Mapping[str, CounterValue],
    *,
    conns: Mapping[int, tuple[int, int]],
    persistent: int,
) -> DestNumbers:
    name = f"{plan.slug}/{dest.slug}"
    new = counter(counters, base, f"conns-{name}")
    cin = counter(counters, base, f"in-{name}")
    cout = counter(counters, base, f"out-{name}") if plan.mode is Mode.NAT else ZERO
    active, inactive = conns.get(dest.mark, (0, 0))
    return DestNumbers(
        new.packets, cin.packets, cin.bytes, cout.packets, cout.bytes, active, inactive, persistent
    )


def _addr(value: str | int) -> Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def template_entries(
    key: ServiceKey, dest: DestPlan, clients: Iterable[Element], protocol: int
) -> list[ConnEntry]:
    """Persistence entries as ipvsadm -c shows templates: cport 0, state NONE."""
    out = []
    vaddr = key.address if key.address is not None else ipaddress.ip_address(key.fwmark)
    for e in clients:
        caddr = _addr(e.key[0])
        if caddr is None:
            continue
        out.append(
            ConnEntry(protocol, caddr, 0, vaddr, key.port, dest.address, dest.port,
                      ConnState.NONE, e.expires, template=True, service=key)
        )  # fmt: skip
    return out


def nat_entries(
    flows: Iterable[CtFlow], owners: Mapping[int, tuple[ServiceKey, tuple[Address, int]]]
) -> list[ConnEntry]:
    out = []
    for f in flows:
        owner = owners.get(f.mark)
        if owner is None:
            continue
        out.append(
            ConnEntry(f.protocol, f.caddr, f.cport, f.vaddr, f.vport, f.daddr, f.dport,
                      f.state, f.expires, service=owner[0])
        )  # fmt: skip
    return out


def dr_entries(
    plan: ServicePlan, flows: Iterable[Element], fins: Iterable[Element] = ()
) -> list[ConnEntry]:
    """DR flow-map elements as connections (IPv4 keys carry the client; IPv6 keys are hashes);
    a TCP flow in the fin set is in FIN_WAIT."""
    key = plan.key
    assert key.address is not None and key.protocol is not None
    by_mark = {d.mark: d for d in plan.dests}
    tcp = key.protocol.name == "TCP"
    closing = {e.key for e in fins}
    out = []
    for e in flows:
        dest = by_mark.get(e.value) if isinstance(e.value, int) else None
        if dest is None or len(e.key) != 3:
            continue
        caddr = _addr(e.key[0])
        if caddr is None or not isinstance(e.key[1], int) or not isinstance(e.key[2], int):
            continue
        if tcp:
            state = ConnState.FIN_WAIT if e.key in closing else ConnState.ESTABLISHED
        else:
            state = ConnState.UDP
        out.append(
            ConnEntry(int(key.protocol), caddr, e.key[1], key.address, e.key[2], dest.address,
                      dest.port or e.key[2], state, e.expires, service=key)
        )  # fmt: skip
    return out
