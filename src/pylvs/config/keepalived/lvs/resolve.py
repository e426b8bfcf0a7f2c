"""keepalived's post-parse rules for the LVS side, turning drafts into the typed model.

Follows check/ipwrapper.c `link_vsg_to_vs` and check/check_data.c `validate_check_config`
(keepalived 2.2.7), in the same order, with the same fallbacks (reference §3.9-3.11):
group lookup, no real servers -> dropped, ha_suspend with fwmarks cleared, protocol defaulted
to UDP, ops only for UDP, port 0 forces persistence 360 s, default scheduler wlc and method
NAT, duplicate real servers removed, RS <- VS inheritance, quorum/hysteresis clamps, real and
sorry server port fix-ups, then checker values (checker > RS > VS > checker default).
Those problems have no line in keepalived; pylvs reports them at the `virtual_server` or
`real_server` line.  Severity: keepalived's own "WARNING"s and defaults filled in for an
absent keyword are warnings, substituted or dropped values are errors (the issue's policy).
"""

from __future__ import annotations

from pylvs.config.errors import Location
from pylvs.config.keepalived.lvs.checks import (
    Checker,
)
from pylvs.config.keepalived.lvs.drafts import (
    LvsParts,
    Method,
    RealServerDraft,
    VirtualServerDraft,
)
from pylvs.config.keepalived.lvs.model import (
    LvsConfig,
    RealServerConf,
    SorryServer,
    VirtualServerConf,
    VirtualServerGroup,
)
from pylvs.config.keepalived.lvs.resolve_checks import Known, resolve_checker
from pylvs.config.keywords import Context
from pylvs.model.service import (
    AF_INET,
    AF_INET6,
    DEFAULT_PERSISTENCE_TIMEOUT,
    Address,
    ForwardMethod,
    Protocol,
    RealServer,
    ServiceFlags,
)


def finish(parts: LvsParts, ctx: Context, known: Known | None = None) -> LvsConfig:
    k = known or Known()
    groups = {g.name: g for g in parts.groups}
    servers = []
    # Each draft is let go as soon as its virtual server is built, so a big file's drafts and
    # its final model are never all in memory at once (the parts are not read after this).
    drafts = parts.virtual_servers
    drafts.reverse()
    while drafts:
        vs = _virtual_server(drafts.pop(), ctx, groups, k)
        if vs is not None:
            servers.append(vs)
    return LvsConfig(
        virtual_server_groups=tuple(parts.groups),
        virtual_servers=tuple(servers),
        ssl=parts.ssl,
    )


def _name(d: VirtualServerDraft) -> str:
    if d.group is not None:
        return f"[{d.group}]:{d.port}"
    if d.fwmark is not None:
        return f"FWM {d.fwmark}"
    proto = d.protocol.name.lower() if d.protocol else "none"
    return f"[{d.address}]:{proto}:{d.port}"


def _link_group(
    d: VirtualServerDraft, ctx: Context, groups: dict[str, VirtualServerGroup]
) -> VirtualServerGroup | bool | None:
    """The group of a `virtual_server group NAME` (False = drop the virtual server)."""
    if d.group is None:
        return None
    g = groups.get(d.group)
    loc = d.group_loc or d.loc
    if g is None:
        ctx.error(
            loc,
            f"Virtual server group {d.group} specified but not configured"
            f" - ignoring virtual server {_name(d)}",
        )
        return False
    v4 = any(e.first is not None and e.first.version == 4 for e in g.ranges) or any(
        e.family == AF_INET for e in g.fwmarks
    )
    v6 = any(e.first is not None and e.first.version == 6 for e in g.ranges) or any(
        e.family == AF_INET6 for e in g.fwmarks
    )
    if (v4 and d.af == AF_INET6) or (v6 and d.af == AF_INET):
        ctx.error(
            loc, f"{d.group}: address family doesn't match virtual server {_name(d)} - ignoring"
        )
        return False
    if d.af is None and v4 != v6:
        d.af = AF_INET if v4 else AF_INET6
    return g


