"""`real_server IP [PORT] { ... }` and the forwarding-method reader (reference §3.10).

Keyword table and messages follow keepalived 2.2.7 check/check_parser.c (rs_*_handler,
`svr_forwarding_handler`, `rs_end_handler`): a bad value is reported and the previous value
kept; a real server whose address family differs from the virtual server's (unless tunnelled)
is skipped, reported at its closing brace as keepalived does.
"""

from __future__ import annotations

from ipaddress import IPv4Address

from pylvs.config.keepalived.kwdispatch import dispatch
from pylvs.config.keepalived.lvs.checkers import CHECKERS
from pylvs.config.keepalived.lvs.common import (
    UINT_MAX,
    end_loc,
    read_addr_port,
    script_once,
    timer,
)
from pylvs.config.keepalived.lvs.drafts import Method, RealServerDraft, VirtualServerDraft
from pylvs.config.keepalived.lvs.http import parse_http
from pylvs.config.keepalived.syntax import table
from pylvs.config.keywords import Block, Context, Keyword
from pylvs.config.keywords.values import boolean, unsigned
from pylvs.config.tree import Statement
from pylvs.model.service import (
    AF_INET,
    AF_INET6,
    ForwardMethod,
    TunnelCsum,
    TunnelParams,
    TunnelType,
)

WEIGHT_LIMIT = 2**31 - 1  # IPVS_WEIGHT_LIMIT
ALL_CHECKERS = {**CHECKERS, "HTTP_GET": parse_http, "SSL_GET": parse_http}
_METHODS = {"NAT": ForwardMethod.MASQ, "DR": ForwardMethod.ROUTE, "TUN": ForwardMethod.TUNNEL}


def read_method(st: Statement, ctx: Context, prev: Method | None, who: str) -> Method | None:
    """check_parser.c `svr_forwarding_handler`: NAT|DR|TUN [type ipip|gue|gre] [port N]
    [nocsum|csum|remcsum].  A bad tunnel option keeps TUN with the previous tunnel values."""
    word = st.args[0]
    method = _METHODS.get(word.text)
    if method is None:
        ctx.error(word.loc, f"PARSER : unknown [{word.text}] routing method for {who} server.")
        return None
    if method is not ForwardMethod.TUNNEL:
        if len(st.args) > 1:
            ctx.error(st.args[1].loc, f"Invalid tunnel option {st.args[1].text} for {who} server.")
        return Method(method)
    kept = Method(method, prev.tunnel if prev and prev.method is method else None)
    tun_type, port, csum = TunnelType.IPIP, 0, TunnelCsum.NOCSUM
    args = list(st.args[1:])
    while args:
        w = args.pop(0)
        if w.text in ("type", "port") and not args:
            ctx.error(w.loc, f"Missing tunnel {w.text} for {who} server.")
            return kept
        if w.text == "type":
            t = args.pop(0)
            if t.text not in ("ipip", "gue", "gre"):
                ctx.error(t.loc, f"Unknown tunnel type {t.text} for {who} server.")
                return kept
            tun_type = TunnelType(t.text)
        elif w.text == "port":
            p = unsigned(args.pop(0), ctx, 1, 65535, f"Invalid gue tunnel port for {who}")
            if p is None:
                return kept
            port = p
        elif w.text in ("nocsum", "csum", "remcsum"):
            csum = TunnelCsum(w.text)
        else:
            ctx.error(w.loc, f"Invalid tunnel option {w.text} for {who} server.")
            return kept
    if (tun_type is TunnelType.GUE) != (port != 0):
        ctx.error(st.loc, "gue tunnels require port, otherwise cannot have port.")
        return kept
    if tun_type is TunnelType.IPIP and csum is not TunnelCsum.NOCSUM:
        ctx.error(st.loc, "ipip tunnels do not support checksum option.")
        return kept
    if tun_type is TunnelType.GRE and csum is TunnelCsum.REMCSUM:
        ctx.error(st.loc, "gre tunnels do not support remote checksum option.")
        return kept
    return Method(method, TunnelParams(tun_type, port, csum))


# ---- real_server ---------------------------------------------------------------------------

RsHandler = Keyword[RealServerDraft]


