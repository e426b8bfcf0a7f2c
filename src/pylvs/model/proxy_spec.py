"""HAProxy-style proxies as values: frontends, backends and their servers, whatever file said so.

What the proxy runtime (dataplane/haproxy/) serves, held by `DirectorSpec.proxies`: frontends
that listen (every address and port of every `bind`), accept or reject connections
(`tcp-request connection`), and hand each to a backend (`use_backend`, `default_backend`);
backends that balance over servers with HAProxy 2.6's algorithms, queue past a server's
`maxconn`, retry and redispatch, stick clients to servers, and speak the PROXY protocol to
them.  A haproxy.cfg `listen` section is both a frontend and a backend of the same name
(HAProxy configuration manual §4).  Times are milliseconds (None: not set, no limit).

The layering keeps this package free of the parsers and engines: a balance algorithm and a
stick table are described by plain fields (`BalanceSpec`, `StickTableSpec`; the runtime
builds sched/haproxy's `LbParams` and proto/stick's `TableSpec` from them).  Rules (the
tcp-request/response phases, use_backend, use-server, stick rules, `stats admin`) are
compiled by the config reader for the rules engine (proto/rules) and travel in
`ProxiesSpec.rules`, typed by the `ProxyRulesCarrier` Protocol (docs/haproxy-mode.md).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Protocol

from pylvs.model.cache import CacheSpec
from pylvs.model.lua_spec import NO_LUA, LuaSpec
from pylvs.model.peers import PeersSpec
from pylvs.model.proxy_log import NO_LOG, ProxyLog
from pylvs.model.resolvers import ResolveOptions, ResolversSpec
from pylvs.model.tls import NO_DEFAULTS, TlsBindSpec, TlsDefaults, TlsFacts, TlsServerSpec

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class ConnFacts:
    """A new connection's layer-4 facts: what `src`, `src_port`, `dst`, `dst_port` fetch."""

    src: Address
    src_port: int
    dst: Address
    dst_port: int
    # the PROXY v2 TLVs of an `accept-proxy` client's header (proto/proxyproto), which a
    # server's `proxy-v2-options authority` passes on
    pp_authority: bytes | None = None
    pp_unique_id: bytes | None = None
    tls: TlsFacts | None = None  # a TLS bind's handshake (what a server's PROXY v2 TLVs tell)


class ProxyRulesCarrier(Protocol):
    """Every proxy's rules compiled by the config reader, with the stick tables and pattern
    files they use: proto/rules/compiled.py's `CompiledProxies`, which model may not name
    (model imports nothing above it).  The proxy runtime narrows it back
    (dataplane/haproxy/rules.py `compiled`); model only carries and compares it (equal when
    compiled from equal sections)."""

    def proxy_names(self) -> frozenset[str]: ...


@dataclass(frozen=True, slots=True)
class ListenAddress:
    """One address and port a frontend listens on (`host` None: every address of
    `family`, 4 or 6); or, with `fd`, the listening socket a parent process handed down on
    that descriptor (HAProxy's `fd@N`: used as it is, host and port are its own)."""

    host: Address | None
    port: int
    family: int = 4
    fd: int | None = None
    # a unix socket's path (`unix@`); an abstract one (`abns@`) starts with a NUL
    path: str | None = None

    def __str__(self) -> str:
        if self.fd is not None:
            return f"fd@{self.fd}"
        if self.path is not None:
            return unix_name(self.path)
        if self.host is None:
            return f"{'[::]' if self.family == 6 else '*'}:{self.port}"
        if self.host.version == 6:
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"


def unix_name(path: str) -> str:
    """A unix socket's address as written: `abns@NAME` for an abstract one, else the path."""
    return f"abns@{path[1:]}" if path.startswith("\0") else f"unix@{path}"


@dataclass(frozen=True, slots=True)
class BindSpec:
    """A `bind` line: its addresses (a port range is one address per port) and options."""

    addresses: tuple[ListenAddress, ...]
    where: str = ""  # FILE:LINE, for messages
    name: str | None = None
    maxconn: int = 0  # 0: the frontend's
    backlog: int | None = None
    accept_proxy: bool = False  # the client speaks the PROXY protocol first
    transparent: bool = False
    v6only: bool = False
    interface: str | None = None
    proto: str | None = None  # `proto h2`: HTTP/2 without the preface check (h1: no upgrade)
    tls: TlsBindSpec | None = None  # `ssl`: clients speak TLS (dataplane/haproxy/tls.py)