def _virtual_server(
    d: VirtualServerDraft, ctx: Context, groups: dict[str, VirtualServerGroup], k: Known
) -> VirtualServerConf | None:
    g = None
    if d.group is not None:
        group = _link_group(d, ctx, groups)
        if group is False:
            return None
        g = group if isinstance(group, VirtualServerGroup) else None
    if not d.real_servers:
        ctx.error(d.loc, f"Virtual server {_name(d)} has no real servers - ignoring")
        return None
    has_fwmark = d.fwmark is not None or (g is not None and bool(g.fwmarks))
    by_address = (g is not None and bool(g.ranges)) or (g is None and d.fwmark is None)
    if d.ha_suspend and has_fwmark:
        ctx.error(
            d.loc,
            f"Virtual server {_name(d)}: cannot use ha_suspend with fwmarks - clearing ha_suspend",
        )
        d.ha_suspend = False
    if by_address:
        if d.protocol is None:
            ctx.warning(d.loc, f"Virtual server {_name(d)}: no protocol set - defaulting to UDP")
            d.protocol = Protocol.UDP
        if d.ops and d.protocol is not Protocol.UDP:
            ctx.error(
                d.loc, f"Virtual server {_name(d)}: one packet scheduling requires UDP - resetting"
            )
            d.ops = False
        if not d.persistence_timeout and g is None and d.fwmark is None and not d.port:
            ctx.error(
                d.loc,
                f"Virtual server {_name(d)}: zero port only valid for persistent"
                " services - setting",
            )
            d.persistence_timeout = DEFAULT_PERSISTENCE_TIMEOUT
    if not d.persistence_timeout and g is not None and any(not e.port for e in g.ranges):
        ctx.error(
            d.loc,
            f"Virtual server {_name(d)}: zero port only valid for persistent services - setting",
        )
        d.persistence_timeout = DEFAULT_PERSISTENCE_TIMEOUT
    if d.protocol is not None and has_fwmark and not (g is not None and g.ranges):
        ctx.warning(
            d.loc,
            f"Virtual server {_name(d)}: protocol specified for fwmark - protocol will be ignored",
        )
        d.protocol = None
    if d.scheduler is None:
        ctx.warning(d.loc, f"Virtual server {_name(d)}: no scheduler set, setting default 'wlc'")
        d.scheduler = "wlc"
    smtp_alert = d.smtp_alert if d.smtp_alert is not None else bool(k.smtp_alert)
    if d.af is None:
        d.af = AF_INET  # fwmark service with only tunnelled servers: keepalived's default
    real = _real_servers(d, ctx, k, g)
    _fix_quorum(d, ctx, real)
    method = d.method or Method(ForwardMethod.MASQ)
    sorry = _sorry(d, ctx, method, real) if d.sorry is not None else None
    # (an IntFlag made from 0 costs an enum look-up per virtual server)
    flags = ServiceFlags(d.sched_flags) if d.sched_flags else ServiceFlags.NONE
    if d.ops:
        flags |= ServiceFlags.ONEPACKET
    # Positional, in the fields' order (named in the comments): 32 keyword arguments cost
    # twice the whole construction, ~1 us a virtual server (bench/config_bench.py);
    # tests/unit/config/keepalived/lvs/test_lvs_resolve_fields.py checks each field.
    return VirtualServerConf(
        d.loc,  # loc
        d.address,  # address
        d.port,  # port
        d.fwmark,  # fwmark
        d.group,  # group
        d.protocol,  # protocol
        d.af,  # af
        d.scheduler,  # scheduler
        flags,  # flags
        d.persistence_timeout,  # persistence_timeout
        d.persistence_granularity,  # persistence_granularity
        d.persistence_engine,  # persistence_engine
        method.method,  # method
        method.tunnel,  # tunnel
        tuple(real),  # real_servers
        sorry,  # sorry_server
        d.delay_loop,  # delay_loop
        d.connect_timeout,  # connect_timeout
        d.retry,  # retry
        d.delay_before_retry,  # delay_before_retry
        d.warmup,  # warmup
        d.quorum,  # quorum
        d.hysteresis,  # hysteresis
        d.quorum_up,  # quorum_up
        d.quorum_down,  # quorum_down
        d.alpha,  # alpha
        d.omega,  # omega
        d.ha_suspend,  # ha_suspend
        d.inhibit,  # inhibit_on_failure
        d.virtualhost,  # virtualhost
        smtp_alert,  # smtp_alert
        d.weight,  # weight
    )


