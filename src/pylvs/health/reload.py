"""Planning a reload of health checking: which checkers keep their state (pure).

keepalived keeps a checker's state across a reload when its virtual server, real server and
configuration compare equal (the per-checker `compare` functions, check/check_daemon.c
`migrate_checkers`).  Here a checker's identity is (pool id, real server, check spec, rank
among equal ones); `plan` builds the new state, finds each new checker's predecessor and
carries the state over, all without touching the running state, so the manager can do it in a
worker thread while the event loop goes on (the running state is not changed meanwhile: the
manager holds its lock).
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.health.effects import CheckerRef, LvsState
from pylvs.model.checks import CheckSpec

CheckerKey = tuple[object, ...]
Index = dict[CheckerKey, tuple[CheckerRef, CheckSpec]]


def index(state: LvsState) -> Index:
    """Every checker of `state` by its identity."""
    out: Index = {}
    for ref, rsc in state.refs():
        check = rsc.checks[ref.index]
        base = (ref.vs, ref.rs, check)
        n = 0
        while (*base, n) in out:
            n += 1
        out[(*base, n)] = (ref, check)
    return out


@dataclass
class ReloadPlan:
    state: LvsState  # the new state, with the kept checkers' state carried over
    index: Index
    pairs: dict[CheckerRef, CheckerRef]  # new reference -> the old one it continues
    fresh: list[tuple[CheckerRef, CheckSpec]]  # checkers to set up afresh


def plan(old: LvsState, old_index: Index, new: LvsState) -> ReloadPlan:
    new_index = index(new)
    pairs: dict[CheckerRef, CheckerRef] = {}
    fresh: list[tuple[CheckerRef, CheckSpec]] = []
    for key, (ref, check) in new_index.items():
        found = old_index.get(key)
        if found is None:
            fresh.append((ref, check))
        else:
            pairs[ref] = found[0]
    new.carry(old, pairs)
    return ReloadPlan(new, new_index, pairs, fresh)
