"""Checker blocks inside `real_server` (reference §3.11).

Common keywords are in `checker_common`; TCP_CHECK, PING_CHECK, UDP_CHECK, DNS_CHECK,
SMTP_CHECK, MISC_CHECK, FILE_CHECK and BFD_CHECK follow check/check_{tcp,ping,udp,dns,smtp,
misc,file,bfd}.c; HTTP_GET/SSL_GET are in `http`.  Each kind reads into its own typed draft
(a `CheckerDraft` with the kind's options) whose `build` makes the final checker once its
timing and connection are resolved.  Problems found when a block closes (no misc_path, no
track_file, link-local address without bind_if, ...) are reported at its `}`, where keepalived
reports them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from pylvs.config.errors import Kind, Location
from pylvs.config.keepalived.kwdispatch import dispatch
from pylvs.config.keepalived.lvs.checker_common import (
    COMMON,
    CONNECTION,
    TIMING,
    check_conn,
    need_conn,
    on,
)
from pylvs.config.keepalived.lvs.checks import (
    DNS_DEFAULT_NAME,
    DNS_DEFAULT_TYPE,
    DNS_TYPES,
    SMTP_DEFAULT_HELO,
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
    check_group,
    check_user,
    end_loc,
    read_script,
)
from pylvs.config.keepalived.lvs.drafts import CheckerDraft, RealServerDraft
from pylvs.config.keepalived.syntax import table
from pylvs.config.keywords import Block, Context, Keyword, Table
from pylvs.config.keywords.values import boolean, integer, unsigned
from pylvs.config.tree import Statement

WEIGHT_LIMIT = 2**31 - 1  # IPVS_WEIGHT_LIMIT
ParseChecker = Callable[[Statement, Context, RealServerDraft], None]


def _start(cls: type[CheckerDraft], st: Statement) -> CheckerDraft:
    # (st.name, st.loc and end_loc(st) spelled out: one checker per real server of a big file)
    keyword = st.keyword
    return cls(keyword.text, keyword.loc, keyword.loc if st.end is None else st.end)


# ---- TCP_CHECK, PING_CHECK -------------------------------------------------------------------


@dataclass(slots=True)
class TcpDraft(CheckerDraft):
    """A TCP_CHECK block as read: the common checker options only."""

    def build(self, loc: Location, timing: CheckTiming, conn: Connection | None) -> Checker:
        return TcpCheck(loc, timing, need_conn(conn))  # (positional: one per real server)


@dataclass(slots=True)
class PingDraft(CheckerDraft):
    """A PING_CHECK block as read: the common checker options only."""

    def build(self, loc: Location, timing: CheckTiming, conn: Connection | None) -> Checker:
        return PingCheck(loc=loc, timing=timing, conn=need_conn(conn))


COMMON_TABLE: Table[CheckerDraft] = table("checker", COMMON)


def _simple(cls: type[CheckerDraft]) -> ParseChecker:
    """TCP_CHECK and PING_CHECK: only the common keywords."""

    def parse(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
        d = _start(cls, st)
        dispatch(st.block or (), ctx, COMMON_TABLE, d)
        if check_conn(d, rs, ctx, end_loc(st)):
            rs.checkers.append(d)

    return parse


# ---- UDP_CHECK -------------------------------------------------------------------------------


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


@dataclass(slots=True)
class UdpDraft(CheckerDraft):
    """A UDP_CHECK block as read: the payload to send and whether a reply is required."""

    payload: bytes | None = None
    require_reply: bool = False
    reply: bytes | None = None
    reply_mask: bytes | None = None
    min_reply_length: int = 0
    max_reply_length: int = UDP_DEFAULT_MAX_REPLY

    def build(self, loc: Location, timing: CheckTiming, conn: Connection | None) -> Checker:
        return UdpCheck(
            loc=loc,
            timing=timing,
            conn=need_conn(conn),
            payload=self.payload,
            require_reply=self.require_reply,
            reply=self.reply,
            reply_mask=self.reply_mask,
            min_reply_length=self.min_reply_length,
            max_reply_length=self.max_reply_length,
        )


def _udp_payload(s: Statement, c: Context, d: UdpDraft) -> None:
    if not s.args:
        c.error(s.loc, "UDP_CHECK payload requires a payload")
        return
    parsed = _hex(" ".join(w.text for w in s.args), False)
    if parsed is None:
        c.error(s.args[0].loc, "Invalid hex string for UDP_CHECK payload")
        return
    d.payload = parsed[0]


def _udp_require_reply(s: Statement, c: Context, d: UdpDraft) -> None:
    d.require_reply = True
    if not s.args:
        return
    parsed = _hex(" ".join(w.text for w in s.args), True)
    if parsed is None:
        c.error(s.args[0].loc, "Invalid hex string for UDP_CHECK reply")
        return
    d.reply = parsed[0]
    d.reply_mask = parsed[1] if any(parsed[1]) else None


def _udp_length(attr: str, what: str) -> Keyword[UdpDraft]:
    def handle(s: Statement, c: Context, d: UdpDraft) -> None:
        n = unsigned(s.args[0], c, 0, 65535, f"UDP_CHECK {what} length not valid")
        if n is not None:
            setattr(d, attr, n)

    return Keyword(handle, 1)


UDP_TABLE: Table[UdpDraft] = table(
    "UDP_CHECK",
    {
        **COMMON,
        "payload": Keyword(_udp_payload),
        "require_reply": Keyword(_udp_require_reply),
        "min_reply_length": _udp_length("min_reply_length", "min"),
        "max_reply_length": _udp_length("max_reply_length", "max"),
    },
)


def _udp(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
    d = UdpDraft(kind=st.name, loc=st.loc, end=end_loc(st))
    dispatch(st.block or (), ctx, UDP_TABLE, d)
    if not check_conn(d, rs, ctx, end_loc(st)):
        return
    lo, hi = d.min_reply_length, d.max_reply_length
    if lo > hi:
        ctx.error(
            end_loc(st),
            f"UDP_CHECK min_reply length {lo} > max_reply_length {hi} - will always fail",
        )
    rs.checkers.append(d)


# ---- DNS_CHECK -------------------------------------------------------------------------------


@dataclass(slots=True)
class DnsDraft(CheckerDraft):
    """A DNS_CHECK block as read: the query type and name."""

    type: str = DNS_DEFAULT_TYPE
    name: str | None = None

    def build(self, loc: Location, timing: CheckTiming, conn: Connection | None) -> Checker:
        return DnsCheck(
            loc=loc,
            timing=timing,
            conn=need_conn(conn),
            type=self.type,
            name=DNS_DEFAULT_NAME if self.name is None else self.name,
        )


def _dns_type(s: Statement, c: Context, d: DnsDraft) -> None:
    t = s.args[0].text.upper()
    if t not in DNS_TYPES:
        c.error(s.args[0].loc, f"Unknown DNS check type {s.args[0].text} - ignoring")
        return
    d.type = t


def _dns_name(s: Statement, c: Context, d: DnsDraft) -> None:
    name = s.args[0].text
    if d.name is not None:
        c.error(s.loc, "DNS_CHECK name already specified - ignoring")
        return
    if (name.startswith(".") and name != ".") or ".." in name:
        c.error(s.args[0].loc, f"DNS_CHECK name '{name}' has empty label - ignoring")
        return
    d.name = name


DNS_TABLE: Table[DnsDraft] = table(
    "DNS_CHECK", {**COMMON, "type": Keyword(_dns_type, 1), "name": Keyword(_dns_name, 1)}
)


def _dns(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
    d = DnsDraft(
        kind=st.name, loc=st.loc, end=end_loc(st), default_retry=3, default_delay_before_retry=None
    )
    dispatch(st.block or (), ctx, DNS_TABLE, d)
    if check_conn(d, rs, ctx, end_loc(st)):
        rs.checkers.append(d)


# ---- MISC_CHECK ------------------------------------------------------------------------------


@dataclass(slots=True)
class MiscDraft(CheckerDraft):
    """A MISC_CHECK block as read: the script, its timeout and whether its exit code is a weight."""

    script: Script | None = None
    timeout: float | None = None
    dynamic: bool = False
    user: str | None = None
    group: str | None = None

    def build(self, loc: Location, timing: CheckTiming, conn: Connection | None) -> Checker:
        assert self.script is not None, "a MISC_CHECK without misc_path is not kept"
        script = dataclasses.replace(self.script, user=self.user, group=self.group)
        # check_misc.c: a misc_timeout of 0 (or none) means the checker's delay_loop
        t = self.timeout if self.timeout else timing.delay_loop
        return MiscCheck(loc=loc, timing=timing, script=script, timeout=t, dynamic=self.dynamic)


def _misc_path(s: Statement, c: Context, d: MiscDraft) -> None:
    script = read_script(s, c, with_user=False)
    if script is not None:
        d.script = script


def _misc_timeout(s: Statement, c: Context, d: MiscDraft) -> None:
    n = unsigned(s.args[0], c, 0, UINT_MAX // 1_000_000, "Invalid misc_timeout value")
    if n is not None:
        d.timeout = float(n)


def _misc_dynamic(_s: Statement, _c: Context, d: MiscDraft) -> None:
    d.dynamic = True


def _misc_user(s: Statement, c: Context, d: MiscDraft) -> None:
    if not s.args:
        c.error(s.loc, "No user specified for misc checker script")
        return
    check_user(s.args[0], c)
    d.user = s.args[0].text
    if len(s.args) >= 2:
        check_group(s.args[1], c)
        d.group = s.args[1].text


MISC_TABLE: Table[MiscDraft] = table(
    "MISC_CHECK",
    {
        **TIMING,
        "misc_path": Keyword(_misc_path),
        "misc_timeout": Keyword(_misc_timeout, 1),
        "misc_dynamic": Keyword(_misc_dynamic),
        "user": Keyword(_misc_user),
    },
)


def _misc(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
    d = MiscDraft(kind=st.name, loc=st.loc, end=end_loc(st), has_connection=False, default_retry=0)
    dispatch(st.block or (), ctx, MISC_TABLE, d)
    if d.script is None:
        ctx.error(end_loc(st), "No script path has been specified for MISC_CHECKER - skipping")
        return
    rs.checkers.append(d)


# ---- FILE_CHECK, BFD_CHECK -------------------------------------------------------------------


@dataclass(slots=True)
class FileDraft(CheckerDraft):
    """A FILE_CHECK block as read: the track_file it follows and its weight."""

    track_file: str | None = None
    weight: int | None = None
    reverse: bool = False

    def build(self, loc: Location, timing: CheckTiming, conn: Connection | None) -> Checker:
        assert self.track_file is not None, "a FILE_CHECK without track_file is not kept"
        return FileCheck(
            loc=self.loc, track_file=self.track_file, weight=self.weight, reverse=self.reverse
        )


def _file_track(s: Statement, _c: Context, d: FileDraft) -> None:
    d.track_file = s.args[0].text
    d.ref = (s.args[0].text, s.args[0].loc)


def _file_weight(s: Statement, c: Context, d: FileDraft) -> None:
    w = integer(s.args[0], c, -WEIGHT_LIMIT, WEIGHT_LIMIT, "weight for track file")
    if w is None:
        return
    reverse = False
    if len(s.args) >= 2:
        opt = s.args[1].text
        if opt not in ("reverse", "noreverse"):
            c.error(s.args[1].loc, f"unknown track file weight option {opt} - ignoring")
            return
        reverse = opt == "reverse"
    d.weight = w
    d.reverse = reverse


FILE_TABLE: Table[FileDraft] = table(
    "FILE_CHECK", {"track_file": Keyword(_file_track, 1), "weight": Keyword(_file_weight, 1)}
)


def _file(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
    d = FileDraft(kind=st.name, loc=st.loc, end=end_loc(st), has_connection=False)
    dispatch(st.block or (), ctx, FILE_TABLE, d)
    if d.track_file is None:
        ctx.error(end_loc(st), "FILE_CHECK has no track_file specified - ignoring")
        return
    rs.checkers.append(d)


@dataclass(slots=True)
class BfdDraft(CheckerDraft):
    """A BFD_CHECK block as read: the bfd_instance it follows and its weight."""

    name: str | None = None
    bfd_alpha: bool = False

    def build(self, loc: Location, timing: CheckTiming, conn: Connection | None) -> Checker:
        assert self.name is not None, "a BFD_CHECK without name is not kept"
        return BfdCheck(loc=self.loc, name=self.name, alpha=self.bfd_alpha)


def _bfd_name(s: Statement, c: Context, d: BfdDraft) -> None:
    if len(s.args) != 1:
        c.error(s.loc, "BFD_CHECK - No or too many names specified")
        return
    d.name = s.args[0].text
    d.ref = (s.args[0].text, s.args[0].loc)


def _bfd_alpha(s: Statement, c: Context, d: BfdDraft) -> None:
    b = boolean(s, c, "alpha")
    if b is not None:
        d.bfd_alpha = b


BFD_TABLE: Table[BfdDraft] = table(
    "BFD_CHECK", {"name": Keyword(_bfd_name), "alpha": Keyword(_bfd_alpha)}
)


def _bfd(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
    d = BfdDraft(kind=st.name, loc=st.loc, end=end_loc(st), has_connection=False)
    dispatch(st.block or (), ctx, BFD_TABLE, d)
    if d.name is None:
        ctx.error(end_loc(st), "No name has been specified for BFD_CHECKER - skipping")
        return
    rs.checkers.append(d)


# ---- SMTP_CHECK ------------------------------------------------------------------------------


@dataclass(slots=True)
class SmtpDraft(CheckerDraft):
    """An SMTP_CHECK block as read: the HELO name and the hosts to connect to."""

    helo_name: str = SMTP_DEFAULT_HELO
    hosts: list[CheckerDraft] = field(default_factory=list)

    def build(self, loc: Location, timing: CheckTiming, conn: Connection | None) -> Checker:
        return SmtpCheck(loc=loc, timing=timing, conn=need_conn(conn), helo_name=self.helo_name)


@dataclass(slots=True)
class _SmtpHost:
    """While a deprecated `host { }` block is read: its connection, the checker's timing."""

    host: CheckerDraft
    main: SmtpDraft


