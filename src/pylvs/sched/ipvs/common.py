"""Selection loops shared by several schedulers.

`weighted_least` is the weighted-least-connection loop that ip_vs_wlc.c, ip_vs_lblc.c
(`__ip_vs_lblc_schedule`) and ip_vs_lblcr.c (`__ip_vs_lblcr_schedule`) each spell out: the
first non-overloaded dest with weight > 0 starts as `least`, and a later non-overloaded dest
replaces it only when `loh * w_dest > doh * w_least` (strictly), so ties keep the earlier one in
list order and a weight-0 dest can never win.  `locality_overloaded` is the `is_overloaded()`
test of ip_vs_lblc.c / ip_vs_lblcr.c.
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.model.dest import Destination


def weighted_least(dests: Sequence[Destination]) -> Destination | None:
    """ip_vs_wlc.c: min of (activeconns*256 + inactconns) / weight, cross-multiplied."""
    least: Destination | None = None
    loh = 0
    for dest in dests:
        if dest.overloaded:
            continue
        doh = (dest.activeconns << 8) + dest.inactconns
        if least is None:
            if dest.weight > 0:
                least = dest
                loh = doh
        elif loh * dest.weight > doh * least.weight:
            least = dest
            loh = doh
    return least


def shortest_expected_delay(dests: Sequence[Destination]) -> Destination | None:
    """ip_vs_sed.c: as `weighted_least` with overhead activeconns + 1."""
    least: Destination | None = None
    loh = 0
    for dest in dests:
        if dest.overloaded:
            continue
        doh = dest.activeconns + 1
        if least is None:
            if dest.weight > 0:
                least = dest
                loh = doh
        elif loh * dest.weight > doh * least.weight:
            least = dest
            loh = doh
    return least


def locality_overloaded(dest: Destination, dests: Sequence[Destination]) -> bool:
    """ip_vs_lblc.c is_overloaded(): busier than its weight while some dest is under half."""
    if dest.activeconns > dest.weight:
        return any(d.activeconns * 2 < d.weight for d in dests)
    return False
