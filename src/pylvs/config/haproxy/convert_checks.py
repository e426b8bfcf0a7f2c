"""A haproxy.cfg's health checks as proto/check runs them: one `Planned` check per health
check and agent check of every server, in HAProxy's order (proxies and servers as
declared, each server's health check before its agent check: start_checks).

The converter puts a `CheckPlanner` in the spec (`ProxiesSpec.checks`, proto/check/plan.py's
`Planner`); the engine calls its `build(pools, queues)` with the balancer pools the runtime
built for its backends and each backend's queues, and gets a `proto.check.schedule.Checks`,
which the asyncio driver (health/haproxy/driver.py) runs.  `plan_checks(config, pools)` is
the same for a parsed configuration (`pool_for(proxy)` builds a pool from a backend's
servers where there is no runtime: the recorded-check tests).  Server
settings are HAProxy's (src/server.c, src/check.c): a `disabled` server starts in forced
maintenance with its check paused at health 0; `send-proxy` reaches the check unless it has
its own `addr` or `port`; an agent checks `agent-addr` (else `addr`, else the server) on
`agent-port` (else `port`), every `agent-inter` (else `inter`), rise and fall 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from pylvs.config.haproxy import ssl_options
from pylvs.config.haproxy.addresses import MUX_MODES, socks4_target
from pylvs.config.haproxy.logformat import compile_ruleset
from pylvs.config.haproxy.model import HaproxyConfig, Proxy, Server
from pylvs.proto.check import protocols
from pylvs.proto.check.admin import Observer
from pylvs.proto.check.health import HealthCheck
from pylvs.proto.check.rules import PLAIN_TCP
from pylvs.proto.check.schedule import Checks, Host, Planned
from pylvs.proto.check.server import ServerHealth, Sessions
from pylvs.proto.check.status import ON_ERROR, Observe
from pylvs.proto.check.tcpcheck import CheckAddress, Timeouts
from pylvs.sched.haproxy import server as lbserver
from pylvs.sched.haproxy.pool import Pool
from pylvs.sched.haproxy.server import Admin, State


def pool_for(proxy: Proxy) -> Pool:
    """A backend's balancer pool, its servers as the configuration starts them."""
    servers = []
    for s in proxy.servers:
        disabled = s.disabled
        servers.append(
            lbserver.Server(
                s.name,
                s.weight,
                puid=s.id,
                backup=s.backup,
                maxconn=s.maxconn,
                maxqueue=s.maxqueue,
                minconn=s.minconn,
                slowstart=(s.slowstart_ms + 999) // 1000,
                non_stick=s.non_stick,
                state=State.STOPPED if disabled else State.RUNNING,
                admin=Admin.CMAINT | Admin.FMAINT if disabled else Admin.NONE,
            )
        )
    return Pool(servers, proxy.balance)


@dataclass(frozen=True)
class CheckPlanner:
    """A configuration's checks, compiled, for the engine to build over the runtime (see the
    module doc): compared by value, so a reload of the same file gives an equal spec."""

    config: HaproxyConfig
    ids: tuple[tuple[str, int], ...]  # each backend's proxy id, as the converter numbered them
    checked: tuple[tuple[str, str], ...]  # (backend, server) with a health or agent check

    def build(
        self,
        pools: Mapping[str, Pool],
        queues: Callable[[str], Sessions],
        *,
        host: Host | None = None,
    ) -> Checks:
        host = host or Host()
        # `node` (global) names this process in x-haproxy-server-state; else the host name
        host = replace(host, node=self.config.global_.node or host.node or host.hostname)
        return plan_checks(self.config, pools, queues=queues, host=host, ids=dict(self.ids))

    def plan_server(
        self, backend: str, server: object, pool: Pool, lb: lbserver.Server, sessions: Sessions
    ) -> tuple[ServerHealth, list[Planned]]:
        """A server `add server` created (`server`: the config's `Server`, from
        ServerSpec.line): its ServerHealth and checks, as cli_parse_add_server sets them up:
        the checks disabled until `enable health|agent`, `check-send-proxy` not implied by
        `send-proxy` (init_srv_check's rule for dynamic servers)."""
        proxy = self.config.proxy(backend, backend=True)
        if proxy is None or not isinstance(server, Server):
            raise TypeError(f"no backend {backend!r} or not a server line: {server!r}")
        sh = _server_health(proxy, server, pool, lb, sessions)
        planned = _planned(proxy, server, sh, dict(self.ids).get(backend, 0), dynamic=True)
        for p in planned:
            p.check.enabled = False
        return sh, planned


def planner(config: HaproxyConfig, ids: Mapping[str, int]) -> CheckPlanner | None:
    """The checks of `config`; None when there is no backend (one without servers may
    get some with `add server`).  Servers without checks are planned too: their state
    changes (maintenance, drain, `set server health`) go through the same machine and log
    the same lines."""
    backends = [p for p in config.proxies if p.has_backend and not p.disabled]
    if not backends:
        return None
    servers = [(proxy.name, s) for proxy in backends for s in proxy.servers]
    checked = tuple((name, s.name) for name, s in servers if s.check or s.agent_check)
    return CheckPlanner(config, tuple(ids.items()), checked)


