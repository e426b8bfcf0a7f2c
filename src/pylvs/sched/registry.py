"""The registry of load-balancing algorithms by namespaced name.

Names are `<namespace>:<name>`: `ipvs:wrr` (the kernel's schedulers, `sched/ipvs/`) and
`haproxy:roundrobin` (HAProxy's `balance` algorithms, `sched/haproxy/`).  A bare name is an
IPVS scheduler's, as keepalived's `lvs_sched` / `lb_algo` and `ipvsadm -s` spell them, so
`get("wrr")` is `get("ipvs:wrr")`.  Each namespace's package registers its classes when it is
imported; the lookups here import every namespace first.

How an algorithm is constructed is its family's: `sched.ipvs.create(service, dests, rng)` and
`sched.haproxy.pool.Pool(servers, params, rng)`; the registry answers which class a name means.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pylvs.sched.base import Balancer

DEFAULT_NAMESPACE = "ipvs"

B = TypeVar("B", bound=type[Balancer[Any]])

_REGISTRY: dict[str, type[Balancer[Any]]] = {}


def register(cls: B) -> B:
    """Class decorator: make `cls` available as `cls.namespace:cls.name`."""
    _REGISTRY[cls.qualified_name()] = cls
    return cls


def qualify(name: str) -> str:
    """`name` with its namespace (a bare name is an IPVS scheduler's)."""
    return name if ":" in name else f"{DEFAULT_NAMESPACE}:{name}"


def get(name: str) -> type[Balancer[Any]]:
    """The algorithm called `name` (KeyError if there is none)."""
    _load_all()
    return _REGISTRY[qualify(name)]


def names(namespace: str | None = None) -> list[str]:
    """Every registered name (qualified), or those of one namespace, sorted."""
    _load_all()
    if namespace is None:
        return sorted(_REGISTRY)
    prefix = f"{namespace}:"
    return sorted(n for n in _REGISTRY if n.startswith(prefix))


def _load_all() -> None:
    # Importing a namespace's package registers every algorithm module in it.
    import pylvs.sched.haproxy
    import pylvs.sched.ipvs  # noqa: F401