def _fix_quorum(d: VirtualServerDraft, ctx: Context, real: list[RealServerConf]) -> None:
    """The quorum is at most the real servers' total weight; the hysteresis below it."""
    weight_sum = 0
    for r in real:
        weight_sum += r.server.weight
    if d.quorum > weight_sum:
        ctx.warning(
            d.loc,
            f"Warning - quorum {d.quorum} for {_name(d)} exceeds total weight of"
            f" real servers {weight_sum}, reducing quorum to {weight_sum}",
        )
        d.quorum = weight_sum
    if d.hysteresis >= d.quorum and d.hysteresis:
        fixed = max(d.quorum - 1, 0)
        ctx.error(
            d.loc,
            f"Virtual server {_name(d)}: hysteresis {d.hysteresis} >= quorum"
            f" {d.quorum}; setting hysteresis to {fixed}",
        )
        d.hysteresis = fixed


def _vs_method(d: VirtualServerDraft, ctx: Context) -> Method:
    if d.method is None:
        ctx.warning(
            d.loc, f"Virtual server {_name(d)}: no forwarding method set, setting default NAT"
        )
        d.method = Method(ForwardMethod.MASQ)
    return d.method


def _fix_port(
    d: VirtualServerDraft,
    ctx: Context,
    port: int,
    method: ForwardMethod,
    *,
    who: Address | None,
    loc: Location,
) -> int:
    """validate_check_config's port rules for a real or sorry server (`who`: the real server's
    address, None for the sorry server); returns the port."""
    if d.group is not None:
        return port  # group members: keepalived only reports mismatches (_real_servers)
    if method is ForwardMethod.MASQ:
        return port if port or d.fwmark is not None else d.port
    if d.fwmark is not None:
        if port:
            ctx.warning(
                loc,
                f"WARNING - fwmark virtual server {_name(d)}, {_who(who)} has port specified"
                " - clearing",
            )
        return 0
    if port and port != d.port:
        ctx.warning(
            loc,
            f"WARNING - virtual server {_name(d)} and {_who(who)} ports don't match - resetting",
        )
    return d.port


def _who(address: Address | None) -> str:
    return "sorry server" if address is None else f"real server {address}"


def _real_servers(
    d: VirtualServerDraft, ctx: Context, k: Known, g: VirtualServerGroup | None
) -> list[RealServerConf]:
    out: list[RealServerConf] = []
    seen: set[tuple[object, int]] = set()
    # (one real server, the common case, needs no set: hashing an address is not cheap)
    several = len(d.real_servers) > 1
    for r in d.real_servers:
        if several:
            if (r.address, r.port) in seen:
                ctx.error(
                    r.loc,
                    f"VS {_name(d)}: real server [{r.address}]:{r.port} is duplicated"
                    " - removing second rs",
                )
                continue
            seen.add((r.address, r.port))
        method = r.method or _vs_method(d, ctx)
        port = _fix_port(d, ctx, r.port, method.method, who=r.address, loc=r.loc)
        if g is not None and method.method is not ForwardMethod.MASQ and port:
            for e in g.ranges:
                if e.port != port:
                    ctx.warning(
                        r.loc,
                        f"virtual server {_name(d)}:[{e.first}-{e.last},{e.port}]"
                        f" and real server {r.address}:{port} ports don't match",
                    )
        if out and any(x.address == r.address and x.port == port for x in out):
            ctx.error(
                r.loc,
                f"VS {_name(d)}: real server {r.address}:{port} is a duplicate once"
                " its port is set - removing",
            )
            continue
        out.append(_real_server(d, r, ctx, k, method=method, port=port))
    return out


