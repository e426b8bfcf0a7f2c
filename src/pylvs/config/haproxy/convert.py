"""haproxy.cfg's model -> the neutral `DirectorSpec` (its `proxies`): the one place that knows both.

The reader gives a `HaproxyConfig` with defaults inherited and HAProxy's whole-file checks
done; this turns it into model/proxy_spec.py's frontends and backends: a `listen` section is
both (HAProxy's proxy with both capabilities), a frontend without `use_backend` rules or a
`default_backend` that is a `listen` uses itself.  Every proxy's rules are compiled for the
rules engine (compile_rules.py) into `ProxiesSpec.rules`.  What the runtime cannot serve is
reported into the same problems with its location, as an UNSUPPORTED warning when the rest
can run without it (what convert_http.py lists for a `mode http` proxy; `tcp-response
content` rules) and as an error when running without it would change what clients get (a
rule that cannot be compiled).
"""

from __future__ import annotations

from dataclasses import replace

from pylvs.config.errors import Cite, Kind, Location, Problem, Problems, Severity
from pylvs.config.haproxy import convert_cookie, convert_dispatch, convert_http, lua, ssl_options
from pylvs.config.haproxy.addresses import MUX_MODES
from pylvs.config.haproxy.compile_rules import compile_config
from pylvs.config.haproxy.convert_checks import planner
from pylvs.config.haproxy.convert_log import global_log, proxy_log
from pylvs.config.haproxy.convert_peers import peers_specs
from pylvs.config.haproxy.model import (
    Bind,
    Endpoint,
    HaproxyConfig,
    Proxy,
    Server,
    StatsSocket,
)
from pylvs.config.haproxy.resolve_alerts import resolution_alerts
from pylvs.config.haproxy.ssl_global import tls_defaults
from pylvs.config.haproxy.state_paths import with_state_file
from pylvs.model.director import DirectorSpec, GlobalSpec
from pylvs.model.proxy_spec import (
    BackendSpec,
    BalanceSpec,
    BindSpec,
    FrontendSpec,
    ListenAddress,
    ProxiesSpec,
    ServerCheck,
    ServerSpec,
    StatsPageSpec,
    StatsSocketSpec,
    StickTableSpec,
)
from pylvs.model.resolvers import ResolveOptions
from pylvs.proto.rules.compiled import CompiledProxies
from pylvs.proto.sample.pattern_ref import ReadFile

# HAProxy's defaults where the file says nothing (src/cfgparse.c, src/cli.c).
STATS_TIMEOUT_MS = 10000
STATS_MAXCONN = 10


def where(loc: Location) -> str:
    return f"{loc.file}:{loc.line}"


def to_spec(
    config: HaproxyConfig, problems: Problems, *, read_file: ReadFile | None = None
) -> DirectorSpec:
    """The director `config` describes; what cannot run is added to `problems`.  `read_file`
    reads the ACL and map files the rules name (`-f FILE`)."""
    with lua.using(config.global_.lua_names):
        return _to_spec(config, problems, read_file)


