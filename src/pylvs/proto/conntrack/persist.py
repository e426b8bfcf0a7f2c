"""Persistence: the template key and the schedule-through-template decision.

net/netfilter/ipvs/ip_vs_core.c `ip_vs_sched_persist` (reference §1.5):

1. `snet = client & netmask` (an IPv4 mask or an IPv6 prefix length; default /32, /128);
2. the template key is <protocol, snet, cport 0, vaddr, vport>, where vport is the packet's
   destination port when it equals the service port and the service port is not 21 (FTP),
   else 0; for a fwmark service whose port does not match, protocol becomes IPPROTO_IP (0) and
   vaddr the fwmark rendered as an address;
3. a valid template (see `ConnTable.template`) decides the destination and has its timer
   restarted; otherwise the scheduler picks and a new template is created with the service's
   persistence timeout, dport = the dest's port only when vport was kept.

A quiesced (weight 0) destination's template is still honoured unless the table's
`expire_quiescent_template` is set (sysctl default 0).  Overload is not checked: persistence
wins over the thresholds, as in the kernel.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from pylvs.model.dest import Destination
from pylvs.model.service import AF_INET, Address, VirtualService
from pylvs.proto.conntrack.table import Conn, ConnKey, ConnTable

FTP_PORT = 21
IPPROTO_IP = 0


def masked(address: Address, prefix: int) -> Address:
    """`address` with only its first `prefix` bits kept."""
    net = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    return net.network_address


def fwmark_address(fwmark: int, af: int) -> Address:
    # union nf_inet_addr fwmark = { .ip = htonl(svc->fwmark) }: the first 32 bits.
    if af == AF_INET:
        return ipaddress.IPv4Address(fwmark)
    return ipaddress.IPv6Address(fwmark << 96)


def template_key(
    service: VirtualService, protocol: int, client: Address, vaddr: Address, vport: int
) -> tuple[ConnKey, bool]:
    """The template's key for a packet, and whether the virtual port was kept in it."""
    snet = masked(client, service.netmask)
    svc_port = service.key.port
    if vport == svc_port:
        kept = svc_port != FTP_PORT
        return (protocol, snet, 0, vaddr, vport if kept else 0), kept
    if service.key.is_fwmark:
        return (IPPROTO_IP, snet, 0, fwmark_address(service.key.fwmark, service.key.af), 0), False
    return (protocol, snet, 0, vaddr, 0), False


def schedule_persistent(
    table: ConnTable,
    service: VirtualService,
    *,
    protocol: int,
    client: Address,
    vaddr: Address,
    vport: int,
    pick: Callable[[], Destination | None],
    now: float,
) -> tuple[Destination, Conn] | None:
    """The destination for a new connection of a persistent service, and its template.

    `pick` runs the service's scheduler; it is only called when no valid template exists.
    None means "no destination available".
    """
    key, kept = template_key(service, protocol, client, vaddr, vport)
    ct = table.template(key, now)
    if ct is not None:
        return ct.dest, ct
    dest = pick()
    if dest is None:
        return None
    ct = table.new_template(
        key, service.key, dest, service.timeout, dport=dest.port if kept else 0, now=now
    )
    return dest, ct