@dataclass(frozen=True, slots=True)
class StatsPageSpec:
    """`stats enable|uri|refresh|realm|auth|...` of a proxy: pylvs answers the page on the
    proxy's addresses (`stats admin` conditions are the proxy's ProxyRules.stats_admin, in
    `ProxiesSpec.rules`)."""

    uri: str = "/haproxy?stats"
    refresh_s: int = 0
    realm: str | None = None
    auth: tuple[tuple[str, str], ...] = ()
    hide_version: bool = False
    legends: bool = False
    node: str | None = None
    scope: tuple[str, ...] = ()
    request_ms: int | None = None  # timeout http-request
    keepalive_ms: int | None = None  # timeout http-keep-alive


@dataclass(frozen=True, slots=True)
class HttpSpec:
    """What a `mode http` proxy sets for its HTTP connections (dataplane/haproxy/http)."""

    conn_mode: str = "keep-alive"  # option http-keep-alive | http-server-close | httpclose
    request_ms: int | None = None  # timeout http-request
    keep_alive_ms: int | None = None  # timeout http-keep-alive
    reuse: str = "safe"  # http-reuse never | safe | aggressive | always
    dontlognull: bool = False  # option dontlognull (no 408 for an empty first request)
    ignore_probes: bool = False  # option http-ignore-probes
    h2_upgrade: bool = True  # the HTTP/2 preface on an HTTP/1 bind: `option disable-h2-upgrade`
    pretend_keepalive: bool = False  # option http-pretend-keepalive
    forwardfor: AddedAddress | None = None  # option forwardfor
    originalto: AddedAddress | None = None  # option originalto
    # `capture request header NAME len N` / `capture response header ...`: (name, len)
    request_captures: tuple[tuple[str, int], ...] = ()
    response_captures: tuple[tuple[str, int], ...] = ()
    buffer_request: bool = False  # option http-buffer-request (of the frontend)
    # option splice-request / splice-response / splice-auto (proto/http/splicing.py)
    splice_request: bool = False
    splice_response: bool = False
    splice_auto: bool = False
    capture_cookie: tuple[str, int] | None = None  # capture cookie NAME len N (%CC, %CS)
    compression: CompressionSpec | None = None  # `compression ...` (none: not configured)


@dataclass(frozen=True, slots=True)
class CompressionSpec:
    """`compression algo|type|offload` (src/flt_http_comp.c, proto/http/compress.py): the
    algorithms and types in HAProxy's list order (each new word first), `offload`."""

    algos: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    offload: bool = False


@dataclass(frozen=True, slots=True)
class AddedAddress:
    """`option forwardfor` / `option originalto`: the header that carries the client's
    (the destination's) address, unless it is in `except_net`; `if_none`: only when the
    request has no such header (forwardfor's if-none)."""

    header: str
    except_net: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    if_none: bool = False


@dataclass(frozen=True, slots=True)
class FrontendSpec:
    """A frontend.  `mode` "http" frontends are served by the HTTP runtime; one with
    `stats` set serves HAProxy's stats page instead of proxying."""

    name: str
    id: int
    mode: str = "tcp"
    binds: tuple[BindSpec, ...] = ()
    maxconn: int = 0  # 0: the global maxconn
    rate_limit: int = 0  # `rate-limit sessions`: new sessions per second (0: none)
    default_backend: str | None = None
    client_ms: int | None = None  # timeout client
    client_fin_ms: int | None = None  # timeout client-fin
    stats: StatsPageSpec | None = None
    disabled: bool = False
    log: ProxyLog = NO_LOG  # `log` targets, `log-tag`
    where: str = ""
    http: HttpSpec | None = None  # mode http: its connection options
    # `option abortonclose` as the frontend proxy has it (from its defaults or a listen's
    # own): its client's close is only read while a request waits when it is set
    abortonclose: bool = False

    @property
    def addresses(self) -> tuple[ListenAddress, ...]:
        return tuple(a for b in self.binds for a in b.addresses)