def plan_checks(
    config: HaproxyConfig,
    pools: Mapping[str, Pool],
    *,
    queues: Callable[[str], Sessions] | None = None,
    host: Host | None = None,
    ids: Mapping[str, int] | None = None,
) -> Checks:
    """Every check of `config` over the runtime's `pools` (by backend name); `queues` gives
    a backend's `Sessions`, `ids` the proxies' numbers (else their declared `id`)."""
    planned: list[Planned] = []
    healths: dict[tuple[str, str], ServerHealth] = {}
    for proxy in config.proxies:
        if not proxy.has_backend or proxy.disabled or proxy.name not in pools:
            continue
        pool = pools[proxy.name]
        sessions = queues(proxy.name) if queues is not None else None
        pid = (ids or {}).get(proxy.name, proxy.id or 0)
        for s in proxy.servers:
            lb = pool.server(s.name)
            if lb is None:
                continue
            sh = _server_health(proxy, s, pool, lb, sessions)
            healths[proxy.name, s.name] = sh
            planned += _planned(proxy, s, sh, pid)
    _link_trackers(config, healths)
    g = config.global_
    return Checks(
        planned,
        spread_checks=g.spread_checks,
        max_spread_checks=g.max_spread_checks_ms or 0,
        host=host,
        servers=healths,
    )


def _planned(
    proxy: Proxy, s: Server, sh: ServerHealth, pid: int, *, dynamic: bool = False
) -> list[Planned]:
    """The server's health check, then its agent check (start_checks' order)."""
    out = []
    timeouts = Timeouts(proxy.timeouts.check or 0, proxy.timeouts.connect or 0)
    if sh.check is not None:
        checks = proxy.checks or PLAIN_TCP
        address = _check_address(s, dynamic=dynamic, http=checks.http)
        out.append(Planned(sh, sh.check, checks, address, timeouts, pid))
    if sh.agent is not None:
        ruleset = compile_ruleset(protocols.agent(s.agent_send))
        out.append(Planned(sh, sh.agent, ruleset, _agent_address(s), timeouts, pid))
    return out


def _server_health(
    proxy: Proxy, s: Server, pool: Pool, lb: lbserver.Server, sessions: Sessions | None
) -> ServerHealth:
    log = proxy.options.log_health_checks
    check = agent = None
    if s.check:
        check = HealthCheck(
            proxy.name,
            s.name,
            rise=s.rise,
            fall=s.fall,
            inter=s.inter_ms,
            fastinter=s.fastinter_ms or 0,
            downinter=s.downinter_ms or 0,
            backup=s.backup,
            log_health_checks=log,
        )
        if s.disabled:
            check.health, check.paused = 0, True
        elif s.init_none and s.target.ip is None:  # maintenance "resolution": paused at 0,
            check.health, check.paused = 0, True  # as srv_set_admin_flag leaves it
    if s.agent_check:
        agent = HealthCheck(
            proxy.name,
            s.name,
            agent=True,
            rise=1,
            fall=1,
            inter=s.agent_inter_ms or s.inter_ms,
            backup=s.backup,
            log_health_checks=log,
        )
    sh = ServerHealth(
        pool,
        lb,
        proxy.name,
        check=check,
        agent=agent,
        log_health_checks=log,
        on_marked_down=s.on_marked_down == "shutdown-sessions",
        on_marked_up=s.on_marked_up == "shutdown-backup-sessions",
        sessions=sessions,
        kind=proxy.type_str,
        addr=s.target.host,
        port=s.target.port or 0,
        fqdn=s.fqdn,
    )
    if s.observe is not None and s.observe != "none":  # `observe none`: nothing observed
        mode = Observe.LAYER4 if s.observe == "layer4" else Observe.LAYER7
        sh.observer = Observer(mode, s.error_limit, ON_ERROR[s.on_error])
    return sh


def _socks4(s: Server) -> tuple[str, int] | None:
    """The server's `socks4` proxy (read and checked with the server line)."""
    text = next((v[0] for k, v in s.others if k == "socks4" and v), None)
    got = socks4_target(text, {}) if text is not None else None
    return got if isinstance(got, tuple) else None


def _check_address(s: Server, *, dynamic: bool = False, http: bool = False) -> CheckAddress:
    # a dynamic server's check sends the PROXY header only when told (`check-send-proxy`)
    own = dynamic or s.check_port is not None or s.check_addr is not None
    proxy_v = 2 if s.send_proxy_v2 else 1
    send_proxy = 0
    if s.check_send_proxy or (not own and (s.send_proxy or s.send_proxy_v2)):
        send_proxy = proxy_v
    return CheckAddress(
        s.target.host,
        s.target.port or 0,
        check_addr=str(s.check_addr) if s.check_addr is not None else None,
        check_port=s.check_port or 0,
        send_proxy=send_proxy,
        socks4=_socks4(s),
        check_via_socks4=s.check_via_socks4,
        check_proto=check_proto(s, http),
        tls=ssl_options.check_tls(s.others, own=own),
    )


def check_proto(s: Server, http: bool) -> str | None:
    """init_srv_check: the check's multiplexer is `check-proto`, else the server's `proto`
    when its mode is the check's (HTTP for an HTTP check); post.py refuses a `check-proto`
    of the other mode."""
    if s.check_proto is not None:
        return s.check_proto
    if s.proto is not None and (MUX_MODES.get(s.proto) == "http") == http:
        return s.proto
    return None


def _agent_address(s: Server) -> CheckAddress:
    addr = s.agent_addr or (str(s.check_addr) if s.check_addr is not None else None)
    return CheckAddress(
        s.target.host,
        s.target.port or 0,
        check_addr=addr,
        check_port=s.agent_port or s.check_port or 0,
    )


def _link_trackers(config: HaproxyConfig, healths: dict[tuple[str, str], ServerHealth]) -> None:
    """`track [backend/]server`: the tracking server follows the tracked one's state."""
    for (backend, _name), sh in healths.items():
        proxy = config.proxy(backend, backend=True)
        server = next((s for s in proxy.servers if s.name == sh.name), None) if proxy else None
        if server is None or server.track is None:
            continue
        target_be, _, target = server.track.rpartition("/")
        tracked = healths.get((target_be or backend, target))
        if tracked is not None:
            sh.track = tracked
            tracked.trackers.append(sh)
