"""Typed, frozen model of a haproxy.cfg (HAProxy 2.6), as `config/haproxy/reader.py` returns it.

Every value is what HAProxy would run with once defaults are inherited: times in milliseconds,
sizes in bytes, `balance` as the `lb` engineer's `LbParams` (its `registry_name` is
`haproxy:<name>`, the name the scheduler is registered under in `sched/`), stick tables as
`proto/stick`'s `TableSpec`, ACLs, conditions and rules as parsed trees.
Keywords of `mode http` are parsed into the same proxies for the L7 issue.  The runtime
(DirectorSpec conversion, the HAProxy mode) reads this; nothing here depends on it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from pylvs.config.errors import Location
from pylvs.config.haproxy.replies import HttpReply
from pylvs.model.cache import CacheSpec
from pylvs.model.lua_spec import NO_LUA, LuaSpec
from pylvs.model.proxy_log import LogTarget as ProxyLogTarget
from pylvs.model.proxy_spec import CompressionSpec
from pylvs.model.resolvers import ResolversSpec
from pylvs.proto.check.rules import Ruleset
from pylvs.proto.stick.spec import TableSpec
from pylvs.sched.haproxy.params import LbParams

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One listening address of a `bind`, one port of a port range each.

    `family` is "ipv4", "ipv6", "unix", "abns", "fd" or "sockpair" (the `ipv4@`... prefixes);
    `host` is the address as written ("" for any), `ip` the literal address when it is one.
    """

    family: str
    host: str
    ip: IpAddress | None
    port: int | None  # None for unix/abns/fd/sockpair
    path: str | None = None  # unix/abns path, fd@ number or variable as written


@dataclass(frozen=True, slots=True)
class Bind:
    loc: Location
    endpoints: tuple[Endpoint, ...]
    name: str | None = None
    maxconn: int | None = None
    backlog: int | None = None
    transparent: bool = False
    accept_proxy: bool = False
    v4v6: bool = False
    v6only: bool = False
    interface: str | None = None
    level: str | None = None  # stats socket only
    mode: int | None = None  # unix socket permissions
    user: str | None = None
    group: str | None = None
    expose_fd_listeners: bool = False
    id: int | None = None  # the listener's id (stats)
    proto: str | None = None  # `proto NAME`: the multiplexer (h1, h2) its connections get
    # Options of config/haproxy/unsupported.py's list, as written (each was warned about).
    others: tuple[tuple[str, tuple[str, ...]], ...] = ()
    arg: str = ""  # the addresses as written (HAProxy's bind_conf->arg, in its messages)