def _to_spec(config: HaproxyConfig, problems: Problems, read_file: ReadFile | None) -> DirectorSpec:
    frontends: list[FrontendSpec] = []
    backends: list[BackendSpec] = []
    ids = _ids(config)
    for proxy in config.proxies:
        if proxy.disabled:
            continue
        if proxy.has_frontend and proxy.binds:
            fe = frontend(proxy, ids[proxy.name, "fe"], problems)
            if fe is not None:
                fe = convert_http.with_cookie_capture(fe, proxy, config.global_, problems)
                frontends.append(replace(fe, log=proxy_log(proxy, config.global_, problems)))
        if proxy.has_backend:
            be = backend(proxy, ids[proxy.name, "be"], problems)
            be = replace(be, log=proxy_log(proxy, config.global_))
            backends.append(with_state_file(be, proxy, config.global_))
    g = config.global_
    checks = planner(config, {b.name: b.id for b in backends})
    spec = ProxiesSpec(
        frontends=tuple(frontends),
        backends=tuple(backends),
        maxconn=g.maxconn or 0,
        ulimit_n=g.ulimit_n,
        stats_sockets=tuple(stats_socket(s) for s in g.stats_sockets),
        stats_timeout_ms=g.stats_timeout_ms or STATS_TIMEOUT_MS,
        stats_maxconn=g.stats_maxconn or STATS_MAXCONN,
        pidfile=g.pidfile,
        grace_ms=g.grace_ms,
        hard_stop_after_ms=g.hard_stop_after_ms,
        daemon=g.daemon,
        log=global_log(g),
        log_hostname=g.log_send_hostname,
        rules=rules(config, problems, read_file),
        checks=checks,
        maxsock=_maxsock(config, frontends, len(checks.checked) if checks else 0),
        nbthread=g.nbthread or 0,
        lua=g.lua,
        **_buffers(g.bufsize, g.maxrewrite, g.http_maxhdr),
        comp_maxlevel=g.comp_maxlevel,
        caches=config.caches,
        splice=not g.nosplice,
        maxpipes=g.maxpipes or 0,
        pipesize=g.pipesize or 0,
        maxconnrate=g.maxconnrate or 0,
        maxsessrate=g.maxsessrate or 0,
        maxsslrate=g.maxsslrate or 0,
        peers=peers_specs(config),
        resolvers=config.resolvers,
        ssl_server_verify=ssl_options.check_servers(config, problems),
        ssl_bind_defaults=tls_defaults(config.global_.others, "bind"),
        ssl_server_defaults=tls_defaults(config.global_.others, "server"),
    )
    return DirectorSpec(proxies=spec, globals=GlobalSpec(http=g.pylvs_http))


