"""Pools: virtual services, the real servers behind them, and the policy that fills them.

A `PoolSpec` is keepalived's `virtual_server` (or a HAProxy backend): the IPVS services it
programs (one per member of a virtual_server_group), its real servers with their checks and
notify scripts, and a `PoolPolicy`: keepalived's quorum / hysteresis / sorry server and its
quorum scripts (check/ipwrapper.c `update_quorum_state`, reference §3.11).  HAProxy's backup
servers fit as real servers flagged `backup`, with `all_backups` for `option allbackups`
(HAProxy configuration manual: `backup`, `option allbackups`); health/effects.py runs both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pylvs.model.checks import CheckSpec
from pylvs.model.notify import ScriptSpec
from pylvs.model.service import Address, Protocol, RealServer, ServiceKey, VirtualService

from .frozen import fast_init


@fast_init
@dataclass(frozen=True, slots=True)
class RealServerSpec:
    """A real server: its IPVS destination, checks and notifications.

    inhibit_on_failure  a failed server stays in the table with weight 0 (keepalived)
    backup              used only while no other server is up (HAProxy `backup`)
    """

    server: RealServer
    checks: tuple[CheckSpec, ...] = ()
    notify_up: ScriptSpec | None = None
    notify_down: ScriptSpec | None = None
    inhibit_on_failure: bool = False
    smtp_alert: bool = False
    backup: bool = False

    @property
    def key(self) -> tuple[Address, int]:
        return self.server.key


@fast_init
@dataclass(frozen=True, slots=True)
class SorryServer:
    """The server that replaces the real servers while quorum is down; with `inhibit`, it
    stays in the table with weight 0 while quorum is up."""

    server: RealServer
    inhibit: bool = False


@fast_init
@dataclass(frozen=True, slots=True)
class PoolPolicy:
    """How the pool's live servers become its table.

    quorum / hysteresis  the sum of the live servers' weights must reach quorum + hysteresis
                    to gain quorum, and drop below quorum - hysteresis to lose it
    quorum_up / quorum_down  scripts run on each change
    all_backups     every live backup server is used, not only the first (HAProxy)
    """

    quorum: int = 1
    hysteresis: int = 0
    sorry_server: SorryServer | None = None
    quorum_up: ScriptSpec | None = None
    quorum_down: ScriptSpec | None = None
    all_backups: bool = False


@fast_init
@dataclass(frozen=True, slots=True)
class PoolSpec:
    """One pool (keepalived virtual_server).

    id          unique within the spec, stable across reloads (a reload keeps the state of a
                pool with the same id)
    name        as logs and status show it (keepalived FMT_VS)
    services    the IPVS services programmed, one per key, in order
    protocol / address  of the virtual server itself (None for fwmark services and groups)
    omega       the down scripts run at shutdown (keepalived `omega`)
    ha_suspend  checks run only while the virtual address is on this host
    """

    id: str
    name: str
    services: tuple[VirtualService, ...]
    real_servers: tuple[RealServerSpec, ...] = ()
    policy: PoolPolicy = field(default_factory=PoolPolicy)
    protocol: Protocol | None = None
    address: Address | None = None
    omega: bool = False
    ha_suspend: bool = False
    smtp_alert: bool = False

    @property
    def keys(self) -> tuple[ServiceKey, ...]:
        return tuple(s.key for s in self.services)
