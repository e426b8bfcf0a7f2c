"""`ipvsadm` command line -> `Command` or `Failure`, in ipvsadm.c's order of checks.

Follows `parse_options` and `process_options` of ipvsadm 1.31:
1. the *first* option must be a command (else "Try `ipvsadm -h' ..." status 255); `-h` and
   `-v` answer at once; a command seen later is an "invalid option `...'" (so the
   "multiple commands specified" branch of `set_command` cannot be reached);
2. options in command-line order, each checked as it comes (`multiple '%s' options
   specified`, value errors); a popt error stops the loop ("<word>: unknown option", 255);
3. `--set`'s three values, then any leftover word is an "unexpected argument";
4. `-b` flags against the scheduler, `generic_opt_check`, the -A/-E rules, the dest rules
   (DR/TUN port forced to the service port, address family, tunnel options), the list
   conflicts, and `-R` inside `-R`.
`argv[0]` is the program name used in messages; the CLI passes "ipvsadm" so scripts see the
words they know.
"""

from __future__ import annotations

from pylvs.control.ipvsadm import command as c
from pylvs.control.ipvsadm.address import parse_netmask, parse_service
from pylvs.control.ipvsadm.cparse import atoi, strtol10
from pylvs.control.ipvsadm.entry import Entry, OptionError
from pylvs.control.ipvsadm.matrix import Cmd, Optc, generic_opt_check, has, tunnel_opt_check
from pylvs.control.ipvsadm.messages import Failure, fail, popt_error, tryhelp
from pylvs.control.ipvsadm.options import (
    COMMAND_TAGS,
    OPTIONS_TABLE,
    SIMPLE_FLAGS,
    apply_daemon_option,
    apply_dest_option,
    build_command,
    parse_sched_flags,
    parse_timeout,
)
from pylvs.control.ipvsadm.popt import POPT_STRERROR, Got, Popt
from pylvs.control.ipvsadm.resolver import NUMERIC, Resolver
from pylvs.model import AF_INET, AF_INET6, ForwardMethod, ServiceFlags

PROTO_BY_TAG = {"t": 6, "u": 17, "sctp": 132}


def parse(  # noqa: C901 - ipvsadm.c parse_options' checks in its order
    argv: list[str], *, reading_stdin: bool = False, resolver: Resolver = NUMERIC
) -> c.Command | Failure:
    """One ipvsadm invocation (argv[0] = program name) as a Command, or why it fails."""
    if len(argv) <= 1:
        # main(): "list the table if there is no other argument".
        return c.List()
    prog = argv[0]
    ctx = Popt(list(argv), OPTIONS_TABLE)
    first = ctx.get_next_opt()
    if not isinstance(first, Got):
        return tryhelp(prog)
    if first.tag == "h":
        return c.Help(prog)
    if first.tag == "v":
        return c.Version()
    cmd = COMMAND_TAGS.get(first.tag)
    if cmd is None:
        return tryhelp(prog)
    e = Entry(cmd)
    try:
        if first.tag in ("start-daemon", "stop-daemon"):
            if first.arg not in ("master", "backup"):
                word = "start-daemon parameter" if cmd is Cmd.STARTDAEMON else "start_daemon"
                return fail(f"illegal {word} specified")
            e.daemon_state = first.arg
        while True:
            got = ctx.get_next_opt()
            if not isinstance(got, Got):
                break
            _option(e, got, ctx, resolver)
        if got < -1:
            return popt_error(ctx.bad_option(), POPT_STRERROR.get(got, "unknown error"))
        if cmd is Cmd.TIMEOUT:
            values = [ctx.get_arg(), ctx.get_arg(), ctx.get_arg()]
            if any(v is None for v in values):
                return fail("--set option requires 3 timeout values")
            tcp, fin, udp = (parse_timeout(v, 0) for v in values)
            e.timeouts = (tcp, fin, udp)
        extra = ctx.get_arg()
        if extra is not None:
            return fail(f"unexpected argument {extra}")
        if e.sched_flags_arg:
            e.flags &= ~(ServiceFlags.SCHED1 | ServiceFlags.SCHED2 | ServiceFlags.SCHED3)
            e.flags |= parse_sched_flags(e.sched_name, e.sched_flags_arg)
    except OptionError as stop:
        return stop.failure
    return _process(e, prog, reading_stdin)


