"""`show stat` and `show info` as HAProxy 2.6.12 prints them (src/stats.c).

`stat_rows` walks the snapshot as stats_dump_proxies / stats_dump_proxy_to_buffer do: per
proxy in configuration order its frontend, listeners (those with `option socket-stats`),
servers and backend, with the `<iid> <type> <sid>` bounds of the CLI (type is a bit mask: 1
frontends, 2 backends, 4 servers, 8 listeners; -1 everything), `no-maint` (servers in
maintenance hidden) and `up` (servers down and not changing state hidden too; the backend's
status then carries "(up/total)").  `render_stat` prints the rows as CSV (with the header
line), typed lines (`S.4.1.17.status.1:SGP:str:UP`) or JSON; `render_info` prints the process
fields (stats_fill_info) as `Name: value` lines, typed lines or JSON.  `desc` appends each
field's description.  `parse_show_stat` / `parse_show_info` read the CLI arguments with
HAProxy's messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from pylvs.control.haproxy import fields as fld
from pylvs.control.haproxy.fields import Field, Row
from pylvs.control.haproxy.lookup import find_proxy
from pylvs.control.haproxy.names import INFO_FIELDS, STAT_NAMES, STATIC_COUNT, description
from pylvs.control.haproxy.rows import (
    TYPE_BE,
    TYPE_FE,
    TYPE_SO,
    TYPE_SV,
    backend_row,
    frontend_row,
    listener_row,
    server_row,
)
from pylvs.model.proxies import (
    ADMF_MAINT,
    SRV_STOPPED,
    ProcessInfo,
    ProxiesSnapshot,
    ProxyView,
    ServerView,
)
from pylvs.sched.haproxy.cnum import atoi

_TYPE_LETTER = {TYPE_FE: "F", TYPE_BE: "B", TYPE_SV: "S", TYPE_SO: "L"}
_OBJ_TYPE = {TYPE_FE: "Frontend", TYPE_BE: "Backend", TYPE_SV: "Server", TYPE_SO: "Listener"}


@dataclass(frozen=True, slots=True)
class StatOptions:
    fmt: str = "csv"  # csv | typed | json
    desc: bool = False
    hide_maint: bool = False  # no-maint
    hide_down: bool = False  # up
    legends: bool = False  # STAT_SHLGNDS
    bound: bool = False  # STAT_BOUND: iid / types / sid apply
    iid: int = -1
    types: int = -1
    sid: int = -1
    resolvers: bool = False  # `domain resolvers`


def parse_show_stat(
    words: Sequence[str], snapshot: ProxiesSnapshot, legends: bool
) -> StatOptions | str:
    """cli_parse_show_stat: options, or HAProxy's error message."""
    args = [*words[2:], "", "", "", ""]
    resolvers = False
    if args[0] == "domain":
        if args[1] == "proxy":
            args = args[2:]
        elif args[1] == "resolvers":
            resolvers, args = True, args[2:]
        else:
            return "Invalid statistics domain.\n"
    bound, iid, types, sid = False, -1, -1, -1
    if not resolvers and args[0] and args[1] and args[2]:
        px = find_proxy(snapshot, args[0])
        iid = px.id if px is not None else atoi(args[0])
        if not iid:
            return "No such proxy.\n"
        bound, types, sid = True, atoi(args[1]), atoi(args[2])
        args = args[3:]
    fmt, desc, hide_maint, hide_down = "csv", False, False, False
    for word in args:
        if not word:
            break
        if word in ("typed", "json"):
            fmt = word
        desc = desc or word == "desc"
        hide_maint = hide_maint or word == "no-maint"
        hide_down = hide_down or word == "up"
    return StatOptions(fmt, desc, hide_maint, hide_down, legends, bound, iid, types, sid, resolvers)


def hidden_when_up(sv: ServerView) -> bool:
    """A server `up` hides: in maintenance, or down and not changing state."""
    if sv.admin & ADMF_MAINT:
        return True
    if sv.op_state != SRV_STOPPED:
        return False
    chk, agent = sv.status_check, sv.agent
    return (
        not (chk.enabled or agent.enabled)
        or (agent.enabled and not agent.health)
        or (chk.enabled and not chk.health)
    )


def stat_rows(
    snapshot: ProxiesSnapshot, opts: StatOptions, keep: Callable[[ProxyView], bool] | None = None
) -> Iterator[Row]:
    """The rows `show stat` prints, in HAProxy's order and with its filters (`keep`: the stats
    page's proxy scope)."""
    now = snapshot.now
    want = opts.types if opts.bound else -1
    for px in snapshot.proxies:
        if opts.bound and opts.iid not in (-1, px.id):
            continue
        if keep is not None and not keep(px):
            continue
        if px.frontend is not None and want & (1 << TYPE_FE):
            yield frontend_row(px)
        if px.frontend is not None and want & (1 << TYPE_SO):
            for li in px.listeners:
                if opts.bound and opts.sid not in (-1, li.id):
                    continue
                yield listener_row(px, li, opts.legends)
        if px.backend is not None and want & (1 << TYPE_SV):
            for sv in px.servers:
                if opts.bound and opts.sid not in (-1, sv.id):
                    continue
                if opts.hide_maint and sv.admin & ADMF_MAINT:
                    continue
                if opts.hide_down and hidden_when_up(sv):
                    continue
                yield server_row(px, sv, now, opts.legends)
        if px.backend is not None and want & (1 << TYPE_BE):
            hide = opts.hide_maint or opts.hide_down
            yield backend_row(px, now, opts.legends, hide)


