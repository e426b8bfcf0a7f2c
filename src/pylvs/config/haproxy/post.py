"""Whole-file rules of a haproxy.cfg, once every section is read (src/cfgparse.c
`check_config_validity`, HAProxy 2.6), and the drafts turned into the frozen model.

HAProxy reports these without a line; pylvs points at the line concerned (the `default_backend`,
the `stick` rule, the `server`, the section): a missing `default_backend` or `use_backend`
target, an HTTP frontend using a TCP backend, a `stick` rule without a stick table, a server with
neither a port nor a check port, two proxies of one kind with one name, custom ids used twice.
Warnings: rule sets and options that need `mode http` in a TCP proxy, layer-7 `balance` in TCP
("Falling back to round robin"), missing timeouts.  Servers get HAProxy's ids (custom ones
kept, the others 1, 2, 3, ... skipping those) and `default-server` settings; a backend's
`fullconn` defaults to 10% of the `maxconn` of the frontends that reach it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from pylvs.config.errors import Cite, Kind, Location
from pylvs.config.haproxy import compression, email_alert, tls_lists
from pylvs.config.haproxy.addresses import MUX_MODES
from pylvs.config.haproxy.checkpost import check_port_problem, proxy_checks
from pylvs.config.haproxy.draft import ProxyDraft, ServerDraft
from pylvs.config.haproxy.global_ import GlobalDraft
from pylvs.config.haproxy.init_addr import init_addr, named
from pylvs.config.haproxy.logline import line_format
from pylvs.config.haproxy.lua import registered as lua_registered
from pylvs.config.haproxy.model import (
    Bind,
    Global,
    HaproxyConfig,
    HttpErrors,
    KeptSection,
    Options,
    Peers,
    Proxy,
    Server,
    ServerOptions,
    Target,
    Userlist,
)
from pylvs.config.haproxy.samples import condition_uses
from pylvs.config.haproxy.server import overlay
from pylvs.config.haproxy.tracks import check_tracks
from pylvs.config.keywords import Context
from pylvs.proto.check.rules import Ruleset
from pylvs.sched.base import Need
from pylvs.sched.haproxy.params import LbParams

_HTTP_RULES = ("http_request", "http_response", "http_after_response")


def finish(
    glob: GlobalDraft,
    drafts: list[ProxyDraft],
    peers: list[Peers],
    userlists: list[Userlist],
    ctx: Context,
    *,
    http_errors: list[HttpErrors],
    kept: list[KeptSection],
) -> HaproxyConfig:
    _unique_names(drafts, ctx)
    proxies = [_proxy(d, ctx) for d in drafts]
    by_backend = {p.name: p for p in proxies if p.has_backend}
    tables = {x.name for x in proxies if x.stick_table is not None}
    tables |= {spec.name for ps in peers for spec, _ in ps.tables}
    errors = {e.name for e in http_errors}
    sections = {ps.name for ps in peers}
    mailers = {k.name for k in kept if k.kind == "mailers"}
    linked: dict[tuple[str, str], tuple[str, str]] = {}
    # check_config_validity's order, proxy by proxy: proxy_cfg_ensure_no_http, the backends
    # used, stick tables and peers, timeouts, the servers' tracks, what needs `mode http`;
    # then the post-proxy checks (http_htx.c: http-errors sections)
    for d, p in zip(drafts, proxies, strict=True):
        if p.mode != "http":
            _no_http(d, p, ctx)
        # cfgparse.c check_config_validity (a `bind` HAProxy refused still made its listener,
        # and a file with errors is not checked further)
        if p.has_frontend and not p.binds and not ctx.problems.has_errors():
            ctx.warning(
                p.loc,
                f"{p.type_str} '{p.name}' has no 'bind' directive. Please declare it as a backend"
                " if this was intended.",
                cite=Cite.NONE,
            )
        email_alert.incomplete(d, ctx)
        _targets(d, p, by_backend, ctx)
        _stick_tables(p, tables, ctx)
        sync = p.stick_table.peers if p.stick_table is not None else None
        if sync is not None and sync not in sections:  # cfgparse.c check_config_validity
            ctx.error(
                p.stick_table_loc or p.loc,
                f"Proxy '{p.name}': unable to find sync peers '{sync}'.",
                cite=Cite.NONE,
            )
        _timeouts(p, ctx)
        check_tracks([p], ctx, by_backend, linked)
        tls_lists.check_servers(p, tuple(glob.others), ctx)  # prepare_srv
        email_alert.unknown_mailers(d, mailers, ctx)
        _mode_warnings(d, p, ctx, bool(glob.logs))
    for p in proxies:  # check_config_validity's later loop: prepare_bind_conf (ssl_sock.c)
        for b in p.binds:
            _bind_certificates(p, b, ctx)
            tls_lists.check_bind(p, b, tuple(glob.others), ctx)
    for p in proxies:
        for ref in p.more.errorfiles_refs:
            if ref.name not in errors:
                ctx.error(
                    ref.loc,
                    f"proxy '{p.name}': unknown http-errors section '{ref.name}'"
                    f" (at {ref.loc.file}:{ref.loc.line}).",
                    cite=Cite.NONE,
                )
    programs = [k for k in kept if k.kind == "program"]
    if programs and not glob.master_worker:
        ctx.error(programs[0].loc, "Can't use a 'program' section without master worker mode.")
    gmax = glob.maxconn or 0
    proxies = [_fullconn(p, proxies, gmax) for p in proxies]
    local = glob.localpeer or ctx.host.hostname
    local_peers = 0
    for ps in peers:
        if any(peer.name == local for peer in ps.peers):
            local_peers += 1
        elif local is not None and not ps.disabled:
            ctx.warning(
                ps.loc,
                f"Removing incomplete section 'peers {ps.name}' (no peer named '{local}').",
                cite=Cite.NONE,
            )
    return HaproxyConfig(
        _global(glob),
        tuple(proxies),
        tuple(peers),
        tuple(userlists),
        tuple(http_errors),
        tuple(kept),
        local_peers=local_peers,
        local_peer=local,
    )


def _global(g: GlobalDraft) -> Global:
    return Global(
        daemon=g.daemon,
        master_worker=g.master_worker,
        maxconn=g.maxconn,
        ulimit_n=g.ulimit_n,
        pidfile=g.pidfile,
        nbthread=g.nbthread,
        user=g.user,
        group=g.group,
        chroot=g.chroot,
        node=g.node,
        description=g.description,
        stats_sockets=tuple(g.sockets),
        stats_timeout_ms=g.stats_timeout_ms,
        stats_maxconn=g.stats_maxconn,
        cli_proxy=g.cli_proxy,
        logs=tuple(g.logs),
        log_tag=g.log_tag,
        log_send_hostname=g.log_send_hostname,
        strict_limits=g.strict_limits,
        spread_checks=g.spread_checks,
        max_spread_checks_ms=g.max_spread_checks_ms,
        server_state_base=g.server_state_base,
        server_state_file=g.server_state_file,
        hard_stop_after_ms=g.hard_stop_after_ms,
        localpeer=g.localpeer,
        quiet=g.quiet,
        zero_warning=g.zero_warning,
        uid=g.uid,
        gid=g.gid,
        grace_ms=g.grace_ms,
        maxconnrate=g.maxconnrate,
        maxsessrate=g.maxsessrate,
        maxsslrate=g.maxsslrate,
        bufsize=g.bufsize,
        maxrewrite=g.maxrewrite,
        nosplice=g.nosplice,
        maxpipes=g.maxpipes,
        pipesize=g.pipesize,
        http_maxhdr=g.http_maxhdr,
        http_cookielen=g.http_cookielen,
        comp_maxlevel=g.comp_maxlevel,
        h1_accept_payload_with_any_method=g.h1_accept_payload_with_any_method,
        pp2_never_send_local=g.pp2_never_send_local,
        variables=tuple(g.variables),
        others=tuple(g.others),
        pylvs_http=g.pylvs_http,
        lua=g.lua,
        lua_names=lua_registered(),
    )


def _unique_names(drafts: list[ProxyDraft], ctx: Context) -> None:
    """Two frontends (or two backends) may not share a name; a frontend and a backend may.
    cfgparse-listen.c looks a new section's name up among the frontends when it has that
    capability (a listen too), else among the backends, as the section opens."""
    seen: dict[tuple[str, bool], ProxyDraft] = {}
    for d in drafts:
        backend = d.kind == "backend"
        other = seen.get((d.name, backend))
        if other is not None:
            ctx.error(
                d.loc,
                f"{d.kind} '{d.name}' has the same name as {other.type_str} '{d.name}' declared"
                f" at {other.loc.file}:{other.loc.line}.",
                cite=Cite.CAPITAL,
            )
        for cap in (False, True):
            if d.kind in ("listen", "backend" if cap else "frontend"):
                seen.setdefault((d.name, cap), d)


def _servers(d: ProxyDraft, ctx: Context, checks: Ruleset | None) -> tuple[Server, ...]:
    used: dict[int, ServerDraft] = {}
    for s in d.servers:
        if s.id is None:
            continue
        if s.id in used:
            ctx.error(
                s.loc,
                f"server {d.name}/{s.name} custom id {s.id} conflicts with server"
                f" {used[s.id].name}.",
            )
        used[s.id] = s
    next_id = 1
    out = []
    for s in d.servers:
        sid = s.id
        if sid is None:
            while next_id in used:
                next_id += 1
            sid = next_id
            used[sid] = s
        out.append(_server(d, s, sid, ctx, checks))
    return tuple(out)


def _check_needs_port(t: Target, o: ServerOptions) -> bool:
    """init_srv_check's test: a check port is needed when the server has no port and no
    `port`, unless the server is not an IPv4/IPv6 address that is set (is_inet_addr: `0.0.0.0`,
    a unix or abns socket, a name `init-addr` left without an address, an SRV record's) and
    the check has no address of its own."""
    if t.port is not None or t.port_offset is not None or o.check_port:
        return False
    unset = t.family in ("unix", "abns", "sockpair") or t.ip is None or t.ip.is_unspecified
    return not (unset and o.check_addr is None)


def _server(
    d: ProxyDraft, s: ServerDraft, sid: int, ctx: Context, checks: Ruleset | None
) -> Server:
    defaults = s.defaults if s.defaults is not None else d.default_server
    o = overlay(defaults, s.options)
    if defaults.proxy_v2_options and s.options.proxy_v2_options:
        # srv_settings_cpy copies the default's pp_opts; the server's own are or'ed in
        both = defaults.proxy_v2_options | s.options.proxy_v2_options
        o = dataclasses.replace(o, proxy_v2_options=both)
    # srv_settings_cpy copies the default's resolve-opts and resolve-net; the server's add
    # to them (the last of allow-/prevent-dup-ip wins, networks are appended)
    if defaults.resolve_opts and s.options.resolve_opts:
        o = dataclasses.replace(o, resolve_opts=(*defaults.resolve_opts, *s.options.resolve_opts))
    if defaults.resolve_net and s.options.resolve_net:
        o = dataclasses.replace(o, resolve_net=(*defaults.resolve_net, *s.options.resolve_net))
    target, fqdn, got = s.target, None, None
    if named(target):
        fqdn = target.host
        got = init_addr(f"'server {d.name}/{s.name}'", s.loc, target, o.init_addr, ctx)
        if got is not None and got.ip is not None:
            target = dataclasses.replace(target, host=str(got.ip), ip=got.ip)
    if o.check and _check_needs_port(target, o):
        problem = check_port_problem(checks)
        if problem is not None:
            kind = d.type_str
            ctx.error(
                s.loc, f"config: {kind} '{d.name}': server '{s.name}' {problem}.", cite=Cite.NONE
            )
    if o.check and o.check_proto is not None and d.kind != "frontend":
        # init_srv_check: an explicit check multiplexer of the other mode is fatal
        http = checks is not None and checks.http
        if (MUX_MODES.get(o.check_proto) == "http") != http:
            ctx.error(
                s.loc,
                f"config: {d.type_str} '{d.name}': server '{s.name}' uses an incompatible MUX"
                " protocol for the selected check type",
                cite=Cite.NONE,
            )
    if o.observe == "layer7" and (d.mode or "tcp") != "http":
        ctx.warning(  # srv_parse_observe's ERR_ALERT, not fatal, while the server is read
            s.loc,
            f"'server {d.name}/{s.name}' : 'layer7' can only be used in http proxies..",
            cite=Cite.SERVER,
            alert=True,
        )
    values = {
        f.name: getattr(o, f.name)
        for f in dataclasses.fields(ServerOptions)
        if getattr(o, f.name) is not None
    }
    return Server(
        loc=s.loc,
        name=s.name,
        target=target,
        id=sid,
        fqdn=fqdn,
        init_none=got is not None and got.none,
        init_last=got is not None and got.last,
        **values,
    )


def _options(d: ProxyDraft) -> Options:
    o = d.options
    on = {k for k, v in o.enabled.items() if v}
    known = {f.name for f in dataclasses.fields(Options)}
    flags = {name.replace("-", "_"): True for name in on if name.replace("-", "_") in known}
    flags.pop("forwardfor", None)
    flags.pop("httpchk", None)
    others = tuple(
        (name, o.enabled[name], o.args.get(name, ()))
        for name in sorted(o.enabled)
        if name.replace("-", "_") not in known
    )
    return Options(
        **flags,
        redispatch_interval=o.redispatch_interval,
        httplog_clf=o.args.get("httplog", ()) == ("clf",),
        http_mode=o.http_mode or "keep-alive",
        forwardfor=o.forwardfor if "forwardfor" in on else None,
        others=others,
    )


def proxy_of(d: ProxyDraft, ctx: Context) -> Proxy:
    """A draft as the model's Proxy (a defaults section's too: its rules are checked)."""
    return _proxy(d, ctx)


def _proxy(d: ProxyDraft, ctx: Context) -> Proxy:
    o = d.options
    compression.check_filters(d, ctx)
    checks = proxy_checks(d, ctx)
    return Proxy(
        loc=d.loc,
        kind=d.kind,
        name=d.name,
        mode=d.mode or "tcp",
        defaults=d.defaults,
        id=d.id,
        description=d.description,
        disabled=d.disabled,
        binds=d.binds,
        servers=_servers(d, ctx, checks),
        timeouts=d.timeouts,
        maxconn=d.maxconn or 0,
        backlog=d.backlog,
        fullconn=d.fullconn,
        retries=3 if d.retries is None else d.retries,
        balance=dataclasses.replace(
            d.lb or LbParams(),
            hash_balance_factor=d.hash_balance_factor or 0,
            allbackups=bool(o.enabled.get("allbackups")),
        ),
        balance_loc=d.lb_loc,
        balance_sample=d.balance_sample,
        options=_options(d),
        stick_table=d.stick_table,
        stick_table_loc=d.stick_table_loc,
        stick_rules=d.stick_rules,
        acls=d.acls,
        tcp_request_connection=d.tcp_request_connection,
        tcp_request_session=d.tcp_request_session,
        tcp_request_content=d.tcp_request_content,
        tcp_request_inspect_delay_ms=d.tcp_request_inspect_delay_ms,
        tcp_response_inspect_delay_ms=d.tcp_response_inspect_delay_ms,
        tcp_response_content=d.tcp_response_content,
        http_request=d.http_request,
        http_response=d.http_response,
        http_after_response=d.http_after_response,
        redirects=d.redirects,
        use_backends=d.use_backends,
        use_servers=d.use_servers,
        default_backend=d.default_backend,
        checks=checks,
        stats=d.stats,
        cookie=d.cookie,
        captures=d.captures,
        errorfiles=d.errorfiles,
        errorloc=d.errorloc,
        logs=d.logs,
        log_tag=d.log_tag,
        log_line=line_format(d, ctx),
        log_format=d.log_format,
        unique_id_format=d.unique_id_format,
        unique_id_header=d.unique_id_header,
        monitor_uri=d.monitor_uri,
        http_reuse=d.http_reuse,
        load_server_state_from_file=d.load_server_state_from_file,
        server_state_file_name=d.server_state_file_name,
        more=d.more,
    )


def _targets(d: ProxyDraft, p: Proxy, backends: dict[str, Proxy], ctx: Context) -> None:
    """default_backend / use_backend name a backend; an HTTP frontend cannot use a TCP one.
    cfgparse.c checks them in a backend too (where they were ignored with a warning), and a
    default backend found makes the proxy's own servers useless (a warning)."""
    wanted: list[tuple[str, str, Location]] = []
    if p.default_backend is not None:
        wanted.append(("default_backend", p.default_backend, d.default_backend_loc or d.loc))
    wanted += [("use_backend", r.backend, r.loc) for r in p.use_backends if not r.dynamic]
    for what, name, loc in wanted:
        be = backends.get(name)
        if be is None or be is p:
            found = "loop detected for" if be is p else "unable to find required"
            ctx.error(loc, f"Proxy '{p.name}': {found} {what}: '{name}'.", cite=Cite.NONE)
            continue
        if p.mode == "http" and be.mode != "http":
            role = (
                "as its default backend" if what == "default_backend" else "in a 'use_backend' rule"
            )
            ctx.error(
                loc,
                f"http {p.type_str} '{p.name}' ({p.loc.file}:{p.loc.line}) tries to use"
                f" incompatible tcp {be.type_str} '{be.name}' ({be.loc.file}:{be.loc.line})"
                f" {role} (see 'mode').",
                cite=Cite.NONE,
            )
        elif what == "default_backend" and p.servers:
            ctx.warning(
                loc,
                f"In proxy '{p.name}', the 'default_backend' rule always has precedence over the"
                " servers, which will never be used.",
                cite=Cite.NONE,
            )


