"""The weight-proportional slot tables a new flow is mapped onto in the kernel path.

Each scheduler becomes a `Pick` (plan.py): N slots, each owned by a destination's mark, and
the packet path maps `numgen inc mod N` (rr, wrr and the re-weighted connection-counting ones)
or `jhash <fields> mod N` (sh, dh, mh) onto them, as nftlb does (`run_farm_rules_gen_sched`,
peers.md §2.1).  Pure: the tables come from the scheduler objects of pylvs.sched.ipvs, nothing of
their algorithms is redone here.

* rr: one slot per usable dest (the kernel's rr ignores the weight value, ip_vs_rr.c).
* wrr: weight / gcd slots per usable dest, in list order (ip_vs_wrr.c proportions).
* sh, dh: the 256-bucket table of SourceHashing / DestinationHashing (ip_vs_sh.c, ip_vs_dh.c).
* mh: the M = 4093 slot Maglev table of MaglevHashing (ip_vs_mh.c).
  The kernel hashes flows into these tables with jhash, not the IPVS hashes: the table (who
  owns how much, and what moves when a dest changes) is the kernel's, the flow -> slot
  function is not.  A slot whose owner cannot take new flows is a drop, or with sh-fallback /
  mh-fallback (SCHED1) goes to the next usable owner after it in the table (the kernel probes
  re-hashed slots; this is the closest fixed-table equivalent).
* fo: every slot to the dest FailOver picks.
* lc, wlc, sed, nq, lblc, lblcr, ovf, twos: `reweight` runs the real scheduler over copies of
  the dests carrying the live conntrack counts for `horizon` imaginary new connections, each
  bound as active; how many each dest got are its slots until the next refresh.  This is an
  approximation (new flows inside one interval do not see each other); tests measure its error.

"Usable" is the kernel's rule for new flows: available, weight > 0, not overloaded
(ip_vs_*.c), plus `reachable` (DR: the MAC is known).  Quiesced dests get no slots; their
established flows keep going through conntrack (NAT) or the flow map (DR).
"""

from __future__ import annotations

import ipaddress
import math
import random
from collections.abc import Callable, Sequence

from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.dest import Destination
from pylvs.model.service import ServiceFlags
from pylvs.sched import ipvs
from pylvs.sched.base import Flow
from pylvs.sched.ipvs.dh import DestinationHashing
from pylvs.sched.ipvs.mh import MaglevHashing
from pylvs.sched.ipvs.sh import SourceHashing

from .plan import NO_PICK, Pick, PickKind

Marks = Callable[[Destination], int]
Reachable = Callable[[Destination], bool]

COUNTING = frozenset({"lc", "wlc", "sed", "nq", "lblc", "lblcr", "ovf", "twos"})
HASHING = frozenset({"sh", "dh", "mh"})
KERNEL_SCHEDULERS = frozenset({"rr", "wrr", "fo"}) | HASHING | COUNTING

MIN_HORIZON_PER_DEST = 4  # slots per dest at least, so a new dest is not starved by rounding
MAX_HORIZON = 1024


def usable(dest: Destination) -> bool:
    return dest.available and dest.weight > 0 and not dest.overloaded


def ranges(owners: Sequence[int]) -> tuple[tuple[int, int, int], ...]:
    """Compress a slot table into (first, last, mark) runs."""
    out: list[tuple[int, int, int]] = []
    for i, mark in enumerate(owners):
        if out and out[-1][2] == mark and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i, mark)
        else:
            out.append((i, i, mark))
    return tuple(out)


def proportional(weights: Sequence[tuple[int, int]]) -> Pick:
    """numgen slots from (mark, slots) pairs in list order; no positive share -> NO_PICK."""
    owners: list[int] = []
    for mark, count in weights:
        owners.extend([mark] * count)
    if not owners:
        return NO_PICK
    return Pick(PickKind.NUMGEN, len(owners), ranges(owners))


def hash_fields(rt: ServiceRuntime) -> tuple[str, ...]:
    name = rt.service.scheduler
    if name == "dh":
        return ("daddr",)
    port = bool(rt.service.flags & ServiceFlags.SCHED2)
    return ("saddr", "sport") if port else ("saddr",)


