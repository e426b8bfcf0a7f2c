"""A haproxy.cfg's health checks as proto/check runs them: one `Planned` check per health
check and agent check of every server, in HAProxy's order (proxies and servers as
declared, each server's health check before its agent check: start_checks).

The HAProxy runtime calls `plan_checks(config, pools)` with the balancer pools it built for
its backends (`pool_for(proxy)` builds one from a backend's servers) and gets a
`proto.check.schedule.Checks`; the asyncio driver (health/haproxy.py) runs it.  Server
settings are HAProxy's (src/server.c, src/check.c): a `disabled` server starts in forced
maintenance with its check paused at health 0; `send-proxy` reaches the check unless it has
its own `addr` or `port`; an agent checks `agent-addr` (else `addr`, else the server) on
`agent-port` (else `port`), every `agent-inter` (else `inter`), rise and fall 1.
"""

from __future__ import annotations

from collections.abc import Mapping

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


def plan_checks(
    config: HaproxyConfig,
    pools: Mapping[str, Pool],
    *,
    sessions: Sessions | None = None,
    host: Host | None = None,
) -> Checks:
    """Every check of `config` over the runtime's `pools` (by backend name)."""
    planned: list[Planned] = []
    healths: dict[tuple[str, str], ServerHealth] = {}
    for proxy in config.proxies:
        if not proxy.has_backend or proxy.disabled or proxy.name not in pools:
            continue
        pool = pools[proxy.name]
        for s in proxy.servers:
            lb = pool.server(s.name)
            if lb is None:
                continue
            sh = _server_health(proxy, s, pool, lb, sessions)
            healths[proxy.name, s.name] = sh
            timeouts = Timeouts(proxy.timeouts.check or 0, proxy.timeouts.connect or 0)
            if sh.check is not None:
                address = _check_address(s)
                checks = proxy.checks or PLAIN_TCP
                planned.append(Planned(sh, sh.check, checks, address, timeouts, proxy.id or 0))
            if sh.agent is not None:
                address = _agent_address(s)
                ruleset = compile_ruleset(protocols.agent(s.agent_send))
                planned.append(Planned(sh, sh.agent, ruleset, address, timeouts, proxy.id or 0))
    _link_trackers(config, healths)
    g = config.global_
    return Checks(
        planned,
        spread_checks=g.spread_checks,
        max_spread_checks=g.max_spread_checks_ms or 0,
        host=host,
        servers=healths,
    )


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
    )
    if s.observe is not None:
        mode = Observe.LAYER4 if s.observe == "layer4" else Observe.LAYER7
        sh.observer = Observer(mode, s.error_limit, ON_ERROR[s.on_error])
    return sh


def _check_address(s: Server) -> CheckAddress:
    own = s.check_port is not None or s.check_addr is not None
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
    )


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
