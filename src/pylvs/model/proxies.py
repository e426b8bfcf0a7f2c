"""A snapshot of the HAProxy mode's state: what the stats socket and the stats page render.

The values are those HAProxy 2.6 keeps in `struct proxy`, `struct server`, `struct listener`,
`struct check` and their counters (include/haproxy/{proxy,server,listener,check,counters}-t.h)
and that src/stats.c reads for `show stat` / `show info` / the HTML page, src/proxy.c for
`show servers state`, src/stream.c for `show sess`.  The runtime fills a `ProxiesSnapshot`
(config order, HAProxy's numbering); renderers (control/haproxy/) never reach into live objects.

Conventions, so that every renderer agrees:

* Times are seconds since the epoch, on the clock of the snapshot's `now` (HAProxy's `now`, a
  date kept monotonic): a server's `last_change`, a counter's `last_sess`, the process's
  start; renderers print `int(now) - int(t)`, and dates (`show errors`) from them.
* States and flags are HAProxy's numbers (`show servers state` prints them raw):
  `op_state` 0 stopped, 1 starting, 2 running, 3 stopping (SRV_ST_*); `admin` the SRV_ADMF_*
  bits (0x01 FMAINT, 0x02 IMAINT, 0x04 CMAINT, 0x08 FDRAIN, 0x10 IDRAIN, 0x20 RMAINT,
  0x40 HMAINT).
* `eweight` is the effective weight as the balancer keeps it (scaled by `wdiv / wmult` of the
  backend, src/server.c server_recalc_eweight); the renderers divide as stats.c does.
* Averages (`q_time`, ...) are already averaged over HAProxy's 1024-sample window (ms).
* HTTP fields (`HttpCounters`) and the module counters (ssl/h2/h1) are filled by the HTTP
  layer; a TCP proxy leaves them at zero and the renderers print them as HAProxy does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

# SRV_ST_* (include/haproxy/server-t.h)
SRV_STOPPED, SRV_STARTING, SRV_RUNNING, SRV_STOPPING = 0, 1, 2, 3
# SRV_ADMF_* and the masks stats.c tests
ADMF_FMAINT, ADMF_IMAINT, ADMF_CMAINT = 0x01, 0x02, 0x04
ADMF_FDRAIN, ADMF_IDRAIN, ADMF_RMAINT, ADMF_HMAINT = 0x08, 0x10, 0x20, 0x40
ADMF_MAINT = ADMF_FMAINT | ADMF_IMAINT | ADMF_RMAINT
ADMF_DRAIN = ADMF_FDRAIN | ADMF_IDRAIN


class CheckStatus(enum.IntEnum):
    """enum healthcheck_status (include/haproxy/check-t.h): the number servers state prints."""

    UNKNOWN = 0
    INI = 1
    START = 2
    CHECKED = 3
    HANA = 4
    SOCKERR = 5
    L4OK = 6
    L4TOUT = 7
    L4CON = 8
    L6OK = 9
    L6TOUT = 10
    L6RSP = 11
    L7TOUT = 12
    L7RSP = 13
    L57DATA = 14
    L7OKD = 15
    L7OKCD = 16
    L7STS = 17
    PROCERR = 18
    PROCTOUT = 19
    PROCOK = 20

    @property
    def info(self) -> str:
        """The short name stats print (check_statuses[].info, src/check.c)."""
        return _STATUS_TEXT[self][0]

    @property
    def description(self) -> str:
        return _STATUS_TEXT[self][1]

    @property
    def result(self) -> int:
        """CHK_RES_*: 0 unknown, 1 neutral, 2 failed, 3 passed, 4 conditionally passed."""
        return _STATUS_TEXT[self][2]


_STATUS_TEXT: dict[CheckStatus, tuple[str, str, int]] = {
    CheckStatus.UNKNOWN: ("UNK", "Unknown", 0),
    CheckStatus.INI: ("INI", "Initializing", 0),
    CheckStatus.START: ("", "", 0),
    CheckStatus.CHECKED: ("CHECKED", "No status change", 1),
    CheckStatus.HANA: ("HANA", "Health analyze", 2),
    CheckStatus.SOCKERR: ("SOCKERR", "Socket error", 2),
    CheckStatus.L4OK: ("L4OK", "Layer4 check passed", 3),
    CheckStatus.L4TOUT: ("L4TOUT", "Layer4 timeout", 2),
    CheckStatus.L4CON: ("L4CON", "Layer4 connection problem", 2),
    CheckStatus.L6OK: ("L6OK", "Layer6 check passed", 3),
    CheckStatus.L6TOUT: ("L6TOUT", "Layer6 timeout", 2),
    CheckStatus.L6RSP: ("L6RSP", "Layer6 invalid response", 2),
    CheckStatus.L7TOUT: ("L7TOUT", "Layer7 timeout", 2),
    CheckStatus.L7RSP: ("L7RSP", "Layer7 invalid response", 2),
    CheckStatus.L57DATA: ("", "", 0),
    CheckStatus.L7OKD: ("L7OK", "Layer7 check passed", 3),
    CheckStatus.L7OKCD: ("L7OKC", "Layer7 check conditionally passed", 4),
    CheckStatus.L7STS: ("L7STS", "Layer7 wrong status", 2),
    CheckStatus.PROCERR: ("PROCERR", "External check error", 2),
    CheckStatus.PROCTOUT: ("PROCTOUT", "External check timeout", 2),
    CheckStatus.PROCOK: ("PROCOK", "External check passed", 3),
}


@dataclass(frozen=True, slots=True)
class CheckView:
    """One health or agent check of a server (struct check).

    `configured`/`enabled`/`paused`/`running` are CHK_ST_CONFIGURED / ENABLED / PAUSED (checks
    suspended while the server is in maintenance) / INPROGRESS.  `health` counts as check.c
    does (0 .. rise+fall-1, up from `rise`).  `desc` is the last result's detail text
    ("Connection refused"), `code` the HTTP/agent status, `duration_ms` the last check's.
    """

    configured: bool = True
    enabled: bool = True
    paused: bool = False
    running: bool = False
    status: CheckStatus = CheckStatus.INI
    code: int = 0
    duration_ms: int = -1
    desc: str = ""
    rise: int = 2
    fall: int = 3
    health: int = 0
    port: int = 0  # check port (`port`), agent port (`agent-port`)
    addr: str | None = None  # `addr` / `agent-addr` when set
    agent: bool = False  # CHK_ST_AGENT

    @property
    def state_bits(self) -> int:
        """check.state as `show servers state` prints it (CHK_ST_AGENT only when set up)."""
        return (
            (0x01 if self.running else 0)
            | (0x02 if self.configured else 0)
            | (0x04 if self.enabled else 0)
            | (0x08 if self.paused else 0)
            | (0x10 if self.agent and self.configured else 0)
        )

    @property
    def active(self) -> bool:
        """(state & (ENABLED|PAUSED)) == ENABLED: the columns stats.c fills for a check."""
        return self.enabled and not self.paused


# A server without `check` (still at health `rise`, as HAProxy starts every server) or agent.
NO_CHECK = CheckView(configured=False, enabled=False, health=2)
NO_AGENT = CheckView(configured=False, enabled=False, rise=1, fall=1, health=1, agent=True)


@dataclass(frozen=True, slots=True)
class HttpCounters:
    """The HTTP part of a proxy's or server's counters (fe_counters.p.http, be_counters.p.http)."""

    responses: tuple[int, int, int, int, int, int] = (0, 0, 0, 0, 0, 0)  # other, 1xx .. 5xx
    requests: int = 0  # cum_req
    rps_max: int = 0
    comp_rsp: int = 0
    cache_lookups: int = 0
    cache_hits: int = 0
    intercepted: int = 0  # intercepted_req (frontends)


@dataclass(frozen=True, slots=True)
class Counters:
    """The counters `show stat` reads (struct fe_counters / be_counters; servers use the latter).

    `sess_max` is conn_max for frontends, backends and listeners, cur_sess_max for servers;
    `cum_sess` the sessions of a frontend or server, `cum_conn` the connections of a frontend
    (conn_tot), a backend (stot) or a listener (stot).
    """

    sess_max: int = 0
    cum_sess: int = 0
    cum_conn: int = 0
    cum_lbconn: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    denied_req: int = 0
    denied_resp: int = 0
    denied_conn: int = 0
    denied_sess: int = 0
    failed_req: int = 0
    failed_conns: int = 0
    failed_resp: int = 0
    retries: int = 0
    redispatches: int = 0
    failed_rewrites: int = 0
    internal_errors: int = 0
    connect: int = 0
    reuse: int = 0
    cli_aborts: int = 0
    srv_aborts: int = 0
    failed_checks: int = 0
    down_trans: int = 0
    failed_hana: int = 0
    nbpend_max: int = 0
    sps_max: int = 0
    cps_max: int = 0
    comp_in: int = 0
    comp_out: int = 0
    comp_byp: int = 0
    q_time: int = 0
    c_time: int = 0
    d_time: int = 0
    t_time: int = 0
    qtime_max: int = 0
    ctime_max: int = 0
    dtime_max: int = 0
    ttime_max: int = 0
    last_sess: float | None = None  # when the last session was seen (None: never)
    http: HttpCounters = HttpCounters()


@dataclass(frozen=True, slots=True)
class ModuleCounters:
    """The extra stats modules HAProxy 2.6.12 prints after the `-` column: ssl (3 values),
    h2 (13) and h1 (8), in that order (src/ssl_sock.c, mux_h2.c, mux_h1.c)."""

    ssl: tuple[int, ...] = (0,) * 3
    h2: tuple[int, ...] = (0,) * 13
    h1: tuple[int, ...] = (0,) * 8


ZERO = Counters()
NO_MODULES = ModuleCounters()


@dataclass(frozen=True, slots=True)
class ServerView:
    name: str
    id: int  # puid
    addr: str = "-"  # the address as text ("127.0.0.1", "::1"); "-" when none
    family: str = "ipv4"  # "ipv4" | "ipv6" | "unix" | "" (no address)
    port: int = 0  # svc_port; 0: the client's destination port
    backup: bool = False
    op_state: int = SRV_RUNNING
    admin: int = 0
    uweight: int = 1
    iweight: int = 1
    eweight: int = 16
    cur_sess: int = 0
    queued: int = 0
    maxconn: int = 0
    maxqueue: int = 0
    rate: int = 0  # sessions over the last second
    counters: Counters = ZERO
    modules: ModuleCounters = NO_MODULES
    last_change: float = 0.0
    down_time: int = 0  # seconds spent down before the current period
    throttle: int | None = None  # slowstart ratio (percent) while starting
    tracked: str | None = None  # "backend/server" this one tracks
    track_check: CheckView | None = None  # the health check at the end of the track chain
    check: CheckView = NO_CHECK
    agent: CheckView = NO_AGENT
    observe: bool = False
    cookie: str | None = None
    idle_cur: int = 0  # curr_idle_conns (srv_icur)
    idle_max: int | None = None  # max_idle_conns (src_ilim); None: unlimited (-1)
    idle_unsafe: int = 0
    idle_safe: int = 0
    used_conns: int = 0
    need_conns: int = 0
    fqdn: str | None = None
    srvrecord: str | None = None
    use_ssl: int = 0  # srv->use_ssl: 1 `ssl` (or `set server ssl on`), -1 `no-ssl`, 0 neither
    forced_id: bool = False

    @property
    def status_check(self) -> CheckView:
        """The check whose health the status shows: the tracked chain's end, or its own."""
        if self.tracked is not None and self.track_check is not None:
            return self.track_check
        return self.check


