"""How the load-balancing contract suite drives each family of algorithms.

A kit makes an algorithm of its family by registered name with an empty pool, and performs the
operations the interface has hooks for -- add, remove, mark down / up, change a weight, take and
drop a connection -- the way that family's runtime does (change the server, then call the hook).
It also says which servers a pick may return (`eligible`) and when an algorithm may answer None
although some server is eligible (`may_miss`).
"""

from __future__ import annotations

import abc
import ipaddress
import random
from dataclasses import dataclass, field
from typing import Any

from pylvs.model.dest import Destination
from pylvs.model.service import Protocol, RealServer, ServiceFlags, ServiceKey, VirtualService
from pylvs.sched import ipvs
from pylvs.sched.base import Balancer


@dataclass
class Pool:
    name: str
    balancer: Balancer[Any]
    servers: list[Any] = field(default_factory=list)
    known: list[Any] = field(default_factory=list)  # every server ever made, in or out


class Kit(abc.ABC):
    namespace: str

    @abc.abstractmethod
    def create(self, name: str, rng: random.Random) -> Pool: ...

    @abc.abstractmethod
    def new_server(self, pool: Pool, weight: int) -> Any: ...

    @abc.abstractmethod
    def add(self, pool: Pool, server: Any) -> None: ...

    def remove(self, pool: Pool, server: Any) -> None:
        index = next(i for i, s in enumerate(pool.servers) if s is server)
        del pool.servers[index]
        pool.balancer.server_removed(pool.servers, server, index)

    @abc.abstractmethod
    def down(self, pool: Pool, server: Any) -> None: ...

    @abc.abstractmethod
    def up(self, pool: Pool, server: Any) -> None: ...

    @abc.abstractmethod
    def set_weight(self, pool: Pool, server: Any, weight: int) -> None: ...

    @abc.abstractmethod
    def take(self, pool: Pool, server: Any) -> None: ...

    @abc.abstractmethod
    def drop(self, pool: Pool, server: Any) -> None: ...

    @abc.abstractmethod
    def eligible(self, pool: Pool, server: Any) -> bool: ...

    def may_miss(self, pool: Pool) -> bool:
        return False


class IpvsKit(Kit):
    """Dests newest first; down = quiesced (weight 0), as keepalived's inhibit_on_failure."""

    namespace = "ipvs"
    FALLBACK = frozenset({"sh", "mh"})  # run with SCHED1 (*-fallback)

    def create(self, name: str, rng: random.Random) -> Pool:
        key = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
        bare = name.partition(":")[2]
        flags = ServiceFlags.SCHED1 if bare in self.FALLBACK else ServiceFlags.NONE
        service = VirtualService(key, scheduler=bare, flags=flags)
        return Pool(name, ipvs.create(service, [], rng))

    def new_server(self, pool: Pool, weight: int) -> Destination:
        i = len(pool.known) + 1
        address = ipaddress.IPv4Address(0xC0A80000 + i)
        dest = Destination(RealServer(address, 80, weight=weight))
        pool.known.append(dest)
        return dest

    def add(self, pool: Pool, server: Destination) -> None:
        pool.servers.insert(0, server)
        pool.balancer.server_added(pool.servers, server)

    def down(self, pool: Pool, server: Destination) -> None:
        server.weight = 0
        pool.balancer.server_down(pool.servers, server)

    def up(self, pool: Pool, server: Destination) -> None:
        server.weight = server.last_weight
        pool.balancer.server_up(pool.servers, server)

    def set_weight(self, pool: Pool, server: Destination, weight: int) -> None:
        server.weight = weight
        if weight:
            server.last_weight = weight
        pool.balancer.weight_changed(pool.servers, server)

    def take(self, pool: Pool, server: Destination) -> None:
        server.bind(active=True)
        pool.balancer.conn_taken(server)

    def drop(self, pool: Pool, server: Destination) -> None:
        server.unbind(active=True)
        pool.balancer.conn_dropped(server)

    def eligible(self, pool: Pool, server: Destination) -> bool:
        ok = server.weight > 0 and not server.overloaded
        if pool.name == "ipvs:ovf":
            ok = ok and server.activeconns <= server.weight
        return ok

    def may_miss(self, pool: Pool) -> bool:
        return pool.name == "ipvs:dh"  # no fallback: the hashed bucket's owner or nothing


KITS: dict[str, Kit] = {"ipvs": IpvsKit()}


def kit_for(name: str) -> Kit:
    return KITS[name.partition(":")[0]]
