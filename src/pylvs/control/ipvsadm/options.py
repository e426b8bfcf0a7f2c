"""ipvsadm 1.31's popt options table and the per-option value rules.

The table order matters to popt (first match wins: `--list` is `-L`, not `-l`); names,
short letters and argument kinds are those of `options_table` in ipvsadm.c
`parse_options`.  The value checks and their messages (`illegal weight specified`,
`invalid timeout value `%s' specified`, `invalid scheduler flag `%s'`, ...) are ipvsadm.c's.
"""

from __future__ import annotations

from pylvs.control.ipvsadm import command as c
from pylvs.control.ipvsadm.address import parse_mcast_group
from pylvs.control.ipvsadm.cparse import string_to_number
from pylvs.control.ipvsadm.entry import Entry, OptionError
from pylvs.control.ipvsadm.matrix import Cmd, Optc
from pylvs.control.ipvsadm.messages import fail
from pylvs.control.ipvsadm.popt import Opt
from pylvs.model import (
    DEFAULT_PERSISTENCE_TIMEOUT,
    ForwardMethod,
    Protocol,
    ServiceFlags,
    ServiceKey,
    TunnelCsum,
    TunnelType,
)
from pylvs.model.service import MAX_PERSISTENCE_TIMEOUT


def _o(long: str, short: str | None, tag: str, arg: bool = False, opt: bool = False) -> Opt:
    return Opt(long, short, tag, takes_arg=arg, optional=opt)


OPTIONS_TABLE: tuple[Opt, ...] = (
    _o("add-service", "A", "A"),
    _o("edit-service", "E", "E"),
    _o("delete-service", "D", "D"),
    _o("clear", "C", "C"),
    _o("list", "L", "L"),
    _o("list", "l", "l"),
    _o("zero", "Z", "Z"),
    _o("add-server", "a", "a"),
    _o("edit-server", "e", "e"),
    _o("delete-server", "d", "d"),
    _o("set", None, "set"),
    _o("help", "h", "h"),
    _o("version", "v", "v"),
    _o("restore", "R", "R"),
    _o("save", "S", "S"),
    _o("start-daemon", None, "start-daemon", arg=True),
    _o("stop-daemon", None, "stop-daemon", arg=True),
    _o("tcp-service", "t", "t", arg=True),
    _o("udp-service", "u", "u", arg=True),
    _o("sctp-service", None, "sctp", arg=True),
    _o("fwmark-service", "f", "f", arg=True),
    _o("scheduler", "s", "s", arg=True),
    _o("persistent", "p", "p", arg=True, opt=True),
    _o("netmask", "M", "M", arg=True),
    _o("real-server", "r", "r", arg=True),
    _o("masquerading", "m", "m"),
    _o("ipip", "i", "i"),
    _o("gatewaying", "g", "g"),
    _o("weight", "w", "w", arg=True),
    _o("u-threshold", "x", "x", arg=True),
    _o("l-threshold", "y", "y", arg=True),
    _o("numeric", "n", "n"),
    _o("connection", "c", "c"),
    _o("mcast-interface", None, "mcast-interface", arg=True),
    _o("syncid", None, "syncid", arg=True),
    _o("timeout", None, "timeout"),
    _o("daemon", None, "daemon"),
    _o("stats", None, "stats"),
    _o("rate", None, "rate"),
    _o("thresholds", None, "thresholds"),
    _o("persistent-conn", None, "persistent-conn"),
    _o("nosort", None, "nosort"),
    _o("sort", None, "sort"),
    _o("exact", "X", "X"),
    _o("ipv6", "6", "6"),
    _o("ops", "o", "o"),
    _o("pe", None, "pe", arg=True),
    _o("sched-flags", "b", "b", arg=True),
    _o("mcast-group", None, "mcast-group", arg=True),
    _o("mcast-port", None, "mcast-port", arg=True),
    _o("mcast-ttl", None, "mcast-ttl", arg=True),
    _o("sync-maxlen", None, "sync-maxlen", arg=True),
    _o("tun-info", None, "tun-info"),
    _o("tun-type", None, "tun-type", arg=True),
    _o("tun-port", None, "tun-port", arg=True),
    _o("tun-nocsum", None, "tun-nocsum"),
    _o("tun-csum", None, "tun-csum"),
    _o("tun-remcsum", None, "tun-remcsum"),
)

COMMAND_TAGS = {
    "A": Cmd.ADD, "E": Cmd.EDIT, "D": Cmd.DEL, "a": Cmd.ADDDEST, "e": Cmd.EDITDEST,
    "d": Cmd.DELDEST, "C": Cmd.FLUSH, "L": Cmd.LIST, "l": Cmd.LIST, "Z": Cmd.ZERO,
    "set": Cmd.TIMEOUT, "R": Cmd.RESTORE, "S": Cmd.SAVE, "start-daemon": Cmd.STARTDAEMON,
    "stop-daemon": Cmd.STOPDAEMON,
}  # fmt: skip

