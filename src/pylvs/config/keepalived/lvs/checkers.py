"""Checker blocks inside `real_server` (reference §3.11).

Common keywords are in `checker_common`; TCP_CHECK,
PING_CHECK, UDP_CHECK, DNS_CHECK, SMTP_CHECK, MISC_CHECK, FILE_CHECK and BFD_CHECK follow
check/check_{tcp,ping,udp,dns,smtp,misc,file,bfd}.c; HTTP_GET/SSL_GET are in `http`.
Problems found when a block closes (no misc_path, no track_file, link-local address without
bind_if, ...) are reported at its `}`, where keepalived reports them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from pylvs.config.errors import Location
from pylvs.config.keepalived.lvs.checker_common import (
    ALIASES,
    COMMON,
    CONNECTION,
    TIMING,
    H,
    check_conn,
    need_conn,
    new_draft,
)
from pylvs.config.keepalived.lvs.checks import (
    DNS_DEFAULT_NAME,
    DNS_DEFAULT_TYPE,
    DNS_TYPES,
    UDP_DEFAULT_MAX_REPLY,
    BfdCheck,
    Checker,
    CheckTiming,
    Connection,
    DnsCheck,
    FileCheck,
    MiscCheck,
    PingCheck,
    Script,
    SmtpCheck,
    TcpCheck,
    UdpCheck,
)
from pylvs.config.keepalived.lvs.common import (
    UINT_MAX,
    Handler,
    check_group,
    check_user,
    dispatch,
    end_loc,
    read_bool,
    read_int,
    read_script,
    read_unsigned,
)
from pylvs.config.keepalived.lvs.drafts import CheckerDraft, RealServerDraft
from pylvs.config.keepalived.tree import Statement
from pylvs.config.keepalived.values import Context

WEIGHT_LIMIT = 2**31 - 1  # IPVS_WEIGHT_LIMIT


def _simple(
    make: Callable[[Location, CheckTiming, Connection], Checker],
) -> Callable[[Statement, Context, RealServerDraft], None]:
    """TCP_CHECK and PING_CHECK: only the common keywords."""

    def parse(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
        d = new_draft(st)
        dispatch(st.block or (), ctx, COMMON, d, ALIASES)
        if not check_conn(d, rs, ctx, end_loc(st)):
            return
        d.build = lambda loc, timing, conn: make(loc, timing, need_conn(conn))
        rs.checkers.append(d)

    return parse


def _hex(text: str, wildcards: bool) -> tuple[bytes, bytes] | None:
    """lib/parser.c `read_hex_str`: hex digits, spaces separate groups, a group of one digit is
    one octet; with wildcards X/x is a don't-care nibble (set in the returned mask)."""
    data = bytearray()
    mask = bytearray()
    for group in text.replace("\t", " ").split(" "):
        i = 0
        while i < len(group):
            pair = group[i : i + 2]
            i += 2
            value = m = 0
            for ch in pair:
                value <<= 4
                m <<= 4
                if ch in "xX" and wildcards:
                    m |= 0xF
                elif ch in "0123456789abcdefABCDEF":
                    value |= int(ch, 16)
                else:
                    return None
            data.append(value)
            mask.append(m)
    if not data:
        return None
    return bytes(data), bytes(mask)


@dataclasses.dataclass
class _UdpOpts:
    payload: bytes | None = None
    require_reply: bool = False
    reply: bytes | None = None
    reply_mask: bytes | None = None
    min_reply_length: int = 0
    max_reply_length: int = UDP_DEFAULT_MAX_REPLY


