"""Name look-ups ipvsadm does, as an injected value so the parser and printers stay pure.

ipvsadm.c calls gethostbyname() (`host_to_addr`: first IPv4 address only), getservbyname()
(`service_to_port`), gethostbyaddr() (`addr_to_host`) and getservbyport() (`port_to_service`).
`NUMERIC` answers none of them, which is what tests and `-n` want; `pylvs.control.ipvsadm.
system_resolver` builds one that asks the host's resolver.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from pylvs.model import Address


def _no_host(_name: str) -> ipaddress.IPv4Address | None:
    return None


def _no_port(_name: str, _proto: str) -> int | None:
    return None


def _no_name(_addr: Address) -> str | None:
    return None


def _no_service(_port: int, _proto: str) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class Resolver:
    """The four look-ups; each returns None when the name is unknown.

    `proto` is "tcp", "udp" or "sctp" as in /etc/services.
    """

    host_to_ipv4: Callable[[str], ipaddress.IPv4Address | None] = _no_host
    service_to_port: Callable[[str, str], int | None] = _no_port
    addr_to_host: Callable[[Address], str | None] = _no_name
    port_to_service: Callable[[int, str], str | None] = _no_service


NUMERIC = Resolver()

PROTO_NAMES = {6: "tcp", 17: "udp", 132: "sctp"}