@dataclass(frozen=True, slots=True)
class Target:
    """A server or check address: a host (literal address or a name to resolve) and a port.

    `port` None means the client's destination port is used (a server written without port);
    `port_offset` is set for `+N`/`-N` (the client's port plus N)."""

    host: str  # the path for unix@/abns@ addresses, the descriptor for sockpair@
    ip: IpAddress | None
    port: int | None
    port_offset: int | None = None
    family: str = "inet"  # "inet" (v4 or v6, or a name), "ipv4", "ipv6", "unix", "abns", "sockpair"


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """Everything a `server` or `default-server` line sets (None: not set)."""

    weight: int | None = None
    check: bool | None = None
    check_port: int | None = None
    check_addr: IpAddress | None = None
    check_send_proxy: bool | None = None
    check_via_socks4: bool | None = None
    inter_ms: int | None = None
    fastinter_ms: int | None = None
    downinter_ms: int | None = None
    rise: int | None = None
    fall: int | None = None
    backup: bool | None = None
    disabled: bool | None = None
    maxconn: int | None = None
    maxqueue: int | None = None
    minconn: int | None = None
    slowstart_ms: int | None = None
    send_proxy: bool | None = None
    send_proxy_v2: bool | None = None
    proxy_v2_options: frozenset[str] | None = None  # `proxy-v2-options` (proxyproto.V2_OPTIONS)
    on_marked_down: str | None = None  # "shutdown-sessions"
    on_marked_up: str | None = None  # "shutdown-backup-sessions"
    observe: str | None = None  # "layer4" | "layer7"
    error_limit: int | None = None
    on_error: str | None = None
    agent_check: bool | None = None
    agent_port: int | None = None
    agent_addr: str | None = None
    agent_inter_ms: int | None = None
    agent_send: str | None = None
    cookie: str | None = None
    init_addr: tuple[str, ...] | None = None
    resolvers: str | None = None
    resolve_prefer: str | None = None  # "ipv4" | "ipv6"
    resolve_net: tuple[str, ...] | None = None  # networks, "ADDR/LEN"
    resolve_opts: tuple[str, ...] | None = None  # allow-dup-ip, ignore-weight, prevent-dup-ip
    track: str | None = None
    non_stick: bool | None = None  # stick rules store nothing for this server
    source: tuple[str, ...] | None = None  # `source ADDR[:PORT] [usesrc ..] [interface ..]`
    proto: str | None = None  # `proto NAME`: the multiplexer (h1, h2) spoken to the server
    check_proto: str | None = None  # `check-proto NAME`: the health check's multiplexer
    # Options of config/haproxy/unsupported.py's list, as written (each was warned about).
    others: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Server:
    """A `server` line with `default-server` applied (then HAProxy's defaults)."""

    loc: Location
    name: str
    target: Target
    id: int  # given with `id`, else assigned 1, 2, 3 ... in declaration order
    weight: int = 1
    check: bool = False
    check_port: int | None = None
    check_addr: IpAddress | None = None
    check_send_proxy: bool = False
    check_via_socks4: bool = False  # the check goes through the `socks4` proxy
    inter_ms: int = 2000
    fastinter_ms: int | None = None
    downinter_ms: int | None = None
    rise: int = 2
    fall: int = 3
    backup: bool = False
    disabled: bool = False
    maxconn: int = 0  # 0: no limit
    maxqueue: int = 0
    minconn: int = 0
    slowstart_ms: int = 0
    send_proxy: bool = False
    send_proxy_v2: bool = False
    proxy_v2_options: frozenset[str] = frozenset()
    on_marked_down: str | None = None
    on_marked_up: str | None = None
    observe: str | None = None
    error_limit: int = 10
    on_error: str = "fail-check"
    agent_check: bool = False
    agent_port: int | None = None
    agent_addr: str | None = None
    agent_inter_ms: int | None = None
    agent_send: str | None = None
    cookie: str | None = None
    init_addr: tuple[str, ...] = ("last", "libc")
    # A server named by a host name (config/haproxy/init_addr.py): the name (`target` then
    # holds the address init-addr found, or none), `init_none`: no address, it starts in
    # maintenance "resolution"; `init_last`: the server-state file's address comes first.
    fqdn: str | None = None
    init_none: bool = False
    init_last: bool = False
    resolvers: str | None = None
    resolve_prefer: str = "ipv6"  # srv_settings_init's default family
    resolve_net: tuple[str, ...] = ()
    resolve_opts: tuple[str, ...] = ()
    track: str | None = None
    non_stick: bool = False
    source: tuple[str, ...] | None = None
    proto: str | None = None
    check_proto: str | None = None
    others: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Timeouts:
    """`timeout NAME VALUE` in milliseconds (None: not set)."""

    client: int | None = None
    server: int | None = None
    connect: int | None = None
    check: int | None = None
    queue: int | None = None
    http_keep_alive: int | None = None
    http_request: int | None = None
    tunnel: int | None = None
    tarpit: int | None = None
    client_fin: int | None = None
    server_fin: int | None = None