@dataclass(frozen=True, slots=True)
class ServerCheck:
    """What a server's health checks are set to (the check engine reads it)."""

    enabled: bool = False
    port: int | None = None
    addr: Address | None = None
    inter_ms: int = 2000
    fastinter_ms: int | None = None
    downinter_ms: int | None = None
    rise: int = 2
    fall: int = 3
    send_proxy: bool = False
    agent: bool = False
    agent_port: int | None = None
    agent_inter_ms: int | None = None
    on_marked_down: str | None = None  # "shutdown-sessions"
    on_marked_up: str | None = None  # "shutdown-backup-sessions"


@dataclass(frozen=True, slots=True)
class ServerSpec:
    """A `server` line.  `port` None: the client's destination port (plus `port_offset`
    when the line says `+N`/`-N`)."""

    name: str
    id: int
    host: str  # as written (a name when `address` is None)
    address: Address | None
    port: int | None
    port_offset: int = 0
    # a unix socket server (`unix@PATH`, `abns@NAME`: a NUL and the name): no address
    path: str | None = None
    weight: int = 1
    maxconn: int = 0  # 0: no limit
    maxqueue: int = 0  # 0: no limit
    minconn: int = 0
    backup: bool = False
    disabled: bool = False  # starts in maintenance
    send_proxy: bool = False
    send_proxy_v2: bool = False
    # `proxy-v2-options`: the TLVs the v2 header carries (proto/proxyproto.V2_OPTIONS); a
    # server with options but neither send-proxy sends a v1 line (backend.c connect_server
    # sends when any pp_opts bit is set, make_proxy_line picks v2 only for SRV_PP_V2)
    proxy_v2_options: frozenset[str] = frozenset()
    slowstart_ms: int = 0
    non_stick: bool = False
    check: ServerCheck = field(default_factory=ServerCheck)
    cookie: str | None = None  # `cookie VALUE` (or the `dynamic` one): cookie persistence
    where: str = ""
    track: str | None = None  # `track [BACKEND/]SERVER`, as written
    proto: str | None = None  # `proto NAME`: the multiplexer asked for (`add server` checks it)
    # `add server`'s line as the reader read it, for the check planner (ChecksPlan's
    # plan_server); None for the configuration's servers, which the planner has already
    line: object = field(default=None, compare=False, repr=False)
    # what the reader warned about an `add server` line (options pylvs does not act on)
    warnings: tuple[str, ...] = field(default=(), compare=False)
    tls: TlsServerSpec | None = None  # TLS settings prepared (`ssl`, `check-ssl`, inherited)
    use_ssl: int = 0  # HAProxy's srv->use_ssl: 1 `ssl`, -1 `no-ssl`, 0 neither
    # A server named by a host name (config/haproxy/init_addr.py): the name (show servers
    # state's srv_fqdn); `init_last`: the server-state file's address, when it has one, is
    # taken first (`init-addr last,...`); `unresolved`: `init-addr none` left it without an
    # address, in maintenance "resolution" (SRV_ADMF_RMAINT) until `set server B/S addr`.
    fqdn: str | None = None
    init_last: bool = False
    unresolved: bool = False
    # `resolvers NAME` & co: the name is resolved while running (dataplane/haproxy/resolvers.py)
    resolve: ResolveOptions | None = None

    @property
    def proxy_version(self) -> int:
        """The PROXY header version this server gets first; 0: none."""
        if self.send_proxy_v2:
            return 2
        return 1 if self.send_proxy or self.proxy_v2_options else 0

    def port_for(self, dst_port: int) -> int:
        """The port a connection whose client reached `dst_port` goes to."""
        if self.port is not None:
            return self.port
        return (dst_port + self.port_offset) & 0xFFFF


@dataclass(frozen=True, slots=True)
class BalanceSpec:
    """`balance`, `hash-type`, `hash-balance-factor`, `option allbackups` (sched/haproxy's
    LbParams, field for field: `hash_type` "map-based"|"consistent", `hash_function`
    "sdbm"|"djb2"|"wt6"|"crc32")."""

    algorithm: str = "roundrobin"
    hash_type: str = "map-based"
    hash_function: str = "sdbm"
    avalanche: bool = False
    draws: int = 2
    uri_whole: bool = False
    uri_path_only: bool = False
    uri_len: int = 0
    uri_depth: int = 0
    name: str = ""
    use_domain_only: bool = False
    check_post: bool = False
    expression: str = ""
    hash_balance_factor: int = 0
    allbackups: bool = False