def _bind_certificates(p: Proxy, b: Bind, ctx: Context) -> None:
    """ssl_sock.c ssl_sock_prepare_bind_conf: a TLS bind needs a certificate, unless it makes
    them (`generate-certificates`); with `strict-sni` it only warns."""
    words = {k for k, _ in b.others}
    if "ssl" not in words or words & {"crt", "crt-list", "generate-certificates"}:
        return
    said = f"Proxy '{p.name}': no SSL certificate specified for bind '{b.arg}' at"
    where = f"[{b.loc.file}:{b.loc.line}]"
    if "strict-sni" in words:
        fails = f"{said} {where}, ssl connections will fail (use 'crt')."
        ctx.warning(b.loc, fails, cite=Cite.NONE)
    else:
        ctx.error(b.loc, f"{said} {where} (use 'crt').", cite=Cite.NONE)


def _stick_tables(p: Proxy, tables: set[str], ctx: Context) -> None:
    for rule in p.stick_rules:
        name = rule.table or p.name
        if name not in tables:
            ctx.error(
                rule.loc, f"Proxy '{p.name}': unable to find stick-table '{name}'.", cite=Cite.NONE
            )


def _log_warnings(d: ProxyDraft, p: Proxy, ctx: Context, global_logs: bool) -> None:
    """HTTP log formats in TCP proxies, log formats without a log target (cfgparse.c,
    proxy.c)."""
    o = d.options
    http_log = o.enabled.get("httplog") or o.enabled.get("httpslog")
    has_format = p.log_format is not None or http_log or o.enabled.get("tcplog")
    logs = any(t.target != "global" for t in p.logs) or (
        global_logs and any(t.target == "global" for t in p.logs)
    )
    if p.has_frontend and has_format and not logs and p.mode in ("tcp", "http"):
        ctx.warning(
            p.loc,
            f"log format ignored for {p.type_str} '{p.name}' since it has no log address.",
            cite=Cite.NONE,
        )


