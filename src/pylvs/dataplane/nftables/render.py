"""The pure renderer: service plans in, pylvs's nftables tables out.

`render(plans, ingress)` returns the tables pylvs owns for the given plans: `ip pylvs` and
`ip6 pylvs` for NAT services (nat.py), `netdev pylvs` for DR services (dr.py).  A family
without services has no table, so pylvs leaves nothing behind that it does not use.  pylvs
never names another table: every command of ruleset.transaction is scoped to one of these.
`ruleset_text` joins their declarative forms; it is what the golden tests compare and what
`nft -f` accepts on a host without pylvs tables.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from .dr import render_dr
from .nat import render_nat
from .plan import Mode, ServicePlan
from .ruleset import Table

FAMILIES = ("ip", "ip6", "netdev")


def render(
    plans: Sequence[ServicePlan],
    ingress: Sequence[str] = (),
    *,
    ct_timeouts: bool = True,
    gone: Collection[int] = (),
) -> dict[str, Table]:
    """family -> Table, for the families that have services.  Without `ct_timeouts` (a
    kernel without conntrack timeout policies) NAT flows keep conntrack's own timeouts.
    `gone`: marks of deleted NAT real servers whose flows conntrack still has (nat.py)."""
    nat = [p for p in plans if p.mode is Mode.NAT]
    dr = [p for p in plans if p.mode is Mode.DR]
    tables: dict[str, Table] = {}
    for family in ("ip", "ip6"):
        table = render_nat(family, nat, ct_timeouts=ct_timeouts, gone=gone)
        if table is not None:
            tables[family] = table
    table = render_dr(dr, ingress)
    if table is not None:
        tables["netdev"] = table
    return tables


def ruleset_text(tables: dict[str, Table]) -> str:
    return "".join(tables[f].text() for f in FAMILIES if f in tables)
