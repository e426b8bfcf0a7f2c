"""Process and proxy commands of the stats socket, as HAProxy 2.6 answers them (src/stats.c,
src/proxy.c, src/cli.c).

`show info`, `show stat`, `show servers state [backend]`, `show backend`, `disable|enable|
shutdown frontend`, `set maxconn frontend|global`, `clear counters [all]`.
"""

from __future__ import annotations

from pylvs.control.haproxy.context import LOG_NOTICE, Context, Reply, err, msg
from pylvs.control.haproxy.lookup import find_backend, find_frontend
from pylvs.control.haproxy.resolvers import stat_resolvers
from pylvs.control.haproxy.stat import parse_show_info, parse_show_stat, render_info, render_stat
from pylvs.model.proxies import ProxyView
from pylvs.proto.stick import Level
from pylvs.sched.haproxy.cnum import atoi

SERVERS_STATE_VERSION = 1
SERVERS_STATE_FIELDS = (
    "be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
    "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
    "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
    "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
    "srv_agent_port"
)


def _word(words: list[str], i: int) -> str:
    return words[i] if i < len(words) else ""


def show_info(ctx: Context, words: list[str], payload: str | None) -> Reply:
    fmt, desc, use_float = parse_show_info(words)
    snapshot = ctx.runtime.snapshot()
    return Reply(render_info(snapshot.info, snapshot.now, fmt, desc, use_float))