def _l6_in_http(p: Proxy, ctx: Context) -> None:
    """Conditions of an HTTP proxy reading layer-6 fetches (cfgparse.c warnif_tcp_http_cond)."""
    if p.mode != "http":
        return
    acls = {a.name: a for a in p.acls if a.name is not None}
    conds = [r.condition for attr in _CONDITIONAL for r in getattr(p, attr)]
    for cond in conds:
        if cond is not None and condition_uses(cond, acls) & {"L6REQ", "L6RES"}:
            at = cond.loc or p.loc
            ctx.warning(
                at,
                f"Proxy '{p.name}': L6 sample fetches ignored on HTTP proxies (declared at"
                f" {at.file}:{at.line}).",
                cite=Cite.NONE,
            )


_CONDITIONAL = (
    "tcp_request_connection", "tcp_request_session", "tcp_request_content",
    "tcp_response_content", "http_request", "http_response", "http_after_response",
    "use_backends", "use_servers", "stick_rules",
)  # fmt: skip


def _no_http(d: ProxyDraft, p: Proxy, ctx: Context) -> None:
    """What needs `mode http` in another proxy, first of check_config_validity's checks
    (src/proxy.c proxy_cfg_ensure_no_http): ignored, or an HTTP log falling back to tcplog."""
    kind = p.type_str
    if p.cookie is not None:
        ctx.warning(
            p.loc,
            f"cookie will be ignored for {kind} '{p.name}' (needs 'mode http').",
            cite=Cite.NONE,
        )
    if p.monitor_uri is not None:
        ctx.warning(
            p.loc,
            f"monitor-uri will be ignored for {kind} '{p.name}' (needs 'mode http').",
            cite=Cite.NONE,
        )
    if p.has_backend and p.balance.need is Need.HTTP:
        ctx.warning(
            p.balance_loc or p.loc,
            f"Layer 7 hash not possible for {kind} '{p.name}' (needs 'mode http')."
            " Falling back to round robin.",
            cite=Cite.NONE,
        )
    o = d.options
    # the last log format given is the one kept (logline.py line_format)
    found: list[tuple[Location, str]] = [
        (o.where[n], n)
        for n in ("tcplog", "httplog", "httpslog")
        if o.enabled.get(n) and n in o.where
    ]
    if d.log_format_loc is not None:
        found.append((d.log_format_loc, "log-format"))
    if found:
        loc, name = max(found, key=lambda f: (f[0].file == d.loc.file, f[0].line, f[0].col))
        if name in ("httplog", "httpslog"):
            ctx.warning(
                loc,
                f"'option {name}' not usable with {kind} '{p.name}' (needs 'mode http')."
                " Falling back to 'option tcplog'.",
                cite=Cite.LATE,
            )


