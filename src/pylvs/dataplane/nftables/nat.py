"""NAT (Masq, Local) services: the `ip pylvs` / `ip6 pylvs` tables.

Shapes from kube-proxy's nftables mode and nftlb (peers.md §2): a verdict map keyed on
`daddr . l4proto . dport` sends the first packet of a flow (nat chains see only that one) to
the service's chain; the chain honours persistence, then maps `numgen` or `jhash` onto dest
chains; a dest chain marks the conntrack entry with the dest's mark, counts the connection and
DNATs to RIP:port (the port mapping of ipvsadm -a ... -r RIP:PORT -m).  Replies are un-NATed by
conntrack, so real servers route back through the director as in LVS-NAT (ip_vs_xmit.c
`ip_vs_nat_xmit`, reference §1).  Persistent port-0 and fwmark services keep the packet's
port, as ip_vs_sched_persist does when the packet port is not the service port; any other
service, fwmark ones included, maps it to the real server's port (`_dnat`).

Conntrack times NAT flows out as IPVS times its connections out: a `ct timeout` policy set on
the first packet of each flow gives ESTABLISHED the `--set tcp` timeout, FIN_WAIT the `tcpfin`
one and UDP flows the `udp` one (ip_vs_ctl.c `ip_vs_set_timeout` sets those three states);
without it an idle established flow would stay 5 days (nf_conntrack_proto_tcp.c
`tcp_timeouts`) and count as active for lc / wlc all that time.  The other TCP states keep
conntrack's defaults, which are IPVS's own (ip_vs_proto_tcp.c `tcp_timeouts`: SYN_RECV 60 s,
CLOSE_WAIT 60 s, LAST_ACK 30 s, TIME_WAIT 120 s, CLOSE 10 s), so the policy names only these
three.  SCTP flows keep conntrack's SCTP timeouts (`--set` does not cover SCTP).

Per-dest packets and bytes are counted in a forward-hook chain by conntrack mark and direction
(original = client -> real server = IPVS "in", reply = "out"), which is where ip_vs_in_stats /
ip_vs_out_stats count them.  That chain sees every forwarded packet, not only the first of a
flow, so it is one rule: one lookup of `ct mark . ct direction` in a map of named counters.  A
packet whose flow has no pylvs mark (or no conntrack entry) misses the map, and a missed
objref-map lookup ends the rule (net/netfilter/nft_objref.c `nft_objref_map_eval`:
NFT_BREAK), so it is not counted and goes on.  A new flow with no usable dest is dropped.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from pylvs.model.service import Protocol

from .persist import affinity_set_spec, client_key, refresh_affinity
from .plan import DestPlan, Pick, PickKind, ServicePlan, hex_mark
from .ruleset import Chain, Counter, CtTimeout, NamedSet, Table


def svc_chain(plan: ServicePlan) -> str:
    return f"svc-{plan.slug}"


def dest_chain(plan: ServicePlan, dest: DestPlan) -> str:
    return f"rs-{plan.slug}/{dest.slug}"


def affinity_set(plan: ServicePlan, dest: DestPlan) -> str:
    return f"aff-{plan.slug}/{dest.slug}"


def counter_names(prefix: str, plan: ServicePlan, dest: DestPlan) -> str:
    return f"{prefix}-{plan.slug}/{dest.slug}"


def hash_expr(fields: Sequence[str], family: str) -> str:
    parts = {"saddr": f"{family} saddr", "daddr": f"{family} daddr", "sport": "th sport"}
    return " . ".join(parts[f] for f in fields)


HASH_SEED = "0x6c76"  # fixed: a random per-rule seed would remap every flow on each re-render


def pick_expr(pick: Pick, family: str) -> str:
    if pick.kind is PickKind.NUMGEN:
        return f"numgen inc mod {pick.modulus}"
    return f"jhash {hash_expr(pick.fields, family)} mod {pick.modulus} seed {HASH_SEED}"


def slot_text(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}-{hi}"


def timeout_policies(plan: ServicePlan) -> list[CtTimeout]:
    """The conntrack timeout policies of the service's flows (a fwmark service may carry
    TCP and UDP alike: a policy for another protocol leaves a flow alone,
    nft_ct.c `nft_ct_timeout_obj_eval`)."""
    protocols = ("tcp", "udp") if plan.key.protocol is None else (_proto(plan.key.protocol),)
    out = []
    if "tcp" in protocols:
        out.append(
            CtTimeout(
                f"timeout-tcp-{plan.tcp_timeout}-{plan.fin_timeout}",
                "tcp",
                (("established", plan.tcp_timeout), ("fin_wait", plan.fin_timeout)),
            )
        )
    if "udp" in protocols:
        udp = plan.udp_timeout
        out.append(CtTimeout(f"timeout-udp-{udp}", "udp", (("unreplied", udp), ("replied", udp))))
    return out


def _dnat(plan: ServicePlan, dest: DestPlan) -> str:
    key = plan.key
    addr = str(dest.address) if plan.family == "ip" else f"[{dest.address}]"
    # ip_vs_core.c: a persistent service maps the port only for packets to its own port
    # (`ip_vs_sched_persist`: dport == svc->port && dest->port), so persistent fwmark and
    # port-0 services keep the packet's; any other maps it to the dest's port when it has one
    # (`ip_vs_schedule`: dest->port ? dest->port : vport), fwmark services included.
    persistent = bool(plan.persist_timeout)
    if dest.port == 0 or (persistent and (key.is_fwmark or key.port == 0)):
        return f"dnat to {dest.address}"
    if key.protocol is None:  # fwmark: whichever of IPVS's protocols the packet carries
        return f"meta l4proto {{ tcp, udp, sctp }} dnat to {addr}:{dest.port}"
    return f"meta l4proto {key.protocol.name.lower()} dnat to {addr}:{dest.port}"


def service_objects(
    plan: ServicePlan, timeouts: Sequence[CtTimeout] = ()
) -> tuple[list[Counter], list[NamedSet], list[Chain]]:
    counters: list[Counter] = []
    sets: list[NamedSet] = []
    chains: list[Chain] = []
    marks = {d.mark: d for d in plan.dests}
    rules: list[str] = []
    for dest in plan.dests:
        for prefix in ("conns", "in", "out"):
            counters.append(Counter(counter_names(prefix, plan, dest)))
        body = []
        if plan.persist_timeout:
            aff = affinity_set(plan, dest)
            sets.append(NamedSet(aff, "set", affinity_set_spec(plan), dynamic=True))
            body.append(refresh_affinity(plan, aff))
            if dest.sticky:
                rules.append(f"{client_key(plan)} @{aff} goto {dest_chain(plan, dest)}")
        conns = counter_names("conns", plan, dest)
        policy = "".join(f'ct timeout set "{t.name}" ' for t in timeouts)
        body.append(
            f'{policy}ct mark set {hex_mark(dest.mark)} counter name "{conns}" {_dnat(plan, dest)}'
        )
        chains.append(Chain(dest_chain(plan, dest), tuple(body)))
    pick = plan.pick
    if pick.kind is not PickKind.NONE:
        verdicts = []
        for lo, hi, mark in pick.slots:
            target = f"goto {dest_chain(plan, marks[mark])}" if mark else "drop"
            verdicts.append(f"{slot_text(lo, hi)} : {target}")
        rules.append(f"{pick_expr(pick, plan.family)} vmap {{ {', '.join(verdicts)} }}")
    rules.append("drop")
    chains.insert(0, Chain(svc_chain(plan), tuple(rules)))
    return counters, sets, chains


def _proto(protocol: Protocol | None) -> str:
    assert protocol is not None
    return protocol.name.lower()


def render_nat(
    family: str,
    plans: Sequence[ServicePlan],
    *,
    ct_timeouts: bool = True,
    gone: Collection[int] = (),
) -> Table | None:
    """The NAT table of one family, or None when it has no service.  `gone`: marks of deleted
    real servers whose flows conntrack still has; their packets are dropped, as IPVS drops the
    packets of a connection whose dest was deleted (expire_nodest_conn = 0, ip_vs_core.c
    `ip_vs_in_hook`), where conntrack would go on forwarding them.  The rule is there only
    while such flows are (the plane keeps the dest in its trash until then)."""
    plans = [p for p in plans if p.family == family]
    if not plans:
        return None
    addr = "ipv4_addr" if family == "ip" else "ipv6_addr"
    by_port: list[str] = []
    any_port: list[str] = []
    fwmarks: list[str] = []
    counters: list[Counter] = []
    sets: list[NamedSet] = []
    chains: list[Chain] = []
    ctr: list[str] = []
    timeouts: dict[str, CtTimeout] = {}
    for plan in plans:
        policies = timeout_policies(plan) if ct_timeouts else []
        for t in policies:
            timeouts.setdefault(t.name, t)
        key = plan.key
        verdict = f"goto {svc_chain(plan)}"
        if key.is_fwmark:
            fwmarks.append(f"{hex_mark(key.fwmark)} : {verdict}")
        elif key.port == 0:
            any_port.append(f"{key.address} . {_proto(key.protocol)} : {verdict}")
        else:
            by_port.append(f"{key.address} . {_proto(key.protocol)} . {key.port} : {verdict}")
        c, s, ch = service_objects(plan, policies)
        counters += c
        sets += s
        chains += ch
        for d in plan.dests:
            for direction, prefix in (("original", "in"), ("reply", "out")):
                name = counter_names(prefix, plan, d)
                ctr.append(f'{hex_mark(d.mark)} . {direction} : "{name}"')
    maps = [
        NamedSet("services", "map", (f"type {addr} . inet_proto . inet_service : verdict",),
                 tuple(by_port)),
        NamedSet("services-any", "map", (f"type {addr} . inet_proto : verdict",),
                 tuple(any_port)),
        NamedSet("fwmarks", "map", ("type mark : verdict",), tuple(fwmarks)),
        NamedSet("ctr", "map", ("type mark . ct_dir : counter",), tuple(ctr)),
    ]  # fmt: skip
    # fwmark services first, as ip_vs_ctl.c `ip_vs_service_find` looks them up first.
    dispatch = (
        "meta mark vmap @fwmarks",
        f"{family} daddr . meta l4proto . th dport vmap @services",
        f"{family} daddr . meta l4proto vmap @services-any",
    )
    count: tuple[str, ...] = ("counter name ct mark . ct direction map @ctr",)
    if gone:
        count = (f"ct mark {{ {', '.join(hex_mark(m) for m in sorted(gone))} }} drop", *count)
    base = [
        Chain("prerouting", dispatch, "type nat hook prerouting priority dstnat; policy accept;"),
        Chain("output", dispatch, "type nat hook output priority -100; policy accept;"),
        Chain("count", count, "type filter hook forward priority filter; policy accept;"),
    ]
    return Table(
        family,
        tuple(counters),
        tuple(maps + sets),
        tuple(base + chains),
        timeouts=tuple(sorted(timeouts.values(), key=lambda t: t.name)),
    )
