"""One `show stat` row per frontend, listener, server and backend (src/stats.c, HAProxy 2.6.12).

`frontend_row`, `listener_row`, `server_row` and `backend_row` are stats_fill_fe_stats,
stats_fill_li_stats, stats_fill_sv_stats and stats_fill_be_stats: which of the 103 static
fields each kind of object fills (the others stay empty), with each field's type and tags,
then the module fields (ssl for every kind; h2 and h1 for frontends and backends only).  The
HTTP columns are filled in `mode http` only, as HAProxy does.  `legends` is STAT_SHLGNDS (the
address, cookie and algorithm columns: the CLI sets it when the socket's level is operator or
admin, the page with `stats show-legends`); `hide` adds the "(up/total)" count to a backend's
status as the `up` / `no-maint` options do.
"""

from __future__ import annotations

from pylvs.control.haproxy.fields import Field, Row, s32, text, u32, u64
from pylvs.control.haproxy.names import H1_FIRST, H2_FIRST, SSL_FIRST, STAT_INDEX, STAT_NAMES
from pylvs.model.proxies import (
    ADMF_DRAIN,
    ADMF_IMAINT,
    ADMF_MAINT,
    ADMF_RMAINT,
    SRV_RUNNING,
    SRV_STARTING,
    SRV_STOPPED,
    SRV_STOPPING,
    CheckStatus,
    CheckView,
    Counters,
    ListenerView,
    ModuleCounters,
    ProxyView,
    ServerView,
)

TYPE_FE, TYPE_BE, TYPE_SV, TYPE_SO = 0, 1, 2, 3
_H2_GAUGES = frozenset({9, 10})  # h2_open_connections, h2_backend_open_streams
_H1_GAUGES = frozenset({0, 1})  # h1_open_connections, h1_open_streams


def _row(values: dict[str, Field]) -> Row:
    row: Row = [None] * len(STAT_NAMES)
    for name, f in values.items():
        row[STAT_INDEX[name]] = f
    return row


def _modules(row: Row, mods: ModuleCounters, full: bool) -> Row:
    for i, v in enumerate(mods.ssl):
        row[SSL_FIRST + i] = u64(v, "MCP")
    if full:
        for i, v in enumerate(mods.h2):
            row[H2_FIRST + i] = u64(v, "MGP" if i in _H2_GAUGES else "MCP")
        for i, v in enumerate(mods.h1):
            row[H1_FIRST + i] = u64(v, "MGP" if i in _H1_GAUGES else "MCP")
    return row


def _age(now: float, then: float | None) -> int:
    return int(now) - int(then) if then is not None else -1


def _http(values: dict[str, Field], c: Counters, server: bool = False) -> None:
    other, *classes = c.http.responses
    for n, v in zip(("1xx", "2xx", "3xx", "4xx", "5xx"), classes, strict=True):
        values[f"hrsp_{n}"] = u64(v, "MCP")
    values["hrsp_other"] = u64(other, "MCP")
    values["req_tot"] = u64(c.http.requests, "MCP")
    if not server:
        values["cache_lookups"] = u64(c.http.cache_lookups, "MCP")
        values["cache_hits"] = u64(c.http.cache_hits, "MCP")


def frontend_row(px: ProxyView) -> Row:
    fe = px.frontend
    assert fe is not None
    c = fe.counters
    v: dict[str, Field] = {
        "pxname": text(px.name, "KNS"),
        "svname": text("FRONTEND", "KNS"),
        "scur": u32(fe.feconn),
        "smax": u32(c.sess_max, "MMP"),
        "slim": u32(fe.maxconn, "CLP"),
        "stot": u64(c.cum_sess, "MCP"),
        "bin": u64(c.bytes_in, "MCP"),
        "bout": u64(c.bytes_out, "MCP"),
        "dreq": u64(c.denied_req, "MCP"),
        "dresp": u64(c.denied_resp, "MCP"),
        "ereq": u64(c.failed_req, "MCP"),
        # 2.6.12 (not 2.6.0) tells a paused frontend (`disable frontend`) apart.
        "status": text("STOP" if fe.stopped else "PAUSED" if fe.paused else "OPEN", "SGP"),
        "pid": u32(1, "KGP"),
        "iid": u32(px.id, "KGS"),
        "sid": u32(0, "KGS"),
        "type": u32(TYPE_FE, "CGS"),
        "rate": u32(fe.rate, "MRP"),
        "rate_lim": u32(fe.rate_limit, "CLP"),
        "rate_max": u32(c.sps_max, "MMP"),
        "req_rate": u32(fe.req_rate, "MRP"),
        "req_rate_max": u32(c.http.rps_max, "MMP"),
        "req_tot": u64(c.http.requests, "MCP"),
        "comp_in": u64(c.comp_in, "MCP"),
        "comp_out": u64(c.comp_out, "MCP"),
        "comp_byp": u64(c.comp_byp, "MCP"),
        "comp_rsp": u64(c.http.comp_rsp, "MCP"),
        "mode": text(px.mode, "CGS"),
        "conn_rate": u32(fe.conn_rate, "MRP"),
        "conn_rate_max": u32(c.cps_max, "MMP"),
        "conn_tot": u64(c.cum_conn, "MCP"),
        "dcon": u64(c.denied_conn, "MCP"),
        "dses": u64(c.denied_sess, "MCP"),
        "wrew": u64(c.failed_rewrites, "MCP"),
        "eint": u64(c.internal_errors, "MCP"),
    }
    if px.mode == "http":
        _http(v, c)
        v["intercepted"] = u64(c.http.intercepted, "MCP")
    return _modules(_row(v), fe.modules, True)