def _option(e: Entry, got: Got, ctx: Popt, resolver: Resolver) -> None:  # noqa: C901 - one branch per option of ipvsadm.c's popt loop
    """One option of the `while (poptGetNextOpt)` loop of parse_options."""
    tag, arg = got.tag, got.arg
    if tag in PROTO_BY_TAG:
        e.set_option(Optc.SERVICE)
        e.protocol = PROTO_BY_TAG[tag]
        hp = parse_service(_need(arg), e.protocol, resolver)
        if hp is None:
            raise OptionError(fail("illegal virtual server address[:port] specified"))
        e.addr = hp.address
        e.af = AF_INET if hp.address.version == 4 else AF_INET6
        if e.af == AF_INET6:
            e.netmask = 128
        if hp.port is not None:
            e.port = hp.port
    elif tag == "f":
        e.set_option(Optc.SERVICE)
        e.af = AF_INET
        e.protocol = 6
        e.fwmark = _parse_fwmark(_need(arg))
    elif tag == "s":
        e.set_option(Optc.SCHEDULER)
        e.sched_name = _need(arg)[:15]  # strncpy(.., IP_VS_SCHEDNAME_MAXLEN - 1)
    elif tag == "p":
        e.set_option(Optc.PERSISTENT)
        e.flags |= ServiceFlags.PERSISTENT
        e.timeout = parse_timeout(arg, 1)
    elif tag == "M":
        e.set_option(Optc.NETMASK)
        if e.af != AF_INET6:
            mask = parse_netmask(_need(arg), resolver)
            if mask is None:
                raise OptionError(fail("illegal virtual server persistent mask specified"))
            e.netmask = mask
        else:
            e.netmask = atoi(_need(arg))
            if not 1 <= e.netmask <= 128:
                raise OptionError(fail("illegal ipv6 netmask specified"))
    elif tag == "r":
        e.set_option(Optc.SERVER)
        hp = parse_service(_need(arg), e.protocol, resolver)
        if hp is None:
            raise OptionError(fail("illegal real server address[:port] specified"))
        e.dest_addr = hp.address
        e.dest_af = AF_INET if hp.address.version == 4 else AF_INET6
        # "copy vport to dport if not specified" (the service port as known so far)
        e.dest_port = hp.port if hp.port is not None else e.port
    elif tag == "6":
        if not e.fwmark:
            raise OptionError(fail("-6 used before -f\n"))
        e.af = AF_INET6
        e.netmask = 128
    elif tag == "o":
        e.set_option(Optc.ONEPACKET)
        e.flags |= ServiceFlags.ONEPACKET
    elif tag == "pe":
        e.set_option(Optc.PERSISTENCE_ENGINE)
        e.pe_name = _need(arg)[:16]
    elif tag == "b":
        e.set_option(Optc.SCHED_FLAGS)
        e.sched_flags_arg = _need(arg)[:127]
    elif tag in SIMPLE_FLAGS:
        optc, fmt = SIMPLE_FLAGS[tag]
        e.set_option(optc)
        e.fmt |= fmt
    elif tag == "sort":
        pass  # "Sort is the default, this is a no-op for compatibility"
    elif apply_dest_option(e, tag, arg) or apply_daemon_option(e, tag, arg):
        pass
    else:
        raise OptionError(fail(f"invalid option `{ctx.bad_option()}'"))


def _need(arg: str | None) -> str:
    # popt always supplies an argument to a non-optional string option.
    assert arg is not None
    return arg


def _parse_fwmark(buf: str) -> int:
    r = strtol10(buf)
    if r is None or r[1] != len(buf) or r[2] or not 0 < r[0] <= 0xFFFFFFFF:
        raise OptionError(fail(f"invalid fwmark value `{buf}' specified"))
    return r[0]


def _process(e: Entry, prog: str, reading_stdin: bool) -> c.Command | Failure:
    """process_options() after parse_options(): the cross-option rules."""
    bad = generic_opt_check(e.cmd, e.options)
    if bad is not None:
        return bad
    if e.cmd in (Cmd.ADD, Cmd.EDIT):
        if not e.fwmark and not e.port and not e.flags & ServiceFlags.PERSISTENT:
            return fail("Zero port specified for non-persistent service")
        if e.flags & ServiceFlags.ONEPACKET and not e.fwmark and e.protocol != 17:
            return fail("One-Packet Scheduling is only for UDP virtual services")
        if not e.sched_name:
            e.sched_name = "wlc"
    if e.cmd in (Cmd.ADDDEST, Cmd.EDITDEST):
        if not e.fwmark and e.method in (ForwardMethod.TUNNEL, ForwardMethod.ROUTE):
            e.dest_port = e.port
        if e.dest_af != e.af and e.method is not ForwardMethod.TUNNEL:
            return fail("Different address family is allowed only for tunneling servers")
        tun_bits = (
            Optc.TUN_TYPE, Optc.TUN_PORT, Optc.TUN_NOCSUM, Optc.TUN_CSUM, Optc.TUN_REMCSUM,
        )  # fmt: skip
        if any(has(e.options, b) for b in tun_bits) and e.method is not ForwardMethod.TUNNEL:
            return fail("Tunnel options conflict with forward method")
        bad = tunnel_opt_check(e.tun_type, e.options)
        if bad is not None:
            return bad
    if e.cmd is Cmd.LIST:
        o = e.options
        if (
            any(has(o, b) for b in (Optc.CONNECTION, Optc.TIMEOUT, Optc.DAEMON))
            and any(has(o, b) for b in (Optc.STATS, Optc.RATE, Optc.THRESHOLDS))
        ) or (any(has(o, b) for b in (Optc.TIMEOUT, Optc.DAEMON)) and has(o, Optc.PERSISTENTCONN)):
            return fail("options conflicts in the list command")
    if e.cmd is Cmd.RESTORE and reading_stdin:
        return tryhelp(prog)  # restore_table(): "avoid infinite loop"
    return build_command(e)