def _cookies_in_tcp(d: ProxyDraft, p: Proxy, ctx: Context) -> None:
    """Cookie options and server cookies in a proxy that is not `mode http`: said to be
    ignored, in haproxy 2.6.12's words (cfgparse.c check_config_validity)."""
    if any(name == "checkcache" and on for name, on, _ in p.options.others):
        ctx.warning(
            d.options.where.get("checkcache") or p.loc,
            f"'option checkcache' ignored for {p.type_str} '{p.name}' as it requires HTTP mode.",
            cite=Cite.NONE,
        )
    for srv in p.servers:
        if srv.cookie is not None:
            ctx.warning(
                srv.loc,
                f"{p.type_str} '{p.name}' : ignoring cookie for server '{srv.name}' as HTTP mode"
                " is disabled.",
                cite=Cite.NONE,
            )


def _mode_warnings(d: ProxyDraft, p: Proxy, ctx: Context, global_logs: bool) -> None:
    _log_warnings(d, p, ctx, global_logs)
    _l6_in_http(p, ctx)
    if p.mode != "http" and p.http_upgrade:
        _upgrade_warning(p, ctx)
    elif p.mode != "http":
        _ignored_in_tcp(p, ctx)
    if p.mode != "http":
        _cookies_in_tcp(d, p, ctx)
        _splice_in_tcp(d, ctx)


