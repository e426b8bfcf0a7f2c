"""`ipvsadm -L` / `-l` listings, byte for byte (ipvsadm.c `list_all`, `list_service`,
`print_title`, `print_service_entry`, `print_largenum`, `list_timeout`, `list_daemon`).

The title is chosen by the first of --stats, --rate, --thresholds, --persistent-conn,
--tun-info; the service line is the default one except for --stats/--rate; printf formats
are kept as they are, trailing blanks of `%-10u` at the end of lines included.
`-S` (FMT_RULE) shares the service walk and lives in `save`.
"""

# The printf formats of ipvsadm.c are kept as %-formats on purpose: they are the spec.
# ruff: noqa: UP031

from __future__ import annotations

from pylvs.control.ipvsadm.command import Fmt
from pylvs.control.ipvsadm.cparse import inet_ntop
from pylvs.control.ipvsadm.messages import NO_SUCH_SERVICE, Failure, list_error
from pylvs.control.ipvsadm.names import addrport, dotted_mask, service_proto, service_title
from pylvs.control.ipvsadm.resolver import Resolver
from pylvs.control.ipvsadm.sorting import cmp_dests, cmp_services, glibc_msort
from pylvs.model import (
    AF_INET,
    AF_INET6,
    Address,
    ForwardMethod,
    ServiceFlags,
    ServiceKey,
    TunnelCsum,
    TunnelType,
    VirtualService,
)
from pylvs.model.conn import Timeouts
from pylvs.model.service import SCHED_FLAG_MASK
from pylvs.model.snapshot import DestView, ServiceView, Snapshot

_TUNFLAGS = {TunnelCsum.NOCSUM: "-c", TunnelCsum.CSUM: "+c", TunnelCsum.REMCSUM: "r+c"}