@dataclass(frozen=True, slots=True)
class Sample:
    """A sample expression: `fetch(args),conv1(args),conv2` (HAProxy configuration §7.3)."""

    fetch: str
    args: tuple[str, ...] = ()
    converters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    text: str = ""  # as written
    type: str = "ANY"  # the output type: BOOL, SINT, ADDR, IPV4, IPV6, STR, BIN, METH, ANY
    # an ACL keyword (`path_beg`, `hdr_sub(host)`): `fetch` is its name, this its match method
    match: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorFile:
    """`errorfile CODE PATH`: the HTTP response sent instead of HAProxy's own for CODE."""

    code: int
    path: str
    response: bytes | None = None  # the file's content (None: not read, no host facts)


@dataclass(frozen=True, slots=True)
class ErrorFilesRef:
    """`errorfiles NAME [CODE...]`: the replies of http-errors section NAME (all of them, or
    the codes given)."""

    loc: Location
    name: str
    codes: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class HttpErrors:
    """An `http-errors NAME` section: `errorfile CODE FILE` lines."""

    loc: Location
    name: str
    errorfiles: tuple[ErrorFile, ...] = ()


@dataclass(frozen=True, slots=True)
class Acl:
    """`acl NAME fetch[,conv...] [flags] [-m method] [--] patterns...` or an anonymous `{ }`."""

    loc: Location
    name: str | None  # None: anonymous
    sample: Sample
    flags: tuple[str, ...] = ()  # -i, -n, -M, -u ID
    # the match method: `-m`'s, else the ACL keyword's, else the one of the sample's type
    method: str = "str"
    patterns: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # -f FILE: patterns read from these files


@dataclass(frozen=True, slots=True)
class Term:
    negate: bool
    acl: str | None = None  # a named ACL
    anonymous: Acl | None = None  # `{ fetch patterns }`


@dataclass(frozen=True, slots=True)
class Condition:
    """`if|unless` followed by terms; `or`/`||` separate alternatives of `and`ed terms."""

    unless: bool
    alternatives: tuple[tuple[Term, ...], ...]
    loc: Location | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """One `tcp-request`, `http-request`, `http-response`, `tcp-check`, ... rule."""

    loc: Location
    action: str
    args: tuple[str, ...] = ()
    condition: Condition | None = None
    reply: HttpReply | None = None  # deny, tarpit, return: what HAProxy answers


@dataclass(frozen=True, slots=True)
class SwitchRule:
    """`use_backend NAME [if|unless cond]` (NAME may be a log-format string)."""

    loc: Location
    backend: str
    condition: Condition | None = None
    dynamic: bool = False  # NAME has %[...]: resolved per request


@dataclass(frozen=True, slots=True)
class StickRule:
    loc: Location
    kind: str  # "match" | "on" | "store-request" | "store-response"
    sample: Sample
    table: str | None = None
    condition: Condition | None = None


@dataclass(frozen=True, slots=True)
class Stats:
    enabled: bool = False
    uri: str = "/haproxy?stats"
    refresh_ms: int | None = None
    realm: str | None = None
    auth: tuple[tuple[str, str], ...] = ()
    admin: tuple[Condition, ...] = ()
    hide_version: bool = False
    show_legends: bool = False
    show_node: str | None = None
    scope: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Cookie:
    name: str
    mode: str | None = None  # rewrite | insert | prefix
    indirect: bool = False
    nocache: bool = False
    postonly: bool = False
    preserve: bool = False
    httponly: bool = False
    secure: bool = False
    domains: tuple[str, ...] = ()
    maxidle_ms: int | None = None
    maxlife_ms: int | None = None
    dynamic: bool = False
    attrs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ForwardFor:
    except_net: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    header: str = "X-Forwarded-For"
    if_none: bool = False


@dataclass(frozen=True, slots=True)
class Capture:
    kind: str  # "request header" | "response header" | "cookie"
    name: str
    length: int


@dataclass(frozen=True, slots=True)
class LogTarget:
    """A `log` line as read (config/haproxy/logtargets.py): `target` the address as
    written, or "global"; `spec` what is sent to (None for `log global` and for the targets
    pylvs does not send to)."""

    loc: Location
    target: str
    spec: ProxyLogTarget | None = None


