"""`log` lines: targets, lengths, formats, sampling, facility and levels (HAProxy 2.6
configuration manual §4.2 `log`; src/log.c parse_logsrv, get_logsrv_smp_range; src/tools.c
str2sa_range for the address).

    log <address> [len <n>] [format <f>] [sample <ranges>:<size>] <facility> [<level> [<min>]]
    log global          (a proxy: the global targets, each once)
    no log              (forget the targets inherited or declared so far)

The address: `stdout`, `stderr`, `fd@N`; a path, `unix@PATH`, `uxdg@PATH`, `abns@NAME` (unix
datagram); `[ip@|ipv4@|ipv6@|udp@|udp4@|udp6@]HOST[:PORT]` (UDP, port 514 when none).
HAProxy's stream targets (`tcp@...`, `uxst@PATH`, `ring@NAME`) go through its ring buffers (a
stream address gets an implicit ring, whose forwarder connects and writes the lines: haproxy
2.6.12 does so for `uxst@`), which pylvs does not have: they are refused with a warning that
says so, and nothing is sent to them.  Errors use parse_logsrv's words, after "log : " as
cfgparse*.c prints them (str2sa_range's own end in a newline: HAProxy prints a blank line).
"""

from __future__ import annotations

from dataclasses import replace

from pylvs.config.errors import Kind, Problems, Severity
from pylvs.config.haproxy.model import LogTarget
from pylvs.config.haproxy.values import env_expand, split_host_port
from pylvs.config.keywords import Context
from pylvs.config.tree import Statement
from pylvs.model.proxy_log import FACILITIES, FORMATS, LEVELS, MAX_SYSLOG_LEN, SYSLOG_PORT
from pylvs.model.proxy_log import LogTarget as TargetSpec

_UDP_PREFIXES = ("ip@", "ipv4@", "ipv6@", "udp@", "udp4@", "udp6@")
_STREAM_PREFIXES = ("tcp@", "tcp4@", "tcp6@", "uxst@", "ring@")


def read_log(st: Statement, ctx: Context, *, in_global: bool = False) -> LogTarget | str | None:
    """A `log` statement: "no" (`no log`), a LogTarget, or None after an error."""
    mine = replace(ctx, problems=Problems())
    got = _read_log(st, mine, in_global)
    for p in mine.problems:
        said = replace(p, message=f"log : {p.message}") if p.severity is Severity.ERROR else p
        ctx.problems.add(said)
    return got


def _read_log(st: Statement, ctx: Context, in_global: bool) -> LogTarget | str | None:
    args = [w.text for w in st.args]
    if st.name.startswith("no"):
        if args:
            ctx.error(st.loc, "'no log' does not expect arguments")
            return None
        return "no"
    if args == ["global"]:
        if in_global:
            ctx.error(st.loc, "'global' is not supported for a global syslog server")
            return None
        return LogTarget(st.loc, "global")
    if len(args) < 2:
        tail = "" if in_global else "or global"
        ctx.error(st.loc, f"expects <address> and <facility> {tail} as arguments")
        return None
    spec = _target(args, st, ctx)
    if spec is None:
        return None
    return LogTarget(st.loc, args[0], spec if spec.kind else None)


def _target(args: list[str], st: Statement, ctx: Context) -> TargetSpec | None:
    where = f"{st.loc.file}:{st.loc.line}"
    rest = args[1:]
    maxlen = MAX_SYSLOG_LEN
    fmt = ""
    sample: tuple[tuple[int, int], ...] = ()
    size = 0
    if rest[:1] == ["len"]:
        n = _atoi(rest[1] if len(rest) > 1 else "")
        if n < 80 or n > 65535:
            word = rest[1] if len(rest) > 1 else ""
            ctx.error(st.loc, f"invalid log length '{word}', must be between 80 and 65535")
            return None
        maxlen, rest = n, rest[2:]
    if rest[:1] == ["format"]:
        word = rest[1] if len(rest) > 1 else ""
        if word not in FORMATS:
            ctx.error(st.loc, f"unknown log format '{word}'")
            return None
        fmt, rest = word, rest[2:]
    if rest[:1] == ["sample"]:
        got = _sample(rest[1] if len(rest) > 1 else "", st, ctx)
        if got is None:
            return None
        (sample, size), rest = got, rest[2:]
    facility = rest[0] if rest else ""
    if facility not in FACILITIES:
        ctx.error(st.loc, f"unknown log facility '{facility}'")
        return None
    level, min_level = 7, 0
    if len(rest) > 1:
        if rest[1] not in LEVELS:
            ctx.error(st.loc, f"unknown optional log level '{rest[1]}'")
            return None
        level = LEVELS.index(rest[1])
    if len(rest) > 2:
        if rest[2] not in LEVELS:
            ctx.error(st.loc, f"unknown optional minimum log level '{rest[2]}'")
            return None
        min_level = LEVELS.index(rest[2])
    if len(rest) > 3:
        ctx.error(st.loc, f"cannot handle unexpected argument '{rest[3]}'")
        return None
    base = TargetSpec(
        kind="",
        facility=FACILITIES.index(facility),
        format=fmt,
        level=level,
        min_level=min_level,
        maxlen=maxlen,
        sample=sample,
        sample_size=size,
        where=where,
    )
    return _address(args[0], base, st, ctx)