def table_pick(rt: ServiceRuntime, marks: Marks, ok: Callable[[Destination], bool]) -> Pick:
    """sh / dh / mh: the scheduler's own bucket table, unusable owners dropped or skipped."""
    sched = rt.scheduler
    table: Sequence[Destination | None]
    if isinstance(sched, SourceHashing | DestinationHashing):
        table = sched.buckets
    elif isinstance(sched, MaglevHashing):
        table = sched.table
    else:
        raise TypeError(f"{rt.service.scheduler} has no bucket table")
    owners = [marks(d) if d is not None and ok(d) else 0 for d in table]
    if not any(owners):
        return NO_PICK
    fallback = rt.service.scheduler != "dh" and bool(rt.service.flags & ServiceFlags.SCHED1)
    if fallback:
        size = len(owners)
        fixed = list(owners)
        for i in range(size):
            j = i
            while fixed[i] == 0:
                j = (j + 1) % size
                fixed[i] = owners[j]
        owners = fixed
    return Pick(PickKind.HASH, len(owners), ranges(owners), hash_fields(rt))


def horizon(n_dests: int, cps: float, interval: float) -> int:
    """How many new connections one re-weighting should plan for."""
    want = math.ceil(max(0.0, cps) * interval)
    return max(MIN_HORIZON_PER_DEST * max(1, n_dests), min(MAX_HORIZON, want))


def _copy(dest: Destination) -> Destination:
    twin = Destination(dest.config)
    twin.weight = dest.weight
    twin.last_weight = dest.last_weight
    twin.activeconns = dest.activeconns
    twin.inactconns = dest.inactconns
    twin.persistconns = dest.persistconns
    twin.overloaded = dest.overloaded
    return twin


def reweight(
    rt: ServiceRuntime, marks: Marks, ok: Callable[[Destination], bool], slots: int, seed: int = 0
) -> Pick:
    """Slots for a connection-counting scheduler from the live counts (see module doc).

    The slots hold the scheduler's next `slots` picks *in pick order*: every re-render restarts
    `numgen inc` at slot 0, so slot 0 must be the pick the exact scheduler would make next
    (grouping each server's slots together biased new flows towards the first one).
    """
    live = [d for d in rt.dests if d.available and ok(d)]
    twins = [_copy(d) for d in live]
    # twos draws random numbers: a fixed seed would make every round draw the same ones.
    rng = (
        rt.rng if rt.rng is not None else random.Random(hash((seed, *(d.overhead() for d in live))))
    )
    sched = ipvs.create(rt.service, twins, rng)
    key = rt.service.key
    vaddr = key.address if key.address is not None else ipaddress.IPv4Address(0)
    flow = Flow(vaddr, 0, vaddr, key.port, int(key.protocol or 0))
    index = {id(t): i for i, t in enumerate(twins)}
    owners: list[int] = []
    for _ in range(slots):
        twin = sched.pick(twins, flow, 0.0)
        if twin is None:
            break
        owners.append(marks(live[index[id(twin)]]))
        twin.bind(active=True)
    return Pick(PickKind.NUMGEN, len(owners), ranges(owners)) if owners else NO_PICK


def compute_pick(
    rt: ServiceRuntime,
    marks: Marks,
    reachable: Reachable = lambda d: True,
    *,
    slots: int | None = None,
    seed: int = 0,
) -> Pick:
    """The Pick for `rt`'s scheduler over its dests in list order."""
    name = rt.service.scheduler
    dests = rt.dests

    def ok(d: Destination) -> bool:
        return usable(d) and reachable(d)

    if name == "rr":
        return proportional([(marks(d), 1) for d in dests if ok(d)])
    if name == "wrr":
        good = [d for d in dests if ok(d)]
        g = math.gcd(*(d.weight for d in good)) if good else 1
        return proportional([(marks(d), d.weight // g) for d in good])
    if name == "fo":
        chosen = rt.scheduler.pick([d for d in dests if ok(d)], _any_flow(rt), 0.0)
        return NO_PICK if chosen is None else proportional([(marks(chosen), 1)])
    if name in HASHING:
        return table_pick(rt, marks, ok)
    if name in COUNTING:
        n = slots if slots is not None else horizon(len(dests), 0.0, 1.0)
        return reweight(rt, marks, ok, n, seed)
    raise ValueError(f"scheduler {name} has no kernel mapping")


def _any_flow(rt: ServiceRuntime) -> Flow:
    key = rt.service.key
    vaddr = key.address if key.address is not None else ipaddress.IPv4Address(0)
    return Flow(vaddr, 0, vaddr, key.port, int(key.protocol or 0))
