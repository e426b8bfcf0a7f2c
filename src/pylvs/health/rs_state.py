"""Pure health of one real server: its checkers' up/down states and dynamic weights.

keepalived keeps, per real server, the number of failed checkers (`num_failed_checkers`) and
an `effective_weight`: the configured weight plus each checker's `cur_weight` (MISC_CHECK with
`misc_dynamic`, FILE_CHECK).  The real server is alive when no checker is failed; one without
checkers is always alive.  The weight given to IPVS is the effective weight clamped to
[0, INT32_MAX] (check_data.h `real_weight`).  FILE_CHECK turns a tracked file's value into a
weight contribution or a fault (trackers/track_file.c `update_track_file_status`,
`weight_range`; check/check_file.c).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pylvs.model.checks import BfdProbe, CheckSpec, FileProbe, MiscProbe

IPVS_WEIGHT_LIMIT = 2**31 - 1  # ip_vs.h IPVS_WEIGHT_MAX
IPVS_WEIGHT_FAULT = -(2**31)  # ip_vs.h: -IPVS_WEIGHT_MAX - 1
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1


def real_weight(effective: int) -> int:
    """check_data.h `real_weight`: what IPVS is given."""
    return max(0, min(IPVS_WEIGHT_LIMIT, effective))


def weight_range(value: int) -> int:
    """track_file.h `weight_range`: clamp to a C int."""
    return max(INT_MIN, min(INT_MAX, value))


def file_status(value: int, weight: int, reverse: bool) -> int:
    """The status a FILE_CHECK derives from its tracked file's `value`: a weight contribution,
    or IPVS_WEIGHT_FAULT when the checker is down.  Weight 0 means "non-zero is a fault"
    (zero is the fault when reversed)."""
    if weight == 0:
        return IPVS_WEIGHT_FAULT if (value != 0) != reverse else 0
    return weight_range(value * weight * (-1 if reverse else 1))


def misc_delta(status: int, configured_weight: int) -> int:
    """check_misc.c: a misc_dynamic exit status 2..255 sets `cur_weight = status - 2 - weight`
    (so a lone checker makes the weight status-2); status 0 contributes nothing."""
    return status - 2 - configured_weight if status else 0


def initially_up(check: CheckSpec) -> bool:
    """A checker starts up unless it is in alpha mode (check_data.c `validate_check_config`).
    FILE_CHECK's start state comes from the file; BFD_CHECK is not run by pylvs (no BFD)."""
    if isinstance(check.probe, FileProbe | BfdProbe):
        return True
    return check.timing.initially_up


@dataclass(slots=True)
class RsHealth:
    """Mutable health of one real server, updated by the effects engine."""

    configured_weight: int
    up: list[bool] = field(default_factory=list)  # one per checker
    delta: list[int] = field(default_factory=list)  # cur_weight per checker
    alive: bool = True

    @property
    def checkers_ok(self) -> bool:
        return all(self.up)

    @property
    def effective_weight(self) -> int:
        return self.configured_weight + sum(self.delta)

    @property
    def weight(self) -> int:
        return real_weight(self.effective_weight)

    @classmethod
    def initial(cls, configured_weight: int, checkers: tuple[CheckSpec, ...]) -> RsHealth:
        up = [initially_up(c) for c in checkers]
        return cls(configured_weight, up, [0] * len(checkers), all(up))


def is_dynamic(check: CheckSpec) -> bool:
    probe = check.probe
    return isinstance(probe, FileProbe) or (isinstance(probe, MiscProbe) and probe.dynamic)
