"""Address, route and rule lines (reference §3.7) for virtual_* and static_* blocks.

Addresses follow vrrp/vrrp_ipaddress.c `parse_ipaddress` / `alloc_ipaddress`: the family comes
from the text (a ':' means IPv6), a bad prefix length is reported and the host length used, a
bad address drops the line, unknown words are reported and ignored.  Routes and rules take the
`ip route` / `ip rule` words of vrrp/vrrp_iproute.c `alloc_route` and vrrp/vrrp_iprule.c
`alloc_rule`; the main fields are typed, the rest kept as (keyword, value) pairs.
"""

from __future__ import annotations

import ipaddress

from pylvs.config.keepalived.vrrp.common import IFNAMSIZ, check_interface
from pylvs.config.keepalived.vrrp.model import (
    Interface,
    Network,
    VirtualAddress,
    VirtualRoute,
    VirtualRule,
)
from pylvs.config.keywords import Context
from pylvs.config.keywords.values import integer
from pylvs.config.tree import Statement, Word
from pylvs.model.service import Address

SCOPES = {"global": "global", "site": "site", "link": "link", "host": "host", "nowhere": "nowhere"}
SCOPE_NUMBERS = {"0": "global", "200": "site", "253": "link", "254": "host", "255": "nowhere"}


def parse_prefixed(word: Word, ctx: Context, text: str | None = None) -> Interface | None:
    """`ADDR[/LEN]`; a bad LEN is reported and the host length used (parse_ipaddress)."""
    text = word.text if text is None else text
    addr_text, slash, plen = text.partition("/")
    try:
        addr = ipaddress.ip_address(addr_text)
    except ValueError:
        ctx.error(word.loc, f"VRRP parsed invalid IP {text}. skipping IP...")
        return None
    width = addr.max_prefixlen
    length: int = width
    if slash:
        if plen.isascii() and plen.isdigit() and len(plen) <= 3 and int(plen) <= width:
            length = int(plen)
        else:
            ctx.error(
                word.loc, f"Invalid address prefix len {plen} for address {text} - using {width}"
            )
    return ipaddress.ip_interface(f"{addr}/{length}")


def _addr(word: Word, ctx: Context, what: str) -> Address | None:
    try:
        return ipaddress.ip_address(word.text)
    except ValueError:
        ctx.error(word.loc, f"invalid {what} '{word.text}'")
        return None