# Options that only set their bit and maybe a format flag.
SIMPLE_FLAGS: dict[str, tuple[Optc, c.Fmt]] = {
    "c": (Optc.CONNECTION, c.Fmt.NONE),
    "n": (Optc.NUMERIC, c.Fmt.NUMERIC),
    "timeout": (Optc.TIMEOUT, c.Fmt.NONE),
    "daemon": (Optc.DAEMON, c.Fmt.NONE),
    "stats": (Optc.STATS, c.Fmt.STATS),
    "rate": (Optc.RATE, c.Fmt.RATE),
    "thresholds": (Optc.THRESHOLDS, c.Fmt.THRESHOLDS),
    "persistent-conn": (Optc.PERSISTENTCONN, c.Fmt.PERSISTENTCONN),
    "nosort": (Optc.NOSORT, c.Fmt.NOSORT),
    "X": (Optc.EXACT, c.Fmt.EXACT),
    "tun-info": (Optc.TUN_INFO, c.Fmt.TUN_INFO),
}

_METHODS = {"m": ForwardMethod.MASQ, "i": ForwardMethod.TUNNEL, "g": ForwardMethod.ROUTE}
_TUN_TYPES = {"ipip": 0, "gue": 1, "gre": 2}
_TUN_FLAGS = {"tun-nocsum": (Optc.TUN_NOCSUM, 0), "tun-csum": (Optc.TUN_CSUM, 1),
              "tun-remcsum": (Optc.TUN_REMCSUM, 2)}  # fmt: skip


def _number(arg: str | None, lo: int, hi: int, what: str) -> int:
    value = string_to_number(arg or "", lo, hi)
    if value == -1:
        raise OptionError(fail(f"illegal {what} specified"))
    return value


def parse_timeout(arg: str | None, lo: int) -> int:
    """ipvsadm.c `parse_timeout`: no argument means the default persistence timeout."""
    if arg is None:
        return DEFAULT_PERSISTENCE_TIMEOUT
    value = string_to_number(arg, lo, MAX_PERSISTENCE_TIMEOUT)
    if value == -1:
        raise OptionError(fail(f"invalid timeout value `{arg}' specified"))
    return value


def apply_dest_option(e: Entry, tag: str, arg: str | None) -> bool:
    """-m/-i/-g, -w, -x, -y and the --tun-* options; False if `tag` is none of them."""
    if tag in _METHODS:
        e.set_option(Optc.FORWARD)
        e.method = _METHODS[tag]
    elif tag == "w":
        e.set_option(Optc.WEIGHT)
        # 0..INT_MAX: the ipvsadm 1.31 of Debian and Ubuntu (patch for Debian bug #814348;
        # upstream's limit is 65535), the one installed beside pylvs and its oracle.
        e.weight = _number(arg, 0, 2**31 - 1, "weight")
    elif tag == "x":
        e.set_option(Optc.UTHRESHOLD)
        e.u_threshold = _number(arg, 0, 2**31 - 1, "u_threshold")
    elif tag == "y":
        e.set_option(Optc.LTHRESHOLD)
        e.l_threshold = _number(arg, 0, 2**31 - 1, "l_threshold")
    elif tag == "tun-type":
        e.set_option(Optc.TUN_TYPE)
        if arg not in _TUN_TYPES:
            raise OptionError(fail("illegal tunnel type specified"))
        e.tun_type = _TUN_TYPES[arg]
    elif tag == "tun-port":
        e.set_option(Optc.TUN_PORT)
        e.tun_port = _number(arg, 1, 65535, "tunnel port")
    elif tag in _TUN_FLAGS:
        optc, bits = _TUN_FLAGS[tag]
        e.set_option(optc)
        e.tun_flags |= bits
    else:
        return False
    return True


def apply_daemon_option(e: Entry, tag: str, arg: str | None) -> bool:
    """--mcast-interface, --syncid, --mcast-group/-port/-ttl, --sync-maxlen."""
    if tag == "mcast-interface":
        e.set_option(Optc.MCAST)
        e.mcast_ifn = (arg or "")[:15]
    elif tag == "syncid":
        e.set_option(Optc.SYNCID)
        e.syncid = _number(arg, 0, 255, "syncid")
    elif tag == "mcast-group":
        e.set_option(Optc.MCAST_GROUP)
        group, error = parse_mcast_group(arg or "")
        if group is None:
            raise OptionError(fail(error))
        e.mcast_group = group
    elif tag == "mcast-port":
        e.set_option(Optc.MCAST_PORT)
        e.mcast_port = _number(arg, 1, 65535, "mcast-port")
    elif tag == "mcast-ttl":
        e.set_option(Optc.MCAST_TTL)
        e.mcast_ttl = _number(arg, 1, 255, "mcast-ttl")
    elif tag == "sync-maxlen":
        e.set_option(Optc.SYNC_MAXLEN)
        e.sync_maxlen = _number(arg, 1, 65535 - 20 - 8, "sync-maxlen")
    else:
        return False
    return True


