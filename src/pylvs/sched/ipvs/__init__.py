"""The kernel's IPVS schedulers (net/netfilter/ipvs/ip_vs_*.c), registered as `ipvs:<name>`.

Every scheduler module is imported here so that it registers itself.  `create` is how a data
plane makes the scheduler a virtual service names (`VirtualService.scheduler`, a bare name as
ipvsadm and keepalived spell it).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.model.service import VirtualService
from pylvs.sched import registry
from pylvs.sched.ipvs import (
    dh,
    fo,
    lblc,
    lblcr,
    lc,
    mh,
    nq,
    ovf,
    rr,
    sed,
    sh,
    twos,
    wlc,
    wrr,
)
from pylvs.sched.ipvs.base import IPVSADM_SCHEDULERS, KEEPALIVED_SCHEDULERS, Scheduler

__all__ = [
    "IPVSADM_SCHEDULERS",
    "KEEPALIVED_SCHEDULERS",
    "Scheduler",
    "create",
    "dh",
    "fo",
    "lblc",
    "lblcr",
    "lc",
    "mh",
    "names",
    "nq",
    "ovf",
    "rr",
    "scheduler_class",
    "sed",
    "sh",
    "twos",
    "wlc",
    "wrr",
]


def scheduler_class(name: str) -> type[Scheduler]:
    """The IPVS scheduler called `name` (bare or `ipvs:`); KeyError if there is none."""
    cls = registry.get(name)
    if not issubclass(cls, Scheduler):
        raise KeyError(name)
    return cls


def create(
    service: VirtualService,
    dests: Sequence[Destination] = (),
    rng: random.Random | None = None,
) -> Scheduler:
    """A scheduler for `service`, already told about `dests` (ip_vs_bind_scheduler)."""
    sched = scheduler_class(service.scheduler)(service, rng)
    sched.rebuild(dests)
    return sched


def names() -> list[str]:
    """The bare names of the IPVS schedulers, sorted."""
    return [n.partition(":")[2] for n in registry.names("ipvs")]