@dataclass(frozen=True, slots=True)
class CookieSpec:
    """`cookie NAME [rewrite|insert|prefix] [indirect] [nocache] [postonly] [preserve]
    [httponly] [secure] [domain D]... [maxidle S] [maxlife S] [dynamic] [attr A]...` of a
    backend (src/cfgparse-listen.c): `domain` and `attrs` joined with "; domain=" and "; "
    as HAProxy joins them; the ages in seconds (0: not set).  `dynamic` is resolved into
    each server's `cookie` by the converter."""

    name: str
    rewrite: bool = False
    insert: bool = False
    prefix: bool = False
    indirect: bool = False
    nocache: bool = False
    postonly: bool = False
    preserve: bool = False
    httponly: bool = False
    secure: bool = False
    domain: str | None = None
    maxidle_s: int = 0
    maxlife_s: int = 0
    attrs: str | None = None


@dataclass(frozen=True, slots=True)
class StickTableSpec:
    """A `stick-table` (proto/stick's TableSpec, field for field; `key_type` "ip", "ipv6",
    "integer", "string" or "binary", `key_len` its length in bytes)."""

    name: str
    key_type: str
    key_len: int
    size: int
    expire_ms: int = 0
    nopurge: bool = False
    srvkey: str = "name"
    store: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class BackendSpec:
    name: str
    id: int
    servers: tuple[ServerSpec, ...] = ()
    balance: BalanceSpec = field(default_factory=BalanceSpec)
    connect_ms: int | None = None  # timeout connect
    server_ms: int | None = None  # timeout server
    server_fin_ms: int | None = None  # timeout server-fin
    tunnel_ms: int | None = None  # timeout tunnel
    queue_ms: int | None = None  # timeout queue (None: timeout connect)
    retries: int = 3
    redispatch: bool = False
    redispatch_interval: int = -1  # -1: on the last retry
    abortonclose: bool = False
    persist: bool = False
    fullconn: int | None = None
    stick_table: StickTableSpec | None = None
    cookie: CookieSpec | None = None  # cookie persistence (mode http)
    checkcache: bool = False  # option checkcache
    log: ProxyLog = NO_LOG  # `log` targets, `log-tag` (health-check lines go there)
    mode: str = "tcp"  # "tcp" | "http" (the stats' HTTP columns follow it)
    where: str = ""
    # The server-state file read at start (`load-server-state-from-file`, the path as
    # HAProxy builds it from `server-state-base`); `state_file_local`: the backend's own
    # file, whose lines must name this backend (by name, or by id when forced).
    state_file: str | None = None
    state_file_local: bool = False
    forced_id: bool = False  # `id` set in the configuration (bk_f_forced_id)
    http: HttpSpec | None = None  # mode http: its connection options
    # `dispatch ADDR:PORT` or `option transparent` (address None: the client's destination)
    # in a backend without `balance`: where every stream goes (config/haproxy/
    # convert_dispatch.py); not one of `servers`
    dispatch: ServerSpec | None = None
    # `stats enable` in a mode http backend: the stats applet answers the requests for its
    # URI that reach the backend (http_process_req_common, HTTP driver's `pages` hook)
    stats: StatsPageSpec | None = None

    def server(self, name: str) -> ServerSpec | None:
        return next((s for s in self.servers if s.name == name), None)


@dataclass(frozen=True, slots=True)
class StatsSocketSpec:
    """`stats socket ADDRESS [mode M] [level L] [user U] [group G]` (global); `address` as
    written (a path, `unix@PATH`, `ipv4@HOST:PORT`, `HOST:PORT`)."""

    address: str
    level: str = "operator"  # "user" | "operator" | "admin"
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    expose_fd: bool = False
    where: str = ""


class ChecksPlan(Protocol):
    """The health checks a configuration asks for, compiled by its reader
    (config/haproxy/convert_checks.CheckPlanner).  Opaque here: the engine narrows it to
    proto/check's `Planner` and builds the running checks over the runtime's balancer pools.
    Compared by value, as the rest of the spec is (a reload compares specs)."""

    @property
    def checked(self) -> tuple[tuple[str, str], ...]:
        """Every (backend, server) with a health or agent check."""
        ...