def show_stat(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """The addresses, cookies and algorithms show when the socket was opened at operator level
    or above (the session's own `user` / `operator` do not hide them)."""
    snapshot = ctx.runtime.snapshot()
    opts = parse_show_stat(words, snapshot, ctx.state.bind_level >= Level.OPERATOR)
    if isinstance(opts, str):
        return err(opts)
    if opts.resolvers:
        return Reply(stat_resolvers(ctx.runtime.resolvers_counters(), opts.fmt, opts.desc))
    return Reply(render_stat(snapshot, opts))


def servers_state_lines(px: ProxyView, now: float) -> str:
    """dump_servers_state for one backend."""
    assert px.backend is not None
    out = []
    for sv in px.servers:
        chk, agent = sv.check, sv.agent
        fields = (
            px.id,
            px.name,
            sv.id,
            sv.name,
            sv.addr if sv.family in ("ipv4", "ipv6") else "-",
            sv.op_state,
            sv.admin,
            sv.uweight,
            sv.iweight,
            int(now) - int(sv.last_change),
            int(chk.status),
            chk.status.result,
            chk.health,
            chk.state_bits,
            agent.state_bits,
            int(px.backend.forced_id),
            int(sv.forced_id),
            sv.fqdn or "-",
            sv.port,
            sv.srvrecord or "-",
            sv.use_ssl,
            chk.port,
            chk.addr or "-",
            agent.addr or "-",
            agent.port,
        )
        out.append(" ".join(str(f) for f in fields) + "\n")
    return "".join(out)


def show_servers_state(ctx: Context, words: list[str], payload: str | None) -> Reply:
    snapshot = ctx.runtime.snapshot()
    name = _word(words, 3)
    if name:
        px = find_backend(snapshot, name)
        if px is None:
            return err("Can't find backend.\n")
        proxies = [px]
    else:
        proxies = [p for p in snapshot.proxies if p.backend is not None]
    head = f"{SERVERS_STATE_VERSION}\n# {SERVERS_STATE_FIELDS}\n"
    return Reply(head + "".join(servers_state_lines(p, snapshot.now) for p in proxies))


def show_backend(ctx: Context, words: list[str], payload: str | None) -> Reply:
    names = [p.name for p in ctx.runtime.snapshot().proxies if p.backend is not None]
    return Reply("# name\n" + "".join(f"{n}\n" for n in names))


def _frontend(ctx: Context, name: str) -> ProxyView | Reply:
    denied = ctx.denied(Level.ADMIN)
    if denied is not None:
        return denied
    if not name:
        return err("A frontend name is expected.\n")
    px = find_frontend(ctx.runtime.snapshot(), name)
    return px if px is not None else err("No such frontend.\n")


def shutdown_frontend(ctx: Context, words: list[str], payload: str | None) -> Reply:
    px = _frontend(ctx, _word(words, 2))
    if isinstance(px, Reply):
        return px
    assert px.frontend is not None
    if px.frontend.stopped:
        return msg("Frontend was already shut down.\n", LOG_NOTICE)
    ctx.runtime.stop_frontend(px.name)
    return Reply("")


def disable_frontend(ctx: Context, words: list[str], payload: str | None) -> Reply:
    px = _frontend(ctx, _word(words, 2))
    if isinstance(px, Reply):
        return px
    assert px.frontend is not None
    if px.frontend.stopped:
        return msg("Frontend was previously shut down, cannot disable.\n", LOG_NOTICE)
    if px.frontend.paused:
        return msg("All sockets are already disabled.\n", LOG_NOTICE)
    if not ctx.runtime.pause_frontend(px.name):
        return err("Failed to pause frontend, check logs for precise cause.\n")
    return Reply("")


def enable_frontend(ctx: Context, words: list[str], payload: str | None) -> Reply:
    px = _frontend(ctx, _word(words, 2))
    if isinstance(px, Reply):
        return px
    assert px.frontend is not None
    if px.frontend.stopped:
        return err("Frontend was previously shut down, cannot enable.\n")
    if not px.frontend.paused:
        return msg("All sockets are already enabled.\n", LOG_NOTICE)
    if not ctx.runtime.resume_frontend(px.name):
        return err("Failed to resume frontend, check logs for precise cause (port conflict?).\n")
    return Reply("")


def set_maxconn_frontend(ctx: Context, words: list[str], payload: str | None) -> Reply:
    px = _frontend(ctx, _word(words, 3))
    if isinstance(px, Reply):
        return px
    if not _word(words, 4):
        return err("Integer value expected.\n")
    value = atoi(words[4])
    if value < 0:
        return err("Value out of range.\n")
    ctx.runtime.set_frontend_maxconn(px.name, value)
    return Reply("")


def set_maxconn_global(ctx: Context, words: list[str], payload: str | None) -> Reply:
    denied = ctx.denied(Level.ADMIN)
    if denied is not None:
        return denied
    if not _word(words, 3):
        return err("Expects an integer value.\n")
    hard = ctx.runtime.snapshot().info.hard_maxconn
    value = atoi(words[3])
    if value > hard:
        return err("Value out of range.\n")
    ctx.runtime.set_global_maxconn(value if value > 0 else hard)
    return Reply("")


_RATE_LIMITS = (
    "'set rate-limit' only supports :\n"
    "   - 'connections global' to set the per-process maximum connection rate\n"
    "   - 'sessions global' to set the per-process maximum session rate\n"
    "   - 'ssl-sessions global' to set the per-process maximum SSL session rate\n"
    "   - 'http-compression global' to set the per-process maximum compression speed in kB/s\n"
)


def set_rate_limit(ctx: Context, words: list[str], payload: str | None) -> Reply:
    """cli.c cli_parse_set_ratelimit: `set rate-limit connections|sessions|ssl-sessions
    global <value>` (atoi, >= 0; 0 lifts the limit), the limits of ratelimit.py."""
    denied = ctx.denied(Level.ADMIN)
    if denied is not None:
        return denied
    kind, scope = _word(words, 2), _word(words, 3)
    if scope != "global" or kind not in ("connections", "sessions", "ssl-sessions",
                                         "http-compression"):  # fmt: skip
        return err(_RATE_LIMITS)
    if kind == "http-compression":  # HAProxy's compression speed limit (maxcomprate)
        return err("'set rate-limit http-compression' is a HAProxy command that pylvs does"
                   " not support.\n")  # fmt: skip
    if not _word(words, 4):
        return err("Expects an integer value.\n")
    value = atoi(words[4])
    if value < 0:
        return err("Value out of range.\n")
    ctx.runtime.set_rate_limit(kind, value)
    return Reply("")


def clear_counters(ctx: Context, words: list[str], payload: str | None) -> Reply:
    everything = _word(words, 2) == "all"
    denied = ctx.denied(Level.OPERATOR) or (ctx.denied(Level.ADMIN) if everything else None)
    if denied is not None:
        return denied
    ctx.runtime.clear_counters(everything)
    return Reply("")
