"""The host's resolver (getaddrinfo, /etc/services) behind the `Resolver` interface.

This is the only module of the package that does I/O; everything else takes a `Resolver`.
"""

from __future__ import annotations

import ipaddress
import socket

from pylvs.control.ipvsadm.resolver import Resolver
from pylvs.model import Address


def _host_to_ipv4(name: str) -> ipaddress.IPv4Address | None:
    # gethostbyname() semantics: the first IPv4 address, or nothing.
    try:
        infos = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    for info in infos:
        return ipaddress.IPv4Address(info[4][0])
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
