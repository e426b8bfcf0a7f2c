"""What `pylvs status` shows of health: each real server, its checkers, their last result."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CheckerView:
    kind: str
    target: str
    up: bool
    last_ok: bool | None  # None: not probed yet
    reason: str
    at: float | None  # wall-clock time of the last result


@dataclass(frozen=True, slots=True)
class RsView:
    vs: str
    rs: str
    alive: bool
    weight: int  # effective weight as given to IPVS (real_weight)
    in_table: bool
    checkers: tuple[CheckerView, ...]


@dataclass(frozen=True, slots=True)
class VsView:
    vs: str
    quorum_up: bool
    sorry_active: bool


def _when(at: float | None) -> str:
    if at is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def render(vss: list[VsView], rss: list[RsView]) -> str:
    lines: list[str] = []
    for v in vss:
        sorry = ", sorry server in" if v.sorry_active else ""
        lines.append(f"VS {v.vs}: quorum {'UP' if v.quorum_up else 'DOWN'}{sorry}")
        for r in (r for r in rss if r.vs == v.vs):
            state = "UP" if r.alive else "DOWN"
            where = "" if r.in_table else ", not in table"
            lines.append(f"  RS {r.rs}: {state}, weight {r.weight}{where}")
            if not r.checkers:
                lines.append("    (no checker: always up)")
            for c in r.checkers:
                last = "-" if c.last_ok is None else ("success" if c.last_ok else "failure")
                target = f" {c.target}" if c.target else ""
                lines.append(
                    f"    {c.kind}{target}: {'UP' if c.up else 'DOWN'}, last {last} "
                    f"at {_when(c.at)}: {c.reason or '-'}"
                )
    return "\n".join(lines) + ("\n" if lines else "")
