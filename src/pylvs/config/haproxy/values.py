"""HAProxy 2.6 value readers: times with units, sizes, numbers, ports and addresses.

Times follow src/tools.c `parse_time_err`: decimal digits, then an optional unit `us`, `ms`,
`s`, `m`, `h` or `d` (none: the keyword's default unit, milliseconds for timeouts); the result,
rounded up, must stay below 2^31 of the default unit ("timer overflow"), and a non-zero value
must not round to 0 ("timer underflow"); letters after a unit only warn, as in 2.6.  Numbers
are read as `atol` reads them where HAProxy does so, but a value that is not a plain number is
reported (HAProxy often takes it as 0).  Every reader
reports at the word it reads and returns None on error.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from pylvs.config.errors import Cite
from pylvs.config.haproxy.model import IpAddress
from pylvs.config.keywords import Context
from pylvs.config.keywords.values import to_int
from pylvs.config.tree import Word
from pylvs.sched.haproxy.cnum import atoi

TIME_MAX = 2**31 - 1
_TIME = re.compile(r"([0-9]+)(us|ms|s|m|h|d)?(.*)\Z", re.DOTALL)
_UNIT = {"us": (1, 1000), "ms": (1, 1), "s": (1000, 1), "m": (60_000, 1)}
_UNIT.update({"h": (3_600_000, 1), "d": (86_400_000, 1)})
_INT = re.compile(r"[+-]?[0-9]+\Z")


def time_ms(word: Word, ctx: Context, what: str, *, unit_ms: int = 1) -> int | None:
    """A time in milliseconds; `unit_ms` is the default unit (1000 for seconds)."""
    text = word.text
    m = _TIME.match(text)
    if m is None:
        bad = text[:1] or "\\0"
        ctx.error(word.loc, f"unexpected character '{bad}' in '{what}'")
        return None
    digits, unit, rest = m.groups()
    if rest and not unit:
        ctx.error(word.loc, f"unexpected character '{rest[0]}' in '{what}'")
        return None
    if rest:  # tools.c parse_time_err says it itself: placed only by a server's context
        ctx.warning(
            word.loc,
            f"unexpected character '{rest[0]}' after the timer value '{text}', only"
            " (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are"
            " supported. This will be reported as an error in next versions.",
            cite=None if ctx.cite is Cite.SERVER else Cite.BARE,
        )
    value = to_int(digits)
    mult, div = _UNIT[unit] if unit else (unit_ms, 1)
    result = (value * mult + div - 1) // div
    if result > TIME_MAX:
        ctx.error(
            word.loc,
            f"timer overflow in argument '{text}' to '{what}' (maximum value is"
            " 2147483647 ms or ~24.8 days)",
        )
        return None
    if value and not result:
        ctx.error(
            word.loc,
            f"timer underflow in argument '{text}' to '{what}' (minimum non-null value is 1 ms)",
        )
        return None
    return result


def time_problem(text: str, *, unit_ms: int = 1) -> str | None:
    """What tools.c parse_time_err refuses in `text`, in the words the callers that name it
    themselves use: "overflow", "underflow", or "unexpected character 'C'"; None when fine."""
    m = _TIME.match(text)
    if m is None:
        return f"unexpected character '{text[:1] or chr(0)}'"
    digits, unit, rest = m.groups()
    if rest and not unit:
        return f"unexpected character '{rest[0]}'"
    value = to_int(digits)
    mult, div = _UNIT[unit] if unit else (unit_ms, 1)
    result = (value * mult + div - 1) // div
    if result > TIME_MAX:
        return "overflow"
    return "underflow" if value and not result else None


def number(word: Word, ctx: Context, what: str, lo: int, hi: int) -> int | None:
    if _INT.match(word.text) is None:
        ctx.error(word.loc, f"'{what}' expects an integer argument (got '{word.text}').")
        return None
    sign = -1 if word.text.startswith("-") else 1
    value = sign * to_int(word.text.lstrip("+-"))
    if not lo <= value <= hi:
        ctx.error(word.loc, f"'{what}' expects a value between {lo} and {hi} (got '{word.text}').")
        return None
    return value


def lenient(word: Word, ctx: Context, what: str) -> int:
    """A number HAProxy reads with atol/atoi and no check (cfgparse-listen.c `maxconn`,
    `retries`, `fullconn`; server.c `maxconn`, `weight`...): its leading digits, 0 when there
    are none; the 32 low bits, as HAProxy stores it in an int.  HAProxy says nothing of what it
    drops; pylvs says it in a remark of its own."""
    value = c_int(atoi(word.text))
    if _INT.match(word.text) is None:
        ctx.note(word.loc, f"'{what}' reads '{word.text}' as {value}, as HAProxy's atol does.")
    return value


def c_int(value: int) -> int:
    """`value` stored in a C int (two's complement, 32 bits)."""
    value &= 0xFFFFFFFF
    return value - 2**32 if value >= 2**31 else value


def literal_ip(host: str) -> IpAddress | None:
    """The address `host` is, when it is a literal IPv4/IPv6 address (else a name)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def split_host_port(text: str) -> tuple[str, str | None]:
    """`host:port`, `[v6]:port`, `v6` (several colons, no port), `:port`, `host`."""
    if text.startswith("["):
        close = text.find("]")
        if close > 0:
            rest = text[close + 1 :]
            return text[1:close], (rest[1:] if rest.startswith(":") else None)
    if text.count(":") > 1:
        # HAProxy's str2sa_range: the last colon separates the port unless the whole string
        # parses as an IPv6 address
        if literal_ip(text) is not None:
            return text, None
        host, _, port = text.rpartition(":")
        return host, port
    host, sep, port = text.partition(":")
    return host, (port if sep else None)


def port_range(text: str) -> tuple[int, int] | None:
    """`80` or `6001-6004` (both ends 1..65535, low <= high); None when invalid."""
    low, sep, high = text.partition("-")
    if not (low.isascii() and low.isdigit()) or (sep and not (high.isascii() and high.isdigit())):
        return None
    lo = to_int(low)
    hi = to_int(high) if sep else lo
    if not 1 <= lo <= hi <= 65535:
        return None
    return lo, hi


def sa_port(
    port: str | None, text: str, *, mand: bool, ranges: bool = False, offsets: bool = False
) -> tuple[int, int] | int | str:
    """The port part of an address as src/tools.c `str2sa_range` reads it: `(low, high)` (both
    0 when there is none and none is needed), an offset `+N`/`-N` as an int, or its complaint.
    A port starting with a digit is read with atoi, so `80x` is 80 and `80-` is 80-0."""
    if not port:
        return f"missing port specification in '{text}'" if mand else (0, 0)
    if port[0].isascii() and port[0].isdigit():
        if "-" in port and not ranges:
            return f"port range not permitted here in '{text}'"
        low, sep, high = port.partition("-")
        lo, hi = atoi(low), atoi(high if sep else low)
        if not int(mand) <= lo <= 65535:
            return f"invalid port '{low}'"
        if not int(mand) <= hi <= 65535:
            return f"invalid port '{high if sep else low}'"
        if lo > hi:
            return f"invalid port range '{lo}-{hi}'"
        return lo, hi
    if port[0] in "+-":
        if not offsets:
            return f"port offset not permitted here in '{text}'"
        n = atoi(port[1:])
        return -n if port[0] == "-" else n
    # the message ends in a newline there: HAProxy prints an empty line after it
    return f"invalid character '{port[0]}' in port number '{port}' in '{text}'\n"


_ENV_NAME = re.compile(r"\$(\{?)([A-Za-z0-9_]*)")


def env_expand(text: str, env: Mapping[str, str]) -> str:
    """src/tools.c env_expand, which str2sa_range runs on every address: each `$NAME` or
    `${NAME}` (a name of letters, digits and `_`) is replaced by its value, empty when unset.
    So an unquoted `${S1_addr}:${S1_port}` that the line reader kept literal still reads as
    `:` (any address, no port) when the variables are not set."""

    def value(m: re.Match[str]) -> str:
        return env.get(m.group(2), "")

    out, pos = [], 0
    for m in _ENV_NAME.finditer(text):
        if m.start() < pos:
            continue
        out.append(text[pos : m.start()])
        out.append(value(m))
        pos = m.end()
        if m.group(1) and text[pos : pos + 1] == "}":
            pos += 1
    out.append(text[pos:])
    return "".join(out)
