"""Persistence (-p / -M) in the kernel path: dynamic sets and maps keyed on the masked client.

IPVS keeps a persistence template per (masked client, service) that sends the client's new
connections to the same dest for `timeout` seconds after the last one (ip_vs_core.c
`ip_vs_sched_persist`, reference §1.5).  Here, as kube-proxy does session affinity
(peers.md §2.2):

* NAT: one dynamic set per dest, `aff-<service>/<dest>`, of masked client addresses.  The
  service chain sends a client found in a dest's set to that dest; the dest chain adds or
  refreshes the client (`update @set { key timeout Ns }`) on every new connection.  Quiesced
  dests keep their sets (the kernel honours templates of weight-0 dests while
  expire_quiescent_template is 0); a deleted dest's set goes with it.
* DR: one dynamic map per service, `persist-<service>`, masked client -> dest mark, checked
  against the set of marks that may still take persistent flows (`sticky-<service>`).

The element timeout is the service's `-p` value, refreshed by every new connection, like the
template timer.  What is not reproduced: a template that still controls connections is re-armed
for 60 s when it expires (ip_vs_conn.c `ip_vs_conn_expire`); here it expires on time and the
client's next new connection is scheduled afresh.
"""

from __future__ import annotations

import ipaddress

from .plan import ServicePlan

# Clients (masked) a persistence set or map holds within the persistence timeout.  When it is
# full a new client gets no template (its connections are scheduled afresh), but is served.
PERSIST_MAP_SIZE = 65536


def addr_expr(plan: ServicePlan, field: str = "saddr") -> str:
    """`ip saddr` / `ip6 saddr` (or daddr)."""
    return f"{plan.family} {field}"


def mask_text(family: str, prefix: int) -> str:
    bits = 32 if family == "ip" else 128
    net = ipaddress.ip_network(f"{'0.0.0.0' if bits == 32 else '::'}/{prefix}")
    return str(net.netmask)


def client_key(plan: ServicePlan) -> str:
    """The masked client address: `ip saddr & 255.255.255.0`, or `ip saddr` for a host mask."""
    host = 32 if plan.family == "ip" else 128
    base = addr_expr(plan)
    if plan.netmask >= host:
        return base
    return f"{base} & {mask_text(plan.family, plan.netmask)}"


def addr_type(plan: ServicePlan) -> str:
    return "ipv4_addr" if plan.family == "ip" else "ipv6_addr"


def affinity_set_spec(plan: ServicePlan) -> tuple[str, ...]:
    return (f"type {addr_type(plan)}", f"size {PERSIST_MAP_SIZE}", "flags dynamic,timeout")


def persist_map_spec(plan: ServicePlan) -> tuple[str, ...]:
    return (f"type {addr_type(plan)} : mark", f"size {PERSIST_MAP_SIZE}", "flags dynamic,timeout")


def refresh_affinity(plan: ServicePlan, set_name: str) -> str:
    return f"update @{set_name} {{ {client_key(plan)} timeout {plan.persist_timeout}s }}"


def refresh_persist(plan: ServicePlan, map_name: str) -> str:
    return (
        f"update @{map_name} {{ {client_key(plan)} timeout {plan.persist_timeout}s : meta mark }}"
    )
