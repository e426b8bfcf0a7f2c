"""Kernel counters and connection tables -> the IPVS numbers `ipvsadm -L/-c` prints (pure).

* Packets and bytes per dest come from the nft counters named after the dest (`in-*` for
  client -> real server, `out-*` for the replies; DR has no `out`, as IPVS-DR counts no
  outgoing packets because replies bypass the director), and new connections from `conns-*`.
  Each round adds what every counter counted since the previous one (`advance`) to the dest's
  and the service's numbers, as IPVS's per-packet updates add to both (ip_vs_core.c
  `ip_vs_in_stats` / `ip_vs_conn_stats`), so a service keeps what a deleted dest counted;
  `-Z` zeroes the sums.
* Active / inactive connections: NAT from conntrack (ESTABLISHED and the SYN states are active,
  tcp_state_active_table in ip_vs_proto_tcp.c; UDP flows are inactive), DR from the flow map
  (flows in the fin set, which sent a FIN / RST, are inactive).  Persistent ones are the
  clients in a dest's affinity set or persistence map.
"""

from __future__ import annotations

import ipaddress
from collections import Counter as Tally
from collections.abc import Iterable, Mapping

from pylvs.model.service import Address, ServiceKey
from pylvs.proto.conntrack.states import ACTIVE_STATES, ConnState
from pylvs.proto.conntrack.table import ConnEntry

from .conntrack import CtFlow
from .counters import CounterValue, Element
from .plan import DestPlan, ServicePlan

ZERO = CounterValue(0, 0)


def advance(
    seen: dict[str, CounterValue], counters: Mapping[str, CounterValue], name: str
) -> CounterValue:
    """What nft counter `name` counted since `seen` last held it (all of it when it is new,
    or smaller: re-created), and remember its value.  Counts are added to the runtimes'
    counters round by round, never assigned from the nft counters: a real server's counter
    goes with it when it is deleted, and the service's totals (and a server brought back from
    the trash, ip_vs_ctl.c `ip_vs_trash_get_dest`) must not lose what it counted."""
    now = counters.get(name)
    if now is None:
        return ZERO
    last = seen.get(name)
    seen[name] = now
    if last is None or now.packets < last.packets or now.bytes < last.bytes:
        return now
    return CounterValue(now.packets - last.packets, now.bytes - last.bytes)


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