def _splice_in_tcp(d: ProxyDraft, ctx: Context) -> None:
    """HAProxy splices a tcp stream's data as these options ask (stream.c); pylvs's pump
    splices HTTP bodies and tunnels only (dataplane/proxy/_pipe.h) and copies tcp streams with
    recv/send: said, not silently ignored."""
    o = d.options
    for name in ("splice-request", "splice-response", "splice-auto"):
        if o.enabled.get(name):
            ctx.warning(
                o.where.get(name) or d.loc,
                f"pylvs does not do 'option {name}' in a mode tcp proxy ('{d.name}'): its pump"
                " copies tcp streams with recv/send (splice(2) moves HTTP bodies only)",
                Kind.UNSUPPORTED,
            )


def _timeouts(p: Proxy, ctx: Context) -> None:
    t = p.timeouts
    missing = (p.has_frontend and not t.client) or (
        p.has_backend and (not t.connect or not t.server)
    )
    if missing and not p.disabled and (p.binds or p.servers or p.kind == "backend"):
        ctx.warning(
            p.loc,
            f"missing timeouts for {p.type_str} '{p.name}'.\n"
            "   | While not properly invalid, you will certainly encounter various problems\n"
            "   | with such a configuration. To fix this, please ensure that all following\n"
            "   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
            cite=Cite.NONE,
        )