@dataclass(frozen=True, slots=True)
class ListenerView:
    """A `bind` port with `option socket-stats` (only those are listed, as in HAProxy)."""

    name: str
    id: int  # luid
    addr: str = ""  # "127.0.0.1:80", "[::1]:80" or "unix"
    nbconn: int = 0
    maxconn: int = 0
    limited: bool = False  # LI_LIMITED: waiting for a global/proxy limit (status WAITING)
    counters: Counters = ZERO
    modules: ModuleCounters = NO_MODULES


@dataclass(frozen=True, slots=True)
class FrontendView:
    feconn: int = 0
    maxconn: int = 0
    stopped: bool = False  # disabled or stopped (STOP)
    paused: bool = False  # `disable frontend` (its listeners paused)
    rate: int = 0  # sessions per second
    conn_rate: int = 0
    req_rate: int = 0
    rate_limit: int = 0  # `rate-limit sessions`
    counters: Counters = ZERO
    modules: ModuleCounters = NO_MODULES


@dataclass(frozen=True, slots=True)
class BackendView:
    algo: str = "roundrobin"  # backend_lb_algo_str ("unknown" for random)
    dynamic: bool = True  # BE_LB_PROP_DYN: weights can change, servers can be added
    cookie: str | None = None
    fullconn: int = 0
    beconn: int = 0
    queued: int = 0
    tot_weight: int = 0  # lbprm.tot_weight (scaled)
    wmult: int = 1
    wdiv: int = 16
    srv_act: int = 0
    srv_bck: int = 0
    fbck: str | None = None  # the first usable backup's name (lbprm.fbck)
    down_trans: int = 0
    last_change: float = 0.0
    down_time: int = 0
    rate: int = 0
    counters: Counters = ZERO
    modules: ModuleCounters = NO_MODULES
    forced_id: bool = False


