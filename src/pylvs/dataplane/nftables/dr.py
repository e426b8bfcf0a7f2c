"""Direct routing (Route) services: the `netdev pylvs` table.

LVS-DR forwards a packet for the VIP unchanged to the real server's MAC; the real server holds
the VIP on lo (with arp_ignore / arp_announce set, realserver.sh) and answers the client
directly (ip_vs_xmit.c `ip_vs_dr_xmit`).  Here that happens at netdev ingress, before the IP
stack, in nftlb's DSR shape (peers.md §2.1, `004_dsr_ipv4_tcp_hash`): rewrite the destination
MAC (and the source MAC to the outgoing interface's own) and `fwd to` the interface.

Netdev ingress has no conntrack, so the table keeps its own connection table, as IPVS does:
`flows-<service>` maps the flow to the dest's mark, refreshed by every packet with the
`--set` tcp / udp timeout.  A TCP flow that sent a FIN or RST joins `fin-<service>` and from
then on its packets (the bare ACKs that follow a FIN, a FIN or RST again) refresh both with the
tcpfin timeout (the INPUT-ONLY state table of ip_vs_proto_tcp.c moves it to FIN_WAIT / CLOSE
and keeps it there on ACKs), until a SYN opens the flow again (sFW + syn -> sSR: active, the
tcp timeout).  The FIN state lives in a
set of its own because the packet path cannot change an element's data or its listed
`timeout` (nft_dynset.c `nft_dynset_eval` re-arms only the expiry) nor delete from a map;
`fin-<service>` is also what the counts read: a flow in it is inactive.  Packets of a known
flow go to its dest; a flow whose dest was deleted is dropped (expire_nodest_conn = 0).
New flows check persistence, then the scheduler's slots, and are counted in `conns`; when the
flow map is full they are forwarded unrecorded, by a hash of the flow (`service_chain`).
A second level maps the mark to the MAC (`dr-macs`) and to the outgoing interface (`dr-devs`).

IPv4 flows are keyed on `saddr . sport . dport`.  IPv6 flows are keyed on a jhash of the same
fields: nft 1.0.6 aborts (netlink_linearize.c assertion) on a dynamic update keyed on an IPv6
concatenation; a hash collision only makes two flows share a dest, it never splits one.
"""

from __future__ import annotations

from collections.abc import Sequence

from .nat import pick_expr, slot_text
from .persist import client_key, persist_map_spec, refresh_persist
from .plan import DestPlan, Pick, PickKind, ServicePlan, hex_mark
from .ruleset import Chain, Counter, NamedSet, Table

FLOW_HASH_SEED = "0x6c7666"
# Flows the map can hold.  A flow stays for the tcp timeout while it lives and the tcpfin one
# after its FIN (120 s by default), so 2^20 entries last at ~8,700 new connections/s
# sustained.  The kernel sizes the map's first hash table from it (nft_rhash_init:
# nelem_hint = size, ~16 MB of buckets here), so it is not made larger by default.  A flow that
# finds the map full is not dropped: see `service_chain`.
FLOW_MAP_SIZE = 1 << 20


def svc_chain(plan: ServicePlan) -> str:
    return f"svc-{plan.slug}"


def flow_key(plan: ServicePlan) -> str:
    if plan.family == "ip":
        return "ip saddr . th sport . th dport"
    return f"jhash ip6 saddr . th sport . th dport mod 4294967295 seed {FLOW_HASH_SEED}"


def flow_map_spec(plan: ServicePlan, *, to_mark: bool = True) -> tuple[str, ...]:
    """The flow map (flow -> mark), or with `to_mark` False the fin set of the same flows."""
    if plan.family == "ip":
        kind = "type ipv4_addr . inet_service . inet_service" + (" : mark" if to_mark else "")
    else:
        kind = "typeof numgen inc mod 2" + (" : meta mark" if to_mark else "")
    return (kind, f"size {FLOW_MAP_SIZE}", "flags dynamic,timeout")


def fin_set(plan: ServicePlan) -> str:
    """TCP flows of the service that sent a FIN or RST (FIN_WAIT, inactive)."""
    return f"fin-{plan.slug}"


def known_chain(plan: ServicePlan) -> str:
    return f"known-{plan.slug}"


def counter_name(prefix: str, plan: ServicePlan, dest: DestPlan) -> str:
    return f"{prefix}-{plan.slug}/{dest.slug}"


def full_counter(plan: ServicePlan) -> str:
    """Packets of flows the full flow map could not record (see `service_chain`)."""
    return f"full-{plan.slug}"


