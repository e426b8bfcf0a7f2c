"""`pylvs status`: the director at a glance, rendered from a `DirectorSnapshot` (pure).

The services and their destination counts (and why one is not listening yet), each VRRP
instance's state and priorities, then health checking: each pool's quorum, each real server's
state and weight, each checker's last result.  A real server's weight is the one in the live
table, where the operator's `pylvs ipvsadm -e ... -w N` shows (health checking's own weight
only for servers not there).
"""

from __future__ import annotations

import time

from pylvs.model.snapshot import DirectorSnapshot, InstanceView


def _when(at: float | None) -> str:
    if at is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def _since(at: float | None) -> str:
    return "-" if at is None else _when(at)


def _instance(inst: InstanceView) -> str:
    return (
        f"  VRRP ({inst.name}) vrid {inst.vrid} on {inst.interface}: {inst.state}, "
        f"priority {inst.base_priority} (effective {inst.effective_priority}), "
        f"master {inst.master_address or '-'}, since {_since(inst.last_transition)}"
    )


def render_director(snap: DirectorSnapshot) -> str:
    """The services and VRRP part."""
    services = snap.table.services
    unbound = dict(snap.unbound)
    lines = [f"pylvs director: {len(services)} virtual service(s)"]
    for view in services:
        svc = view.service
        line = f"  {svc.key} {svc.scheduler}: {len(view.dests)} dest(s)"
        if svc.key in unbound:
            line += f"; not listening: {unbound[svc.key]} (retrying)"
        lines.append(line)
    lines.extend(_instance(i) for i in snap.vrrp)
    return "\n".join(lines) + "\n"


def render_health(snap: DirectorSnapshot) -> str:
    """Each pool, its real servers and their checkers."""
    lines: list[str] = []
    for pool in snap.pools:
        sorry = ", sorry server in" if pool.sorry_active else ""
        lines.append(f"VS {pool.name}: quorum {'UP' if pool.quorum_up else 'DOWN'}{sorry}")
        for r in (r for r in snap.servers if r.pool == pool.name):
            state = "UP" if r.alive else "DOWN"
            live = snap.live_weight(r)
            weight = r.weight if live is None else live
            where = "" if r.in_table else ", not in table"
            lines.append(f"  RS {r.name}: {state}, weight {weight}{where}")
            if not r.checks:
                lines.append("    (no checker: always up)")
            for c in r.checks:
                last = "-" if c.last_ok is None else ("success" if c.last_ok else "failure")
                target = f" {c.target}" if c.target else ""
                lines.append(
                    f"    {c.kind}{target}: {'UP' if c.up else 'DOWN'}, last {last} "
                    f"at {_when(c.at)}: {c.reason or '-'}"
                )
    return "\n".join(lines) + ("\n" if lines else "")


def render(snap: DirectorSnapshot) -> str:
    return render_director(snap) + render_health(snap)
