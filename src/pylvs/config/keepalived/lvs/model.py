"""Typed LVS side of keepalived.conf: virtual_server_group, virtual_server, real_server, SSL.

Frozen values produced after keepalived's post-parse rules (check/check_data.c
`validate_check_config`, check/check_parser.c `vs_end_handler`/`rs_end_handler`) were applied:
defaults filled in, real servers' ports fixed up, inherited values resolved, invalid items
dropped.  `VirtualServerConf.service()` and `RealServerConf.server` are the pylvs.model values
keepalived would program into IPVS.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass

from pylvs.config.errors import Location
from pylvs.config.keepalived.lvs.checks import Checker, Script
from pylvs.model.frozen import fast_init
from pylvs.model.service import (
    AF_INET,
    DEFAULT_SCHEDULER,
    Address,
    ForwardMethod,
    Protocol,
    RealServer,
    ServiceFlags,
    ServiceKey,
    TunnelParams,
    VirtualService,
)

DEFAULT_DELAY_LOOP = 60.0  # KEEPALIVED_DEFAULT_DELAY
DEFAULT_CONNECT_TIMEOUT = 5.0  # alloc_vs: connection_to = 5 * TIMER_HZ


_ONEPACKET = int(ServiceFlags.ONEPACKET)
_PERSISTENT = int(ServiceFlags.PERSISTENT)


@fast_init
@dataclass(frozen=True, slots=True)
class VsgEntry:
    """One line of a virtual_server_group: an address (range) with a port, or a fwmark."""

    loc: Location
    first: Address | None = None
    last: Address | None = None
    port: int = 0
    fwmark: int | None = None
    family: int | None = None  # fwmark entries: AF_INET / AF_INET6 / None (unspecified)

    @property
    def size(self) -> int:
        if self.first is None or self.last is None:
            return 1
        return int(self.last) - int(self.first) + 1

    def addresses(self) -> Iterator[Address]:
        if self.first is None or self.last is None:
            return
        for n in range(int(self.first), int(self.last) + 1):
            yield ipaddress.ip_address(n) if self.first.version == 4 else ipaddress.IPv6Address(n)


@dataclass(frozen=True, slots=True)
class VirtualServerGroup:
    """A virtual_server_group: the address ranges and fwmarks its virtual servers serve."""

    name: str
    loc: Location
    entries: tuple[VsgEntry, ...]

    @property
    def fwmarks(self) -> tuple[VsgEntry, ...]:
        return tuple(e for e in self.entries if e.fwmark is not None)

    @property
    def ranges(self) -> tuple[VsgEntry, ...]:
        return tuple(e for e in self.entries if e.fwmark is None)


@fast_init
@dataclass(frozen=True, slots=True)
class SorryServer:
    """A virtual server's sorry_server, used while its quorum is lost."""

    server: RealServer
    inhibit: bool = False


@fast_init
@dataclass(frozen=True, slots=True)
class RealServerConf:
    """A real_server after inheritance: `retry`/`delay_before_retry`/`warmup` None means
    "not set here nor on the virtual server" (each checker then uses its own default)."""

    loc: Location
    server: RealServer
    checkers: tuple[Checker, ...] = ()
    notify_up: Script | None = None
    notify_down: Script | None = None
    inhibit_on_failure: bool = False
    alpha: bool = False
    smtp_alert: bool = True
    virtualhost: str | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    delay_loop: float = DEFAULT_DELAY_LOOP
    retry: int | None = None
    delay_before_retry: float | None = None
    warmup: float | None = None

    @property
    def address(self) -> Address:
        return self.server.address

    @property
    def port(self) -> int:
        return self.server.port


@fast_init
@dataclass(frozen=True, slots=True)
class VirtualServerConf:
    """A virtual_server: by address (`address`, `port`), by `fwmark`, or by `group` name."""

    loc: Location
    address: Address | None = None
    port: int = 0
    fwmark: int | None = None
    group: str | None = None
    protocol: Protocol | None = None  # None for fwmark services
    af: int = AF_INET
    scheduler: str = DEFAULT_SCHEDULER
    flags: ServiceFlags = ServiceFlags.NONE
    persistence_timeout: int = 0  # 0 = not persistent
    persistence_granularity: int | None = None  # prefix length; None = host
    persistence_engine: str | None = None
    method: ForwardMethod = ForwardMethod.MASQ
    tunnel: TunnelParams | None = None
    real_servers: tuple[RealServerConf, ...] = ()
    sorry_server: SorryServer | None = None
    delay_loop: float = DEFAULT_DELAY_LOOP
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
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
    inhibit_on_failure: bool = False
    virtualhost: str | None = None
    smtp_alert: bool = False
    weight: int = 1

    @property
    def key(self) -> ServiceKey | None:
        """The IPVS key of a non-group virtual server (None for `group`)."""
        if self.fwmark is not None:
            return ServiceKey.mark(self.fwmark, self.af)
        if self.address is None or self.protocol is None:
            return None
        return ServiceKey(protocol=self.protocol, address=self.address, port=self.port)

    def service(self, key: ServiceKey | None = None) -> VirtualService:
        """The IPVS service for `key` (default: this virtual server's own key).

        Groups pass each member's key; one-packet scheduling only applies to UDP and fwmark
        keys (keepalived's "inactive due to not UDP").
        """
        k = key if key is not None else self.key
        if k is None:
            raise ValueError(f"virtual server group {self.group}: pass a member key")
        # The bits as a plain int, made a ServiceFlags once: each operation on an IntFlag makes
        # an enum member through Python code (a reload of tens of thousands of services).
        flags = int(self.flags)
        if flags & _ONEPACKET and not (k.is_fwmark or k.protocol is Protocol.UDP):
            flags &= ~_ONEPACKET
        flags &= ~_PERSISTENT
        timeout = 0
        if self.persistence_timeout:
            flags |= _PERSISTENT
            timeout = self.persistence_timeout
        host = 32 if k.af == AF_INET else 128
        netmask = self.persistence_granularity
        if netmask is None or netmask > host:
            netmask = host
        return VirtualService(
            key=k,
            scheduler=self.scheduler,
            flags=ServiceFlags(flags) if flags else ServiceFlags.NONE,
            timeout=timeout,
            netmask=netmask,
            pe_name=self.persistence_engine or "",
        )

    def __str__(self) -> str:
        """keepalived's FMT_VS (check_data.c `format_vs`)."""
        if self.group is not None:
            return f"[{self.group}]:{self.port}"
        if self.fwmark is not None:
            return f"FWM {self.fwmark}"
        proto = self.protocol.name.lower() if self.protocol else "none"
        return f"[{self.address}]:{proto}:{self.port}"


@dataclass(frozen=True, slots=True)
class SslConf:
    """The top-level `SSL { }` block: None fields mean keepalived generates the context."""

    loc: Location
    password: str | None = None
    ca: str | None = None
    certificate: str | None = None
    key: str | None = None


@dataclass(frozen=True, slots=True)
class LvsConfig:
    """The LVS side of a keepalived.conf: virtual server groups, virtual servers, SSL."""

    virtual_server_groups: tuple[VirtualServerGroup, ...] = ()
    virtual_servers: tuple[VirtualServerConf, ...] = ()
    ssl: SslConf | None = None