@dataclass(frozen=True, slots=True)
class ProxyView:
    """A frontend, backend or listen section: `frontend` and/or `backend` part set."""

    name: str
    id: int  # uuid
    mode: str = "tcp"  # proxy_mode_str: tcp, http, cli, syslog, peers
    desc: str | None = None
    frontend: FrontendView | None = None
    backend: BackendView | None = None
    servers: tuple[ServerView, ...] = ()
    listeners: tuple[ListenerView, ...] = ()

    @property
    def cap(self) -> str:
        """proxy_cap_str."""
        if self.frontend is not None and self.backend is not None:
            return "proxy"
        return "frontend" if self.frontend is not None else "backend"


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """What `show info` reports (stats_fill_info): the process, its limits and totals."""

    version: str = "2.6.12"
    release_date: str = ""
    pid: int = 0
    started: float = 0.0  # wall-clock start time (Start_time_sec)
    nbthread: int = 1
    ulimit_n: int = 0
    maxsock: int = 0
    maxconn: int = 0
    hard_maxconn: int = 0
    curr_conns: int = 0
    cum_conns: int = 0
    cum_req: int = 0
    conn_rate: int = 0
    conn_rate_limit: int = 0
    max_conn_rate: int = 0
    sess_rate: int = 0
    sess_rate_limit: int = 0
    max_sess_rate: int = 0
    # TLS (show info's Ssl* lines): connections open and opened, front and back; clients'
    # TLS connections per second; full handshakes per second
    curr_ssl_conns: int = 0
    cum_ssl_conns: int = 0
    max_ssl_conns: int = 0  # `maxsslconn` (0: no limit)
    ssl_rate_limit: int = 0  # `maxsslrate` (0: no limit)
    ssl_rate: int = 0
    max_ssl_rate: int = 0
    ssl_fe_key_rate: int = 0
    ssl_fe_max_key_rate: int = 0
    ssl_be_key_rate: int = 0
    ssl_be_max_key_rate: int = 0
    tasks: int = 0
    run_queue: int = 0
    idle_pct: int = 100
    node: str = ""
    description: str | None = None
    stopping: bool = False
    jobs: int = 0
    unstoppable_jobs: int = 0
    listeners: int = 0
    dropped_logs: int = 0
    total_bytes_out: int = 0
    total_spliced_bytes_out: int = 0  # sent with splice(2) (raw_sock_from_pipe's count)
    pipes_used: int = 0  # streams splicing now (pylvs: each a pipe's share of the pump's one)
    bytes_out_rate: int = 0
    pool_alloc_bytes: int = 0
    pool_used_bytes: int = 0
    memmax_mb: int = 0


