"""The IPVS side of the load-balancing interface: a scheduler bound to one virtual service.

The kernel's `struct ip_vs_scheduler` (include/net/ip_vs.h) has init_service, add_dest,
del_dest, upd_dest and schedule; here they are `rebuild`, `server_added`, `server_removed`,
`weight_changed` and `pick` of `sched.base.Balancer`.  The destination list is passed in *list
order*: newest first, because the kernel inserts a new dest at the head of `svc->destinations`
(ip_vs_ctl.c `__ip_vs_update_dest`); every "first best wins" tie-break follows that order.

IPVS has no server state besides a dest's weight and its OVERLOAD flag, both read at every
pick: a health checker quiesces a dest (weight 0) or removes it.  So `server_up` /
`server_down` are edits like `weight_changed`.  The kernel's schedulers read the connection
counters that ip_vs_bind_dest / ip_vs_unbind_dest keep on the dest, so `conn_taken` /
`conn_dropped` have nothing to do, and `avoid` is ignored (IPVS does not redispatch).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import ClassVar

from pylvs.model.dest import Destination
from pylvs.model.service import VirtualService
from pylvs.sched.base import Balancer

# ipvsadm 1.31's SCHEDULERS plus twos, which keepalived's lvs_sched accepts.
IPVSADM_SCHEDULERS = (
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
)  # fmt: skip
KEEPALIVED_SCHEDULERS = (
    "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos",
)  # fmt: skip


class Scheduler(Balancer[Destination]):
    """One IPVS scheduler instance per virtual service."""

    namespace: ClassVar[str] = "ipvs"

    def __init__(self, service: VirtualService, rng: random.Random | None = None) -> None:
        self.flags = service.flags
        self.rng = rng if rng is not None else random.Random()

    def update_service(self, service: VirtualService, dests: Sequence[Destination]) -> None:
        """The service's flags changed (`ipvsadm -E`); the scheduler itself did not."""
        self.flags = service.flags
        self.rebuild(dests)