def csv_header() -> str:
    names = [f"{n}," for n in STAT_NAMES]
    names.insert(STATIC_COUNT, "-,")
    return "# " + "".join(names) + "\n"


def csv_line(row: Row) -> str:
    cells = [fld.raw(f) + "," for f in row]
    cells.insert(STATIC_COUNT, "-,")
    return "".join(cells) + "\n"


def _ident(row: Row) -> tuple[int, int, int]:
    kind, iid, sid = row[STAT_NAMES.index("type")], row[27], row[28]
    assert kind is not None and iid is not None and sid is not None
    return int(kind.value), int(iid.value), int(sid.value)


def typed_lines(row: Row, desc: bool) -> str:
    kind, iid, sid = _ident(row)
    letter = _TYPE_LETTER[kind]
    out = []
    for pos, f in enumerate(row):
        if f is None:
            continue
        line = f"{letter}.{iid}.{sid}.{pos}.{STAT_NAMES[pos]}.1:{fld.typed(f)}"
        if desc:
            line += f':"{description(STAT_NAMES[pos])}"'
        out.append(line + "\n")
    return "".join(out)


def json_row(row: Row) -> str:
    """One row as a JSON array (stats_dump_fields_json), or the error object."""
    kind, iid, sid = _ident(row)
    items = []
    for pos, f in enumerate(row):
        if f is None:
            continue
        value = fld.json_value(f)
        if value is None:
            return '{"errorStr":"output buffer too short"}'
        items.append(
            f'{{"objType":"{_OBJ_TYPE[kind]}","proxyId":{iid},"id":{sid},'
            f'"field":{{"pos":{pos},"name":"{STAT_NAMES[pos]}"}},"processNum":1,'
            f"{fld.json_tags(f)}{value}}}"
        )
    return "[" + ",".join(items) + "]"


def render_stat(
    snapshot: ProxiesSnapshot, opts: StatOptions, keep: Callable[[ProxyView], bool] | None = None
) -> str:
    if opts.resolvers:  # the stats page has no resolvers domain: proxies.show_stat has it
        return ""
    rows = stat_rows(snapshot, opts, keep)
    if opts.fmt == "typed":
        return "".join(typed_lines(row, opts.desc) for row in rows)
    if opts.fmt == "json":
        return "[" + ",".join(json_row(row) for row in rows) + "]\n"
    return csv_header() + "".join(csv_line(row) for row in rows)


# -- show info ---------------------------------------------------------------------------


def parse_show_info(words: Sequence[str]) -> tuple[str, bool, bool]:
    """cli_parse_show_info: (format, desc, float); unknown words are ignored, as HAProxy does."""
    fmt, desc, use_float = "plain", False, False
    for word in words[2:]:
        if word in ("typed", "json"):
            fmt = word
        desc = desc or word == "desc"
        use_float = use_float or word == "float"
    return fmt, desc, use_float


def _uptime(seconds: int) -> str:
    return (
        f"{seconds // 86400}d {seconds % 86400 // 3600}h"
        f"{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"
    )