_SCHED_FLAG_BITS = {
    "flag-1": (ServiceFlags.SCHED1, None),
    "flag-2": (ServiceFlags.SCHED2, None),
    "flag-3": (ServiceFlags.SCHED3, None),
    "sh-fallback": (ServiceFlags.SCHED1, "sh"),
    "sh-port": (ServiceFlags.SCHED2, "sh"),
    "mh-fallback": (ServiceFlags.SCHED1, "mh"),
    "mh-port": (ServiceFlags.SCHED2, "mh"),
}


def parse_sched_flags(sched: str, arg: str) -> ServiceFlags:
    """ipvsadm.c `parse_sched_flags` (strtok on ","; the default scheduler is wlc)."""
    sched = sched or "wlc"
    flags = ServiceFlags.NONE
    words = [w for w in arg.split(",") if w]
    if not words:
        # strtok finds no token: the C code then compares NULL and crashes; we refuse it.
        raise OptionError(fail(f"invalid scheduler flag `{arg}'"))
    for word in words:
        if word not in _SCHED_FLAG_BITS:
            raise OptionError(fail(f"invalid scheduler flag `{word}'"))
        bit, needs = _SCHED_FLAG_BITS[word]
        flags |= bit
        if needs is not None and sched != needs:
            raise OptionError(fail(f"incompatible scheduler flag `{word}'"))
    return flags


def _key(e: Entry) -> ServiceKey:
    if e.fwmark:
        return ServiceKey.mark(e.fwmark, e.af)
    assert e.addr is not None
    return ServiceKey(protocol=Protocol(e.protocol), address=e.addr, port=e.port)


def _dest(e: Entry) -> c.DestArgs:
    assert e.dest_addr is not None
    return c.DestArgs(
        address=e.dest_addr,
        port=e.dest_port,
        method=e.method,
        weight=e.weight,
        u_threshold=e.u_threshold,
        l_threshold=e.l_threshold,
        tun_type=list(TunnelType)[e.tun_type],
        tun_port=e.tun_port,
        tun_csum=list(TunnelCsum)[e.tun_flags],
    )


def build_command(e: Entry) -> c.Command:
    """The typed command for a checked entry."""
    has_svc = bool(e.options & (1 << Optc.SERVICE))
    match e.cmd:
        case Cmd.ADD | Cmd.EDIT:
            args = c.ServiceArgs(_key(e), e.sched_name, e.flags, e.timeout, e.netmask, e.pe_name)
            return c.AddService(args) if e.cmd is Cmd.ADD else c.EditService(args)
        case Cmd.DEL:
            return c.DeleteService(_key(e))
        case Cmd.FLUSH:
            return c.Flush()
        case Cmd.ADDDEST:
            return c.AddDest(_key(e), _dest(e))
        case Cmd.EDITDEST:
            return c.EditDest(_key(e), _dest(e))
        case Cmd.DELDEST:
            return c.DeleteDest(_key(e), _dest(e))
        case Cmd.TIMEOUT:
            return c.SetTimeouts(*e.timeouts)
        case Cmd.STARTDAEMON:
            return c.StartDaemon(
                c.DaemonArgs(
                    state=e.daemon_state,
                    mcast_ifn=e.mcast_ifn or "eth0",
                    syncid=e.syncid,
                    sync_maxlen=e.sync_maxlen,
                    mcast_group=e.mcast_group,
                    mcast_port=e.mcast_port,
                    mcast_ttl=e.mcast_ttl,
                )
            )
        case Cmd.STOPDAEMON:
            return c.StopDaemon(e.daemon_state)
        case Cmd.RESTORE:
            return c.Restore()
        case Cmd.SAVE:
            return c.Save(e.fmt | c.Fmt.RULE)
        case Cmd.ZERO:
            # libipvs ipvs_zero_service: no fwmark, address :: / 0.0.0.0 and port 0 = all.
            if not has_svc or (not e.fwmark and not e.port and not (e.addr and int(e.addr))):
                return c.Zero(None)
            return c.Zero(_key(e))
        case Cmd.LIST:
            return _list(e, has_svc)
    raise AssertionError(e.cmd)


def _list(e: Entry, has_svc: bool) -> c.List:
    o = e.options
    if o & (1 << Optc.CONNECTION):
        return c.List(c.ListWhat.CONNECTIONS, e.fmt)
    if has_svc:
        return c.List(c.ListWhat.SERVICE, e.fmt, _key(e))
    if o & (1 << Optc.TIMEOUT):
        return c.List(c.ListWhat.TIMEOUT, e.fmt)
    if o & (1 << Optc.DAEMON):
        return c.List(c.ListWhat.DAEMON, e.fmt)
    return c.List(c.ListWhat.ALL, e.fmt)
