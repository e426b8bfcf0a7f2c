"""Mutable drafts the LVS section parsers fill in, before keepalived's post-parse rules.

A draft holds what the configuration said (None = not set), mirroring the "unset" sentinels
keepalived uses in check/check_data.c `alloc_vs` / `alloc_rs` and check/check_api.c
`queue_checker` (UINT_MAX, ULONG_MAX, -1), so `resolve` can apply the inheritance and default
rules of `validate_check_config` exactly.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

from pylvs.config.errors import Location
from pylvs.config.keepalived.lvs.checks import Checker, CheckTiming, Connection, Script
from pylvs.config.keepalived.lvs.model import SslConf, VirtualServerGroup
from pylvs.model.service import Address, ForwardMethod, Protocol, TunnelParams


@dataclass(slots=True)
class Method:
    """lvs_method / lb_kind: the forwarding method and its tunnel parameters."""

    method: ForwardMethod
    tunnel: TunnelParams | None = None


@dataclass(slots=True)
class CheckerDraft(abc.ABC):
    """A checker block: the options every checker has, as written (None = not set).

    Each checker kind subclasses it with its own options and `build`, which makes the final
    value once `resolve_checks` has resolved the timing and connection.
    """

    kind: str
    loc: Location
    end: Location
    has_connection: bool = True
    default_retry: int = 1
    default_delay_before_retry: float | None = 1.0  # None = delay_loop (DNS_CHECK)
    retry: int | None = None
    delay_before_retry: float | None = None
    warmup: float | None = None
    delay_loop: float | None = None
    alpha: bool | None = None
    log_all_failures: bool = False
    connect_ip: Address | None = None
    connect_port: int | None = None
    bindto: Address | None = None
    bind_port: int = 0
    bind_if: str | None = None
    connect_timeout: float | None = None
    fwmark: int = 0
    virtualhost: str | None = None  # HTTP_GET / SSL_GET checker-level virtualhost
    # FILE_CHECK track_file / BFD_CHECK name: checked against the defined blocks at the end
    ref: tuple[str, Location] | None = None

    @abc.abstractmethod
    def build(self, loc: Location, timing: CheckTiming, conn: Connection | None) -> Checker:
        """The checker this block describes (each kind's draft builds its own)."""


@dataclass(slots=True)
class RealServerDraft:
    """A real_server block as read (None = not set: resolve applies the virtual server's)."""

    loc: Location
    address: Address
    port: int
    method: Method | None = None
    weight: int | None = None
    u_threshold: int = 0
    l_threshold: int = 0
    notify_up: Script | None = None
    notify_down: Script | None = None
    inhibit: bool | None = None
    alpha: bool | None = None
    smtp_alert: bool | None = None
    virtualhost: str | None = None
    connect_timeout: float | None = None
    delay_loop: float | None = None
    retry: int | None = None
    delay_before_retry: float | None = None
    warmup: float | None = None
    checkers: list[CheckerDraft] = field(default_factory=list)


@dataclass(slots=True)
class SorryDraft:
    """A sorry_server line as read, with the sorry_server_* options of its virtual server."""

    loc: Location
    address: Address
    port: int
    method: Method | None = None
    inhibit: bool = False


@dataclass(slots=True)
class VirtualServerDraft:
    """A virtual_server block as read, before keepalived's post-parse rules (resolve.py)."""

    loc: Location
    address: Address | None = None
    port: int = 0
    fwmark: int | None = None
    group: str | None = None
    group_loc: Location | None = None
    af: int | None = None
    protocol: Protocol | None = None
    scheduler: str | None = None
    ops: bool = False
    sched_flags: int = 0
    method: Method | None = None
    persistence_timeout: int = 0
    persistence_granularity: int | None = None
    persistence_engine: str | None = None
    real_servers: list[RealServerDraft] = field(default_factory=list)
    sorry: SorryDraft | None = None
    delay_loop: float = 60.0
    connect_timeout: float = 5.0
    retry: int | None = None
    delay_before_retry: float | None = None
    warmup: float | None = None
    quorum: int = 1
    hysteresis: int = 0
    quorum_up: Script | None = None
    quorum_down: Script | None = None
    alpha: bool = False
    omega: bool = False
    ha_suspend: bool = False
    inhibit: bool = False
    virtualhost: str | None = None
    smtp_alert: bool | None = None
    weight: int = 1


@dataclass(slots=True)
class LvsParts:
    """What the LVS-side top-level statements produced, in file order."""

    groups: list[VirtualServerGroup] = field(default_factory=list)
    virtual_servers: list[VirtualServerDraft] = field(default_factory=list)
    ssl: SslConf | None = None
