"""Tracker arithmetic: effective priority and tracker faults (keepalived vrrp/vrrp_track.c).

Reference §4.13.  Each tracked object contributes to `total_priority = base + sum`:

| tracker state     | weight > 0 | weight < 0 | weight 0                      |
|-------------------|------------|------------|-------------------------------|
| up / script OK    | +w*m       | 0          | fault when m = -1 (reverse)   |
| down / failed     | 0          | +w*m       | fault when m = +1             |
| no result yet     | 0          | 0          | instance held in init         |

with m = -1 for `reverse`, else +1.  keepalived applies the same table incrementally
(`process_script_update_priority`, `initialise_track_script_state`, `vrrp_handle_bfd_event`,
`process_update_track_process_status`); summing it afresh gives the same totals.  A
`track_file` contributes value * weight * m clamped to -254..253, and -254 (or, with weight 0,
a non-zero value, inverted by reverse) is a fault (trackers/track_file.c).  The effective
priority is the total clamped to 1..254, and an address owner (base 255) never changes
(`vrrp_set_effective_priority`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# What is tracked is part of the instance parameters (model/vrrp.py).
from pylvs.model.vrrp import Tracker as Tracker
from pylvs.model.vrrp import TrackerKey as TrackerKey
from pylvs.model.vrrp import TrackerKind as TrackerKind

VRRP_PRIO_OWNER = 255
FILE_FAULT = -254
FILE_MAX = 253


# bool for up/down trackers, int for a track_file value, None until the first result.
TrackerValue = bool | int | None


@dataclass(frozen=True, slots=True)
class Contribution:
    delta: int = 0
    fault: bool = False
    pending: bool = False  # no result yet from a weight-0 tracker: the instance waits


def contribution(tracker: Tracker, value: TrackerValue) -> Contribution:
    """What one tracker adds to the total priority, or whether it faults the instance."""
    w, m = tracker.weight, tracker.multiplier
    if value is None:
        return Contribution(pending=w == 0)
    if tracker.kind is TrackerKind.FILE and not isinstance(value, bool):
        if w == 0:
            return Contribution(fault=(value == 0) != (m == 1))
        status = max(FILE_FAULT, min(FILE_MAX, value * w * m))
        return Contribution(fault=True) if status == FILE_FAULT else Contribution(delta=status)
    up = bool(value)
    if w == 0:
        return Contribution(fault=up != (m == 1))
    if up:
        return Contribution(delta=w * m if w > 0 else 0)
    return Contribution(delta=w * m if w < 0 else 0)


@dataclass(frozen=True, slots=True)
class Evaluation:
    total_priority: int
    effective_priority: int
    faults: tuple[TrackerKey, ...]
    pending: tuple[TrackerKey, ...]


def clamp_priority(base: int, total: int) -> int:
    """`vrrp_set_effective_priority`: owners stay 255; others are clamped to 1..254."""
    if base == VRRP_PRIO_OWNER:
        return VRRP_PRIO_OWNER
    return max(1, min(VRRP_PRIO_OWNER - 1, total))


def evaluate(
    base: int, trackers: tuple[Tracker, ...], values: Mapping[TrackerKey, TrackerValue]
) -> Evaluation:
    total = base
    faults: list[TrackerKey] = []
    pending: list[TrackerKey] = []
    for tracker in trackers:
        c = contribution(tracker, values.get(tracker.key))
        if base != VRRP_PRIO_OWNER and tracker.weight:
            total += c.delta
        if c.fault:
            faults.append(tracker.key)
        if c.pending:
            pending.append(tracker.key)
    return Evaluation(total, clamp_priority(base, total), tuple(faults), tuple(pending))
