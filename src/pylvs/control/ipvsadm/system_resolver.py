"""The host's resolver (gethostbyname, /etc/services) behind the `Resolver` interface.

This is the only module of the package that does I/O; everything else takes a `Resolver`.
"""

from __future__ import annotations

import ipaddress
import socket

from pylvs.control.ipvsadm.resolver import Resolver
from pylvs.model import Address


def _host_to_ipv4(name: str) -> ipaddress.IPv4Address | None:
    """ipvsadm.c `host_to_addr`: gethostbyname()'s first address if it is IPv4, or nothing.

    gethostbyname_ex() ends in the C library's gethostbyname_r, so it refuses what ipvsadm's
    gethostbyname() refuses: getaddrinfo(AF_INET) alone would map an IPv4-mapped IPv6
    literal (`::ffff:1.2.3.4`) to 1.2.3.4, which ipvsadm reports as an illegal address.
    """
    try:
        addrs = socket.gethostbyname_ex(name)[2]
        return ipaddress.IPv4Address(addrs[0]) if addrs else None
    except (OSError, UnicodeError, ValueError):  # herror/gaierror, IDNA, NUL, not IPv4
        return None


def _service_to_port(name: str, proto: str) -> int | None:
    try:
        return socket.getservbyname(name, proto)
    except (OSError, UnicodeError):
        return None


def _addr_to_host(addr: Address) -> str | None:
    try:
        return socket.gethostbyaddr(str(addr))[0]
    except (OSError, UnicodeError):
        return None


def _port_to_service(port: int, proto: str) -> str | None:
    try:
        return socket.getservbyport(port, proto)
    except (OSError, OverflowError):
        return None


def system_resolver() -> Resolver:
    return Resolver(
        host_to_ipv4=_host_to_ipv4,
        service_to_port=_service_to_port,
        addr_to_host=_addr_to_host,
        port_to_service=_port_to_service,
    )
