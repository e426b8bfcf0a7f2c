"""A server named by a host name: its address at start, as HAProxy 2.6's `init-addr` finds it
(src/server.c `srv_iterate_initaddr`, `srv_init_addr`; configuration manual `init-addr`).

The methods are tried in order, `last,libc` when none is given: `last` the address the
server-state file kept for the server, `libc` the name resolved by the system's resolver
(the host-facts seam's `address_of`: this package stays pure), `none` no address, the server
starting in maintenance "resolution" (SRV_ADMF_RMAINT) until `set server B/S addr`, an IP
address that address.  A method that fails hands over to the next; past a failed `libc`,
`none` and an IP say so in a warning.  When nothing gives an address HAProxy refuses to start
("could not resolve address", or "no method found" when no method was even tried).
`haproxy -dr` appends `none` to every server's methods.

`last` is the runtime's to try (the state file is read when the backends start): here it
only marks that the file's address, when there is one, comes before what the next methods
give.  A name found only through `last` (it does not resolve and nothing follows) is refused
here: pylvs does not read the state file while it checks a configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.config.errors import Cite, Location
from pylvs.config.haproxy.model import IpAddress, Target
from pylvs.config.haproxy.values import literal_ip
from pylvs.config.keywords import Context

DEFAULT = ("last", "libc")


@dataclass(frozen=True, slots=True)
class InitAddr:
    """What a named server starts with: `ip` its address (None: none, in maintenance
    "resolution" when `none` is True), `last`: the state file's address would come first."""

    ip: IpAddress | None = None
    none: bool = False
    last: bool = False


def named(target: Target) -> bool:
    """A server address written as a host name (not an IP address, not a socket path)."""
    return target.ip is None and target.family in ("inet", "ipv4", "ipv6")


def init_addr(
    who: str, loc: Location, target: Target, methods: tuple[str, ...] | None, ctx: Context
) -> InitAddr | None:
    """The address a named server starts with; None when unknown here (no host facts to
    resolve with) or refused (the error is reported at `loc`)."""
    host = ctx.host
    steps = list(methods or DEFAULT)
    if host.resolve_dontfail:
        steps.append("none")
    last = tried = failed = False
    for step in steps:
        if step == "last":
            last = True
            continue
        if step == "libc":
            if host.address_of is None:
                return None  # this host's resolver is not asked: nothing is known
            tried = True
            text = host.address_of(target.host, target.family)
            ip = literal_ip(text) if text is not None else None
            if ip is not None:
                return InitAddr(ip, last=last)
            failed = True
            continue
        if step == "none":
            if failed:
                ctx.warning(
                    loc,
                    f"{who} : could not resolve address '{target.host}', disabling server.",
                    cite=Cite.ADDR,
                )
            return InitAddr(none=True, last=last)
        ip = literal_ip(step)
        if ip is None:
            continue  # the server line's reader refused anything else
        if failed:
            ctx.warning(
                loc,
                f"{who} : could not resolve address '{target.host}', falling back to configured"
                " address.",
                cite=Cite.ADDR,
            )
        return InitAddr(ip, last=last)
    if tried:
        ctx.error(loc, f"{who} : could not resolve address '{target.host}'.", cite=Cite.ADDR)
    else:
        what = f"{who} : no method found to resolve address '{target.host}'."
        ctx.error(loc, what, cite=Cite.ADDR)
    return None
