"""The per-service cache of lblc / lblcr and its garbage collection, driven by `now`.

Both net/netfilter/ipvs/ip_vs_lblc.c and ip_vs_lblcr.c keep a table of entries keyed by the
packet's destination address, in 1024 buckets (`hash_32(addr_fold, 10)`), and run a timer every
CHECK_EXPIRE_INTERVAL = 60 s (first 60 s after the scheduler is set up):

* every COUNT_FOR_FULL_EXPIRATION = 30th run (`counter % 30 == 0`, counter starting at 1) a
  full pass over all buckets deletes entries unused for the expiration sysctl
  (`lblc_expiration` / `lblcr_expiration`, default 24 h), then `counter = 1`;
* otherwise, if there are no more than max_size = 16384 entries, `counter += 1`;
* otherwise entries unused for ENTRY_TIMEOUT = 6 min are deleted bucket by bucket starting
  after the `rover` bucket, until `goal = min((entries - max_size) * 4 / 3, max_size / 2)`
  have gone (checked after each whole bucket); the rover stays where it stopped.

The timer is replayed lazily: before each lookup every run due at or before `now` is done, at
its own time.  The clock starts at `now` given to the constructor, or at the first lookup.
While the table is empty the runs can only move the counter, so they are skipped in one step.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

from pylvs.model.dest import Destination
from pylvs.model.service import VirtualService
from pylvs.sched.ipvs.base import Scheduler
from pylvs.sched.ipvs.hashing import Address, addr_fold, hash_32

CHECK_EXPIRE_INTERVAL = 60.0
ENTRY_TIMEOUT = 6 * 60.0
DEFAULT_EXPIRATION = 24 * 60 * 60.0
COUNT_FOR_FULL_EXPIRATION = 30
TAB_BITS = 10
TAB_SIZE = 1 << TAB_BITS
TAB_MASK = TAB_SIZE - 1
MAX_SIZE = TAB_SIZE * 16


def bucket_of(address: Address) -> int:
    """ip_vs_lblc_hashkey / ip_vs_lblcr_hashkey."""
    return hash_32(addr_fold(address), TAB_BITS)


class Entry(Protocol):
    lastuse: float


E = TypeVar("E", bound=Entry)


class LocalityTable(Generic[E]):
    """Destination address -> entry, with the kernel's periodic expiry."""

    def __init__(self, expiration: float, now: float | None = None) -> None:
        self.expiration = expiration
        self.entries: dict[Address, E] = {}
        self.max_size = MAX_SIZE
        self.rover = 0
        self.counter = 1
        self.next_check = None if now is None else now + CHECK_EXPIRE_INTERVAL

    def __len__(self) -> int:
        return len(self.entries)

    def advance(self, now: float) -> None:
        """Run every expiry check that falls due at or before `now`."""
        when = self.next_check
        if when is None:
            self.next_check = now + CHECK_EXPIRE_INTERVAL
            return
        while when <= now:
            if not self.entries:
                runs = int((now - when) // CHECK_EXPIRE_INTERVAL) + 1
                self.counter = (self.counter - 1 + runs) % COUNT_FOR_FULL_EXPIRATION + 1
                when += runs * CHECK_EXPIRE_INTERVAL
                break
            self._check_expire(when)
            when += CHECK_EXPIRE_INTERVAL
        self.next_check = when

    def _check_expire(self, now: float) -> None:
        """ip_vs_lblc_check_expire / ip_vs_lblcr_check_expire."""
        if self.counter % COUNT_FOR_FULL_EXPIRATION == 0:
            # The full pass visits all 1024 buckets, so the rover ends where it began.
            limit = self.expiration
            stale = [a for a, e in self.entries.items() if now >= e.lastuse + limit]
            for address in stale:
                del self.entries[address]
            self.counter = 1
            return
        if len(self.entries) <= self.max_size:
            self.counter += 1
            return
        goal = (len(self.entries) - self.max_size) * 4 // 3
        goal = min(goal, self.max_size // 2)
        buckets: defaultdict[int, list[Address]] = defaultdict(list)
        for address in self.entries:
            buckets[bucket_of(address)].append(address)
        j = self.rover
        for _ in range(TAB_SIZE):
            j = (j + 1) & TAB_MASK
            for address in buckets.get(j, ()):
                if now >= self.entries[address].lastuse + ENTRY_TIMEOUT:
                    del self.entries[address]
                    goal -= 1
            if goal <= 0:
                break
        self.rover = j


class LocalityScheduler(Scheduler, Generic[E]):
    """What lblc and lblcr share: the cache table and the set of dests still in the list."""

    def __init__(
        self,
        service: VirtualService,
        rng: random.Random | None = None,
        *,
        expiration: float = DEFAULT_EXPIRATION,
        now: float | None = None,
    ) -> None:
        super().__init__(service, rng)
        self.table: LocalityTable[E] = LocalityTable(expiration, now)
        self._members: set[Destination] = set()

    def update_service(self, service: VirtualService, dests: Sequence[Destination]) -> None:
        self.flags = service.flags  # same scheduler: the cache stays (ip_vs_edit_service)

    def rebuild(self, dests: Sequence[Destination]) -> None:
        # A deleted dest leaves the list; the kernel sees it as !IP_VS_DEST_F_AVAILABLE.
        self._members = set(dests)