HOST_TABLE: Table[_SmtpHost] = table(
    "host",
    {
        **{k: on(lambda p: p.host, kw) for k, kw in CONNECTION.items()},
        **{k: on(lambda p: p.main, kw) for k, kw in TIMING.items()},
    },
)


def _smtp_helo(s: Statement, _c: Context, d: SmtpDraft) -> None:
    d.helo_name = s.args[0].text


def _smtp_host(s: Statement, c: Context, d: SmtpDraft) -> None:
    c.warning(
        s.loc,
        "SMTP_CHECK 'host' is deprecated - please use one SMTP_CHECK per host",
        Kind.DEPRECATED,
    )
    host = _SmtpHost(_start(TcpDraft, s), d)
    dispatch(s.block or (), c, HOST_TABLE, host)
    d.hosts.append(host.host)


SMTP_TABLE: Table[SmtpDraft] = table(
    "SMTP_CHECK",
    {
        **COMMON,
        "helo_name": Keyword(_smtp_helo, 1),
        "host": Keyword(_smtp_host, block=Block.REQUIRED),
    },
)


def _smtp(st: Statement, ctx: Context, rs: RealServerDraft) -> None:
    """SMTP_CHECK with the deprecated `host { }` sub-blocks: each host is one more checker
    sharing the timing options; when the main block sets no connection option the first host
    takes its place (check_smtp.c `smtp_check_end_handler`)."""
    d = SmtpDraft(kind=st.name, loc=st.loc, end=end_loc(st))
    dispatch(st.block or (), ctx, SMTP_TABLE, d)
    hosts = [h for h in d.hosts if check_conn(h, rs, ctx, h.end)]
    conn_fields = ("connect_ip", "connect_port", "bindto", "bind_if", "connect_timeout")
    main_has_conn = any(getattr(d, f) is not None for f in conn_fields) or d.bind_port or d.fwmark
    if hosts and not main_has_conn:
        _copy_conn(hosts.pop(0), d)
    elif not check_conn(d, rs, ctx, end_loc(st)):
        return
    rs.checkers.append(d)
    for h in hosts:
        extra = dataclasses.replace(d, loc=h.loc, end=h.end, hosts=[])
        _copy_conn(h, extra)
        rs.checkers.append(extra)


def _copy_conn(src: CheckerDraft, dst: CheckerDraft) -> None:
    for f in ("connect_ip", "connect_port", "bindto", "bind_port", "bind_if"):
        setattr(dst, f, getattr(src, f))
    dst.connect_timeout = src.connect_timeout
    dst.fwmark = src.fwmark


CHECKERS: dict[str, ParseChecker] = {
    "TCP_CHECK": _simple(TcpDraft),
    "PING_CHECK": _simple(PingDraft),
    "UDP_CHECK": _udp,
    "DNS_CHECK": _dns,
    "SMTP_CHECK": _smtp,
    "MISC_CHECK": _misc,
    "FILE_CHECK": _file,
    "BFD_CHECK": _bfd,
}