def parse_address(stmt: Statement, ctx: Context, *, static: bool) -> VirtualAddress | None:  # noqa: C901 - alloc_ipaddress's options in keepalived's order
    """One line of virtual_ipaddress / static_ipaddress: `ADDR[/LEN] [options...]`."""
    words = (stmt.keyword, *stmt.args)
    ip = parse_prefixed(words[0], ctx)
    if ip is None:
        return None
    opts: dict[str, object] = {}
    i = 1
    while i < len(words):
        w = words[i]
        key = w.text
        flag = {
            "home": "home",
            "-nodad": "nodad",
            "mngtmpaddr": "mngtmpaddr",
            "noprefixroute": "noprefixroute",
            "autojoin": "autojoin",
            "no_track": "no_track",
        }.get(key)
        if flag is not None:
            opts[flag] = True
            i += 1
            continue
        if key == "use_vmac" and not static:
            opts["use_vmac"] = True
            i += 1
            continue
        takes_value = key in {"dev", "scope", "broadcast", "brd", "label", "peer", "preferred_lft"}
        takes_value = takes_value or (static and key == "track_group")
        if not takes_value:
            ctx.error(w.loc, f"Unknown configuration entry '{key}' for ip address - ignoring")
            i += 1
            continue
        if i + 1 >= len(words):
            ctx.error(w.loc, f"No {key} parameter specified for {words[0].text}")
            break
        v = words[i + 1]
        i += 2
        if key == "dev":
            if "dev" in opts:
                ctx.error(
                    v.loc, f"Cannot specify ipaddress device more than once for {words[0].text}"
                )
                return None
            check_interface(v, ctx, f"ip address {words[0].text}")
            opts["dev"] = v.text
        elif key == "scope":
            scope = SCOPES.get(v.text) or SCOPE_NUMBERS.get(v.text)
            if scope is None:
                ctx.error(
                    v.loc, f"Invalid scope '{v.text}' specified for {words[0].text} - ignoring"
                )
            else:
                opts["scope"] = scope
        elif key in ("broadcast", "brd"):
            if ip.version == 6:
                ctx.error(
                    v.loc,
                    f"cannot assign a broadcast to the IPv6 address {words[0].text} - skipping VIP",
                )
                return None
            if v.text in ("+", "-"):
                opts["brd_mode"] = v.text
            else:
                brd = _addr(v, ctx, "broadcast address")
                if brd is None or brd.version != 4:
                    if brd is not None:
                        ctx.error(v.loc, f"invalid broadcast {v.text} - skipping VIP")
                    return None
                opts["broadcast"] = brd
            opts["brd_loc"] = v
        elif key == "label":
            if len(v.text) >= IFNAMSIZ:
                ctx.error(
                    v.loc,
                    f"Address label {v.text} is "
                    f"longer than maximum length {IFNAMSIZ - 1} - removing address",
                )
                return None
            opts["label"] = v.text
        elif key == "peer":
            if "peer" in opts:
                ctx.error(v.loc, f"Peer {v.text} - another peer has already been specified")
                continue
            peer = parse_prefixed(v, ctx)
            if peer is None:
                continue
            if peer.version != ip.version:
                ctx.error(v.loc, f"Peer address {v.text} does not match address family")
                continue
            if "/" in words[0].text:
                ctx.error(
                    v.loc, "Cannot specify address prefix when specifying peer address - ignoring"
                )
            opts["peer"] = peer
        elif key == "preferred_lft":
            if v.text == "forever":
                opts["preferred_lft"] = None
            else:
                lft = integer(v, ctx, 0, 2**32 - 1, "preferred_lft")
                if lft is not None:
                    opts["preferred_lft"] = lft
        else:  # track_group
            opts["track_group"] = v.text
    return _finish_address(stmt, ctx, ip, opts, words[0])


def _finish_address(
    stmt: Statement, ctx: Context, ip: Interface, opts: dict[str, object], first: Word
) -> VirtualAddress | None:
    brd = opts.get("broadcast")
    brd_mode = opts.get("brd_mode")
    if "peer" in opts and (brd is not None or brd_mode is not None):
        ctx.error(
            first.loc, "Cannot specify broadcast and peer addresses - ignoring broadcast address"
        )
        brd, brd_mode = None, None
    if brd_mode is not None:
        if ip.network.prefixlen > 30:
            ctx.error(
                first.loc, f"Address prefix length {ip.network.prefixlen} too long for broadcast"
            )
            brd = None
        elif brd_mode == "+":
            brd = ip.network.broadcast_address
        else:
            brd = ip.network.network_address
    scope = str(opts.get("scope", "global"))
    label = opts.get("label")
    if ip.version == 6:
        if "scope" in opts:
            ctx.error(
                first.loc,
                f"Cannot specify scope for IPv6 addresses ({first.text}) - ignoring scope",
            )
            scope = "global"
        if label is not None:
            ctx.error(
                first.loc,
                f"Cannot specify label for IPv6 addresses ({first.text}) - ignoring label",
            )
            label = None
    if opts.get("use_vmac") and "dev" not in opts:
        ctx.error(first.loc, "use_vmac for a address requires an interface")
    # IPv6 /128 addresses are added deprecated (preferred_lft 0) by keepalived
    default_lft = 0 if ip.version == 6 and ip.network.prefixlen == 128 else None
    lft = opts.get("preferred_lft", default_lft)
    return VirtualAddress(
        address=ip,
        broadcast=brd,  # type: ignore[arg-type]
        dev=opts.get("dev"),  # type: ignore[arg-type]
        scope=scope,
        label=label,  # type: ignore[arg-type]
        peer=opts.get("peer"),  # type: ignore[arg-type]
        home=bool(opts.get("home")),
        nodad=bool(opts.get("nodad")),
        mngtmpaddr=bool(opts.get("mngtmpaddr")),
        noprefixroute=bool(opts.get("noprefixroute")),
        autojoin=bool(opts.get("autojoin")),
        no_track=bool(opts.get("no_track")),
        preferred_lft=lft,  # type: ignore[arg-type]
        use_vmac=bool(opts.get("use_vmac")),
        track_group=opts.get("track_group"),  # type: ignore[arg-type]
        loc=stmt.loc,
    )