@dataclass(frozen=True, slots=True)
class Options:
    """`option X` / `no option X` that pylvs knows, resolved (defaults inherited)."""

    redispatch: bool = False
    redispatch_interval: int = -1  # -1: on the last retry
    abortonclose: bool = False
    persist: bool = False
    allbackups: bool = False
    tcplog: bool = False
    httplog: bool = False
    httplog_clf: bool = False
    dontlognull: bool = False
    log_health_checks: bool = False
    tcp_check: bool = False
    httpchk: bool = False
    http_mode: str = "keep-alive"  # "keep-alive" | "server-close" | "close"
    forwardfor: ForwardFor | None = None
    tcpka: bool = False
    clitcpka: bool = False
    srvtcpka: bool = False
    socket_stats: bool = False
    splice_auto: bool = False
    # Other options pylvs reads and keeps as written: (name, enabled, args).
    others: tuple[tuple[str, bool, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Directives:
    """A proxy's less common directives (config/haproxy/directives.py), one value the reader
    updates with `dataclasses.replace` and the proxy keeps."""

    dispatch: Target | None = None  # the server of a backend without servers
    source: tuple[str, ...] | None = None  # `source ADDR[:PORT] [usesrc ..] [interface ..]`
    transparent: bool = False
    persist_rdp_cookie: str | None = None  # `persist rdp-cookie[(NAME)]`: the cookie name
    force_persist: tuple[Condition, ...] = ()
    ignore_persist: tuple[Condition, ...] = ()
    monitor_fail: tuple[Condition, ...] = ()
    declared_captures: tuple[tuple[str, int], ...] = ()  # ("request"|"response", length)
    errorfiles_refs: tuple[ErrorFilesRef, ...] = ()
    http_errors: tuple[HttpReply, ...] = ()
    # the order errorfile ("file"), errorloc* ("loc"), errorfiles ("ref") and http-error
    # ("reply") lines came in, defaults' first: each overrides the earlier ones for its
    # codes (http_htx.c proxy_check_errors walks px->conf.errors in that order)
    errors_order: tuple[str, ...] = ()
    rate_limit_sessions: int | None = None
    retry_on: tuple[str, ...] = ()
    dynamic_cookie_key: str | None = None
    compression: CompressionSpec | None = None  # `compression algo|type|offload`
    comp_filter: bool = False  # `filter compression` (explicit)
    # cache filters (config/haproxy/cache.py): (cache, implicit, where, after `filter
    # compression`), in declaration order
    cache_filters: tuple[tuple[str, bool, Location, bool], ...] = ()
    # Keywords of config/haproxy/unsupported.py's proxy list, as written (each was warned about).
    others: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Proxy:
    """A frontend, backend or listen section, with its defaults inherited."""

    loc: Location
    kind: str  # "frontend" | "backend" | "listen"
    name: str
    mode: str = "tcp"  # "tcp" | "http"
    defaults: str | None = None  # the defaults section it inherited from
    id: int | None = None
    description: str | None = None
    disabled: bool = False
    binds: tuple[Bind, ...] = ()
    servers: tuple[Server, ...] = ()
    timeouts: Timeouts = Timeouts()
    maxconn: int = 0  # frontend: 0 = the global maxconn
    backlog: int | None = None
    fullconn: int | None = None  # None: 10% of the maxconn of the frontends that reach it
    retries: int = 3
    # `balance`, `hash-type`, `hash-balance-factor` and `option allbackups` as the `lb`
    # engineer's schedulers take them (`balance.registry_name` is "haproxy:<algorithm>").
    balance: LbParams = field(default_factory=LbParams)
    balance_loc: Location | None = None
    balance_sample: Sample | None = None  # `balance hash <expr>`, parsed
    options: Options = Options()
    stick_table: TableSpec | None = None  # proto/stick's spec (named after the proxy)
    stick_table_loc: Location | None = None
    stick_rules: tuple[StickRule, ...] = ()
    acls: tuple[Acl, ...] = ()
    tcp_request_connection: tuple[Rule, ...] = ()
    tcp_request_session: tuple[Rule, ...] = ()
    tcp_request_content: tuple[Rule, ...] = ()
    tcp_request_inspect_delay_ms: int | None = None
    tcp_response_inspect_delay_ms: int | None = None
    tcp_response_content: tuple[Rule, ...] = ()
    http_request: tuple[Rule, ...] = ()
    http_response: tuple[Rule, ...] = ()
    http_after_response: tuple[Rule, ...] = ()
    redirects: tuple[Rule, ...] = ()
    use_backends: tuple[SwitchRule, ...] = ()
    use_servers: tuple[SwitchRule, ...] = ()
    default_backend: str | None = None
    # the health checks' ruleset (proto/check, as config/haproxy/checkset.py builds it);
    # None for a frontend
    checks: Ruleset | None = None
    stats: Stats = Stats()
    cookie: Cookie | None = None
    captures: tuple[Capture, ...] = ()
    errorfiles: tuple[ErrorFile, ...] = ()
    errorloc: tuple[tuple[int, str, str], ...] = ()  # (code, "302"|"303", url)
    logs: tuple[LogTarget, ...] = ()
    log_tag: str | None = None
    log_format: str | None = None
    # the traffic log format the options and log-format chose, and where (logline.py)
    log_line: tuple[str, Location] | None = None
    unique_id_format: str | None = None
    unique_id_header: str | None = None
    monitor_uri: str | None = None
    http_reuse: str | None = None
    load_server_state_from_file: str | None = None
    server_state_file_name: str | None = None
    more: Directives = Directives()

    @property
    def http_upgrade(self) -> bool:
        """A `tcp-request content switch-mode http` rule (PR_O_HTTP_UPG): its streams may
        become HTTP ones, so its HTTP rules and options are kept in mode tcp."""
        return any(r.action == "switch-mode" for r in self.tcp_request_content)

    @property
    def type_str(self) -> str:
        """How HAProxy's messages name this kind of proxy (proxy.c proxy_cap_str)."""
        return "proxy" if self.kind == "listen" else self.kind

    @property
    def has_frontend(self) -> bool:
        return self.kind in ("frontend", "listen")

    @property
    def has_backend(self) -> bool:
        return self.kind in ("backend", "listen")


@dataclass(frozen=True, slots=True)
class StatsSocket:
    loc: Location
    bind: Bind


@dataclass(frozen=True, slots=True)
class Global:
    daemon: bool = False
    master_worker: bool = False
    maxconn: int | None = None  # None: derived from ulimit-n / the descriptor limit
    ulimit_n: int | None = None
    pidfile: str | None = None
    nbthread: int | None = None
    user: str | None = None
    group: str | None = None
    uid: int | None = None
    gid: int | None = None
    chroot: str | None = None
    node: str | None = None
    description: str | None = None
    stats_sockets: tuple[StatsSocket, ...] = ()
    stats_timeout_ms: int | None = None
    stats_maxconn: int | None = None
    cli_proxy: bool = False  # HAProxy's CLI frontend exists (any `stats` keyword): id 1
    logs: tuple[LogTarget, ...] = ()
    log_tag: str | None = None
    log_send_hostname: str | None = None  # "": the host's name
    strict_limits: bool = True  # 2.6 default
    spread_checks: int = 0
    max_spread_checks_ms: int | None = None
    server_state_base: str | None = None
    server_state_file: str | None = None
    hard_stop_after_ms: int | None = None
    localpeer: str | None = None
    quiet: bool = False
    zero_warning: bool = False
    grace_ms: int | None = None  # soft-stop: how long listeners stay after SIGUSR1
    maxconnrate: int | None = None
    maxsessrate: int | None = None
    maxsslrate: int | None = None
    bufsize: int | None = None  # tune.bufsize (None: 16384)
    nosplice: bool = False  # `nosplice` / -dS: no kernel splicing (docs: proxy/_pipe.h)
    maxpipes: int | None = None  # `maxpipes` (None: maxconn / 4, as haproxy.c)
    pipesize: int | None = None  # `tune.pipesize` (None: the kernel's pipe size)
    maxrewrite: int | None = None  # tune.maxrewrite
    http_maxhdr: int | None = None  # tune.http.maxhdr (None: 101)
    http_cookielen: int | None = None  # tune.http.cookielen
    comp_maxlevel: int = 1  # tune.comp.maxlevel
    h1_accept_payload_with_any_method: bool = False
    pp2_never_send_local: bool = False
    # `set-var proc.NAME EXPR` / `set-var-fmt proc.NAME FMT`: (name, is a format, text, where)
    variables: tuple[tuple[str, bool, str, Location], ...] = ()
    # Keywords of config/haproxy/unsupported.py's list, as written (each was warned about).
    others: tuple[tuple[str, tuple[str, ...]], ...] = ()
    pylvs_http: str | None = None  # pylvs's own `pylvs-http ADDR:PORT`: the HTTP surface
    lua: LuaSpec = NO_LUA  # lua-load and its siblings (config/haproxy/lua.py)
    # what the scripts registered while the file was read (None: not checked); the
    # conversion checks the rules' `lua.NAME` keywords against it
    lua_names: Any = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Peer:
    name: str
    target: Target | None
    loc: Location


@dataclass(frozen=True, slots=True)
class Peers:
    loc: Location
    name: str
    peers: tuple[Peer, ...] = ()
    disabled: bool = False
    # `table NAME ...` lines: stick tables proxies use as `SECTION/NAME` (TableSpec.name)
    tables: tuple[tuple[TableSpec, Location], ...] = ()
    # default-server, default-bind, log, shards as written (warned about)
    others: tuple[tuple[str, tuple[str, ...]], ...] = ()
    bind: Bind | None = None  # where the local peer listens (else its `peer` line's address)


@dataclass(frozen=True, slots=True)
class Userlist:
    loc: Location
    name: str
    users: tuple[tuple[str, str, bool], ...] = ()  # (name, password, insecure)
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class KeptSection:
    """A section of config/haproxy/unsupported.py's list (resolvers, mailers, program, ...):
    its lines as written."""

    loc: Location
    kind: str
    name: str
    lines: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class HaproxyConfig:
    global_: Global = Global()
    proxies: tuple[Proxy, ...] = ()
    peers: tuple[Peers, ...] = ()
    userlists: tuple[Userlist, ...] = ()
    http_errors: tuple[HttpErrors, ...] = ()
    kept_sections: tuple[KeptSection, ...] = ()
    caches: tuple[CacheSpec, ...] = ()  # `cache` sections (config/haproxy/cache.py)
    # `resolvers` sections (config/haproxy/resolvers.py), `default` added when a server
    # asks for it undeclared
    resolvers: tuple[ResolversSpec, ...] = ()
    # The environment after the file's setenv/presetenv/unsetenv/resetenv.
    environment: tuple[tuple[str, str], ...] = ()

    def proxy(self, name: str, *, backend: bool | None = None) -> Proxy | None:
        for p in self.proxies:
            if p.name != name:
                continue
            if backend is None or (p.has_backend if backend else p.has_frontend):
                return p
        return None

    local_peers: int = 0  # peers sections with a peer for this host (they listen)
    local_peer: str | None = None  # this process's peer name (-L, `localpeer`, hostname)

    @property
    def listeners(self) -> int:
        """HAProxy's "Listeners" count: one per port of every bind, plus the stats sockets."""
        count = sum(len(b.endpoints) for p in self.proxies if not p.disabled for b in p.binds)
        return count + len(self.global_.stats_sockets) + self.local_peers