def _ignored_in_tcp(p: Proxy, ctx: Context) -> None:
    """cfgparse.c: what needs HTTP in a tcp proxy no `switch-mode http` upgrades."""
    for attr in _HTTP_RULES:
        rules = getattr(p, attr)
        if rules:
            name = attr.replace("_", "-")
            ctx.warning(
                rules[0].loc,
                f"'{name}' rules ignored for {p.type_str} '{p.name}' as they require HTTP mode.",
                cite=Cite.NONE,
            )
    if p.options.forwardfor is not None:
        ctx.warning(
            p.loc,
            f"'option forwardfor' ignored for {p.type_str} '{p.name}' as it requires HTTP mode.",
            cite=Cite.NONE,
        )


def _upgrade_warning(p: Proxy, ctx: Context) -> None:
    """cfgparse.c: a tcp proxy whose `switch-mode http` streams can only reach its own TCP
    servers (the HTTP rules and options are kept: PR_O_HTTP_UPG)."""
    if not p.default_backend and not p.use_backends and p.servers:
        ctx.warning(
            p.loc,
            f"Proxy '{p.name}' : 'switch-mode http' configured for a tcp {p.type_str} with no"
            " backend. Incoming connections upgraded to HTTP cannot be routed to TCP servers",
            cite=Cite.NONE,
        )


def _fullconn(p: Proxy, proxies: Iterable[Proxy], global_maxconn: int) -> Proxy:
    """An unset fullconn is 10% of the maxconn of the frontends reaching the backend,
    rounded up (proxy.c: (tot_fe_maxconn + 9) / 10)."""
    if not p.has_backend or p.fullconn is not None:
        return p
    total = 0
    for fe in proxies:
        if not fe.has_frontend:
            continue
        names = {fe.default_backend, *(r.backend for r in fe.use_backends)}
        if fe is p or p.name in names:
            total += fe.maxconn or global_maxconn
    return dataclasses.replace(p, fullconn=max(1, (total + 9) // 10) if total else None)
