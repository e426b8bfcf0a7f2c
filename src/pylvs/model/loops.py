"""A real server that is a virtual service's own address: its connections loop.

Through a full-NAT proxy (pylvs's proxy data plane, HAProxy) a connection to such a real
server reaches the proxy's own listener again, is scheduled again, often to the same real
server, and so on until descriptors run out (issue 18).  Through the kernel (IPVS, nftables)
such a packet is not forwarded anywhere useful either.  `pylvs check` warns about it and
the proxy refuses those connections (pylvs.dataplane.proxy).

A real server loops when a virtual service of the same protocol listens on its port and its
address: the same address, or the unspecified one (0.0.0.0, ::) of its family for a
loopback address or another virtual service's address (both are this host's).  Services by
firewall mark and port-0 services (the proxy picks a free port) listen on no known port.
`Listening` indexes the services (a virtual_server_group's address ranges as ranges), so a
table of any size is checked in one pass over its real servers.
"""

from __future__ import annotations

from collections.abc import Iterable

from .service import Address, Protocol, ServiceKey

_Where = tuple[Protocol, int]  # protocol, port


class Listening:
    """Where virtual services listen (`add`, `add_range`), and which one a connection to an
    address and port would reach again (`target`)."""

    def __init__(self, services: Iterable[ServiceKey] = ()) -> None:
        self._exact: dict[_Where, set[Address]] = {}
        self._ranges: dict[_Where, list[tuple[int, int, int]]] = {}  # first, last, version
        self._unspecified: dict[_Where, set[int]] = {}  # versions listening on 0.0.0.0 / ::
        # This host's addresses (the services'), as a set only once one is looked up: most
        # tables have no service on an unspecified address, and hashing an address is not cheap.
        self._local: list[Address] = []
        self._local_set: set[Address] | None = None
        for key in services:
            self.add(key)

    def add(self, key: ServiceKey) -> None:
        if key.is_fwmark or key.address is None or key.protocol is None:
            return
        self.add_address(key.protocol, key.address, key.port)

    def add_address(self, protocol: Protocol, address: Address, port: int) -> None:
        """The service `protocol` `address`:`port` (`add` without making its key: a check of
        a big file adds tens of thousands)."""
        if not port:
            return
        where = (protocol, port)
        if address.is_unspecified:
            self._unspecified.setdefault(where, set()).add(address.version)
        else:
            exact = self._exact.get(where)
            if exact is None:
                exact = self._exact[where] = set()
            exact.add(address)
            self._local.append(address)
            self._local_set = None

    def add_range(self, protocol: Protocol, first: Address, last: Address, port: int) -> None:
        """A virtual_server_group line: every address from `first` to `last` on `port`."""
        if port:
            where = (protocol, port)
            self._ranges.setdefault(where, []).append((int(first), int(last), first.version))

    def target(self, protocol: Protocol, address: Address, port: int) -> ServiceKey | None:
        """The virtual service a connection to `address`:`port` would reach again, or None."""
        where = (protocol, port)
        if address in self._exact.get(where, ()):
            return ServiceKey(protocol=protocol, address=address, port=port)
        # (ranges and unspecified addresses asked only when there are: most tables have
        # neither, and int(address) and address.version are Python calls per real server)
        ranges = self._ranges.get(where)
        if ranges:
            n = int(address)
            for first, last, version in ranges:
                if version == address.version and first <= n <= last:
                    return ServiceKey(protocol=protocol, address=address, port=port)
        versions = self._unspecified.get(where)
        if (
            versions
            and address.version in versions
            and (address.is_loopback or address in self._locals())
        ):
            unspecified = "0.0.0.0" if address.version == 4 else "::"
            return ServiceKey.inet(protocol, unspecified, port)
        return None

    def _locals(self) -> set[Address]:
        if self._local_set is None:
            self._local_set = set(self._local)
        return self._local_set


def loop_target(
    protocol: Protocol, address: Address, port: int, services: Iterable[ServiceKey]
) -> ServiceKey | None:
    """The virtual service of `services` a connection to `address`:`port` would reach."""
    return Listening(services).target(protocol, address, port)