ROUTE_TYPES = frozenset(
    {
        "unicast",
        "blackhole",
        "unreachable",
        "prohibit",
        "throw",
        "local",
        "broadcast",
        "multicast",
        "anycast",
        "nat",
    }
)
ROUTE_VALUE_KEYS = frozenset(
    {
        "src", "via", "gw", "dev", "oif", "table", "metric", "priority", "preference", "tos",
        "dsfield", "protocol", "proto", "scope", "mtu", "advmss", "rtt", "rttvar", "reordering",
        "window", "cwnd", "initcwnd", "initrwnd", "ssthresh", "realms", "rto_min", "features",
        "quickack", "congctl", "pref", "fastopen_no_cookie", "expires", "from", "hoplimit",
        "ttl-propagate", "track_group", "vrf", "to",
    }
)  # fmt: skip
ROUTE_FLAGS = frozenset({"onlink", "no_track", "inet6", "inet", "append", "lock"})


def _network(word: Word, ctx: Context) -> Network | None:
    ip = parse_prefixed(word, ctx)
    return None if ip is None else ip.network


def parse_route(stmt: Statement, ctx: Context, *, static: bool) -> VirtualRoute | None:  # noqa: C901 - alloc_route's options in keepalived's order
    """One virtual_routes / static_routes line [vrrp/vrrp_iproute.c `alloc_route`]."""
    words = (stmt.keyword, *stmt.args)
    dest: Network | None = None
    have_dest = False
    rtype = "unicast"
    fields: dict[str, str] = {}
    addrs: dict[str, Address] = {}
    options: list[tuple[str, str]] = []
    flags: set[str] = set()
    i = 0
    ok = True
    while i < len(words):
        w = words[i]
        key = w.text
        if key in ROUTE_TYPES and not have_dest and i == 0:
            rtype = key
            i += 1
            continue
        if key in ROUTE_FLAGS:
            flags.add(key)
            i += 1
            continue
        if key == "nexthop":  # a multipath route: the rest of the line are nexthop options
            options.append(("nexthop", " ".join(x.text for x in words[i + 1 :])))
            break
        if key == "or" and i + 1 < len(words):  # `via A or B`: an alternative gateway
            options.append(("or", words[i + 1].text))
            i += 2
            continue
        if key in ROUTE_VALUE_KEYS and not (key == "track_group" and not static):
            if i + 1 >= len(words):
                ctx.error(w.loc, f"route keyword {key} needs a value")
                return None
            v = words[i + 1]
            i += 2
            if key == "to":
                have_dest = True
                dest = _dest(v, ctx)
                ok = ok and (dest is not None or v.text in ("default", "any", "all"))
            elif key in ("src", "via", "gw", "from"):
                a = _addr(v, ctx, f"route {key} address")
                if a is None:
                    ok = False
                else:
                    addrs["via" if key == "gw" else key] = a
            elif key in ("metric", "priority", "preference"):
                m = integer(v, ctx, 0, 2**32 - 1, "route metric")
                if m is not None:
                    fields["metric"] = str(m)
            elif key in ("dev", "oif"):
                check_interface(v, ctx, "route")
                fields["dev"] = v.text
            elif key in ("table", "scope", "track_group"):
                fields[key] = v.text
            elif key in ("protocol", "proto"):
                fields["protocol"] = v.text
            else:
                options.append((key, v.text))
            continue
        if not have_dest:
            have_dest = True
            dest = _dest(w, ctx)
            if dest is None and w.text not in ("default", "any", "all"):
                ctx.error(w.loc, f"unknown route keyword {key}")
                ok = False
            i += 1
            continue
        ctx.error(w.loc, f"unknown route keyword {key}")
        i += 1
    if not ok:
        return None
    if not have_dest:
        ctx.error(stmt.loc, "route has no destination")
        return None
    tracked = "no_track" not in flags and "dev" in fields
    if "dev" not in fields and "no_track" not in flags and not static:
        # vrrp_iproute.c: a route without `dev` cannot be watched for deletion
        ctx.warning(stmt.loc, "cannot track a route with no interface specified, not tracking")
    metric = fields.get("metric")
    return VirtualRoute(
        destination=dest,
        route_type=rtype,
        via=addrs.get("via"),
        src=addrs.get("src"),
        dev=fields.get("dev"),
        table=fields.get("table"),
        metric=int(metric) if metric is not None else None,
        scope=fields.get("scope"),
        protocol=fields.get("protocol"),
        options=tuple(options),
        no_track=not tracked,
        track_group=fields.get("track_group"),
        loc=stmt.loc,
    )


