"""sh: source hashing (+ sh-fallback, sh-port), as net/netfilter/ipvs/ip_vs_sh.c does it.

A 256-bucket table (CONFIG_IP_VS_SH_TAB_BITS = 8) is refilled on every add / delete / edit:
walking the dests in list order, each takes `weight` consecutive buckets per turn (at least one,
so a weight-0 dest still owns a bucket), round and round until all 256 are assigned.

The bucket of a packet is `(offset + (port + addr_fold(saddr)) * 2654435761) & 255`, where port
is the source port only with sh-port (IP_VS_SVC_F_SCHED2) and only for TCP, UDP and SCTP, and
offset is 0.  Without sh-fallback (IP_VS_SVC_F_SCHED1) an owner with weight <= 0 or the
overload flag means no destination.  With it, the lookup probes `roffset = (k + ihash) % 256`
for k = 0..255, hashing again with that offset, and takes the first usable owner.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.model.service import ServiceFlags, VirtualService
from pylvs.sched.base import Flow, Need
from pylvs.sched.ipvs.base import Scheduler
from pylvs.sched.ipvs.hashing import GOLDEN_PRIME, addr_fold
from pylvs.sched.registry import register

TAB_BITS = 8
TAB_SIZE = 1 << TAB_BITS
TAB_MASK = TAB_SIZE - 1

# Protocols whose first four bytes are the ports (ip_vs_sh_get_port).
PORT_PROTOCOLS = frozenset({6, 17, 132})


def sh_bucket(fold: int, port: int, offset: int = 0) -> int:
    """ip_vs_sh_hashkey for a folded address."""
    return (offset + ((port + fold) & 0xFFFFFFFF) * GOLDEN_PRIME) & TAB_MASK


def flow_port(flow: Flow, flags: ServiceFlags) -> int:
    """The port the sh / mh hashes mix in: the client port with the *-port flag (SCHED2)."""
    if flags & ServiceFlags.SCHED2 and flow.protocol in PORT_PROTOCOLS:
        return flow.client_port
    return 0


@register
class SourceHashing(Scheduler):
    name = "sh"
    need = Need.ADDRESS

    def __init__(self, service: VirtualService, rng: random.Random | None = None) -> None:
        super().__init__(service, rng)
        self.buckets: list[Destination | None] = [None] * TAB_SIZE

    def update_service(self, service: VirtualService, dests: Sequence[Destination]) -> None:
        # The table does not depend on the flags; they are read at every lookup.
        self.flags = service.flags

    def rebuild(self, dests: Sequence[Destination]) -> None:
        """ip_vs_sh_reassign."""
        if not dests:
            self.buckets = [None] * TAB_SIZE
            return
        buckets: list[Destination | None] = []
        n = len(dests)
        i = 0
        count = 0
        for _ in range(TAB_SIZE):
            dest = dests[i]
            buckets.append(dest)
            count += 1
            if count >= dest.weight:
                i = (i + 1) % n
                count = 0
        self.buckets = buckets

    def pick(
        self,
        dests: Sequence[Destination],
        flow: Flow,
        now: float,
        avoid: Destination | None = None,
    ) -> Destination | None:
        flags = self.flags
        fold = addr_fold(flow.client)
        port = flow_port(flow, flags)
        buckets = self.buckets
        ihash = sh_bucket(fold, port)
        dest = buckets[ihash]
        if dest is None:
            return None
        if dest.weight > 0 and not dest.overloaded:
            return dest
        if not flags & ServiceFlags.SCHED1:
            return None
        for offset in range(TAB_SIZE):
            dest = buckets[sh_bucket(fold, port, (offset + ihash) % TAB_SIZE)]
            if dest is None:
                return None
            if dest.weight > 0 and not dest.overloaded:
                return dest
        return None