def listener_row(px: ProxyView, li: ListenerView, legends: bool) -> Row:
    c = li.counters
    full = li.maxconn and li.nbconn >= li.maxconn
    status = "FULL" if full else "WAITING" if li.limited else "OPEN"
    v: dict[str, Field] = {
        "pxname": text(px.name, "KNS"),
        "svname": text(li.name, "KNS"),
        "scur": u32(li.nbconn),
        "smax": u32(c.sess_max, "MMP"),
        "slim": u32(li.maxconn, "CLP"),
        "stot": u64(c.cum_conn, "MCP"),
        "bin": u64(c.bytes_in, "MCP"),
        "bout": u64(c.bytes_out, "MCP"),
        "dreq": u64(c.denied_req, "MCP"),
        "dresp": u64(c.denied_resp, "MCP"),
        "ereq": u64(c.failed_req, "MCP"),
        "status": text(status, "SGP"),
        "pid": u32(1, "KGP"),
        "iid": u32(px.id, "KGS"),
        "sid": u32(li.id, "KGS"),
        "type": u32(TYPE_SO, "CGS"),
        "mode": text(px.mode, "CGS"),
        "dcon": u64(c.denied_conn, "MCP"),
        "dses": u64(c.denied_sess, "MCP"),
        "wrew": u64(c.failed_rewrites, "MCP"),
        "eint": u64(c.internal_errors, "MCP"),
    }
    if legends and li.addr:
        v["addr"] = text(li.addr, "CGS")
    return _modules(_row(v), li.modules, False)


def server_state_text(sv: ServerView) -> str:
    """The server's `status` column (stats_fill_sv_stats_computestate and srv_hlt_st)."""
    if sv.admin & ADMF_RMAINT:
        return "MAINT (resolution)"
    if sv.admin & ADMF_IMAINT:
        return f"MAINT (via {sv.tracked})"
    if sv.admin & ADMF_MAINT:
        return "MAINT"
    ref, own, agent = sv.status_check, sv.check, sv.agent
    checked = ref.enabled
    full = ref.rise + ref.fall - 1
    if sv.op_state != SRV_STOPPED:
        going = ref.health - ref.rise + 1, ref.fall
    else:
        going = ref.health, ref.rise
    if sv.op_state in (SRV_RUNNING, SRV_STARTING):
        state = "UP %d/%d" if checked and ref.health < full else "UP"
        if sv.admin & ADMF_DRAIN:
            if agent.enabled:
                state = "DRAIN (agent)"
            else:
                state = "DRAIN %d/%d" if state == "UP %d/%d" else "DRAIN"
        if state == "UP" and not checked:
            state = "no check"
    elif sv.op_state == SRV_STOPPING:
        nolb = (not own.enabled and sv.tracked is None) or ref.health == full
        state = "NOLB" if nolb else "NOLB %d/%d"
    elif agent.enabled and not agent.health:
        state = "DOWN (agent)"
    elif checked and not ref.health:
        state = "DOWN"
    elif agent.enabled or checked:
        state = "DOWN %d/%d"
    else:
        state = "DOWN"
    return state % going if "%d" in state else state


