"""The JSON API's documents (`/api/v1/...`): a snapshot rendered as plain JSON values.

Pure: snapshot and events in, dicts out; the shapes are the schemas of web/assets/openapi.json,
which the tests hold every answer to.  A service lists its real servers as the live table has
them (weight, connections, counters, rates) joined with what health checking says of each,
plus the pool's servers that health checking keeps out of the table (a dead server without
`inhibit_on_failure`), with `in_table` false, so a dashboard shows a dead server red instead
of losing it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pylvs.model.events import Event, as_record
from pylvs.model.service import AF_INET6, ServiceFlags, ServiceKey
from pylvs.model.snapshot import (
    CheckView,
    ConnView,
    DestView,
    DirectorSnapshot,
    InstanceView,
    ServerHealth,
    ServiceView,
)
from pylvs.model.stats import CounterValues, Rates
from pylvs.web.actions import server_id, service_id

Json = dict[str, Any]


def stats(s: CounterValues) -> Json:
    return asdict(s)


def rates(r: Rates) -> Json:
    return asdict(r)


def check(c: CheckView) -> Json:
    return {
        "kind": c.kind,
        "target": c.target,
        "up": c.up,
        "last_ok": c.last_ok,
        "reason": c.reason,
        "at": c.at,
        "duration": c.duration,
        "probes_ok": c.probes_ok,
        "probes_failed": c.probes_failed,
    }


def health(h: ServerHealth | None) -> Json | None:
    if h is None:
        return None
    return {
        "name": h.name,
        "pool": h.pool,
        "alive": h.alive,
        "weight": h.weight,
        "since": h.since,
        "checks": [check(c) for c in h.checks],
    }


def _server(key: ServiceKey, d: DestView | None, h: ServerHealth | None) -> Json:
    if d is None:
        assert h is not None
        address, port = h.key
        return {
            "id": server_id(h.key), "address": str(address), "port": port, "in_table": False,
            "weight": None, "method": None, "active": 0, "inactive": 0, "persistent": 0,
            "stats": stats(CounterValues()), "rates": rates(Rates()), "health": health(h),
        }  # fmt: skip
    rs = d.config
    return {
        "id": server_id(rs.key), "address": str(rs.address), "port": rs.port, "in_table": True,
        "weight": rs.weight, "method": rs.method.value, "active": d.activeconns,
        "inactive": d.inactconns, "persistent": d.persistconns, "stats": stats(d.stats),
        "rates": rates(d.rates), "health": health(h),
    }  # fmt: skip


def service(view: ServiceView, snap: DirectorSnapshot) -> Json:
    svc = view.service
    key = svc.key
    health_of = {h.key: h for h in snap.servers if key in h.services}
    servers = [_server(key, d, health_of.get(d.config.key)) for d in reversed(view.dests)]
    present = {d.config.key for d in view.dests}
    servers += [_server(key, None, h) for k, h in health_of.items() if k not in present]
    unbound = dict(snap.unbound)
    return {
        "id": service_id(key),
        "protocol": "FWM" if key.fwmark else (key.protocol.name if key.protocol else ""),
        "address": None if key.address is None else str(key.address),
        "port": key.port,
        "fwmark": key.fwmark,
        "scheduler": svc.scheduler,
        "persistent": bool(svc.flags & ServiceFlags.PERSISTENT),
        "listening": key not in unbound,
        "stats": stats(view.stats),
        "rates": rates(view.rates),
        "servers": servers,
    }


def services(snap: DirectorSnapshot) -> Json:
    return {"services": [service(v, snap) for v in snap.table.services]}


def instance(i: InstanceView) -> Json:
    return {
        "name": i.name,
        "state": i.state,
        "vrid": i.vrid,
        "interface": i.interface,
        "family": 6 if i.family == AF_INET6 else 4,
        "priority": i.base_priority,
        "effective_priority": i.effective_priority,
        "master": None if i.master_address is None else str(i.master_address),
        "since": i.last_transition,
        "stats": dict(i.stats),
    }


def vrrp(snap: DirectorSnapshot) -> Json:
    return {"instances": [instance(i) for i in snap.vrrp]}


def checkers(snap: DirectorSnapshot) -> Json:
    return {
        "pools": [
            {"name": p.name, "quorum_up": p.quorum_up, "sorry_active": p.sorry_active}
            for p in snap.pools
        ],
        "servers": [
            {**(health(h) or {}), "id": server_id(h.key), "in_table": h.in_table,
             "services": [service_id(k) for k in h.services]}
            for h in snap.servers
        ],
    }  # fmt: skip


def connection(c: ConnView) -> Json:
    return {
        "protocol": c.protocol, "client": server_id((c.caddr, c.cport)),
        "virtual": server_id((c.vaddr, c.vport)), "server": server_id((c.daddr, c.dport)),
        "state": c.state, "expires": c.expires,
    }  # fmt: skip


def connections(rows: tuple[ConnView, ...], limit: int) -> Json:
    return {"total": len(rows), "connections": [connection(c) for c in rows[:limit]]}


def events(items: list[tuple[int, Event]], last_seq: int) -> Json:
    return {"last_seq": last_seq, "events": [as_record(n, e) for n, e in items]}


def state(
    snap: DirectorSnapshot, recent: list[tuple[int, Event]], last_seq: int, user: Json
) -> Json:
    """Everything the dashboard shows, in one answer."""
    p = snap.process
    return {
        **services(snap),
        **vrrp(snap),
        **events(recent, last_seq),
        "user": user,
        "process": None
        if p is None
        else {"version": p.version, "started": p.started, "config": p.config},
        "plane": None if snap.plane is None else snap.plane.name,
    }