def _update_flow(plan: ServicePlan, flows: str, timeout: int) -> str:
    return f"update @{flows} {{ {flow_key(plan)} timeout {timeout}s : meta mark }}"


def service_chain(plan: ServicePlan) -> tuple[list[NamedSet], list[Chain]]:
    """The service's chain (known flows, then new ones) and, when persistent, the chains that
    record the client's template."""
    flows = f"flows-{plan.slug}"
    sets = [NamedSet(flows, "map", flow_map_spec(plan), dynamic=True)]
    known = f"meta mark set {flow_key(plan)} map @{flows}"
    live = _update_flow(plan, flows, plan.flow_timeout)
    rules = []
    extra: list[Chain] = []
    if plan.key.protocol is not None and plan.key.protocol.name == "TCP":
        fins, key = fin_set(plan), flow_key(plan)
        sets.append(NamedSet(fins, "set", flow_map_spec(plan, to_mark=False), dynamic=True))
        closing = _update_flow(plan, flows, plan.fin_timeout)
        fin = f"update @{fins} {{ {key} timeout {plan.fin_timeout}s }}"
        rules.append(f"{known} goto {known_chain(plan)}")
        extra.append(
            Chain(
                known_chain(plan),
                (
                    f"tcp flags & (syn | ack) == syn delete @{fins} {{ {key} }} {live} goto dr-out",
                    # After its FIN a client sends bare ACKs only (a FIN or RST again is the
                    # next rule's), so only those look the fin set up: data packets, the
                    # bulk of an established flow's, skip that lookup.
                    f"tcp flags == ack {key} @{fins} {fin} {closing} goto dr-out",
                    f"tcp flags & (fin | rst) != 0 {fin} {closing} goto dr-out",
                    # Also where a full fin set could not take the flow: forwarded all the same.
                    f"{live} goto dr-out",
                ),
            )
        )
    else:
        rules.append(f"{known} {live} goto dr-out")
    new_flow = live
    # Where a new flow goes once its dest is in the mark: counted (dr-new) when the flow map
    # recorded it, not counted (dr-out) when the map was full (below).
    recorded, unrecorded = "goto dr-new", "goto dr-out"
    if plan.persist_timeout:
        pmap = f"persist-{plan.slug}"
        sticky = f"sticky-{plan.slug}"
        sets.append(NamedSet(pmap, "map", persist_map_spec(plan), dynamic=True))
        marks = tuple(hex_mark(d.mark) for d in plan.dests if d.sticky and d.mac)
        sets.append(NamedSet(sticky, "set", ("type mark",), marks))
        # The template is added or re-armed in a rule of its own: when the persistence map
        # is full, adding a new client fails (the rule breaks) and the flow goes on without
        # a template instead of being dropped.
        refresh = refresh_persist(plan, pmap)
        for target, verdict in ((f"remember-{plan.slug}", recorded),
                                (f"remember-full-{plan.slug}", unrecorded)):  # fmt: skip
            extra.append(Chain(target, (f"{refresh} {verdict}", verdict)))
        recorded = f"goto remember-{plan.slug}"
        unrecorded = f"goto remember-full-{plan.slug}"
        rules.append(
            f"meta mark set {client_key(plan)} map @{pmap} meta mark @{sticky} "
            f"{new_flow} {recorded}"
        )
    pick = plan.pick
    slots = "{ " + ", ".join(
        f"{slot_text(lo, hi)} : {hex_mark(m)}" for lo, hi, m in pick.slots if m
    ) + " }"  # fmt: skip
    if pick.kind is not PickKind.NONE:
        rules.append(
            f"meta mark set {pick_expr(pick, plan.family)} map {slots} {new_flow} {recorded}"
        )
    # The flow map is full (FLOW_MAP_SIZE): `update` cannot add the flow, so the rules above
    # stop there (nft_dynset_eval breaks) and the packet would reach `drop`.  IPVS's table
    # has no such limit, so rather than refuse the connection, forward it unrecorded: every
    # packet of such a flow comes this way, so it goes to a dest picked by a hash of the flow
    # itself (the same weight-proportional slots, or the service's own hash), which keeps
    # the flow on one real server; a persistent client keeps its template.  Counted in
    # `full-<service>` (the plane warns when it grows), not as connections.
    full = f'counter name "{full_counter(plan)}"'
    if plan.persist_timeout:
        rules.append(
            f"meta mark set {client_key(plan)} map @{pmap} meta mark @{sticky} {full} {unrecorded}"
        )
    if pick.kind is not PickKind.NONE:
        spread = pick
        if pick.kind is PickKind.NUMGEN:
            spread = Pick(PickKind.HASH, pick.modulus, pick.slots, ("saddr", "sport"))
        rules.append(
            f"meta mark set {pick_expr(spread, plan.family)} map {slots} {full} {unrecorded}"
        )
    rules.append("drop")
    return sets, [Chain(svc_chain(plan), tuple(rules)), *extra]