def _address(text: str, base: TargetSpec, st: Statement, ctx: Context) -> TargetSpec | None:
    """The target's address (str2sa_range with parse_logsrv's options, env-expanded)."""
    text = {"stdout": "fd@1", "stderr": "fd@2"}.get(text, text)
    text = env_expand(text, ctx.env)
    if text.startswith(_STREAM_PREFIXES):
        ctx.warning(
            st.loc,
            f"log target '{text}' goes through HAProxy's ring buffers, which pylvs does not"
            " have: nothing is sent to it",
            Kind.UNSUPPORTED,
        )
        return base  # kind "": read, refused, said so
    if text.startswith("fd@"):
        number = text[3:]
        # haproxy 2.6.12 refuses a number past an int as well (captured:
        # `log fd@99999999999999999999 local0`), which os.write could not take either.
        if not (number.isascii() and number.isdigit()) or int(number) > 2**31 - 1:
            ctx.error(st.loc, f"file descriptor '{number}' is not a valid integer in '{text}'\n")
            return None
        return replace(base, kind="fd", fd=int(number))
    if text.startswith(("unix@", "uxdg@")) or text.startswith("/"):
        path = text[5:] if not text.startswith("/") else text
        return _unix(path, text, base, st, ctx)
    if text.startswith("abns@"):
        return _unix("\0" + text[5:], text, base, st, ctx)
    prefix, sep, _ = text.partition("@")
    if sep and text.startswith(_UDP_PREFIXES):
        text = text[len(prefix) + 1 :]
    elif sep:
        ctx.error(st.loc, f"invalid address: '{text}' in '{text}'\n")
        return None
    host, port_text = split_host_port(text)
    port = SYSLOG_PORT
    if port_text:
        if not (port_text.isascii() and port_text.isdigit()) or int(port_text) > 65535:
            ctx.error(st.loc, f"invalid port '{port_text}'")
            return None
        port = int(port_text) or SYSLOG_PORT  # parse_logsrv: no port -> 514
    if host in ("", "*"):
        host = "0.0.0.0"  # str2ip2: any address (`${S1_addr}:${S1_port}`, S1 not declared)
    resolves = ctx.host.resolves
    if resolves is not None and not resolves(host):
        ctx.error(st.loc, f"invalid address: '{host}' in '{text}'\n")
        return None
    return replace(base, kind="udp", host=host, port=port)


def _unix(path: str, text: str, base: TargetSpec, st: Statement, ctx: Context) -> TargetSpec | None:
    if len(path.encode()) > 107:  # sizeof(sun_path) - 1
        ctx.error(st.loc, f"socket path '{text}' too long (max 107)\n")
        return None
    return replace(base, kind="unix", host=path)


def _sample(
    text: str, st: Statement, ctx: Context
) -> tuple[tuple[tuple[int, int], ...], int] | None:
    """`R[,R...]:SIZE`, each R `N` or `LOW-HIGH` (1-based), not overlapping, SIZE at least
    the highest bound."""
    ranges_text, sep, size_text = text.partition(":")
    if not sep:
        ctx.error(st.loc, "Missing sample size")
        return None
    ranges: list[tuple[int, int]] = []
    items = ranges_text.split(",") if ranges_text else []
    for i, item in enumerate(items):
        low_text, dash, high_text = item.partition("-")
        low = _uint(low_text)
        high = _uint(high_text) if dash else low
        if not low or not high or (dash and high <= low):
            ctx.error(st.loc, f"wrong sample range '{','.join(items[i:])}'")
            return None
        if any(a <= low <= b or a <= high <= b for a, b in ranges):
            ctx.error(st.loc, "ranges are overlapping")
            return None
        ranges.append((low, high))
    if not ranges:
        ctx.error(st.loc, "no sampling ranges given")
        return None
    size = _uint(size_text)
    if not size:
        ctx.error(st.loc, f"wrong sample size '{size_text}' for sample range '{ranges_text}'")
        return None
    top = max(h for _, h in ranges)
    if size < top:
        ctx.error(
            st.loc,
            f"sample size {size} should be greater or equal to {top} the maximum of the high"
            " ranges limits",
        )
        return None
    return tuple(sorted(ranges)), size


def _uint(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() else 0


def _atoi(text: str) -> int:
    """atoi: the leading digits (0 when none)."""
    digits = ""
    for c in text.lstrip():
        if not c.isdigit():
            break
        digits += c
    return int(digits[:10]) if digits else 0
