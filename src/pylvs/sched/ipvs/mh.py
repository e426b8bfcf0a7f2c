"""mh: Maglev hashing (+ mh-fallback, mh-port), as net/netfilter/ipvs/ip_vs_mh.c does it.

The lookup table has M = 4093 slots (primes[CONFIG_IP_VS_MH_TAB_INDEX - 8], index 12).  Every
dest gets a permutation of the slots from its address and port, hashed with hsiphash under two
fixed keys (so every director builds the same table):
`offset = hashkey(dest, hash1) % M`, `skip = hashkey(dest, hash2) % (M - 1) + 1`, where
`hashkey = hsiphash(u32 offset + port + addr_fold(addr))`.  Weights are `last_weight` (so
quiescing a dest to weight 0 does not reshuffle the table): with g the gcd of the positive
ones and `rshift = max(0, fls(max/g) - 6)`, a dest takes `turns = (lw/g) >> rshift` (at least 1
when lw != 0) consecutive slots per round, each time advancing its permutation to the next free
slot, round robin in list order until all M slots are owned.  Dests with last_weight 0 take none.

A packet's slot is `hashkey(saddr, port, hash1, 0) % M` (port only with mh-port, SCHED2).  An
owner with weight <= 0 or the overload flag means no destination, unless mh-fallback (SCHED1):
then `hashkey(saddr, port, hash1, (k + ihash) % M) % M` is probed for k = 0..M-1 and the first
usable owner wins (an empty slot ends the search).  The table is rebuilt by the add / delete /
edit hooks; more than M dests leave it as it was (the kernel's -EINVAL).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.model.service import ServiceFlags, VirtualService
from pylvs.sched.base import Flow, Need
from pylvs.sched.ipvs.base import Scheduler
from pylvs.sched.ipvs.hashing import Address, addr_fold, hsiphash_u32
from pylvs.sched.ipvs.sh import flow_port
from pylvs.sched.registry import register

PRIMES = (251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071)
TAB_INDEX = 12  # CONFIG_IP_VS_MH_TAB_INDEX default
HASH1 = (2654435761, 2654435761)  # generate_hash_secret(): fixed, not random
HASH2 = (2654446892, 2654446892)


def table_size(tab_index: int = TAB_INDEX) -> int:
    """IP_VS_MH_TAB_SIZE for a CONFIG_IP_VS_MH_TAB_INDEX (8..17)."""
    return PRIMES[tab_index - 8]


def mh_hashkey(address: Address, port: int, key: tuple[int, int], offset: int = 0) -> int:
    """ip_vs_mh_hashkey: hsiphash of the u32 `offset + port + addr_fold(address)`."""
    return hsiphash_u32((offset + port + addr_fold(address)) & 0xFFFFFFFF, key)


def build_table(
    dests: Sequence[Destination], size: int, tab_bits: int
) -> list[Destination | None] | None:
    """ip_vs_mh_permutate + ip_vs_mh_populate; None when there are too many dests."""
    if len(dests) > size:
        return None
    weights = [d.last_weight for d in dests]
    positive = [w for w in weights if w > 0]
    if not positive:
        return [None] * size
    gcd = math.gcd(*positive)
    rshift = max(0, (max(positive) // gcd).bit_length() - tab_bits)
    turns = [((w // gcd) >> rshift) or (1 if w != 0 else 0) for w in weights]
    perm = [mh_hashkey(d.address, d.port, HASH1) % size for d in dests]
    skip = [mh_hashkey(d.address, d.port, HASH2) % (size - 1) + 1 for d in dests]
    table: list[Destination | None] = [None] * size
    taken = bytearray(size)
    filled = 0
    while True:
        for i, dest in enumerate(dests):
            t = turns[i]
            if t < 1:
                continue
            step = skip[i]
            c = perm[i]
            for _ in range(t):
                while taken[c]:
                    c += step
                    if c >= size:
                        c -= size
                taken[c] = 1
                table[c] = dest
                filled += 1
                if filled == size:
                    return table
            perm[i] = c


@register
class MaglevHashing(Scheduler):
    name = "mh"
    need = Need.ADDRESS

    def __init__(
        self,
        service: VirtualService,
        rng: random.Random | None = None,
        *,
        tab_index: int = TAB_INDEX,
    ) -> None:
        super().__init__(service, rng)
        self.size = table_size(tab_index)
        self._tab_bits = tab_index // 2  # IP_VS_MH_TAB_BITS
        self.table: list[Destination | None] = [None] * self.size

    def update_service(self, service: VirtualService, dests: Sequence[Destination]) -> None:
        # The table does not depend on the flags; they are read at every lookup.
        self.flags = service.flags

    def rebuild(self, dests: Sequence[Destination]) -> None:
        table = build_table(dests, self.size, self._tab_bits)
        if table is not None:
            self.table = table

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
        size = self.size
        table = self.table
        ihash = hsiphash_u32((port + fold) & 0xFFFFFFFF, HASH1) % size
        dest = table[ihash]
        if dest is None:
            return None
        if dest.weight > 0 and not dest.overloaded:
            return dest
        if not flags & ServiceFlags.SCHED1:
            return None
        for offset in range(size):
            roffset = (offset + ihash) % size
            dest = table[hsiphash_u32((roffset + port + fold) & 0xFFFFFFFF, HASH1) % size]
            if dest is None:
                return None
            if dest.weight > 0 and not dest.overloaded:
                return dest
        return None
