"""The scheduler interface and the registry of schedulers by name.

A scheduler is bound to one virtual service.  Like the kernel's `struct ip_vs_scheduler`
(include/net/ip_vs.h: init_service, add_dest, del_dest, upd_dest, schedule) and HAProxy's
`lb_ops`, it is told about every change of the destination list and keeps incremental state,
so `schedule()` does not rebuild anything.  The destination list is passed in *list order*:
newest first, because the kernel inserts a new dest at the head of `svc->destinations`
(ip_vs_ctl.c `__ip_vs_update_dest`); every "first best wins" tie-break follows that order.

Schedulers are pure: they never read the clock (`now` is passed in) and take randomness from
the `random.Random` they are given, so tests are deterministic.
"""

from __future__ import annotations

import abc
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from pylvs.model.dest import Destination
from pylvs.model.service import Address, ServiceFlags, VirtualService


@dataclass(frozen=True, slots=True)
class Flow:
    """What a scheduler may look at in the first packet of a new connection."""

    client: Address  # source address (sh, mh hash it)
    client_port: int  # source port (sh-port, mh-port)
    vaddr: Address  # destination address of the packet (lblc, lblcr, dh hash it)
    vport: int
    protocol: int = 6


class Scheduler(abc.ABC):
    """One scheduler instance per virtual service."""

    name: ClassVar[str]

    def __init__(self, service: VirtualService, rng: random.Random | None = None) -> None:
        self.flags = service.flags
        self.rng = rng if rng is not None else random.Random()

    def update_service(self, service: VirtualService, dests: Sequence[Destination]) -> None:
        """The service's flags changed (`ipvsadm -E`); the scheduler itself did not."""
        self.flags = service.flags
        self.rebuild(dests)

    def rebuild(self, dests: Sequence[Destination]) -> None:  # noqa: B027 - optional hook
        """Recompute derived state (tables, gcd, ...) from the whole list."""

    def add_dest(self, dests: Sequence[Destination], dest: Destination) -> None:
        """`dest` was inserted at the head of `dests` (already in the list)."""
        self.rebuild(dests)

    def del_dest(self, dests: Sequence[Destination], dest: Destination, index: int) -> None:
        """`dest`, which was at `index`, was removed (no longer in `dests`)."""
        self.rebuild(dests)

    def upd_dest(self, dests: Sequence[Destination], dest: Destination) -> None:
        """`dest`'s weight or thresholds were edited."""
        self.rebuild(dests)

    @abc.abstractmethod
    def schedule(self, dests: Sequence[Destination], flow: Flow, now: float) -> Destination | None:
        """The destination for a new connection, or None ("no destination available")."""


SchedulerFactory = Callable[[VirtualService, random.Random | None], Scheduler]

_REGISTRY: dict[str, type[Scheduler]] = {}

# ipvsadm 1.31's SCHEDULERS plus twos, which keepalived's lvs_sched accepts.
IPVSADM_SCHEDULERS = (
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
)  # fmt: skip
KEEPALIVED_SCHEDULERS = (
    "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos",
)  # fmt: skip


def register(cls: type[Scheduler]) -> type[Scheduler]:
    """Class decorator: make `cls` available under `cls.name`."""
    _REGISTRY[cls.name] = cls
    return cls


def names() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def get(name: str) -> type[Scheduler]:
    """The scheduler class called `name` (KeyError if there is none)."""
    _load_all()
    return _REGISTRY[name]


def create(
    service: VirtualService,
    dests: Sequence[Destination] = (),
    rng: random.Random | None = None,
) -> Scheduler:
    """A scheduler for `service`, already told about `dests`."""
    sched = get(service.scheduler)(service, rng)
    sched.rebuild(dests)
    return sched


def has_flag(flags: ServiceFlags, flag: ServiceFlags) -> bool:
    return bool(flags & flag)


def _load_all() -> None:
    # Importing the package registers every scheduler module (pylvs/sched/__init__.py).
    import pylvs.sched  # noqa: F401
