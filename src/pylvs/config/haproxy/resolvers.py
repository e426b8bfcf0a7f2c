"""`resolvers NAME` sections (HAProxy 2.6 configuration §5.3; src/resolvers.c
`cfg_parse_resolvers`, `parse_resolve_conf`, `resolvers_new`, `resolvers_finalize_config`).

Keywords: `nameserver NAME ADDR:PORT` (the port is mandatory; `udp@`/`ipv4@`/`ipv6@` may
prefix the address, a name is resolved once here as str2sa_range's PA_O_RESOLVE does),
`parse-resolv-conf` (the host's /etc/resolv.conf `nameserver` lines, port 53, named by their
address), `accepted_payload_size` (12..65535), `resolve_retries`, `timeout resolve|retry`,
`hold nx|other|refused|timeout|valid|obsolete`; the messages are HAProxy's.  A server naming
a section that does not exist is refused ("unable to find required resolvers"); a section
`default` is made from /etc/resolv.conf when none has that name (resolvers_create_default).
`tcp@ADDR:PORT` makes a TCP nameserver (HAProxy's DNS stream server: engine/
proxy_resolvers_tcp.py over proto/dns/stream.py).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from pylvs.config.errors import Cite, Kind, Location
from pylvs.config.haproxy import resolvers_action
from pylvs.config.haproxy.model import Proxy
from pylvs.config.haproxy.server import KNOWN, read_options
from pylvs.config.haproxy.values import literal_ip, sa_port, split_host_port
from pylvs.config.keywords import Context
from pylvs.config.tree import Statement, Word
from pylvs.model.resolvers import NameserverSpec, ResolversSpec
from pylvs.sched.haproxy.cnum import atoi

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")
_TIME = re.compile(r"([0-9]*)(us|ms|s|m|h|d)?(.*)\Z", re.DOTALL)
_UNIT = {"us": (1, 1000), "ms": (1, 1), "s": (1000, 1), "m": (60_000, 1)}
_UNIT.update({"h": (3_600_000, 1), "d": (86_400_000, 1)})
_HOLDS = {
    "nx": "hold_nx_ms",
    "other": "hold_other_ms",
    "refused": "hold_refused_ms",
    "timeout": "hold_timeout_ms",
    "valid": "hold_valid_ms",
    "obsolete": "hold_obsolete_ms",
}
_DNS_HEADER_SIZE, _DNS_MAX_UDP_MESSAGE = 12, 65535
RESOLV_CONF = "/etc/resolv.conf"


def _where(loc: Location) -> str:
    return f"{loc.file}:{loc.line}"


def read_resolvers(
    st: Statement, ctx: Context, seen: Iterable[ResolversSpec]
) -> ResolversSpec | None:
    """One section; None when it cannot be kept (no name, a name taken)."""
    if not st.args:
        ctx.error(st.loc, "missing name for resolvers section.")
        return None
    word = st.args[0]
    name = word.text
    if not _named(word, ctx, "'resolvers' name") or _taken(name, seen, st.loc, ctx, "resolvers"):
        return None
    values: dict[str, object] = {}
    servers: list[NameserverSpec] = []
    for line in st.block or ():
        _line(line, ctx, values, servers, name)
    return ResolversSpec(name, tuple(servers), where=_where(st.loc), **values)  # type: ignore[arg-type]


def _named(word: Word, ctx: Context, what: str) -> bool:
    """invalid_char: a name of letters, digits and `-_.:` only."""
    bad = next((c for c in word.text if c not in _NAME_CHARS), None)
    if bad is not None:
        ctx.error(word.loc, f"character '{bad}' is not permitted in {what} '{word.text}'.")
    return bad is None


def _taken(
    name: str,
    seen: Iterable[ResolversSpec | NameserverSpec],
    loc: Location,
    ctx: Context,
    what: str,
) -> bool:
    """A name already declared: said, with where."""
    for other in seen:
        if other.name == name:
            ctx.error(
                loc,
                f"{what} '{name}' has same name as another {what} (declared at {other.where}).",
                cite=Cite.CAPITAL,
            )
            return True
    return False


def _line(
    line: Statement,
    ctx: Context,
    values: dict[str, object],
    servers: list[NameserverSpec],
    section: str,
) -> None:
    key, args = line.name, [w.text for w in line.args]
    if key == "nameserver":
        _nameserver(line, ctx, servers, section)
    elif key == "parse-resolv-conf":
        servers.extend(resolv_conf(ctx, line.loc, servers))
    elif key == "hold":
        _hold(line, ctx, values)
    elif key == "accepted_payload_size":
        if not args:
            ctx.error(line.loc, f"'{key}' expects <nb> as argument.")
            return
        n = atoi(args[0])
        if not _DNS_HEADER_SIZE <= n <= _DNS_MAX_UDP_MESSAGE:
            ctx.error(
                line.args[0].loc,
                f"'{key}' must be between {_DNS_HEADER_SIZE} and {_DNS_MAX_UDP_MESSAGE}"
                f" inclusive (was {args[0]}).",
            )
            return
        values["accepted_payload_size"] = n
    elif key == "resolution_pool_size":
        ctx.error(
            line.loc,
            f"'{key}' directive is not supported anymore (it never appeared in a stable release).",
        )
    elif key == "resolve_retries":
        if not args:
            ctx.error(line.loc, f"'{key}' expects <nb> as argument.")
            return
        values["resolve_retries"] = atoi(args[0])
    elif key == "timeout":
        _timeout(line, ctx, values)
    else:
        ctx.error(line.loc, f"unknown keyword '{key}' in 'resolvers' section")


def _nameserver(line: Statement, ctx: Context, servers: list[NameserverSpec], section: str) -> None:
    args = line.args
    if len(args) < 2:
        ctx.error(line.loc, "'nameserver' expects <name> and <addr>[:<port>] as arguments.")
        return
    name = args[0].text
    if not _named(args[0], ctx, "server name"):
        return
    _taken(name, servers, line.loc, ctx, "nameserver")  # said, and read all the same
    text = args[1].text
    family, at, rest = text.partition("@")
    if not at:
        family, rest = "", text
    if family not in ("", "udp", "udp4", "udp6", "ipv4", "ipv6", "tcp", "tcp4", "tcp6"):
        ctx.error(
            args[1].loc, f"'nameserver {name}' : unknown address family '{family}@' in '{text}'"
        )
        return
    host, port = split_host_port(rest)
    if port is None or port == "":
        ctx.error(args[1].loc, f"'nameserver {name}' : missing port specification in '{text}'")
        return
    read = sa_port(port, text, mand=True)
    if isinstance(read, str) and read.startswith("invalid character"):  # tools.c str2sa_range
        ctx.error(args[1].loc, f"'nameserver {name}' : {read}")
        return
    number = int(port) if port.isascii() and port.isdigit() else -1
    address = _address(host, ctx, "ipv6" if family in ("udp6", "ipv6", "tcp6") else "inet")
    if address is None or not 0 < number < 65536:
        what = f"invalid address: '{host}'" if address is None else f"invalid port '{port}'"
        end = "\n" if address is None else ""  # str2sa_range's own newline
        ctx.error(args[1].loc, f"'nameserver {name}' : {what} in '{text}'{end}")
        return
    proto = "tcp" if family.startswith("tcp") else "udp"
    maxconn = 0
    if proto == "tcp":  # a stream nameserver is a server of the section's proxy (parse_server)
        got = _stream_options(line, ctx, section, name)
        if got is None:
            return
        maxconn = got
    servers.append(NameserverSpec(name, address, number, _where(line.loc), proto, maxconn))


def _stream_options(line: Statement, ctx: Context, section: str, name: str) -> int | None:
    """A TCP nameserver's server keywords (HAProxy parses them as a server line's): its
    `maxconn` (the most connections), the others said to be not acted on; None on an error."""
    words = line.args[2:]
    # parse_server's error stops the reading (ERR_ABORT), as a bad server line's does
    got = read_options(
        words, ctx.citing(Cite.SERVER).aborting(), f"server {section}/{name}", name, default=False
    )
    if got is None:
        return None
    others = [w for w in words if w.text in KNOWN and w.text != "maxconn"]
    for w in others:
        ctx.warning(
            w.loc,
            f"'nameserver {name}' : '{w.text}' is not acted on for a TCP nameserver by pylvs.",
            Kind.UNSUPPORTED,
        )
    return got[0].maxconn or 0


def _address(host: str, ctx: Context, family: str) -> str | None:
    """A literal address, or the one libc gives a name (None when it does not resolve, or
    when this host's resolver is not asked: a check without host facts)."""
    ip = literal_ip(host)
    if ip is not None:
        return str(ip)
    if ctx.host.address_of is None:
        return None
    got = ctx.host.address_of(host, family)
    return str(literal_ip(got)) if got is not None and literal_ip(got) is not None else None


def _time(text: str) -> int | str:
    """parse_time_err in milliseconds, or the error: "over", "under", or the bad character."""
    m = _TIME.match(text)
    assert m is not None  # every part of the pattern may be empty
    digits, unit, rest = m.groups()
    if not digits:
        return text[:1] or "\\0"
    if rest:
        return rest[0]
    mult, div = _UNIT[unit] if unit else (1, 1)
    value = int(digits)
    result = (value * mult + div - 1) // div
    if result > 2**31 - 1:
        return "over"
    if value and not result:
        return "under"
    return result


def _time_error(got: str, ctx: Context, loc: Location, arg: str, what: str) -> None:
    if got == "over":
        ctx.error(
            loc,
            f"timer overflow in argument <{arg}> to <{what}>, maximum value is 2147483647 ms"
            " (~24.8 days).",
            cite=Cite.TIGHT,
        )
    elif got == "under":
        ctx.error(
            loc,
            f"timer underflow in argument <{arg}> to <{what}>, minimum non-null value is 1 ms.",
            cite=Cite.TIGHT,
        )
    else:
        ctx.error(loc, f"unexpected character '{got}' in argument to <{what}>.", cite=Cite.TIGHT)


def _hold(line: Statement, ctx: Context, values: dict[str, object]) -> None:
    args = line.args
    if len(args) < 2:
        ctx.error(line.loc, "'hold' expects an <event> and a <time> as arguments.")
        ctx.error(
            line.loc,
            "<event> can be either 'valid', 'nx', 'refused', 'timeout', or 'other'",
            cite=Cite.BARE,
        )
        return
    got = _time(args[1].text)
    if isinstance(got, str):
        _time_error(got, ctx, args[1].loc, args[0].text, "hold")  # HAProxy names the event
        return
    attr = _HOLDS.get(args[0].text)
    if attr is None:
        ctx.error(
            args[0].loc,
            f"'hold' unknown <event>: '{args[0].text}', expects either 'nx', 'timeout',"
            " 'valid', 'obsolete' or 'other'.",
        )
        return
    values[attr] = got


def _timeout(line: Statement, ctx: Context, values: dict[str, object]) -> None:
    args = line.args
    expects = "'timeout' expects 'retry' or 'resolve' and <time> as arguments"
    if not args:
        ctx.error(line.loc, f"{expects}.")
        return
    which = args[0].text
    if which not in ("retry", "resolve"):
        ctx.error(args[0].loc, f"{expects} got '{which}'.")
        return
    if len(args) < 2:
        ctx.error(line.loc, f"'timeout {which}' expects <time> as argument.")
        return
    got = _time(args[1].text)
    if isinstance(got, str):
        _time_error(got, ctx, args[1].loc, args[1].text, f"timeout {which}")
        return
    values[f"timeout_{which}_ms"] = got


def resolv_conf(
    ctx: Context, loc: Location, taken: Iterable[NameserverSpec] = ()
) -> list[NameserverSpec]:
    """The host's /etc/resolv.conf nameservers (parse_resolve_conf): port 53, each named by
    its address; what is unusable is warned about and left out."""
    read = ctx.host.read_file
    data = read(RESOLV_CONF) if read is not None else None
    if data is None:
        if read is not None:
            ctx.error(loc, f"failed to open {RESOLV_CONF}.")
        return []
    found: list[NameserverSpec] = []
    names = {ns.name: ns.where for ns in taken}
    for number, raw in enumerate(data.decode("latin-1").splitlines(), 1):
        if not raw.startswith("nameserver"):
            continue
        rest = raw[10:]
        if rest[:1] not in ("", " ", "\t", "\r", "\n"):
            continue  # "nameserverX": strtok leaves it whole
        words = rest.split()
        if not words:
            ctx.warning(
                loc, f"parsing [{RESOLV_CONF}:{number}] : nameserver line is missing address."
            )
            continue
        address = words[0]
        if address in names:
            ctx.warning(
                loc,
                f"Parsing [{RESOLV_CONF}:{number}] : generated name for {RESOLV_CONF} nameserver"
                f" '{address}' conflicts with another nameserver (declared at {names[address]}),"
                " it appears to be a duplicate and will be excluded.",
            )
            continue
        ip = literal_ip(address.partition("%")[0])
        if ip is None:
            ctx.warning(
                loc,
                f"parsing [{RESOLV_CONF}:{number}] : address '{address}' could not be recognized,"
                " nameserver will be excluded.",
            )
            continue
        where = f"{RESOLV_CONF}:{number}"
        names[address] = where
        found.append(NameserverSpec(address, str(ip), 53, where))
    return found


def check_servers(
    sections: list[ResolversSpec], proxies: Iterable[Proxy], ctx: Context
) -> list[ResolversSpec]:
    """resolvers_finalize_config: every server's `resolvers` names a section.  The sections,
    then `default` when none has that name: HAProxy makes it from /etc/resolv.conf before
    its checks (resolvers_create_default), whether a server uses it or not, quietly."""
    if all(r.name != "default" for r in sections):
        quiet = dataclasses.replace(ctx, problems=type(ctx.problems)())
        found = tuple(resolv_conf(quiet, Location("<internal>", 0, 0)))
        sections = [*sections, ResolversSpec("default", found, where="<internal>:0")]
    names = {r.name for r in sections}
    resolvers_action.check_sections(proxies, names, ctx)
    for p in proxies:
        for s in p.servers:
            if s.resolvers is not None and s.resolvers not in names:
                ctx.error(
                    s.loc,
                    f"{p.type_str} '{p.name}', server '{s.name}': unable to find required"
                    f" resolvers '{s.resolvers}'",
                    cite=Cite.NONE,  # resolvers_finalize_config's, placed nowhere
                )
    return sections