def render_dr(plans: Sequence[ServicePlan], ingress: Sequence[str]) -> Table | None:
    """The netdev table for the DR services, hooked on the `ingress` interfaces."""
    if not plans:
        return None
    counters: list[Counter] = []
    sets: list[NamedSet] = []
    chains: list[Chain] = []
    v4: list[str] = []
    v6: list[str] = []
    v4_any: list[str] = []
    v6_any: list[str] = []
    macs: list[str] = []
    devs: list[str] = []
    ins: list[str] = []
    conns: list[str] = []
    out_devs: dict[str, str] = {}
    for plan in plans:
        key = plan.key
        assert key.protocol is not None and key.address is not None
        proto = key.protocol.name.lower()
        verdict = f"goto {svc_chain(plan)}"
        if key.port:
            (v4 if plan.family == "ip" else v6).append(
                f"{key.address} . {proto} . {key.port} : {verdict}"
            )
        else:
            (v4_any if plan.family == "ip" else v6_any).append(
                f"{key.address} . {proto} : {verdict}"
            )
        s, service_chains = service_chain(plan)
        sets += s
        chains += service_chains
        counters.append(Counter(full_counter(plan)))
        for d in plan.dests:
            mark = hex_mark(d.mark)
            counters += [
                Counter(counter_name("conns", plan, d)),
                Counter(counter_name("in", plan, d)),
            ]
            ins.append(f'{mark} : "{counter_name("in", plan, d)}"')
            conns.append(f'{mark} : "{counter_name("conns", plan, d)}"')
            if d.mac and d.device:
                macs.append(f"{mark} : {d.mac}")
                devs.append(f"{mark} : goto out-{d.device}")
                out_devs[d.device] = d.device_mac
    maps = [
        NamedSet("services4", "map",
                 ("type ipv4_addr . inet_proto . inet_service : verdict",), tuple(v4)),
        NamedSet("services6", "map",
                 ("type ipv6_addr . inet_proto . inet_service : verdict",), tuple(v6)),
        NamedSet("services4-any", "map", ("type ipv4_addr . inet_proto : verdict",),
                 tuple(v4_any)),
        NamedSet("services6-any", "map", ("type ipv6_addr . inet_proto : verdict",),
                 tuple(v6_any)),
        NamedSet("dr-macs", "map", ("type mark : ether_addr",), tuple(macs)),
        NamedSet("dr-devs", "map", ("type mark : verdict",), tuple(devs)),
        NamedSet("dr-in", "map", ("type mark : counter",), tuple(ins)),
        NamedSet("dr-conns", "map", ("type mark : counter",), tuple(conns)),
    ]  # fmt: skip
    # Only frames addressed to this director are its work: IPVS sees packets the host
    # received, never frames a switch flooded to every port (e.g. for a dead peer's MAC).
    dispatch = (
        "meta pkttype != host accept",
        "ip daddr . ip protocol . th dport vmap @services4",
        "ip daddr . ip protocol vmap @services4-any",
        "ip6 daddr . ip6 nexthdr . th dport vmap @services6",
        "ip6 daddr . ip6 nexthdr vmap @services6-any",
    )
    base = [
        Chain(f"ingress-{dev}", dispatch,
              f'type filter hook ingress device "{dev}" priority 0; policy accept;')
        for dev in sorted(set(ingress))
    ]  # fmt: skip
    common = [
        Chain("dr-new", ("counter name meta mark map @dr-conns goto dr-out", "drop")),
        Chain("dr-out", ("counter name meta mark map @dr-in meta mark vmap @dr-devs", "drop")),
    ]
    outs = [
        Chain(
            f"out-{dev}",
            (f'ether saddr set {mac} ether daddr set meta mark map @dr-macs fwd to "{dev}"',
             "drop"),
        )
        for dev, mac in sorted(out_devs.items())
    ]  # fmt: skip
    return Table(
        "netdev", tuple(counters), tuple(maps + sets), tuple(base + common + chains + outs)
    )