def info_fields(info: ProcessInfo, now: float, use_float: bool = False) -> list[Field | None]:
    """stats_fill_info, for a build with OpenSSL and without zlib (Debian's 2.6.12)."""
    up = max(0.0, now - info.started)
    u, t = fld.u32, fld.text
    reuse = 0.0  # the share of clients' TLS connections that resumed a session
    if info.ssl_fe_key_rate < info.ssl_rate:
        reuse = 100.0 * (1.0 - info.ssl_fe_key_rate / info.ssl_rate)
    values: dict[str, Field] = {
        "Name": t("HAProxy", "POS"),
        "Version": t(info.version, "POS"),
        "Release_date": t(info.release_date, "POS"),
        "Nbthread": u(info.nbthread, "CGS"),
        "Nbproc": u(1, "CGS"),
        "Process_num": u(1, "KGP"),
        "Pid": u(info.pid, "SGP"),
        "Uptime": t(_uptime(int(up)), "MDP"),
        "Uptime_sec": fld.flt(up, "MDP") if use_float else u(int(up), "MDP"),
        "Memmax_MB": u(info.memmax_mb, "CLP"),
        "PoolAlloc_MB": u(info.pool_alloc_bytes // 1048576),
        "PoolUsed_MB": u(info.pool_used_bytes // 1048576),
        "PoolFailed": u(0, "MCP"),
        "Ulimit-n": u(info.ulimit_n, "CLP"),
        "Maxsock": u(info.maxsock, "CLP"),
        "Maxconn": u(info.maxconn, "CLP"),
        "Hard_maxconn": u(info.hard_maxconn, "CLP"),
        "CurrConns": u(info.curr_conns),
        "CumConns": u(info.cum_conns, "MCP"),
        "CumReq": u(info.cum_req, "MCP"),
        "MaxSslConns": u(info.max_ssl_conns, "MMP"),
        "CurrSslConns": u(info.curr_ssl_conns),
        "CumSslConns": u(info.cum_ssl_conns, "MCP"),
        "Maxpipes": u(0, "CLP"),
        "PipesUsed": u(info.pipes_used),
        "PipesFree": u(0),
        "ConnRate": _rate(info.conn_rate, use_float),
        "ConnRateLimit": u(info.conn_rate_limit, "CLP"),
        "MaxConnRate": u(info.max_conn_rate, "MMP"),
        "SessRate": _rate(info.sess_rate, use_float),
        "SessRateLimit": u(info.sess_rate_limit, "CLP"),
        "MaxSessRate": u(info.max_sess_rate, "MRP"),
        "SslRate": _rate(info.ssl_rate, use_float),
        "SslRateLimit": u(info.ssl_rate_limit, "CLP"),
        "MaxSslRate": u(info.max_ssl_rate, "MMP"),
        "SslFrontendKeyRate": (
            fld.flt(float(info.ssl_fe_key_rate), "MRP") if use_float else u(info.ssl_fe_key_rate)
        ),
        "SslFrontendMaxKeyRate": u(info.ssl_fe_max_key_rate, "MMP"),
        "SslFrontendSessionReuse_pct": fld.flt(reuse, "MRP") if use_float else u(int(reuse)),
        "SslBackendKeyRate": _rate(info.ssl_be_key_rate, use_float),
        "SslBackendMaxKeyRate": u(info.ssl_be_max_key_rate, "MMP"),
        "SslCacheLookups": u(0, "MCP"),
        "SslCacheMisses": u(0, "MCP"),
        "CompressBpsIn": _rate(0, use_float),
        "CompressBpsOut": _rate(0, use_float),
        "CompressBpsRateLim": u(0, "CLP"),
        "Tasks": u(info.tasks),
        "Run_queue": u(info.run_queue),
        "Idle_pct": u(info.idle_pct, "MaP"),
        "node": t(info.node, "COS"),
        "Stopping": u(int(info.stopping)),
        "Jobs": u(info.jobs),
        "Unstoppable Jobs": u(info.unstoppable_jobs),
        "Listeners": u(info.listeners),
        "ActivePeers": u(0),
        "ConnectedPeers": u(0),
        "DroppedLogs": u(info.dropped_logs),
        "BusyPolling": u(0),
        "FailedResolutions": u(0),
        "TotalBytesOut": fld.u64(info.total_bytes_out),
        "TotalSplicdedBytesOut": fld.u64(info.total_spliced_bytes_out),
        "BytesOutRate": fld.u64(info.bytes_out_rate // 32 * 32, "MRP"),
        "DebugCommandsIssued": u(0),
        "CumRecvLogs": u(0, "MCP"),
        "Build info": t(info.version, "POS"),
        "Memmax_bytes": u(info.memmax_mb * 1048576, "CLP"),
        "PoolAlloc_bytes": fld.u64(info.pool_alloc_bytes),  # u64 in 2.6.12 (u32 in 2.6.0)
        "PoolUsed_bytes": fld.u64(info.pool_used_bytes),
        "Start_time_sec": (
            fld.flt(info.started, "MDP") if use_float else u(int(info.started), "MDP")
        ),
        "Tainted": t("0", "SGP"),
    }
    if info.description is not None:
        values["description"] = t(info.description, "COS")
    return [values.get(name) for name, _ in INFO_FIELDS]


def _rate(value: int, use_float: bool) -> Field:
    return fld.flt(float(value), "MRP") if use_float else fld.u32(value, "MRP")


def render_info(info: ProcessInfo, now: float, fmt: str, desc: bool, use_float: bool) -> str:
    row = info_fields(info, now, use_float)
    out = []
    for pos, f in enumerate(row):
        if f is None:
            continue
        name, text = INFO_FIELDS[pos]
        if fmt == "json":
            value = fld.json_value(f)
            if value is None:
                return '{"errorStr":"output buffer too short"}\n'
            out.append(
                f'{{"field":{{"pos":{pos},"name":"{name}"}},"processNum":1,'
                f"{fld.json_tags(f)}{value}}}"
            )
            continue
        line = f"{pos}.{name}.1:{fld.typed(f)}" if fmt == "typed" else f"{name}: {fld.raw(f)}"
        out.append(line + (f':"{text}"' if desc else "") + "\n")
    if fmt == "json":
        return "[" + ",".join(out) + "]\n"
    return "".join(out)