def largenum(i: int, fmt: Fmt) -> str:
    """ipvsadm.c `print_largenum`."""
    if fmt & Fmt.EXACT:
        n = len(str(i))
        return "%*d" % (9 if n <= 8 else n + 1, i)
    if i < 100_000_000:
        return "%9d" % i
    if i < 1_000_000_000:
        return "%8dK" % (i // 1000)
    if i < 100_000_000_000:
        return "%8dM" % (i // 1_000_000)
    if i < 100_000_000_000_000:
        return "%8dG" % (i // 1_000_000_000)
    return "%8dT" % (i // 1_000_000_000_000)


def title(fmt: Fmt) -> str:
    """ipvsadm.c `print_title`."""
    remote = "  -> RemoteAddress:Port\n"
    head = "Prot LocalAddress:Port"
    if fmt & Fmt.STATS:
        cols = ("Conns", "InPkts", "OutPkts", "InBytes", "OutBytes")
        return "%-33s %8s %8s %8s %8s %8s\n" % (head, *cols) + remote
    if fmt & Fmt.RATE:
        cols = ("CPS", "InPPS", "OutPPS", "InBPS", "OutBPS")
        return "%-33s %8s %8s %8s %8s %8s\n" % (head, *cols) + remote
    if fmt & Fmt.THRESHOLDS:
        return (
            "%-33s %-10s %-10s %-10s %-10s\n"
            % (head, "Uthreshold", "Lthreshold", "ActiveConn", "InActConn")
            + remote
        )
    if fmt & Fmt.PERSISTENTCONN:
        return (
            "%-33s %-9s %-11s %-10s %-10s\n"
            % (head, "Weight", "PersistConn", "ActiveConn", "InActConn")
            + remote
        )
    if fmt & Fmt.TUN_INFO:
        return (
            "Prot LocalAddress:Port Scheduler Flags\n"
            "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
        )
    if fmt & Fmt.RULE:
        return ""
    return (
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
    )


def sched_flags_text(svc: VirtualService) -> str:
    """ipvsadm.c `print_sched_flags`: sh and mh name only their two flags, others flag-N."""
    if svc.scheduler in ("sh", "mh"):
        names = [(ServiceFlags.SCHED1, "fallback"), (ServiceFlags.SCHED2, "port")]
        return ",".join(f"{svc.scheduler}-{n}" for bit, n in names if svc.flags & bit)
    bits = (ServiceFlags.SCHED1, ServiceFlags.SCHED2, ServiceFlags.SCHED3)
    return ",".join(f"flag-{i}" for i, bit in enumerate(bits, 1) if svc.flags & bit)


def _service_line(view: ServiceView, name: str, fmt: Fmt) -> str:
    svc = view.service
    if fmt & (Fmt.STATS | Fmt.RATE):
        s = view.stats
        r = view.rates
        values = (
            (s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes)
            if fmt & Fmt.STATS
            else (r.cps, r.inpps, r.outpps, r.inbps, r.outbps)
        )
        return "%-33s" % name + "".join(largenum(v, fmt) for v in values) + "\n"
    line = f"{name} {svc.scheduler}"
    if svc.flags & SCHED_FLAG_MASK:  # "()" when the set bits have no name (sh/mh flag-3)
        line += f" ({sched_flags_text(svc)})"
    if svc.persistent:
        line += f" persistent {svc.timeout}"
        if svc.key.af == AF_INET and svc.netmask != 32:
            line += f" mask {dotted_mask(svc.netmask)}"
        if svc.key.af == AF_INET6 and svc.netmask != 128:
            line += f" mask {svc.netmask}"
        if svc.pe_name:
            line += f" pe {svc.pe_name}"
    if svc.one_packet:
        line += " ops"
    return line + "\n"


def tun_info(d: DestView) -> str:
    """ipvsadm.c `fwd_tun_info` (or "n/a")."""
    cfg = d.config
    if cfg.method is not ForwardMethod.TUNNEL:
        return "n/a"
    tun = cfg.tunnel
    if tun is None or tun.type is TunnelType.IPIP:
        return "ipip"
    if tun.type is TunnelType.GUE:
        return f"gue:{tun.port}:{_TUNFLAGS[tun.csum]}"[:15]
    return f"gre:{_TUNFLAGS[tun.csum]}"


def _dest_line(d: DestView, dname: str, fmt: Fmt) -> str:
    cfg = d.config
    if fmt & Fmt.STATS:
        s = d.stats
        nums = (s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes)
        return "  -> %-28s" % dname + "".join(largenum(v, fmt) for v in nums) + "\n"
    if fmt & Fmt.RATE:
        r = d.rates
        head = "  -> %-28s %8d %8d %8d" % (dname, r.cps, r.inpps, r.outpps)
        return head + largenum(r.inbps, fmt) + largenum(r.outbps, fmt) + "\n"
    if fmt & Fmt.THRESHOLDS:
        return "  -> %-28s %-10d %-10d %-10d %-10d\n" % (
            dname, cfg.u_threshold, cfg.l_threshold, d.activeconns, d.inactconns,
        )  # fmt: skip
    if fmt & Fmt.PERSISTENTCONN:
        return "  -> %-28s %-9d %-11d %-10d %-10d\n" % (
            dname, cfg.weight, d.persistconns, d.activeconns, d.inactconns,
        )  # fmt: skip
    if fmt & Fmt.TUN_INFO:
        return "  -> %-28s %-7s %-13s %-6d %-10d %-10d\n" % (
            dname, cfg.method.value, tun_info(d), cfg.weight, d.activeconns, d.inactconns,
        )  # fmt: skip
    return "  -> %-28s %-7s %-6d %-10d %-10d\n" % (
        dname, cfg.method.value, cfg.weight, d.activeconns, d.inactconns,
    )  # fmt: skip


def sorted_dests(view: ServiceView, fmt: Fmt) -> list[DestView]:
    """The dests in print order: kernel order, or ipvs_cmp_dests order unless --nosort."""
    if fmt & Fmt.NOSORT:
        return list(view.dests)

    def key(d: DestView) -> tuple[int, Address, int]:
        af = AF_INET6 if d.config.address.version == 6 else AF_INET
        return (af, d.config.address, d.config.port)

    return glibc_msort(list(view.dests), lambda a, b: cmp_dests(key(a), key(b)))


def dest_name(view: ServiceView, d: DestView, fmt: Fmt, resolver: Resolver) -> str:
    proto = service_proto(view.service.key)
    name = addrport(d.config.address, d.config.port, proto, fmt, resolver)
    if not fmt & Fmt.RULE and d.config.address.version != 6:
        name = name[:28]
    return name


def service_entry(view: ServiceView, fmt: Fmt, resolver: Resolver) -> str:
    """ipvsadm.c `print_service_entry` for listings (not FMT_RULE)."""
    out = _service_line(view, service_title(view.service.key, fmt, resolver), fmt)
    for d in sorted_dests(view, fmt):
        out += _dest_line(d, dest_name(view, d, fmt, resolver), fmt)
    return out


def sorted_services(snap: Snapshot, fmt: Fmt) -> list[ServiceView]:
    if fmt & Fmt.NOSORT:
        return list(snap.services)
    return glibc_msort(list(snap.services), lambda a, b: cmp_services(a.service.key, b.service.key))


def header(snap: Snapshot) -> str:
    major, minor, patch = snap.version
    return f"IP Virtual Server version {major}.{minor}.{patch} (size={snap.conn_tab_size})\n"


def list_all(snap: Snapshot, fmt: Fmt, resolver: Resolver) -> str:
    """ipvsadm.c `list_all` for -L (header, title, every service)."""
    out = header(snap) + title(fmt)
    for view in sorted_services(snap, fmt):
        out += service_entry(view, fmt, resolver)
    return out


def find_service(snap: Snapshot, key: ServiceKey) -> ServiceView | None:
    for view in snap.services:
        if view.service.key == key:
            return view
    return None


def list_service(snap: Snapshot, key: ServiceKey, fmt: Fmt, resolver: Resolver) -> str | Failure:
    """ipvsadm.c `list_service` (-L -t ...): no header; "No such service", exit 1, if absent."""
    view = find_service(snap, key)
    if view is None:
        return list_error(NO_SUCH_SERVICE)
    return title(fmt) + service_entry(view, fmt, resolver)


def list_timeout(timeouts: Timeouts) -> str:
    return f"Timeout (tcp tcpfin udp): {timeouts.tcp} {timeouts.tcp_fin} {timeouts.udp}\n"


def list_daemon(snap: Snapshot) -> str:
    """ipvsadm.c `list_daemon`: master first, then backup; nothing when none runs."""
    out = ""
    for state in ("master", "backup"):
        for d in snap.daemons:
            if d.state != state:
                continue
            out += f"{state} sync daemon (mcast={d.mcast_ifn}, syncid={d.syncid}"
            if d.sync_maxlen:
                out += f", maxlen={d.sync_maxlen}"
            if d.mcast_group is not None:
                out += f", group={inet_ntop(d.mcast_group)}"
            if d.mcast_port:
                out += f", port={d.mcast_port}"
            if d.mcast_ttl:
                out += f", ttl={d.mcast_ttl}"
            out += ")\n"
    return out