def _buffers(bufsize: int | None, maxrewrite: int | None, maxhdr: int | None) -> dict[str, int]:
    """tune.bufsize (16384), tune.maxrewrite (1024, then at most half the buffer: haproxy.c
    step_init_2) and tune.http.maxhdr (101)."""
    size = bufsize or 16384
    rewrite = 1024 if maxrewrite is None else maxrewrite
    return {"bufsize": size, "maxrewrite": min(rewrite, size // 2), "http_maxhdr": maxhdr or 101}


def rules(config: HaproxyConfig, problems: Problems, read_file: ReadFile | None) -> CompiledProxies:
    """Every proxy's rules compiled for the rules engine (compile_rules.py).  A rule that
    cannot be compiled is an error in a proxy the runtime serves, mode tcp or http (running
    without it would change what clients get), a warning in a disabled one; a rule of a
    `defaults` section is named once."""
    compiled = compile_config(config, read_file=read_file)
    said: set[tuple[Location, str]] = set()
    haproxys = set(compiled.unresolved)  # what HAProxy's check_config_validity refuses too
    for proxy in config.proxies:
        found: list[Problem] = []
        for loc, message in compiled.by_proxy.get(proxy.name, ()):
            if (loc, message) in said:
                continue
            said.add((loc, message))
            if not proxy.disabled:
                kind = Kind.CONFIG if (loc, message) in haproxys else Kind.UNSUPPORTED
                cite = compiled.cites.get((loc, message), Cite.PARSING)
                found.append(Problem(loc, Severity.ERROR, message, kind, cite))
            else:
                problems.warning(loc, f"rule left out: {message}", Kind.UNSUPPORTED)
        for p in resolution_alerts(found):
            problems.add(p)
    return compiled.carrier(config)


def _maxsock(config: HaproxyConfig, frontends: list[FrontendSpec], checks: int) -> int:
    """HAProxy's global.maxsock when it computes the default maxconn (haproxy.c: 10
    reserved; a descriptor per listener and per check; the CLI frontend's maxconn when a
    `stats` keyword made it).  haproxy 2.6.12 agrees under `ulimit -n 1024`: a listener,
    a stats socket and a check leave maxconn 497 (maxsock 23, two threads)."""
    g = config.global_
    listeners = sum(len(b.addresses) for fe in frontends for b in fe.binds)
    listeners += len(g.stats_sockets)
    cli = (g.stats_maxconn or STATS_MAXCONN) if g.cli_proxy else 0
    return 10 + listeners + cli + checks


def _ids(config: HaproxyConfig) -> dict[tuple[str, str], int]:
    """Proxy ids as HAProxy numbers them (cfgparse.c check_config_validity: declared `id`,
    else the next free one in declaration order, from 1, or from 2 when a global `stats`
    keyword made the CLI frontend, which takes 1; a `listen`'s frontend and backend share
    theirs)."""
    used = {p.id for p in config.proxies if p.id is not None}
    out: dict[tuple[str, str], int] = {}
    next_id = 2 if config.global_.cli_proxy else 1
    for p in config.proxies:
        pid = p.id
        if pid is None:
            while next_id in used:
                next_id += 1
            pid = next_id
            used.add(pid)
        out[p.name, "fe"] = out[p.name, "be"] = pid
    return out


def unix_path(family: str, text: str) -> str:
    """The socket address of `unix@PATH` or `abns@NAME` (abstract: a NUL, then the name)."""
    return "\0" + text if family == "abns" else text


def _unix_bind(proxy: Proxy, b: Bind, problems: Problems) -> None:
    """unix@/abns@ listeners are served for clients that say who they are: a unix client
    has no IP address for pylvs's streams, so the PROXY header must give one, and the
    connection rules (which run before it, on the socket's own addresses) cannot run."""
    if not b.accept_proxy:
        problems.error(
            b.loc,
            f"{proxy.type_str} '{proxy.name}': unix@/abns@ listeners are served with"
            " 'accept-proxy' only (the streams carry the client's IP address)",
            Kind.UNSUPPORTED,
        )
    elif proxy.tcp_request_connection:
        problems.error(
            proxy.tcp_request_connection[0].loc,
            f"{proxy.type_str} '{proxy.name}': 'tcp-request connection' rules are not run"
            " on unix@/abns@ listeners (no address before the PROXY header)",
            Kind.UNSUPPORTED,
        )


def _inherited(ep: Endpoint) -> bool:
    """`fd@N`: a listening socket the parent process bound (HAProxy's test driver, systemd)."""
    return ep.family == "fd" and (ep.path or "").isdigit()


def bind(b: Bind) -> BindSpec:
    addresses: list[ListenAddress] = []
    for ep in b.endpoints:
        if _inherited(ep):
            addresses.append(ListenAddress(None, 0, fd=int(ep.path or 0)))
            continue  # a socket the parent bound (system/inherited.py)
        if ep.family in ("unix", "abns") and b.accept_proxy:
            path = ep.path or ""
            addresses.append(
                ListenAddress(None, 0, 0, path="\0" + path if ep.family == "abns" else path)
            )
            continue
        if ep.port is None:
            continue  # sockpair@, unix/abns without accept-proxy: refused by frontend()
        family = 6 if ep.family == "ipv6" or (ep.ip is not None and ep.ip.version == 6) else 4
        addresses.append(ListenAddress(ep.ip, ep.port, family))
    return BindSpec(
        addresses=tuple(addresses),
        where=where(b.loc),
        name=b.name,
        maxconn=b.maxconn or 0,
        backlog=b.backlog,
        accept_proxy=b.accept_proxy,
        transparent=b.transparent,
        v6only=b.v6only,
        interface=b.interface,
        proto=b.proto,
        tls=ssl_options.bind_tls(b.others, where(b.loc)),
    )


def _bind_mux(proxy: Proxy, b: Bind, problems: Problems) -> None:
    """cfgparse.c check_config_validity(): a bind's `proto` must serve the proxy's mode
    (fcgi is for servers only)."""
    if b.proto is None or (MUX_MODES[b.proto] == proxy.mode and b.proto != "fcgi"):
        return
    problems.error(
        b.loc,
        f"{proxy.type_str} '{proxy.name}' : MUX protocol '{b.proto}' is not usable for"
        f" this 'bind' (mode {proxy.mode}).",
    )


def frontend(proxy: Proxy, pid: int, problems: Problems) -> FrontendSpec | None:
    stats = stats_page(proxy) if proxy.stats.enabled else None
    if proxy.mode == "http" and stats is None:
        convert_http.report_unserved(proxy, problems)
    for b in proxy.binds:
        _bind_mux(proxy, b, problems)
        for ep in b.endpoints:
            if ep.family in ("unix", "abns"):
                _unix_bind(proxy, b, problems)
            elif ep.port is None and not _inherited(ep):
                problems.error(
                    b.loc,
                    f"{proxy.type_str} '{proxy.name}': {ep.family}@ listeners are not served"
                    " (fd@N, a socket the parent process bound, is)",
                    Kind.UNSUPPORTED,
                )
    if proxy.mode == "tcp":
        _runtime_gaps(proxy, problems)
    default = proxy.default_backend
    if default is None and proxy.kind == "listen":
        default = proxy.name
    t = proxy.timeouts
    return FrontendSpec(
        name=proxy.name,
        id=pid,
        mode=proxy.mode,
        binds=tuple(bind(b) for b in proxy.binds),
        maxconn=proxy.maxconn,
        rate_limit=proxy.more.rate_limit_sessions or 0,
        default_backend=default,
        client_ms=t.client,
        client_fin_ms=t.client_fin,
        stats=stats,
        where=where(proxy.loc),
        http=(
            convert_http.http_spec(proxy, problems)
            if proxy.mode == "http" or proxy.http_upgrade
            else None
        ),
        abortonclose=proxy.options.abortonclose,
    )


# Actions the mode tcp runtime does not carry out: an error where the stream would differ
# (a NetScaler header read as data), a warning where only the order of a queue would.
_NOT_CARRIED = {"expect-netscaler-cip": True, "set-priority-class": False,
                "set-priority-offset": False}  # fmt: skip


def _runtime_gaps(proxy: Proxy, problems: Problems) -> None:
    """What the mode tcp runtime does not apply of a proxy's rules (the rules themselves
    run in proto/rules: docs/haproxy-mode.md)."""
    # mode tcp streams run them (dataplane/haproxy/response_gate.py); the HTTP driver not
    for rule in proxy.tcp_response_content if proxy.mode == "http" else ():
        problems.warning(
            rule.loc, "'tcp-response content' rules are not applied in mode http yet",
            Kind.UNSUPPORTED,
        )  # fmt: skip
    for rules, what in (
        (proxy.tcp_request_connection, "tcp-request connection"),
        (proxy.tcp_request_session, "tcp-request session"),
        (proxy.tcp_request_content, "tcp-request content"),
    ):
        for rule in rules:
            name = rule.action.partition("(")[0]
            if name in _NOT_CARRIED:
                report = problems.error if _NOT_CARRIED[name] else problems.warning
                report(rule.loc, f"'{what} {name}' is not carried out by the runtime",
                       Kind.UNSUPPORTED)  # fmt: skip


def stats_page(proxy: Proxy) -> StatsPageSpec:
    s = proxy.stats
    t = proxy.timeouts
    return StatsPageSpec(
        uri=s.uri,
        refresh_s=(s.refresh_ms or 0) // 1000,
        realm=s.realm,
        auth=s.auth,
        hide_version=s.hide_version,
        legends=s.show_legends,
        node=s.show_node,
        scope=s.scope,
        request_ms=t.http_request if t.http_request is not None else t.client,
        keepalive_ms=t.http_keep_alive if t.http_keep_alive is not None else t.client,
    )


def server(s: Server) -> ServerSpec:
    t = s.target
    tls, use_ssl = ssl_options.server_tls(s.others)
    return ServerSpec(
        name=s.name,
        id=s.id,
        host=t.host,
        address=t.ip,
        port=t.port,
        port_offset=t.port_offset or 0,
        weight=s.weight,
        maxconn=s.maxconn,
        maxqueue=s.maxqueue,
        minconn=s.minconn,
        backup=s.backup,
        disabled=s.disabled,
        send_proxy=s.send_proxy,
        send_proxy_v2=s.send_proxy_v2,
        proxy_v2_options=s.proxy_v2_options,
        slowstart_ms=s.slowstart_ms,
        non_stick=s.non_stick,
        check=ServerCheck(
            enabled=s.check,
            port=s.check_port,
            addr=s.check_addr,
            inter_ms=s.inter_ms,
            fastinter_ms=s.fastinter_ms,
            downinter_ms=s.downinter_ms,
            rise=s.rise,
            fall=s.fall,
            send_proxy=s.check_send_proxy,
            agent=s.agent_check,
            agent_port=s.agent_port,
            agent_inter_ms=s.agent_inter_ms,
            on_marked_down=s.on_marked_down,
            on_marked_up=s.on_marked_up,
        ),
        where=where(s.loc),
        track=s.track,
        proto=s.proto,
        tls=tls,
        use_ssl=use_ssl,
        fqdn=None if _srv_record(s) else s.fqdn,  # an SRV record's server has no name yet
        init_last=s.init_last,
        unresolved=s.target.ip is None and s.init_none,
        resolve=_resolve(s),
    )


def _resolve(s: Server) -> ResolveOptions | None:
    """A named server's run-time resolution (an address written as an IP has none: HAProxy
    links no resolution to a server without a host name)."""
    if s.resolvers is None or s.fqdn is None:
        return None
    opts = s.resolve_opts
    dup = False
    for o in opts:  # srv_parse_resolve_opts: the last of allow-/prevent-dup-ip wins
        if o in ("allow-dup-ip", "prevent-dup-ip"):
            dup = o == "allow-dup-ip"
    return ResolveOptions(
        s.resolvers,
        s.resolve_prefer,
        s.resolve_net,
        dup,
        "ignore-weight" in opts,
        s.fqdn if _srv_record(s) else None,
    )


def _srv_record(s: Server) -> bool:
    """A name starting with '_' is an SRV record's (_srv_parse_init: fqdn[0] == '_')."""
    return s.resolvers is not None and s.fqdn is not None and s.fqdn.startswith("_")


def _server_mux(proxy: Proxy, s: Server, problems: Problems) -> None:
    """A server's `proto` must serve the backend's mode (cfgparse.c); FastCGI is not spoken."""
    if s.proto is None:
        return
    if MUX_MODES[s.proto] != proxy.mode:
        problems.error(
            s.loc,
            f"{proxy.type_str} '{proxy.name}' : MUX protocol '{s.proto}' is not usable for"
            f" server '{s.name}'.",
        )
    elif s.proto == "fcgi":
        problems.warning(
            s.loc, "pylvs does not do 'proto fcgi': FastCGI is not implemented", Kind.UNSUPPORTED
        )


def backend(proxy: Proxy, pid: int, problems: Problems) -> BackendSpec:
    servers: list[ServerSpec] = []
    for s in proxy.servers:
        if s.target.family in ("unix", "abns"):
            if s.check:
                problems.error(
                    s.loc,
                    f"server '{proxy.name}/{s.name}': health checks of unix@/abns@ servers"
                    " are not run",
                    Kind.UNSUPPORTED,
                )
                continue
            path = s.target.host
            servers.append(
                replace(server(s), path="\0" + path if s.target.family == "abns" else path)
            )
            continue
        if s.target.ip is None and not s.init_none:
            problems.error(
                s.loc,
                f"server '{proxy.name}/{s.name}': the runtime connects to IP addresses; "
                f"'{s.target.host}' is not one and was not resolved",
                Kind.UNSUPPORTED,
            )
            continue
        _server_mux(proxy, s, problems)
        servers.append(server(s))
    servers = convert_cookie.server_cookies(proxy, servers)
    lb = proxy.balance
    balance = BalanceSpec(
        algorithm=lb.algorithm,
        hash_type=lb.hash_type.value,
        hash_function=lb.hash_function.value,
        avalanche=lb.avalanche,
        draws=lb.draws,
        uri_whole=lb.uri_whole,
        uri_path_only=lb.uri_path_only,
        uri_len=lb.uri_len,
        uri_depth=lb.uri_depth,
        name=lb.name,
        use_domain_only=lb.use_domain_only,
        check_post=lb.check_post,
        expression=lb.expression,
        hash_balance_factor=lb.hash_balance_factor,
        allbackups=lb.allbackups,
    )
    if proxy.mode == "tcp" and lb.algorithm not in TCP_ALGORITHMS:
        problems.error(
            proxy.balance_loc or proxy.loc,
            f"balance {lb.algorithm} needs data the mode tcp runtime does not fetch yet",
            Kind.UNSUPPORTED,
        )
    if proxy.mode == "http" and lb.algorithm not in convert_http.HTTP_ALGORITHMS:
        problems.error(
            proxy.balance_loc or proxy.loc,
            f"balance {lb.algorithm} needs a sample the HTTP runtime does not fetch yet",
            Kind.UNSUPPORTED,
        )
    table = None
    if proxy.stick_table is not None:
        ts = proxy.stick_table
        table = StickTableSpec(
            name=ts.name,
            key_type=ts.key.type.value,
            key_len=ts.key.size,
            size=ts.size,
            expire_ms=ts.expire_ms,
            nopurge=ts.nopurge,
            srvkey=ts.srvkey,
            store=ts.store,
        )
    t = proxy.timeouts
    o = proxy.options
    return BackendSpec(
        name=proxy.name,
        id=pid,
        servers=tuple(servers),
        balance=balance,
        connect_ms=t.connect,
        server_ms=t.server,
        server_fin_ms=t.server_fin,
        tunnel_ms=t.tunnel,
        queue_ms=t.queue,
        retries=proxy.retries,
        redispatch=o.redispatch,
        redispatch_interval=o.redispatch_interval,
        abortonclose=o.abortonclose,
        stats=stats_page(proxy) if proxy.stats.enabled and proxy.kind == "backend" else None,
        persist=o.persist,
        fullconn=proxy.fullconn,
        stick_table=table,
        cookie=convert_cookie.cookie_spec(proxy),
        checkcache=convert_cookie.checkcache(proxy),
        mode=proxy.mode,
        where=where(proxy.loc),
        http=convert_http.http_spec(proxy) if proxy.mode == "http" else None,
        dispatch=convert_dispatch.direct_target(proxy, problems),
    )


# The algorithms a mode tcp connection has what they need for (no HTTP, no payload).
TCP_ALGORITHMS = frozenset({"roundrobin", "static-rr", "leastconn", "first", "source", "random"})


def stats_socket(s: StatsSocket) -> StatsSocketSpec:
    b = s.bind
    ep = b.endpoints[0] if b.endpoints else None
    if ep is None:
        address = ""
    elif ep.family == "unix":
        address = ep.path or ""
    elif ep.family == "fd":  # a socket the parent bound (control/stats_socket.py serves it)
        address = f"fd@{ep.path}"
    elif ep.family == "ipv6":
        address = f"ipv6@[{ep.host}]:{ep.port}"
    else:
        address = f"ipv4@{ep.host or '0.0.0.0'}:{ep.port}"
    return StatsSocketSpec(
        address=address,
        level=b.level or "operator",
        mode=b.mode,
        expose_fd=b.expose_fd_listeners,
        where=where(s.loc),
    )