def _dest(word: Word, ctx: Context) -> Network | None:
    if word.text in ("default", "any", "all"):
        return None
    probe = Context(host=ctx.host)
    net = _network(word, probe)
    if probe.problems.has_errors() and net is None:
        return None
    ctx.problems.extend(probe.problems)
    return net


RULE_VALUE_KEYS = frozenset(
    {
        "from", "to", "table", "lookup", "preference", "priority", "order", "iif", "oif", "tos",
        "dsfield", "fwmark", "realms", "goto", "uidrange", "protocol", "ip_proto", "sport",
        "dport", "suppress_prefixlength", "suppress_ifgroup", "track_group", "ipproto",
    }
)  # fmt: skip
RULE_ACTIONS = frozenset({"blackhole", "prohibit", "unreachable", "nop"})
RULE_FLAGS = frozenset({"no_track", "inet6", "inet", "not", "l3mdev"})


def parse_rule(stmt: Statement, ctx: Context, *, static: bool) -> VirtualRule | None:  # noqa: C901 - alloc_rule's options in keepalived's order
    """One virtual_rules / static_rules line [vrrp/vrrp_iprule.c `alloc_rule`]."""
    words = (stmt.keyword, *stmt.args)
    nets: dict[str, Network | None] = {}
    fields: dict[str, str] = {}
    options: list[tuple[str, str]] = []
    flags: set[str] = set()
    action = "table"
    pref: int | None = None
    i = 0
    while i < len(words):
        w = words[i]
        key = w.text
        if key in RULE_FLAGS:
            flags.add(key)
            i += 1
            continue
        if key in RULE_ACTIONS:
            action = key
            i += 1
            continue
        if key not in RULE_VALUE_KEYS or (key == "track_group" and not static):
            ctx.error(w.loc, f"Unknown rule option {key}")
            return None
        if i + 1 >= len(words):
            ctx.error(w.loc, f"rule keyword {key} needs a value")
            return None
        v = words[i + 1]
        i += 2
        if key in ("from", "to"):
            if v.text == "all":
                nets[key] = None
                continue
            ip = parse_prefixed(v, ctx)
            if ip is None:
                return None
            nets[key] = ip.network
        elif key in ("preference", "priority", "order"):
            pref = integer(v, ctx, 0, 2**32 - 1, "rule preference")
        elif key in ("table", "lookup"):
            fields["table"] = v.text
        elif key == "goto":
            action = "goto"
            options.append((key, v.text))
        elif key == "track_group":
            fields["track_group"] = v.text
        else:
            if key in ("iif", "oif"):
                check_interface(v, ctx, "rule")
            options.append((key, v.text))
    versions = {n.version for n in nets.values() if n is not None}
    if len(versions) > 1:
        ctx.error(stmt.loc, "rule from and to addresses are of different families")
        return None
    family = versions.pop() if versions else (6 if "inet6" in flags else 4)
    if pref is None:
        ctx.warning(stmt.loc, "rule has no preference; it should have one (keepalived.conf(5))")
    return VirtualRule(
        family=family,
        from_net=nets.get("from"),
        to_net=nets.get("to"),
        table=fields.get("table"),
        preference=pref,
        action=action,
        options=tuple(options),
        no_track="no_track" in flags,
        track_group=fields.get("track_group"),
        loc=stmt.loc,
    )
