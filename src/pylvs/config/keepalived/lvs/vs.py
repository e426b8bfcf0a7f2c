"""`virtual_server` (with its `sorry_server`; real servers are in `rs`) and the `SSL` block.

Keyword tables and messages follow check/check_parser.c (keepalived 2.2.7): a bad value is
reported and the previous/default value kept.  `lb_algo`/`lb_kind` are the deprecated
spellings of `lvs_sched`/`lvs_method` (reference §3.13); `persistence_timeout 0` is read as
"no persistence" with a warning (keepalived refuses 0 but the intent is clear).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address

from pylvs.config.keepalived.kwdispatch import dispatch
from pylvs.config.keepalived.lvs.common import (
    UINT_MAX,
    read_addr_port,
    script_once,
    timer,
)
from pylvs.config.keepalived.lvs.drafts import (
    SorryDraft,
    VirtualServerDraft,
)
from pylvs.config.keepalived.lvs.model import SslConf
from pylvs.config.keepalived.lvs.rs import WEIGHT_LIMIT, parse_real_server, read_method
from pylvs.config.keepalived.syntax import KEEPALIVED, table
from pylvs.config.keywords import Block, Context, Keyword, Table
from pylvs.config.keywords.values import boolean, unsigned
from pylvs.config.tree import Statement, Word
from pylvs.model.service import (
    AF_INET,
    AF_INET6,
    MAX_PERSISTENCE_TIMEOUT,
    Protocol,
    ServiceFlags,
)

# check_parser.c lvs_schedulers[]
SCHEDULERS = frozenset(
    ["rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos"]
)
FWMARK_MAX = 2**32 - 1  # IPVS_FWMARK_MAX


# ---- virtual_server ------------------------------------------------------------------------

VsHandler = Keyword[VirtualServerDraft]


def _vs_timer(attr: str, what: str, lo: int = 0, hi: int = 2**63 - 1) -> VsHandler:
    message = f"virtual server {what} invalid - ignoring"  # (made once, not per statement)

    def handle(s: Statement, c: Context, vs: VirtualServerDraft) -> None:
        t = timer(s.args[0], c, message, lo, hi)
        if t is not None:
            setattr(vs, attr, t)

    return Keyword(handle, 1)


def _vs_flag(attr: str) -> VsHandler:
    def handle(_s: Statement, _c: Context, vs: VirtualServerDraft) -> None:
        setattr(vs, attr, True)

    return Keyword(handle)


def _sched(s: Statement, c: Context, vs: VirtualServerDraft) -> None:
    if s.args[0].text not in SCHEDULERS:
        c.error(s.args[0].loc, f"Invalid lvs_scheduler '{s.args[0].text}' - ignoring")
        return
    vs.scheduler = s.args[0].text


_SCHED_FLAGS = {
    "flag-1": ServiceFlags.SCHED1,
    "flag-2": ServiceFlags.SCHED2,
    "flag-3": ServiceFlags.SCHED3,
}
_HASH_FLAGS = {
    ("sh", "sh-fallback"): ServiceFlags.SCHED1,
    ("sh", "sh-port"): ServiceFlags.SCHED2,
    ("mh", "mh-fallback"): ServiceFlags.SCHED1,
    ("mh", "mh-port"): ServiceFlags.SCHED2,
}


def _lbflag(s: Statement, c: Context, vs: VirtualServerDraft) -> None:
    """check_parser.c `lbflags_handler`: sh-*/mh-* only once lvs_sched sh/mh was read."""
    name = s.name
    if name == "ops":
        vs.ops = True
    elif name in _SCHED_FLAGS:
        vs.sched_flags |= _SCHED_FLAGS[name]
    elif vs.scheduler in ("sh", "mh"):
        vs.sched_flags |= _HASH_FLAGS.get((vs.scheduler, name), ServiceFlags.NONE)
    else:
        c.error(s.loc, f"{name} only applies to sh scheduler - ignoring")


def _vs_method(s: Statement, c: Context, vs: VirtualServerDraft) -> None:
    m = read_method(s, c, vs.method, "virtual")
    if m is not None:
        vs.method = m


def _persistence_timeout(s: Statement, c: Context, vs: VirtualServerDraft) -> None:
    if not s.args:
        vs.persistence_timeout = 360  # IPVS_SVC_PERSISTENT_TIMEOUT
        return
    if s.args[0].text.strip() == "0":
        c.warning(
            s.args[0].loc,
            "persistence_timeout 0 read as 'no persistence' (keepalived"
            " refuses 0: omit the keyword instead)",
        )
        vs.persistence_timeout = 0
        return
    n = unsigned(s.args[0], c, 1, MAX_PERSISTENCE_TIMEOUT, "persistence_timeout invalid")
    if n is not None:
        vs.persistence_timeout = n


def _granularity(s: Statement, c: Context, vs: VirtualServerDraft) -> None:
    w = s.args[0]
    af = vs.af if vs.af is not None else (AF_INET if "." in w.text else AF_INET6)
    if af == AF_INET6:
        n = unsigned(w, c, 1, 128, "Invalid IPv6 persistence_granularity specified")
        if n is None:
            return
        vs.persistence_granularity = n
    else:
        prefix = _netmask_prefix(w)
        if prefix is None:
            c.error(w.loc, f"Invalid IPv4 persistence_granularity specified - {w.text}")
            return
        vs.persistence_granularity = prefix
    if vs.af is None:
        vs.af = af
    if not vs.persistence_timeout:
        vs.persistence_timeout = 360


def _netmask_prefix(w: Word) -> int | None:
    """A dotted IPv4 netmask as a prefix length; IPVS only stores contiguous masks."""
    parts = w.text.split(".")
    if len(parts) != 4 or not all(
        p.isascii() and p.isdigit() and len(p) <= 3 and int(p) <= 255 for p in parts
    ):
        return None
    n = 0
    for p in parts:
        n = n << 8 | int(p)
    prefix = bin(n).count("1")
    if n != ((1 << 32) - 1) ^ ((1 << (32 - prefix)) - 1):
        return None
    return prefix


# (a dict, not Protocol[name]: an enum's look-up by name is a Python call per virtual server)
_PROTOCOLS = {"TCP": Protocol.TCP, "UDP": Protocol.UDP, "SCTP": Protocol.SCTP}


def _protocol(s: Statement, c: Context, vs: VirtualServerDraft) -> None:
    protocol = _PROTOCOLS.get(s.args[0].text.upper())
    if protocol is None:
        c.error(s.args[0].loc, f"Unknown protocol {s.args[0].text} - ignoring")
        return
    vs.protocol = protocol


def _ip_family(s: Statement, c: Context, vs: VirtualServerDraft) -> None:
    t = s.args[0].text
    if t not in ("inet", "inet6"):
        c.error(s.args[0].loc, f"unknown address family {t}")
        return
    af = AF_INET if t == "inet" else AF_INET6
    if vs.af is not None and vs.af != af:
        c.error(s.args[0].loc, f"Virtual server specified family {t} conflicts with server family")
        return
    vs.af = af


def _vs_uint(attr: str, lo: int, hi: int, what: str, fallback: int | None = None) -> VsHandler:
    def handle(s: Statement, c: Context, vs: VirtualServerDraft) -> None:
        n = unsigned(s.args[0], c, lo, hi, what)
        if n is None and fallback is not None:
            n = fallback  # quorum: keepalived sets 1 after a bad value
        if n is not None:
            setattr(vs, attr, n)

    return Keyword(handle, 1)


def _sorry(s: Statement, c: Context, vs: VirtualServerDraft) -> None:
    ap = read_addr_port(s, c, "sorry server")
    if ap is None:
        c.error(s.loc, "Invalid sorry server IP address - skipping")
        return
    vs.sorry = SorryDraft(loc=s.loc, address=ap[0], port=ap[1])


def _sorry_inhibit(s: Statement, c: Context, vs: VirtualServerDraft) -> None:
    if vs.sorry is None:
        c.error(s.loc, "Ignoring sorry_server inhibit used before or without sorry_server")
        return
    vs.sorry.inhibit = True


def _sorry_method(s: Statement, c: Context, vs: VirtualServerDraft) -> None:
    if vs.sorry is None:
        c.error(s.loc, "sorry_server forwarding used without sorry_server")
        return
    m = read_method(s, c, vs.sorry.method, "sorry")
    if m is not None:
        vs.sorry.method = m


def _vs_smtp_alert(s: Statement, c: Context, vs: VirtualServerDraft) -> None:
    b = boolean(s, c, "virtual_server smtp_alert")
    if b is not None:
        vs.smtp_alert = b


def _set_str(attr: str) -> VsHandler:
    def handle(s: Statement, _c: Context, vs: VirtualServerDraft) -> None:
        setattr(vs, attr, s.args[0].text)

    return Keyword(handle, 1)


_VS_KEYWORDS: dict[str, VsHandler] = {
    "ip_family": Keyword(_ip_family, 1),
    "retry": _vs_uint("retry", 1, UINT_MAX, "retry value invalid"),
    "delay_before_retry": _vs_timer("delay_before_retry", "delay before retry"),
    "warmup": _vs_timer("warmup", "warmup"),
    "connect_timeout": _vs_timer("connect_timeout", "connect_timeout", 1, UINT_MAX),
    "delay_loop": _vs_timer("delay_loop", "delay loop", 1),
    "inhibit_on_failure": _vs_flag("inhibit"),
    "lb_algo": Keyword(_sched, 1, use_instead="lvs_sched"),
    "lvs_sched": Keyword(_sched, 1),
    "lb_kind": Keyword(_vs_method, 1, use_instead="lvs_method"),
    "lvs_method": Keyword(_vs_method, 1),
    "persistence_engine": _set_str("persistence_engine"),
    "persistence_timeout": Keyword(_persistence_timeout),
    "persistence_granularity": Keyword(_granularity, 1),
    "protocol": Keyword(_protocol, 1),
    "ha_suspend": _vs_flag("ha_suspend"),
    "smtp_alert": Keyword(_vs_smtp_alert),
    "virtualhost": _set_str("virtualhost"),
    "snmp_name": Keyword(lambda _s, _c, _vs: None, 1),  # unsupported.py: SNMP
    "alpha": _vs_flag("alpha"),
    "omega": _vs_flag("omega"),
    "quorum_up": script_once("quorum_up"),
    "quorum_down": script_once("quorum_down"),
    "quorum": _vs_uint("quorum", 1, UINT_MAX, "Quorum must be in [1, 4294967295]", 1),
    "hysteresis": _vs_uint("hysteresis", 0, UINT_MAX, "Hysteresis invalid - ignoring"),
    "weight": _vs_uint("weight", 1, WEIGHT_LIMIT, "Virtual server weight"),
    "sorry_server": Keyword(_sorry, 1),
    "sorry_server_inhibit": Keyword(_sorry_inhibit),
    "sorry_server_lvs_method": Keyword(_sorry_method, 1),
    "real_server": Keyword(parse_real_server, 1, Block.REQUIRED),
}
for _flag in (
    "hashed",
    "ops",
    "flag-1",
    "flag-2",
    "flag-3",
    "sh-port",
    "sh-fallback",
    "mh-port",
    "mh-fallback",
):
    _VS_KEYWORDS[_flag] = Keyword(_lbflag)
VS_TABLE = table("virtual_server", _VS_KEYWORDS)


def parse_virtual_server(st: Statement, ctx: Context) -> VirtualServerDraft | None:
    """`virtual_server IP [PORT] | fwmark N | group NAME { ... }` (check_data.c `alloc_vs`)."""
    first = st.args[0]
    vs: VirtualServerDraft
    if first.text == "group":
        if len(st.args) < 2:
            ctx.error(st.loc, "virtual_server group needs a group name")
            return None
        vs = VirtualServerDraft(loc=st.loc, group=st.args[1].text, group_loc=st.args[1].loc)
    elif first.text == "fwmark":
        if len(st.args) < 2:
            ctx.error(st.loc, "virtual_server fwmark needs a mark")
            return None
        mark = unsigned(st.args[1], ctx, 1, FWMARK_MAX, "virtual server fwmark")
        if mark is None:
            ctx.error(
                st.args[1].loc,
                f"virtual server fwmark '{st.args[1].text}' must be in"
                f" [1, {FWMARK_MAX}] - ignoring",
            )
            return None
        vs = VirtualServerDraft(loc=st.loc, fwmark=mark)
    else:
        ap = read_addr_port(st, ctx, "virtual server")
        if ap is None:
            ctx.error(st.loc, "Invalid virtual server IP address/port - skipping")
            return None
        # (a type test, not the `version` property: a Python call per virtual server)
        af = AF_INET if type(ap[0]) is IPv4Address else AF_INET6
        # (positional: loc, address, port, fwmark, group, group_loc, af; keyword arguments
        # cost a class call a dict, ~0.3 us a virtual server of a big file)
        vs = VirtualServerDraft(st.keyword.loc, ap[0], ap[1], None, None, None, af)
    if len(st.args) > 2 and first.text not in ("group", "fwmark"):
        ctx.note(st.args[2].loc, f"extra argument '{st.args[2].text}' ignored")
    dispatch(st.block or (), ctx, VS_TABLE, vs)
    return vs


@dataclass(slots=True)
class _SslDraft:
    """The SSL block as read (the files of the SSL_GET checkers' client)."""

    password: str | None = None
    ca: str | None = None
    certificate: str | None = None
    key: str | None = None


def _ssl_file(attr: str, what: str) -> Keyword[_SslDraft]:
    def handle(s: Statement, c: Context, d: _SslDraft) -> None:
        if getattr(d, attr) is not None:
            c.error(s.loc, f"SSL {what} already specified - replacing")
        setattr(d, attr, s.args[0].text)

    return Keyword(handle, 1)


SSL_TABLE: Table[_SslDraft] = Table(
    "SSL",
    {
        "password": _ssl_file("password", "password"),
        "ca": _ssl_file("ca", "cafile"),
        "certificate": _ssl_file("certificate", "certfile"),
        "key": _ssl_file("key", "keyfile"),
    },
    KEEPALIVED,
)


def parse_ssl(st: Statement, ctx: Context, prev: SslConf | None) -> SslConf:
    """The top-level `SSL { password ca certificate key }` block (check_parser.c)."""
    if prev is not None:
        ctx.error(st.loc, "SSL context already specified - replacing")
    d = _SslDraft()
    dispatch(st.block or (), ctx, SSL_TABLE, d)
    return SslConf(loc=st.loc, password=d.password, ca=d.ca, certificate=d.certificate, key=d.key)
