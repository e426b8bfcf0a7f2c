"""`bind` lines, `stats socket` and the addresses of servers (HAProxy 2.6 configuration §4.2
`bind`, §5.1 bind options, §5.2 server addresses; src/tools.c `str2sa_range`).

A bind address list is comma-separated; each item is `[prefix@]address:port[-end]` (a range
gives one listener per port), `*`/empty/`0.0.0.0` meaning every IPv4 address and `::` every
IPv6 one, or a path with `unix@`/`abns@`, or `fd@N`/`sockpair@N`.  A server address has no
range; without a port the client's destination port is used, `+N`/`-N` offsets it.
"""

from __future__ import annotations

from collections.abc import Mapping

from pylvs.config.errors import Kind
from pylvs.config.haproxy import ssl_options, unsupported
from pylvs.config.haproxy.model import Bind, Endpoint, Target
from pylvs.config.haproxy.values import (
    env_expand,
    literal_ip,
    number,
    port_range,
    sa_port,
    split_host_port,
)
from pylvs.config.keywords import Context
from pylvs.config.tree import Statement, Word

_PATH_PREFIXES = {"unix": "unix", "abns": "abns", "fd": "fd", "sockpair": "sockpair"}
_FAMILY_PREFIXES = {"ipv4": "ipv4", "ipv6": "ipv6", "udp": "ipv4", "udp4": "ipv4", "udp6": "ipv6"}


def bind_endpoints(word: Word, ctx: Context, what: str) -> tuple[Endpoint, ...] | None:
    """The listeners of a bind address list; None (reported) when one is invalid."""
    out: list[Endpoint] = []
    for item in word.text.split(","):
        got = _bind_item(item, word, ctx, what)
        if got is None:
            return None
        out.extend(got)
    return tuple(out)


def _bind_item(item: str, word: Word, ctx: Context, what: str) -> list[Endpoint] | None:
    prefix, sep, rest = item.partition("@")
    if sep and prefix in _PATH_PREFIXES:
        if not rest:
            ctx.error(word.loc, f"'{what}' : missing path or number in '{item}'")
            return None
        return [Endpoint(_PATH_PREFIXES[prefix], "", None, None, rest)]
    if sep and prefix in _FAMILY_PREFIXES:
        family: str | None = _FAMILY_PREFIXES[prefix]
        item = rest
    elif sep:
        ctx.error(word.loc, f"'{what}' : unknown address family '{prefix}@' in '{item}'")
        return None
    else:
        family = None
    if item.startswith("/"):
        return [Endpoint("unix", "", None, None, item)]
    host, port = split_host_port(item)
    ports = sa_port(port, item, mand=True, ranges=True)
    if not isinstance(ports, tuple):
        ctx.error(word.loc, f"'{what}' : {ports}")
        return None
    if host in ("", "*"):
        host = ""
        ip = None
    else:
        ip = literal_ip(host)
    fam = family or ("ipv6" if (ip is not None and ip.version == 6) or host == "::" else "ipv4")
    return [Endpoint(fam, host, ip, p) for p in range(ports[0], ports[1] + 1)]


def server_target(word: Word, ctx: Context, who: str) -> Target | None:
    """`address[:port]`, `address:+N`/`-N`, `[v6]:port`; a range is refused.  The text
    is env-expanded first, and an empty or `*` host is any IPv4 address (str2ip2)."""
    text = env_expand(word.text, ctx.env)
    if not text:
        ctx.error(
            word.loc,
            f"'{who}' : '{word.text}' resolves to an empty address (environment variable missing?)",
        )
        return None
    family = "inet"
    if "@" in text:
        family, _, text = text.partition("@")
        if family not in ("ipv4", "ipv6", "unix", "abns", "sockpair"):
            ctx.error(word.loc, f"'{who}' : unknown address family '{family}@' in '{word.text}'")
            return None
        if family in ("unix", "abns", "sockpair"):
            return Target(text, None, None, family=family)
    host, port = split_host_port(text)
    if host in ("", "*"):
        host = "0.0.0.0"
    ip = literal_ip(host)
    if port is None or port == "":
        return Target(host, ip, None, family=family)
    ports = sa_port(port, text, mand=False, offsets=True)  # server.c: PA_O_PORT_OFS
    if isinstance(ports, str):
        ctx.error(word.loc, f"'{who}' : {ports}")
        return None
    if isinstance(ports, int):
        return Target(host, ip, None, ports, family=family)
    return Target(host, ip, ports[0] or None, family=family)


def socks4_target(text: str, env: Mapping[str, str]) -> tuple[str, int] | str:
    """`socks4 ADDR:PORT` (srv_parse_socks4: str2sa_range with a mandatory port): the
    proxy's IPv4/IPv6 address and port, or str2sa_range's complaint."""
    expanded = env_expand(text, env)
    host, port = split_host_port(expanded)
    if port is None or port == "":
        return f"missing port specification in '{text}'"
    ports = port_range(port)
    if ports is None or "-" in port or ports[0] == 0:
        return f"invalid port '{port}'"
    ip = literal_ip(host or "0.0.0.0")
    if ip is None:
        return f"invalid address: '{host}' in '{text}'"
    return str(ip), ports[0]


