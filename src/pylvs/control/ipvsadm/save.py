"""`ipvsadm -S [-n]`: the table as ipvsadm command lines (ipvsadm.c `print_service_entry`
with FMT_RULE, `print_tunnel_rule`, `fwd_switch`).

No header or title; services and dests sorted as in listings (unless --nosort, which -S
cannot be given); `-p`/`-M` only for persistent services, u/l thresholds never saved; a
Local dest is saved as `-g`.  Addresses and ports are names unless `-n`.
"""

from __future__ import annotations

from pylvs.control.ipvsadm.command import Fmt
from pylvs.control.ipvsadm.format import (
    dest_name,
    sched_flags_text,
    sorted_dests,
    sorted_services,
)
from pylvs.control.ipvsadm.names import dotted_mask, service_title
from pylvs.control.ipvsadm.resolver import Resolver
from pylvs.model import AF_INET, AF_INET6, ForwardMethod, ServiceFlags, TunnelType
from pylvs.model.snapshot import DestView, ServiceView, Snapshot

_FWD_SWITCH = {
    ForwardMethod.MASQ: "-m",
    ForwardMethod.TUNNEL: "-i",
    ForwardMethod.LOCAL: "-g",
    ForwardMethod.ROUTE: "-g",
}
_SCHED_BITS = ServiceFlags.SCHED1 | ServiceFlags.SCHED2 | ServiceFlags.SCHED3


def service_rule(view: ServiceView, name: str) -> str:
    svc = view.service
    line = f"-A {name} -s {svc.scheduler}"
    if svc.persistent:
        line += f" -p {svc.timeout}"
        if svc.key.af == AF_INET and svc.netmask != 32:
            line += f" -M {dotted_mask(svc.netmask)}"
        if svc.key.af == AF_INET6 and svc.netmask != 128:
            line += f" -M {svc.netmask}"
    if svc.pe_name:
        line += f" --pe {svc.pe_name}"
    if svc.one_packet:
        line += " -o"
    if svc.flags & _SCHED_BITS:
        line += f" -b {sched_flags_text(svc)}"
    return line + "\n"


def dest_rule(name: str, dname: str, d: DestView) -> str:
    cfg = d.config
    line = f"-a {name} -r {dname} {_FWD_SWITCH[cfg.method]} -w {cfg.weight}"
    if cfg.method is ForwardMethod.TUNNEL:
        tun = cfg.tunnel
        if tun is None or tun.type is TunnelType.IPIP:
            line += " --tun-type ipip"
        elif tun.type is TunnelType.GUE:
            line += f" --tun-type gue --tun-port {tun.port} --tun-{tun.csum.value}"
        else:
            line += f" --tun-type gre --tun-{tun.csum.value}"
    return line + "\n"


def save(snap: Snapshot, numeric: bool, resolver: Resolver) -> str:
    """The whole -S output."""
    fmt = Fmt.RULE | (Fmt.NUMERIC if numeric else Fmt.NONE)
    out = ""
    for view in sorted_services(snap, fmt):
        name = service_title(view.service.key, fmt, resolver)
        out += service_rule(view, name)
        for d in sorted_dests(view, fmt):
            out += dest_rule(name, dest_name(view, d, fmt, resolver), d)
    return out