def _real_server(
    d: VirtualServerDraft,
    r: RealServerDraft,
    ctx: Context,
    k: Known,
    *,
    method: Method,
    port: int,
) -> RealServerConf:
    smtp = r.smtp_alert
    if smtp is None:
        smtp = k.smtp_alert if k.smtp_alert is not None else True
    # (positional, in the fields' order, as VirtualServerConf in _virtual_server)
    server = RealServer(
        r.address,  # address
        port,  # port
        r.weight if r.weight is not None else d.weight,  # weight
        method.method,  # method
        r.u_threshold,  # u_threshold
        r.l_threshold,  # l_threshold
        method.tunnel if method.method is ForwardMethod.TUNNEL else None,  # tunnel
    )
    conf = RealServerConf(  # the real server's value, else the virtual server's
        r.loc,  # loc
        server,  # server
        (),  # checkers: completed below
        r.notify_up,  # notify_up
        r.notify_down,  # notify_down
        r.inhibit if r.inhibit is not None else d.inhibit,  # inhibit_on_failure
        r.alpha if r.alpha is not None else d.alpha,  # alpha
        smtp,  # smtp_alert
        r.virtualhost,  # virtualhost
        d.connect_timeout if r.connect_timeout is None else r.connect_timeout,  # connect_timeout
        r.delay_loop if r.delay_loop is not None else d.delay_loop,  # delay_loop
        r.retry if r.retry is not None else d.retry,  # retry
        d.delay_before_retry if r.delay_before_retry is None else r.delay_before_retry,
        r.warmup if r.warmup is not None else d.warmup,  # warmup
    )
    checkers: list[Checker] = []
    for c in r.checkers:
        chk = resolve_checker(c, conf, r, d, ctx=ctx, k=k)
        if chk is not None:
            checkers.append(chk)
    if checkers:
        # The checkers are resolved against the real server itself; `conf` is not seen by
        # anyone yet, so it is completed in place instead of copied (dataclasses.replace was
        # a tenth of the time of this pass).
        object.__setattr__(conf, "checkers", tuple(checkers))
    return conf


def _sorry(
    d: VirtualServerDraft, ctx: Context, vs_method: Method, real: list[RealServerConf]
) -> SorryServer | None:
    s = d.sorry
    if s is None:
        return None
    method = s.method or d.method or _vs_method(d, ctx)
    fam = AF_INET if s.address.version == 4 else AF_INET6
    if method.method is not ForwardMethod.TUNNEL and fam != d.af:
        ctx.error(
            s.loc,
            f"Address family of virtual server and sorry server {s.address} don't"
            " match - skipping sorry server.",
        )
        return None
    port = _fix_port(d, ctx, s.port, method.method, who=None, loc=s.loc)
    inhibit = s.inhibit
    for r in real:
        if r.address == s.address and r.port == port and r.inhibit_on_failure != inhibit:
            verb = "sett" if r.inhibit_on_failure else "clear"
            ctx.error(
                s.loc,
                f"Virtual server {_name(d)}: real server {r.address}:{r.port}"
                f" matches sorry server, but inhibit setting differs, {verb}ing on sorry"
                " server",
            )
            inhibit = r.inhibit_on_failure
    del vs_method
    server = RealServer(
        address=s.address,
        port=port,
        weight=1,
        method=method.method,
        tunnel=method.tunnel if method.method is ForwardMethod.TUNNEL else None,
    )
    return SorryServer(server=server, inhibit=inhibit)
