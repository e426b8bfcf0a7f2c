"""Options every checker block shares, and the draft of a checker being read.

check/check_api.c `install_checker_common_keywords` (keepalived 2.2.7): the connection options
(connect_ip, connect_port, bindto, bind_port, bind_if, connect_timeout, fwmark) and the timing
options (retry, delay_before_retry, warmup, delay_loop, alpha, log_all_failures).  A bad value
is reported and the previous value kept; `check_conn` is check_api.c `check_conn_opts`.
"""

from __future__ import annotations

from pylvs.config.errors import Location
from pylvs.config.keepalived.lvs.checks import Connection
from pylvs.config.keepalived.lvs.common import (
    UINT_MAX,
    Handler,
    end_loc,
    read_addr,
    read_bool,
    read_timer,
    read_unsigned,
)
from pylvs.config.keepalived.lvs.drafts import CheckerDraft, RealServerDraft
from pylvs.config.keepalived.tree import Statement
from pylvs.config.keepalived.values import Context

H = Handler[CheckerDraft]


def _connect_ip(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    ip = read_addr(st.args[0], ctx, "connect_ip")
    if ip is None:
        return
    if d.bindto is not None and d.bindto.version != ip.version:
        ctx.error(
            st.args[0].loc,
            f"connect_ip address {ip} does not match address family of bindto - skipping",
        )
        return
    d.connect_ip = ip


def _bindto(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    ip = read_addr(st.args[0], ctx, "bindto")
    if ip is None:
        return
    if d.connect_ip is not None and d.connect_ip.version != ip.version:
        ctx.error(
            st.args[0].loc,
            f"bindto address {ip} does not match address family of connect_ip - skipping",
        )
        return
    d.bindto = ip


def _connect_port(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    p = read_unsigned(st.args[0], ctx, 1, 65535, "Invalid checker connect_port")
    if p is not None:
        d.connect_port = p


def _bind_port(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    p = read_unsigned(st.args[0], ctx, 1, 65535, "Invalid checker bind_port")
    if p is not None:
        d.bind_port = p


def _bind_if(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    name = st.args[0].text
    if len(name) > 15:  # IFNAMSIZ - 1
        ctx.error(st.args[0].loc, f"Interface name {name} is too long - ignoring")
        return
    if ctx.host.interfaces is not None and name not in ctx.host.interfaces:
        ctx.warning(st.args[0].loc, f"interface {name} does not exist on this host")
    d.bind_if = name


def _connect_timeout(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    t = read_timer(st.args[0], ctx, "connect_timeout invalid", 1, UINT_MAX)
    if t is not None:
        d.connect_timeout = t


def _fwmark(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    m = read_unsigned(st.args[0], ctx, 0, UINT_MAX, "Invalid fwmark connection value")
    if m is not None:
        d.fwmark = m


def _retry(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    r = read_unsigned(st.args[0], ctx, 0, UINT_MAX, "Invalid retry connection value")
    if r is not None:
        d.retry = r


def _delay_before_retry(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    t = read_timer(st.args[0], ctx, "Invalid delay_before_retry connection value")
    if t is not None:
        d.delay_before_retry = t


def _warmup(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    t = read_timer(st.args[0], ctx, "Invalid warmup connection value")
    if t is not None:
        d.warmup = t


def _delay_loop(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    t = read_timer(st.args[0], ctx, "delay_loop is invalid", 1)
    if t is not None:
        d.delay_loop = t


def _alpha(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    b = read_bool(st, ctx, "alpha")
    if b is not None:
        d.alpha = b


def _log_all_failures(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    b = read_bool(st, ctx, "log_all_failures")
    if b is not None:
        d.log_all_failures = b


CONNECTION: dict[str, H] = {
    "connect_ip": Handler(_connect_ip, 1),
    "connect_port": Handler(_connect_port, 1),
    "bindto": Handler(_bindto, 1),
    "bind_port": Handler(_bind_port, 1),
    "bind_if": Handler(_bind_if, 1),
    "connect_timeout": Handler(_connect_timeout, 1),
    "fwmark": Handler(_fwmark, 1),
}
TIMING: dict[str, H] = {
    "retry": Handler(_retry, 1),
    # Older keepalived took nb_get_retry in every checker; the intent is unambiguous.
    "nb_get_retry": Handler(_retry, 1),
    "delay_before_retry": Handler(_delay_before_retry, 1),
    "warmup": Handler(_warmup, 1),
    "delay_loop": Handler(_delay_loop, 1),
    "alpha": Handler(_alpha),
    "log_all_failures": Handler(_log_all_failures),
}
COMMON: dict[str, H] = {**CONNECTION, **TIMING}
ALIASES = {"nb_get_retry": "retry"}


def check_conn(d: CheckerDraft, rs: RealServerDraft, ctx: Context, loc: Location) -> bool:
    """check_api.c `check_conn_opts`: a link-local IPv6 target needs bind_if."""
    dst = d.connect_ip or rs.address
    if dst.version == 6 and dst.is_link_local and not d.bind_if:
        ctx.error(loc, f"Checker link local address {dst} requires a bind_if - ignoring checker")
        return False
    return True


def need_conn(conn: Connection | None) -> Connection:
    assert conn is not None, "connection checkers always get a Connection"
    return conn


def new_draft(
    st: Statement,
    *,
    has_connection: bool = True,
    default_retry: int = 1,
    default_delay_before_retry: float | None = 1.0,
) -> CheckerDraft:
    return CheckerDraft(
        kind=st.name,
        loc=st.loc,
        end=end_loc(st),
        has_connection=has_connection,
        default_retry=default_retry,
        default_delay_before_retry=default_delay_before_retry,
    )
