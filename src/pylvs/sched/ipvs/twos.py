"""twos: power of two choices, as net/netfilter/ipvs/ip_vs_twos.c (Linux 6.3+) does it.

S is the sum of the weights of the dests that are not overloaded and have weight > 0 (none:
no destination).  Two numbers r1, r2 are drawn as `prandom_u32() % (S + 1)`; walking those dests
in list order and subtracting each weight, choice 1 is the first dest where r1 <= 0 and choice 2
the first where r2 <= 0 (so the first eligible dest is drawn with probability (w + 1)/(S + 1)).
Choice 2 wins when `weight2 * overhead1 > weight1 * overhead2` (overhead = activeconns*256 +
inactconns), else choice 1.  The randomness comes from the `random.Random` the scheduler was
given, 32 bits per draw like prandom_u32.
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.model.dest import Destination
from pylvs.sched.base import Flow
from pylvs.sched.ipvs.base import Scheduler
from pylvs.sched.registry import register


@register
class PowerOfTwoChoices(Scheduler):
    name = "twos"

    def pick(
        self,
        dests: Sequence[Destination],
        flow: Flow,
        now: float,
        avoid: Destination | None = None,
    ) -> Destination | None:
        total = 0
        for dest in dests:
            if not dest.overloaded and dest.weight > 0:
                total += dest.weight
        if total == 0:
            return None
        total += 1
        getrandbits = self.rng.getrandbits
        r1 = getrandbits(32) % total
        r2 = getrandbits(32) % total
        choice1: Destination | None = None
        choice2: Destination | None = None
        for dest in dests:
            w = dest.weight
            if dest.overloaded or w <= 0:
                continue
            r1 -= w
            r2 -= w
            if r1 <= 0 and choice1 is None:
                choice1 = dest
            if r2 <= 0 and choice2 is None:
                choice2 = dest
            if choice1 is not None and choice2 is not None:
                break
        # r1, r2 <= S, so both walks end on a dest.
        assert choice1 is not None and choice2 is not None
        if choice2.weight * choice1.overhead() > choice1.weight * choice2.overhead():
            return choice2
        return choice1