def _udp(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
    d = new_draft(st)
    o = _UdpOpts()

    def payload(s: Statement, c: Context, _d: CheckerDraft) -> None:
        if not s.args:
            c.error(s.loc, "UDP_CHECK payload requires a payload")
            return
        parsed = _hex(" ".join(w.text for w in s.args), False)
        if parsed is None:
            c.error(s.args[0].loc, "Invalid hex string for UDP_CHECK payload")
            return
        o.payload = parsed[0]

    def require_reply(s: Statement, c: Context, _d: CheckerDraft) -> None:
        o.require_reply = True
        if not s.args:
            return
        parsed = _hex(" ".join(w.text for w in s.args), True)
        if parsed is None:
            c.error(s.args[0].loc, "Invalid hex string for UDP_CHECK reply")
            return
        o.reply = parsed[0]
        o.reply_mask = parsed[1] if any(parsed[1]) else None

    def min_len(s: Statement, c: Context, _d: CheckerDraft) -> None:
        n = read_unsigned(s.args[0], c, 0, 65535, "UDP_CHECK min length not valid")
        if n is not None:
            o.min_reply_length = n

    def max_len(s: Statement, c: Context, _d: CheckerDraft) -> None:
        n = read_unsigned(s.args[0], c, 0, 65535, "UDP_CHECK max length not valid")
        if n is not None:
            o.max_reply_length = n

    table: dict[str, H] = {
        **COMMON,
        "payload": Handler(payload),
        "require_reply": Handler(require_reply),
        "min_reply_length": Handler(min_len, 1),
        "max_reply_length": Handler(max_len, 1),
    }
    dispatch(st.block or (), ctx, table, d, ALIASES)
    if not check_conn(d, rs, ctx, end_loc(st)):
        return
    lo, hi = o.min_reply_length, o.max_reply_length
    if lo > hi:
        ctx.error(
            end_loc(st),
            f"UDP_CHECK min_reply length {lo} > max_reply_length {hi} - will always fail",
        )
    d.build = lambda loc, timing, conn: UdpCheck(
        loc=loc,
        timing=timing,
        conn=need_conn(conn),
        payload=o.payload,
        require_reply=o.require_reply,
        reply=o.reply,
        reply_mask=o.reply_mask,
        min_reply_length=o.min_reply_length,
        max_reply_length=o.max_reply_length,
    )
    rs.checkers.append(d)


def _dns(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
    d = new_draft(st, default_retry=3, default_delay_before_retry=None)
    found: dict[str, str] = {}

    def dns_type(s: Statement, c: Context, _d: CheckerDraft) -> None:
        t = s.args[0].text.upper()
        if t not in DNS_TYPES:
            c.error(s.args[0].loc, f"Unknown DNS check type {s.args[0].text} - ignoring")
            return
        found["type"] = t

    def dns_name(s: Statement, c: Context, _d: CheckerDraft) -> None:
        name = s.args[0].text
        if "name" in found:
            c.error(s.loc, "DNS_CHECK name already specified - ignoring")
            return
        if (name.startswith(".") and name != ".") or ".." in name:
            c.error(s.args[0].loc, f"DNS_CHECK name '{name}' has empty label - ignoring")
            return
        found["name"] = name

    table: dict[str, H] = {
        **COMMON,
        "type": Handler(dns_type, 1),
        "name": Handler(dns_name, 1),
    }
    dispatch(st.block or (), ctx, table, d, ALIASES)
    if not check_conn(d, rs, ctx, end_loc(st)):
        return
    qtype = found.get("type", DNS_DEFAULT_TYPE)
    qname = found.get("name", DNS_DEFAULT_NAME)
    d.build = lambda loc, timing, conn: DnsCheck(
        loc=loc, timing=timing, conn=need_conn(conn), type=qtype, name=qname
    )
    rs.checkers.append(d)


def _misc(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
    d = new_draft(st, has_connection=False, default_retry=0)
    state: dict[str, object] = {"dynamic": False}

    def path(s: Statement, c: Context, _d: CheckerDraft) -> None:
        script = read_script(s, c, with_user=False)
        if script is not None:
            state["script"] = script

    def timeout(s: Statement, c: Context, _d: CheckerDraft) -> None:
        n = read_unsigned(s.args[0], c, 0, UINT_MAX // 1_000_000, "Invalid misc_timeout value")
        if n is not None:
            state["timeout"] = float(n)

    def dynamic(_s: Statement, _c: Context, _d: CheckerDraft) -> None:
        state["dynamic"] = True

    def user(s: Statement, c: Context, _d: CheckerDraft) -> None:
        if not s.args:
            c.error(s.loc, "No user specified for misc checker script")
            return
        check_user(s.args[0], c)
        state["user"] = s.args[0].text
        if len(s.args) >= 2:
            check_group(s.args[1], c)
            state["group"] = s.args[1].text

    table: dict[str, H] = {
        **TIMING,
        "misc_path": Handler(path),
        "misc_timeout": Handler(timeout, 1),
        "misc_dynamic": Handler(dynamic),
        "user": Handler(user),
    }
    dispatch(st.block or (), ctx, table, d, ALIASES)
    script = state.get("script")
    if not isinstance(script, Script):
        ctx.error(end_loc(st), "No script path has been specified for MISC_CHECKER - skipping")
        return
    usr, grp = state.get("user"), state.get("group")
    final = dataclasses.replace(
        script,
        user=usr if isinstance(usr, str) else None,
        group=grp if isinstance(grp, str) else None,
    )
    given = state.get("timeout")
    is_dynamic = bool(state["dynamic"])

    def build(loc: Location, timing: CheckTiming, _conn: Connection | None) -> Checker:
        # check_misc.c: a misc_timeout of 0 (or none) means the checker's delay_loop
        t = given if isinstance(given, float) and given > 0 else timing.delay_loop
        return MiscCheck(loc=loc, timing=timing, script=final, timeout=t, dynamic=is_dynamic)

    d.build = build
    rs.checkers.append(d)


def _file(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
    d = new_draft(st, has_connection=False)
    state: dict[str, object] = {"reverse": False}

    def track(s: Statement, _c: Context, _d: CheckerDraft) -> None:
        state["track_file"] = s.args[0].text
        state["track_loc"] = s.args[0].loc

    def weight(s: Statement, c: Context, _d: CheckerDraft) -> None:
        w = read_int(s.args[0], c, -WEIGHT_LIMIT, WEIGHT_LIMIT, "weight for track file")
        if w is None:
            return
        reverse = False
        if len(s.args) >= 2:
            opt = s.args[1].text
            if opt not in ("reverse", "noreverse"):
                c.error(s.args[1].loc, f"unknown track file weight option {opt} - ignoring")
                return
            reverse = opt == "reverse"
        state["weight"] = w
        state["reverse"] = reverse

    table: dict[str, H] = {"track_file": Handler(track, 1), "weight": Handler(weight, 1)}
    dispatch(st.block or (), ctx, table, d)
    name = state.get("track_file")
    if not isinstance(name, str):
        ctx.error(end_loc(st), "FILE_CHECK has no track_file specified - ignoring")
        return
    w = state.get("weight")
    chk = FileCheck(
        loc=st.loc,
        track_file=name,
        weight=w if isinstance(w, int) else None,
        reverse=bool(state["reverse"]),
    )
    loc = state.get("track_loc")
    d.ref = (name, loc if isinstance(loc, Location) else st.loc)
    d.build = lambda _loc, _t, _c: chk
    rs.checkers.append(d)


def _bfd(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
    d = new_draft(st, has_connection=False)
    state: dict[str, object] = {"alpha": False}

    def name(s: Statement, c: Context, _d: CheckerDraft) -> None:
        if len(s.args) != 1:
            c.error(s.loc, "BFD_CHECK - No or too many names specified")
            return
        state["name"] = s.args[0].text
        state["name_loc"] = s.args[0].loc

    def alpha(s: Statement, c: Context, _d: CheckerDraft) -> None:
        b = read_bool(s, c, "alpha")
        if b is not None:
            state["alpha"] = b

    dispatch(st.block or (), ctx, {"name": Handler(name), "alpha": Handler(alpha)}, d)
    bname = state.get("name")
    if not isinstance(bname, str):
        ctx.error(end_loc(st), "No name has been specified for BFD_CHECKER - skipping")
        return
    chk = BfdCheck(loc=st.loc, name=bname, alpha=bool(state["alpha"]))
    loc = state.get("name_loc")
    d.ref = (bname, loc if isinstance(loc, Location) else st.loc)
    d.build = lambda _loc, _t, _c: chk
    rs.checkers.append(d)


def _smtp(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
    """SMTP_CHECK with the deprecated `host { }` sub-blocks: each host is one more checker
    sharing the timing options; when the main block sets no connection option the first host
    takes its place (check_smtp.c `smtp_check_end_handler`)."""
    d = new_draft(st)
    hosts: list[CheckerDraft] = []
    helo: dict[str, str] = {}

    def helo_name(s: Statement, _c: Context, _d: CheckerDraft) -> None:
        helo["name"] = s.args[0].text

    def host(s: Statement, c: Context, main: CheckerDraft) -> None:
        c.warning(s.loc, "SMTP_CHECK 'host' is deprecated - please use one SMTP_CHECK per host")
        h = new_draft(s)
        # connection keywords go to the host, the timing ones to the checker (CHECKER_GET_CO
        # vs CHECKER_GET_CURRENT in keepalived)
        table: dict[str, H] = {k: _on(h, v) for k, v in CONNECTION.items()}
        table.update(TIMING)
        dispatch(s.block or (), c, table, main, ALIASES)
        if check_conn(h, rs, c, end_loc(s)):
            hosts.append(h)

    table: dict[str, H] = {
        **COMMON,
        "helo_name": Handler(helo_name, 1),
        "host": Handler(host, block=True),
    }
    dispatch(st.block or (), ctx, table, d, ALIASES)
    name = helo.get("name")

    def build(loc: Location, timing: CheckTiming, conn: Connection | None) -> Checker:
        if name is None:
            return SmtpCheck(loc=loc, timing=timing, conn=need_conn(conn))
        return SmtpCheck(loc=loc, timing=timing, conn=need_conn(conn), helo_name=name)

    conn_fields = ("connect_ip", "connect_port", "bindto", "bind_if", "connect_timeout")
    main_has_conn = any(getattr(d, f) is not None for f in conn_fields) or d.bind_port or d.fwmark
    if hosts and not main_has_conn:
        first = hosts.pop(0)
        _copy_conn(first, d)
    elif not check_conn(d, rs, ctx, end_loc(st)):
        return
    d.build = build
    rs.checkers.append(d)
    for h in hosts:
        extra = dataclasses.replace(d, loc=h.loc, end=h.end)
        _copy_conn(h, extra)
        rs.checkers.append(extra)


def _on(target: CheckerDraft, handler: H) -> H:
    return Handler(lambda s, c, _d: handler.func(s, c, target), handler.args, handler.block)


def _copy_conn(src: CheckerDraft, dst: CheckerDraft) -> None:
    for f in ("connect_ip", "connect_port", "bindto", "bind_port", "bind_if"):
        setattr(dst, f, getattr(src, f))
    dst.connect_timeout = src.connect_timeout
    dst.fwmark = src.fwmark


CHECKERS: dict[str, Callable[[Statement, Context, RealServerDraft], None]] = {
    "TCP_CHECK": _simple(lambda loc, t, c: TcpCheck(loc=loc, timing=t, conn=c)),
    "PING_CHECK": _simple(lambda loc, t, c: PingCheck(loc=loc, timing=t, conn=c)),
    "UDP_CHECK": _udp,
    "DNS_CHECK": _dns,
    "SMTP_CHECK": _smtp,
    "MISC_CHECK": _misc,
    "FILE_CHECK": _file,
    "BFD_CHECK": _bfd,
}
