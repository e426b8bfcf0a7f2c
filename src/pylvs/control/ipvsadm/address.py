"""ipvsadm's `host[:port]` and netmask parsing (ipvsadm.c `parse_service`, `parse_netmask`).

`parse_service` rules, kept quirks included:
* a string of digits only (or an empty one) is refused;
* `[v6]:port` needs the `:port`; `[v6]` alone is refused; if the text inside the brackets
  is not IPv6 the part after `]` is dropped (`[1.2.3.4]:80` is 1.2.3.4 without a port);
* a bare IPv6 address is taken whole (no port);
* otherwise the text after the last `:` is the port; the host is inet_aton() text or a name
  resolved to its first IPv4 address;
* the port is a number 0..65535 or a service name for the service's protocol.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pylvs.control.ipvsadm.cparse import inet_aton, inet_pton6, str_is_digit, string_to_number
from pylvs.control.ipvsadm.resolver import PROTO_NAMES, Resolver
from pylvs.model import Address


@dataclass(frozen=True, slots=True)
class HostPort:
    """What `parse_service` found: the address, and the port when one was given."""

    address: Address
    port: int | None


def parse_service(buf: str, protocol: int, resolver: Resolver) -> HostPort | None:
    """None when ipvsadm's parse_service would not set SERVICE_ADDR (or failed the port)."""
    if str_is_digit(buf):
        return None
    port_text: str | None = None
    if buf.startswith("["):
        inner, bracket, after = buf[1:].partition("]")
        if not bracket or not after.startswith(":"):
            return None
        buf = inner
        port_text = after[1:]
    v6 = inet_pton6(buf)
    address: Address
    if v6 is not None:
        address = v6
    else:
        host, colon, tail = buf.rpartition(":")
        if colon:
            buf, port_text = host, tail
        else:
            port_text = None
        v4 = inet_aton(buf)
        if v4 is None:
            v4 = resolver.host_to_ipv4(buf)
        if v4 is None:
            return None
        address = v4
    if port_text is None:
        return HostPort(address, None)
    port = string_to_number(port_text, 0, 65535)
    if port == -1:
        proto = PROTO_NAMES.get(protocol)
        found = resolver.service_to_port(port_text, proto) if proto else None
        if found is None:
            return None
        port = found
    return HostPort(address, port)


def parse_netmask(buf: str, resolver: Resolver) -> int | None:
    """An IPv4 netmask as a host-order integer (inet_aton text or a host name)."""
    v4 = inet_aton(buf)
    if v4 is None:
        v4 = resolver.host_to_ipv4(buf)
    return None if v4 is None else int(v4)


def parse_mcast_group(buf: str) -> tuple[Address | None, str]:
    """--mcast-group: (group or None, the error message ipvsadm prints when None)."""
    if ":" in buf:
        v6 = inet_pton6(buf)
        if v6 is None or not v6.is_multicast:
            return None, f"invalid IPv6 mcast-group `{buf}'"
        return v6, ""
    try:
        v4 = ipaddress.IPv4Address(buf)
    except ValueError:
        v4 = None
    if v4 is None or not v4.is_multicast:
        return None, f"invalid IPv4 mcast-group `{buf}'"
    return v4, ""
