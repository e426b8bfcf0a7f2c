"""The director as a value: everything the runtime needs, whatever config format it came from.

A `DirectorSpec` is what a config source (config/registry.py) returns: the pools (virtual
services, real servers, checks, pool policy), the VRRP instances, the tracked files both use,
the notification settings, the few global settings the runtime reads, and HAProxy-style
frontends and backends (model/proxy_spec.py).  One converter per
format builds it (the keepalived reader's `convert` module now); health/, vrrp/, engine/ and
system/ consume only this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pylvs.model.checks import TlsClientSpec
from pylvs.model.notify import NotifySpec
from pylvs.model.pool import PoolSpec
from pylvs.model.proxy_spec import ProxiesSpec
from pylvs.model.syncd import SyncDaemonSpec
from pylvs.model.vrrp_spec import TrackFileSpec, VrrpSpec


@dataclass(frozen=True, slots=True)
class TimeoutChange:
    """`ipvsadm --set tcp tcpfin udp` applied at start (keepalived lvs_timeouts); 0 leaves a
    value unchanged."""

    tcp: int = 0
    tcp_fin: int = 0
    udp: int = 0


@dataclass(frozen=True, slots=True)
class GlobalSpec:
    """router_id   names this director in alerts (None: the host name)
    check_tls      the client side of TLS checks
    log_all_check_failures  every failed check is logged, not only state changes
    flush_at_start / flush_on_stop  what a plane sharing the kernel's table clears (keepalived
                   lvs_flush; lvs_flush_on_stop: None, "all" or "vs")
    sync_daemon    the kernel's connection-sync daemons to run (keepalived lvs_sync_daemon)"""

    router_id: str | None = None
    http: str | None = None  # where the HTTP surface listens (ADDR:PORT), if anywhere
    ipvs_timeouts: TimeoutChange = field(default_factory=TimeoutChange)
    check_tls: TlsClientSpec | None = None
    log_all_check_failures: bool = False
    flush_at_start: bool = False
    flush_on_stop: str | None = None
    sync_daemon: SyncDaemonSpec | None = None


@dataclass(frozen=True, slots=True)
class DirectorSpec:
    pools: tuple[PoolSpec, ...] = ()
    vrrp: VrrpSpec = field(default_factory=VrrpSpec)
    track_files: tuple[TrackFileSpec, ...] = ()
    notify: NotifySpec = field(default_factory=NotifySpec)
    globals: GlobalSpec = field(default_factory=GlobalSpec)
    # HAProxy-style frontends and backends (a haproxy.cfg's proxies), served by the proxy
    # runtime beside whatever data plane holds the pools.
    proxies: ProxiesSpec = field(default_factory=ProxiesSpec)

    def track_file(self, name: str) -> TrackFileSpec | None:
        return next((t for t in self.track_files if t.name == name), None)

    def pool(self, pool_id: str) -> PoolSpec | None:
        return next((p for p in self.pools if p.id == pool_id), None)