def _rs_timer(attr: str, what: str, lo: int = 0, hi: int = 2**63 - 1) -> RsHandler:
    def handle(s: Statement, c: Context, rs: RealServerDraft) -> None:
        t = timer(s.args[0], c, f"real server {what} invalid", lo, hi)
        if t is not None:
            setattr(rs, attr, t)

    return Keyword(handle, 1)


def _rs_bool(attr: str, what: str) -> RsHandler:
    def handle(s: Statement, c: Context, rs: RealServerDraft) -> None:
        b = boolean(s, c, what)
        if b is not None:
            setattr(rs, attr, b)

    return Keyword(handle)


def _rs_uint(attr: str, lo: int, hi: int, what: str) -> RsHandler:
    def handle(s: Statement, c: Context, rs: RealServerDraft) -> None:
        n = unsigned(s.args[0], c, lo, hi, what)
        if n is not None:
            setattr(rs, attr, n)

    return Keyword(handle, 1)


def _rs_method(s: Statement, c: Context, rs: RealServerDraft) -> None:
    m = read_method(s, c, rs.method, "real")
    if m is not None:
        rs.method = m


def _rs_vhost(s: Statement, _c: Context, rs: RealServerDraft) -> None:
    rs.virtualhost = s.args[0].text


_RS_KEYWORDS: dict[str, RsHandler] = {
    "weight": _rs_uint("weight", 0, WEIGHT_LIMIT, "Real server weight"),
    "lvs_method": Keyword(_rs_method, 1),
    "uthreshold": _rs_uint("u_threshold", 0, UINT_MAX, "Invalid real_server uthreshold"),
    "lthreshold": _rs_uint("l_threshold", 0, UINT_MAX, "Invalid real_server lthreshold"),
    "inhibit_on_failure": _rs_bool("inhibit", "inhibit_on_failure"),
    "notify_up": script_once("notify_up"),
    "notify_down": script_once("notify_down"),
    "alpha": _rs_bool("alpha", "alpha"),
    "retry": _rs_uint("retry", 1, UINT_MAX, "retry value invalid"),
    "delay_before_retry": _rs_timer("delay_before_retry", "delay_before_retry"),
    "warmup": _rs_timer("warmup", "warmup"),
    "connect_timeout": _rs_timer("connect_timeout", "connect_timeout", 1, UINT_MAX),
    "delay_loop": _rs_timer("delay_loop", "delay_loop", 1),
    "smtp_alert": _rs_bool("smtp_alert", "real_server smtp_alert"),
    "virtualhost": Keyword(_rs_vhost, 1),
    "snmp_name": Keyword(lambda _s, _c, _rs: None, 1),  # unsupported.py: SNMP
}
for _name, _parse in ALL_CHECKERS.items():
    _RS_KEYWORDS[_name] = Keyword(_parse, block=Block.REQUIRED)
RS_TABLE = table("real_server", _RS_KEYWORDS)


def parse_real_server(st: Statement, ctx: Context, vs: VirtualServerDraft) -> None:
    ap = read_addr_port(st, ctx, "real server")
    if ap is None:
        ctx.error(st.loc, "Invalid real server ip address/port - skipping")
        return
    # alloc_rs copies the VS method as it is at this point (None = not set yet: resolve
    # applies the final VS method then).  The same value, not a copy: a Method is never
    # changed in place (a later lvs_method replaces the virtual server's).
    # (positional: loc, address, port, method, as VirtualServerDraft in vs.py)
    rs = RealServerDraft(st.keyword.loc, ap[0], ap[1], vs.method)
    dispatch(st.block or (), ctx, RS_TABLE, rs)
    # rs_end_handler: families must match unless tunnelled
    tunnelled = rs.method is not None and rs.method.method is ForwardMethod.TUNNEL
    fam = AF_INET if type(rs.address) is IPv4Address else AF_INET6  # (as in vs.py)
    if not tunnelled:
        if vs.af is None:
            vs.af = fam
        elif vs.af != fam:
            ctx.error(
                end_loc(st),
                f"Address family of virtual server and real server {rs.address} don't match"
                " - skipping real server.",
            )
            return
    vs.real_servers.append(rs)
