"""Options every checker block shares, and the draft of a checker being read.

check/check_api.c `install_checker_common_keywords` (keepalived 2.2.7): the connection options
(connect_ip, connect_port, bindto, bind_port, bind_if, connect_timeout, fwmark) and the timing
options (retry, delay_before_retry, warmup, delay_loop, alpha, log_all_failures).  A bad value
is reported and the previous value kept; `check_conn` is check_api.c `check_conn_opts`.
"""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv6Address
from typing import TypeVar

from pylvs.config.errors import Kind, Location
from pylvs.config.keepalived.lvs.checks import Connection
from pylvs.config.keepalived.lvs.common import UINT_MAX, timer
from pylvs.config.keepalived.lvs.drafts import CheckerDraft, RealServerDraft
from pylvs.config.keywords import Context, Keyword
from pylvs.config.keywords.values import address, boolean, unsigned
from pylvs.config.tree import Statement

D = TypeVar("D")
H = Keyword[CheckerDraft]


def _connect_ip(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    ip = address(st.args[0], ctx, "connect_ip address")
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
    ip = address(st.args[0], ctx, "bindto address")
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
    p = unsigned(st.args[0], ctx, 1, 65535, "Invalid checker connect_port")
    if p is not None:
        d.connect_port = p


def _bind_port(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    p = unsigned(st.args[0], ctx, 1, 65535, "Invalid checker bind_port")
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
    t = timer(st.args[0], ctx, "connect_timeout invalid", 1, UINT_MAX)
    if t is not None:
        d.connect_timeout = t


def _fwmark(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    m = unsigned(st.args[0], ctx, 0, UINT_MAX, "Invalid fwmark connection value")
    if m is not None:
        d.fwmark = m


def _retry(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    r = unsigned(st.args[0], ctx, 0, UINT_MAX, "Invalid retry connection value")
    if r is not None:
        d.retry = r


def _delay_before_retry(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    t = timer(st.args[0], ctx, "Invalid delay_before_retry connection value")
    if t is not None:
        d.delay_before_retry = t


def _warmup(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    t = timer(st.args[0], ctx, "Invalid warmup connection value")
    if t is not None:
        d.warmup = t


def _delay_loop(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    t = timer(st.args[0], ctx, "delay_loop is invalid", 1)
    if t is not None:
        d.delay_loop = t


def _alpha(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    b = boolean(st, ctx, "alpha")
    if b is not None:
        d.alpha = b


def _log_all_failures(st: Statement, ctx: Context, d: CheckerDraft) -> None:
    b = boolean(st, ctx, "log_all_failures")
    if b is not None:
        d.log_all_failures = b


CONNECTION: dict[str, H] = {
    "connect_ip": Keyword(_connect_ip, 1),
    "connect_port": Keyword(_connect_port, 1),
    "bindto": Keyword(_bindto, 1),
    "bind_port": Keyword(_bind_port, 1),
    "bind_if": Keyword(_bind_if, 1),
    "connect_timeout": Keyword(_connect_timeout, 1),
    "fwmark": Keyword(_fwmark, 1),
}
TIMING: dict[str, H] = {
    "retry": Keyword(_retry, 1),
    # Older keepalived took nb_get_retry in every checker and the seeds use it; 2.2.7 calls it
    # an unknown keyword (so `check` exits as keepalived -t does), pylvs reads it as retry.
    "nb_get_retry": Keyword(_retry, 1, use_instead="retry", deprecation=Kind.CONFIG),
    "delay_before_retry": Keyword(_delay_before_retry, 1),
    "warmup": Keyword(_warmup, 1),
    "delay_loop": Keyword(_delay_loop, 1),
    "alpha": Keyword(_alpha),
    "log_all_failures": Keyword(_log_all_failures),
}
COMMON: dict[str, H] = {**CONNECTION, **TIMING}


def check_conn(d: CheckerDraft, rs: RealServerDraft, ctx: Context, loc: Location) -> bool:
    """check_api.c `check_conn_opts`: a link-local IPv6 target needs bind_if."""
    dst = d.connect_ip or rs.address
    if type(dst) is IPv6Address and dst.is_link_local and not d.bind_if:  # (as in vs.py)
        ctx.error(loc, f"Checker link local address {dst} requires a bind_if - ignoring checker")
        return False
    return True


def need_conn(conn: Connection | None) -> Connection:
    assert conn is not None, "connection checkers always get a Connection"
    return conn


def on(target: Callable[[D], CheckerDraft], kw: H) -> Keyword[D]:
    """`kw` applied to the checker draft `target` finds in the draft being read (SMTP_CHECK's
    `host` blocks set the host's connection and the checker's timing)."""

    def handle(s: Statement, c: Context, d: D) -> None:
        kw.handler(s, c, target(d))

    return Keyword(handle, kw.args, kw.block, kw.use_instead, kw.deprecation, kw.unsupported)