@dataclass(frozen=True, slots=True)
class SessionView:
    """One stream as `show sess` lists it (src/stream.c cli_io_handler_dump_sess)."""

    id: int  # a stable number; printed as HAProxy prints a stream pointer
    proto: str = "tcpv4"  # the listener's protocol name: tcpv4, tcpv6, unix_stream
    src: str = ""  # client address ("" unknown); for unix: the listener's id
    src_port: int = 0
    frontend: str = ""
    backend: str | None = None  # None: <NONE>
    server: str | None = None  # None: <none>
    accepted: float = 0.0  # accept time (age = now - accepted)
    epoch: int = 0
    calls: int = 0
    req_bytes: int = 0  # request data waiting in the buffer
    res_bytes: int = 0
    client_fd: int = -1
    server_fd: int = -1
    expire_ms: int | None = None  # the stream's next timeout, from now
    retries: int = 0


@dataclass(frozen=True, slots=True)
class ErrorCapture:
    """One captured invalid request or response (struct error_snapshot, `show errors`)."""

    proxy: str  # the proxy it was captured in (frontend: request, backend: response)
    proxy_id: int
    response: bool  # False: invalid request (on a frontend), True: invalid response
    when: float  # wall clock
    other: str | None = None  # the backend (request) or frontend (response); None: <NONE>
    other_id: int = -1
    server: str | None = None
    server_id: int = -1
    event: int = 0  # ev_id
    src: str = ""
    src_port: int = 0
    buf_ofs: int = 0
    buf_out: int = 0
    buf_wrap: int = 0
    error_at: int = 0  # position of the error in `data`
    data: bytes = b""
    extra: str = ""  # es->show(): the H1 parser's state lines ("  H1 connection flags ...")


@dataclass(frozen=True, slots=True)
class ProxiesSnapshot:
    now: float  # HAProxy's date (`now`): seconds since the epoch; the views' times too
    info: ProcessInfo = ProcessInfo()
    proxies: tuple[ProxyView, ...] = ()