# bind options pylvs reads into `Bind`: name -> number of values (HAProxy §5.1); the others
# HAProxy has are in config/haproxy/unsupported.py's list
_BIND_VALUES = {"name": 1, "maxconn": 1, "backlog": 1, "interface": 1, "level": 1, "id": 1}
_BIND_VALUES.update({"mode": 1, "user": 1, "group": 1, "uid": 1, "gid": 1, "expose-fd": 1})
_BIND_VALUES["proto"] = 1
# the multiplexers HAProxy 2.6 registers (mux_h1.c, mux_h2.c, mux_fcgi.c, mux_pt.c) and the mode
# each serves; `proto` names one, and the proxy's mode must fit it (cfgparse.c)
MUX_MODES = {"h1": "http", "h2": "http", "fcgi": "http", "none": "tcp"}
_BIND_FLAGS = {"transparent", "accept-proxy", "v4v6", "v6only"}


def read_bind(
    st: Statement, ctx: Context, what: str, first: int = 0, section: str = ""
) -> Bind | None:
    """`bind ADDRS [options...]` (or `stats socket ADDR [options]` with `first` = 1); in a
    proxy `section`, its options' complaints name the line as listener.c bind_parse_args
    does ("'bind ADDR' in section 'frontend' : ...")."""
    args = st.args[first:]
    if not args:
        ctx.error(
            st.loc,
            f"'{what}' expects {{<path>|[addr1]:port1[-end1]}}{{,[addr]:port[-end]}}..."
            " as arguments.",
        )
        return None
    endpoints = bind_endpoints(args[0], ctx, what)
    if endpoints is None:
        return None
    line = f"'{what} {args[0].text}' in section '{section}'" if section else ""
    typed: dict[str, str] = {}
    flags: set[str] = set()
    others: list[tuple[str, tuple[str, ...]]] = []
    i = 1
    while i < len(args):
        key = args[i].text
        if key in ssl_options.BIND:  # TLS: checked there, kept in `others` for convert.py
            named = f"{line} : " if line else ""
            taken = ssl_options.read_bind_word(args, i, ctx, what, others, named=named)
            if taken is None:
                return None
            i += taken
            continue
        arity = _BIND_VALUES.get(key)
        if arity is None and key in unsupported.BIND:
            arity = unsupported.BIND[key][0]
        if arity and i + arity >= len(args):
            missing = ssl_options.BIND_MISSING.get(key, "missing value")
            said = f"{line} : '{key}' : {missing}" if line else ""
            ctx.error(args[i].loc, said or f"'{what}' : missing value for option '{key}'.")
            return None
        if key in _BIND_VALUES:
            typed[key] = args[i + 1].text
            i += 2
        elif key in _BIND_FLAGS:
            flags.add(key)
            i += 1
        elif arity is not None:
            if key == "process" and line:  # listener.c bind_parse_process
                value = args[i + 1].text
                said = f"{line} : 'process {value}' on 'bind' lines is deprecated and will be"
                said += " removed in 2.7."
                if "/" in value:
                    said += f" Please use 'thread {value.partition('/')[2]}' instead."
                ctx.warning(args[i].loc, said)
            others.append((key, tuple(a.text for a in args[i + 1 : i + 1 + arity])))
            why = unsupported.BIND[key][1]
            ctx.warning(args[i].loc, unsupported.message(key, why), Kind.UNSUPPORTED)
            i += 1 + arity
        elif line:
            ctx.error(args[i].loc, f"{line}: unknown keyword '{key}'.")
            return None
        else:
            ctx.error(args[i].loc, f"'{what}' : unknown keyword '{key}'.")
            return None
    proto = typed.get("proto")
    if proto is not None and proto not in MUX_MODES:
        ctx.error(st.loc, f"'{what} {args[0].text}' : 'proto' :  unknown MUX protocol '{proto}'")
        return None
    return _make_bind(
        st, ctx, what, endpoints, typed=typed, flags=flags, others=tuple(others), arg=args[0].text
    )


def _make_bind(
    st: Statement,
    ctx: Context,
    what: str,
    endpoints: tuple[Endpoint, ...],
    *,
    typed: dict[str, str],
    flags: set[str],
    others: tuple[tuple[str, tuple[str, ...]], ...],
    arg: str,
) -> Bind | None:
    numbers: dict[str, int | None] = {}
    for key in ("maxconn", "backlog", "id"):
        if key in typed:
            numbers[key] = number(Word(typed[key], st.loc), ctx, f"{what} {key}", 0, 2**31 - 1)
    mode = None
    if "mode" in typed:
        try:
            mode = int(typed["mode"][:6], 8)
        except ValueError:
            ctx.error(st.loc, f"'{what}' : invalid mode '{typed['mode']}'")
            return None
    level = typed.get("level")
    if level is not None and level not in ("user", "operator", "admin"):
        ctx.error(st.loc, f"'level' only supports 'user', 'operator', and 'admin' (got '{level}')")
        return None
    proto = typed.get("proto")
    expose = typed.get("expose-fd")
    if expose is not None and expose != "listeners":
        ctx.error(st.loc, f"'expose-fd' only supports 'listeners' (got '{expose}')")
        return None
    return Bind(
        loc=st.loc,
        arg=arg,
        endpoints=endpoints,
        name=typed.get("name"),
        maxconn=numbers.get("maxconn"),
        id=numbers.get("id"),
        backlog=numbers.get("backlog"),
        transparent="transparent" in flags,
        accept_proxy="accept-proxy" in flags,
        v4v6="v4v6" in flags,
        v6only="v6only" in flags,
        interface=typed.get("interface"),
        level=level,
        mode=mode,
        user=typed.get("user") or typed.get("uid"),
        group=typed.get("group") or typed.get("gid"),
        expose_fd_listeners=expose == "listeners",
        proto=proto,
        others=others,
    )
