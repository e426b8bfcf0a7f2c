"""How ipvsadm writes an address:port and a service's name (ipvsadm.c).

`addrport_to_anyname`: numerically `a.b.c.d:port` / `[v6]:port` (inet_ntop), otherwise the
reverse-DNS name (numeric fallback) and the /etc/services name of the port for the
service's protocol (number fallback; fwmark services have no protocol, so their ports stay
numbers); the result lives in a 60-byte buffer, so it is cut at 59 characters.
`service_title` is the `svc_name` of `print_service_entry` for listings and for rules.
"""

# The printf formats of ipvsadm.c are kept as %-formats on purpose: they are the spec.
# ruff: noqa: UP031

from __future__ import annotations

import ipaddress

from pylvs.control.ipvsadm.command import Fmt
from pylvs.control.ipvsadm.cparse import inet_ntop
from pylvs.control.ipvsadm.resolver import PROTO_NAMES, Resolver
from pylvs.model import AF_INET6, Address, ServiceKey

_OPTION_FROM_PROTOCOL = {6: "-t", 17: "-u", 132: "--sctp-service"}
_PROTOCOL_NAME = {6: "TCP", 17: "UDP", 132: "SCTP"}


def addrport(addr: Address, port: int, proto: int, fmt: Fmt, resolver: Resolver) -> str:
    """ipvsadm.c `addrport_to_anyname`."""
    v6 = addr.version == 6
    if fmt & Fmt.NUMERIC:
        text = inet_ntop(addr)
        port_text = str(port)
    else:
        text = resolver.addr_to_host(addr) or inet_ntop(addr)
        pname = PROTO_NAMES.get(proto)
        port_text = (resolver.port_to_service(port, pname) if pname else None) or str(port)
    out = f"[{text}]:{port_text}" if v6 else f"{text}:{port_text}"
    return out[:59]


def service_title(key: ServiceKey, fmt: Fmt, resolver: Resolver) -> str:
    """`svc_name`: "TCP  1.2.3.4:80" / "FWM  7" in listings, "-t 1.2.3.4:80" / "-f 7" in rules."""
    if key.fwmark:
        mark = signed_fwmark(key.fwmark)
        if fmt & Fmt.RULE:
            return f"-f {mark} -6" if key.af == AF_INET6 else f"-f {mark}"
        return f"FWM  {mark} IPv6" if key.af == AF_INET6 else f"FWM  {mark}"
    assert key.protocol is not None and key.address is not None
    proto = int(key.protocol)
    vname = addrport(key.address, key.port, proto, fmt, resolver)
    if fmt & Fmt.RULE:
        return f"{_OPTION_FROM_PROTOCOL.get(proto, '--xxx-service')} {vname}"
    name = "%-4s %s" % (_PROTOCOL_NAME.get(proto, "?"), vname)
    return name if key.af == AF_INET6 else name[:33]


def signed_fwmark(fwmark: int) -> int:
    """The u32 fwmark as ipvsadm prints it (`%d`): marks from 2**31 up come out negative."""
    return fwmark - (1 << 32) if fwmark >= 1 << 31 else fwmark


def service_proto(key: ServiceKey) -> int:
    """The protocol number the kernel reports (none for fwmark services)."""
    return 0 if key.fwmark or key.protocol is None else int(key.protocol)


def dotted_mask(prefix: int) -> str:
    """inet_ntoa() of an IPv4 prefix length's netmask."""
    return str(ipaddress.IPv4Address((0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF))