def _check_fields(v: dict[str, Field], prefix: str, chk: CheckView, ref: CheckView) -> None:
    """The check_* or agent_* columns of an enabled, unpaused check."""
    status = ("* " if chk.running else "") + chk.status.info
    v[f"{prefix}_status"] = text(status, "MOP")
    if chk.status >= CheckStatus.L57DATA:
        v[f"{prefix}_code"] = u32(chk.code, "MOP")
    if prefix == "agent" or chk.status >= CheckStatus.CHECKED:
        v[f"{prefix}_duration"] = u64(chk.duration_ms, "MDP")
    v[f"{prefix}_desc"] = text(chk.status.description, "MOP")
    v["last_chk" if prefix == "check" else "last_agt"] = text(chk.desc, "MOP")
    v[f"{prefix}_rise"] = u32(ref.rise, "CGS")
    v[f"{prefix}_fall"] = u32(ref.fall, "CGS")
    v[f"{prefix}_health"] = u32(ref.health, "CGS")


def _server_address(sv: ServerView) -> str | None:
    if sv.family == "ipv4":
        return f"{sv.addr}:{sv.port}"
    if sv.family == "ipv6":
        return f"[{sv.addr}]:{sv.port}"
    return "unix" if sv.family == "unix" else None


def server_row(px: ProxyView, sv: ServerView, now: float, legends: bool) -> Row:
    be = px.backend
    assert be is not None
    c = sv.counters
    own, ref = sv.check, sv.status_check
    v: dict[str, Field] = {
        "pxname": text(px.name, "KNS"),
        "svname": text(sv.name, "KNS"),
        "mode": text(px.mode, "CGS"),
        "qcur": u32(sv.queued),
        "qmax": u32(c.nbpend_max, "MMP"),
        "scur": u32(sv.cur_sess),
        "smax": u32(c.sess_max, "MMP"),
        "srv_icur": u32(sv.idle_cur),
        "status": text(server_state_text(sv), "SGP"),
        "lastchg": u32(_age(now, sv.last_change), "MAP"),
        "weight": u32((sv.eweight * be.wmult + be.wdiv - 1) // be.wdiv, "MaP"),
        "uweight": u32(sv.uweight, "MaP"),
        "act": u32(0 if sv.backup else 1, "SGP"),
        "bck": u32(1 if sv.backup else 0, "SGP"),
        "pid": u32(1, "KGP"),
        "iid": u32(px.id, "KGS"),
        "sid": u32(sv.id, "KGS"),
        "type": u32(TYPE_SV, "CGS"),
        "rate": u32(sv.rate, "MRP"),
        "rate_max": u32(c.sps_max, "MMP"),
        "lastsess": s32(_age(now, c.last_sess), "MAP"),
    }
    _shared_counters(v, c)
    v["stot"] = u64(c.cum_sess, "MCP")
    v["idle_conn_cur"] = u32(sv.idle_unsafe)
    v["safe_conn_cur"] = u32(sv.idle_safe)
    v["used_conn_cur"] = u32(sv.used_conns)
    v["need_conn_est"] = u32(sv.need_conns)
    if sv.maxconn:
        v["slim"] = u32(sv.maxconn, "CLP")
    if sv.idle_max is not None:
        v["src_ilim"] = u32(sv.idle_max, "CLP")
    if own.enabled:
        v["chkfail"] = u64(c.failed_checks, "MCP")
        v["chkdown"] = u64(c.down_trans, "MCP")
        downtime = sv.down_time
        if sv.op_state == SRV_STOPPED and int(sv.last_change) < int(now):
            downtime += int(now) - int(sv.last_change)
        v["downtime"] = u32(downtime, "MCP")
    if sv.maxqueue:
        v["qlimit"] = u32(sv.maxqueue, "CGS")
    if sv.op_state == SRV_STARTING and not sv.admin & ADMF_DRAIN and sv.throttle is not None:
        v["throttle"] = u32(sv.throttle, "MaP")
    if sv.tracked is not None:
        v["tracked"] = text(sv.tracked, "CNS")
    if own.active:
        _check_fields(v, "check", own, ref)
    if sv.agent.active:
        _check_fields(v, "agent", sv.agent, sv.agent)
    if px.mode == "http":
        _http(v, c, server=True)
    if sv.observe:
        v["hanafail"] = u64(c.failed_hana, "MCP")
    address = _server_address(sv) if legends else None
    if address is not None:
        v["addr"] = text(address, "CGS")
    if legends and sv.cookie:
        v["cookie"] = text(sv.cookie, "CNS")
    return _modules(_row(v), sv.modules, False)


def _usable(sv: ServerView) -> bool:
    """srv_currently_usable."""
    return (
        sv.eweight > 0
        and not sv.admin & (ADMF_MAINT | ADMF_DRAIN)
        and sv.op_state in (SRV_STARTING, SRV_RUNNING)
    )


def backend_counts(px: ProxyView) -> tuple[int, int, int]:
    """stats_fill_be_stats_computesrv: servers not stopped, servers, user weight in use."""
    be = px.backend
    assert be is not None
    up = total = weight = 0
    for sv in px.servers:
        if sv.op_state != SRV_STOPPED:
            up += 1
            if _usable(sv) and (not be.srv_act) ^ (not sv.backup):
                weight += sv.uweight
        total += 1
    if not be.srv_act and be.fbck is not None:
        fbck = next((s for s in px.servers if s.name == be.fbck), None)
        weight = fbck.uweight if fbck is not None else weight
    return up, total, weight


def backend_row(px: ProxyView, now: float, legends: bool, hide: bool = False) -> Row:
    be = px.backend
    assert be is not None
    c = be.counters
    up, total, uweight = backend_counts(px)
    status = "UP" if be.tot_weight > 0 or not px.servers else "DOWN"
    if hide:
        status += f" ({up}/{total})"
    downtime = be.down_time
    if not (be.tot_weight and int(be.last_change) < int(now)):
        downtime += int(now) - int(be.last_change)
    v: dict[str, Field] = {
        "pxname": text(px.name, "KNS"),
        "svname": text("BACKEND", "KNS"),
        "mode": text(px.mode, "CGS"),
        "qcur": u32(be.queued),
        "qmax": u32(c.nbpend_max, "MMP"),
        "scur": u32(be.beconn),
        "smax": u32(c.sess_max, "MMP"),
        "slim": u32(be.fullconn, "CLP"),
        "stot": u64(c.cum_conn, "MCP"),
        "dreq": u64(c.denied_req, "MCP"),
        "status": text(status, "SGP"),
        "agg_server_status": u32(0),
        "agg_server_check_status": u32(0),
        "agg_check_status": u32(0),
        "weight": u32((be.tot_weight * be.wmult + be.wdiv - 1) // be.wdiv, "MaP"),
        "uweight": u32(uweight, "MaP"),
        "act": u32(be.srv_act),
        "bck": u32(be.srv_bck),
        "chkdown": u64(be.down_trans, "MCP"),
        "lastchg": u32(_age(now, be.last_change), "MAP"),
        "pid": u32(1, "KGP"),
        "iid": u32(px.id, "KGS"),
        "sid": u32(0, "KGS"),
        "type": u32(TYPE_BE, "CGS"),
        "rate": u32(be.rate),
        "rate_max": u32(c.sps_max),
        "lastsess": s32(_age(now, c.last_sess), "MAP"),
        "comp_in": u64(c.comp_in, "MCP"),
        "comp_out": u64(c.comp_out, "MCP"),
        "comp_byp": u64(c.comp_byp, "MCP"),
        "comp_rsp": u64(c.http.comp_rsp, "MCP"),
    }
    _shared_counters(v, c)
    if px.servers:
        v["downtime"] = u32(downtime, "MCP")
    if legends and be.cookie:
        v["cookie"] = text(be.cookie, "CNS")
    if legends:
        v["algo"] = text(be.algo, "CGS")
    if px.mode == "http":
        _http(v, c)
    return _modules(_row(v), be.modules, True)


def _shared_counters(v: dict[str, Field], c: Counters) -> None:
    """The counters backends and servers both print (be_counters)."""
    for name, value in (
        ("bin", c.bytes_in),
        ("bout", c.bytes_out),
        ("dresp", c.denied_resp),
        ("econ", c.failed_conns),
        ("eresp", c.failed_resp),
        ("wretr", c.retries),
        ("wredis", c.redispatches),
        ("wrew", c.failed_rewrites),
        ("eint", c.internal_errors),
        ("connect", c.connect),
        ("reuse", c.reuse),
        ("lbtot", c.cum_lbconn),
        ("cli_abrt", c.cli_aborts),
        ("srv_abrt", c.srv_aborts),
    ):
        v[name] = u64(value, "MCP")
    for name, value in (
        ("qtime", c.q_time),
        ("ctime", c.c_time),
        ("rtime", c.d_time),
        ("ttime", c.t_time),
    ):
        v[name] = u32(value, "MaP")
    for name, value in (
        ("qtime_max", c.qtime_max),
        ("ctime_max", c.ctime_max),
        ("rtime_max", c.dtime_max),
        ("ttime_max", c.ttime_max),
    ):
        v[name] = u32(value, "MMP")
