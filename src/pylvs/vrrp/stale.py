"""At start, remove what a killed predecessor left on the host: VIPs, virtual routes and rules.

keepalived 2.2.7 (vrrp/vrrp.c `vrrp_complete_instance` sets `vipset` for every instance whose
interface already existed when it starts, not on a reload; `vrrp_restore_interfaces_startup`
then calls `vrrp_restore_interface(vrrp, false, true)`, which deletes the instance's virtual
rules, routes, addresses and excluded addresses with `force`, whether or not this run added
them).  Without it a director restarted after `kill -9` (or after `--dont-release-vrrp`)
comes back as BACKUP still holding the VIPs, and both nodes answer for them (issue 18 item
13).  The state machine adds them again if this node becomes MASTER.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from pylvs.system.effects import HostEffects, HostError
from pylvs.vrrp.instance import InstanceSetup

log = logging.getLogger("pylvs.vrrp")
T = TypeVar("T")


def remove_stale(host: HostEffects, setups: Iterable[InstanceSetup]) -> list[str]:
    """Delete each instance's rules, routes and addresses that are present; returns what was
    removed (one "(INSTANCE) what" text each, also logged)."""
    removed: list[str] = []
    for s in setups:
        for rule in s.rules:
            what = (
                f"({s.name}) virtual rule from {rule.from_net or 'all'} to {rule.to_net or 'all'}"
            )
            _clear(host.has_rule, host.remove_rule, rule, what, removed)
        for route in s.routes:
            what = f"({s.name}) virtual route {route.destination or 'default'}"
            _clear(host.has_route, host.remove_route, route, what, removed)
        for spec in s.addresses:
            what = f"({s.name}) address {spec.address} on {spec.dev}"
            _clear(host.has_address, host.remove_address, spec, what, removed)
    return removed


def _clear(
    present: Callable[[T], bool], remove: Callable[[T], None], item: T, what: str, out: list[str]
) -> None:
    try:
        if not present(item):
            return
        remove(item)
    except (HostError, OSError) as e:  # an interface that is gone holds nothing
        log.warning("%s left by a previous run could not be removed: %s", what, e)
        return
    log.info("%s left by a previous run removed", what)
    out.append(what)