@dataclass(frozen=True, slots=True)
class ProxiesSpec:
    """Every frontend and backend, and the process-wide settings they share."""

    frontends: tuple[FrontendSpec, ...] = ()
    backends: tuple[BackendSpec, ...] = ()
    maxconn: int = 0  # global maxconn (0: from the descriptor limit, see `ideal_maxconn`)
    # What HAProxy's default maxconn sets aside of the descriptor limit (haproxy.c
    # compute_ideal_maxconn): `maxsock` before connections (10 reserved, a listener each,
    # the CLI frontend's maxconn, a check each) and `nbthread` (0: one per CPU)
    maxsock: int = 0
    nbthread: int = 0
    ulimit_n: int | None = None
    stats_sockets: tuple[StatsSocketSpec, ...] = ()
    stats_timeout_ms: int = 10000
    stats_maxconn: int = 10
    pidfile: str | None = None
    daemon: bool = False
    grace_ms: int | None = None  # `grace`: listeners kept this long after SIGUSR1
    hard_stop_after_ms: int | None = None  # `hard-stop-after`: then streams are cut
    log: ProxyLog = NO_LOG  # global `log` targets and `log-tag`
    log_hostname: str | None = None  # log-send-hostname ("": the host's name)
    # The rules engine's view of the same proxies (proto/rules: ProxyRules by proxy name, the
    # shared stick tables); None when the spec was not built from a haproxy.cfg.
    rules: ProxyRulesCarrier | None = None
    checks: ChecksPlan | None = None  # None: no server is checked
    lua: LuaSpec = NO_LUA  # the Lua programs the runtime runs (engine/lua)
    # tune.bufsize, tune.maxrewrite (haproxy.c: at most half the buffer), tune.http.maxhdr:
    # the sizes mode http messages are held to (proto/http/limits.py)
    bufsize: int = 16384
    maxrewrite: int = 1024
    http_maxhdr: int = 101
    comp_maxlevel: int = 1  # tune.comp.maxlevel: the zlib level of HTTP compression
    caches: tuple[CacheSpec, ...] = ()  # `cache` sections (model/cache.py)
    # Kernel splicing (proto/http/splicing.py): off with `nosplice` or -dS; `maxpipes` streams
    # at once (haproxy.c: maxconn / 4 when unset); `tune.pipesize` (0: the kernel's)
    splice: bool = True
    maxpipes: int = 0
    pipesize: int = 0
    # `maxconnrate`, `maxsessrate`, `maxsslrate`: connections, sessions and TLS sessions
    # accepted per second by the whole process (0: no limit; dataplane/haproxy/ratelimit.py)
    maxconnrate: int = 0
    maxsessrate: int = 0
    maxsslrate: int = 0
    # `peers` sections this process takes part in (model/peers.py's PeersSpec)
    peers: tuple[PeersSpec, ...] = ()
    resolvers: tuple[ResolversSpec, ...] = ()  # `resolvers` sections (model/resolvers.py)
    ssl_server_verify: str = "required"  # global `ssl-server-verify` (servers without `verify`)
    # global `ssl-default-bind-*` / `ssl-default-server-*` (model/tls.py TlsDefaults)
    ssl_bind_defaults: TlsDefaults = NO_DEFAULTS
    ssl_server_defaults: TlsDefaults = NO_DEFAULTS

    def frontend(self, name: str) -> FrontendSpec | None:
        return next((f for f in self.frontends if f.name == name), None)

    def backend(self, name: str) -> BackendSpec | None:
        return next((b for b in self.backends if b.name == name), None)

    @property
    def empty(self) -> bool:
        return not self.frontends and not self.backends


DEFAULT_MAXCONN = 100  # HAProxy's floor of the computed default (defaults.h)


def ideal_maxconn(fd_limit: int, maxsock: int, nbthread: int) -> int:
    """The global maxconn HAProxy 2.6 takes when none is set (haproxy.c
    compute_ideal_maxconn, without splicing pipes or SSL engines): what the descriptor
    limit leaves once `maxsock` and three descriptors per thread (a poller, a wake-up pipe)
    are set aside, two per connection, at least DEFAULT_MAXCONN.  haproxy 2.6.12 under
    `ulimit -n 1024` with a listener and a stats socket: 497, 498 without its check."""
    return max((fd_limit - maxsock - 3 * nbthread) // 2, DEFAULT_MAXCONN)
