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
from pylvs.sched.haproxy import Admin, HashType, LbParams, Server
from pylvs.sched.haproxy import Pool as HaproxyPool


@dataclass
class Pool:
    name: str
    balancer: Balancer[Any]
    servers: list[Any] = field(default_factory=list)
    known: list[Any] = field(default_factory=list)  # every server ever made, in or out
    runtime: Any = None  # the family's driver, where it has one (haproxy: sched.haproxy.Pool)


class Kit(abc.ABC):
    namespace: str

    @abc.abstractmethod
    def create(self, name: str, rng: random.Random) -> Pool: ...

    @abc.abstractmethod
    def new_server(self, pool: Pool, weight: int, plain: bool = False) -> Any:
        """A new server; `plain`: an ordinary one (the kit may otherwise vary its kind)."""

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

    def honours_avoid(self, name: str) -> bool:
        return False

    def saturate(self, pool: Pool, server: Any) -> bool:
        """Make `server` full (its connection limit reached); False if the family has none
        that the contract can rely on."""
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

    def new_server(self, pool: Pool, weight: int, plain: bool = False) -> Destination:
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


class HaproxyKit(Kit):
    """Servers in declaration order, driven through `sched.haproxy.Pool` as a runtime would.

    Every third server has a maxconn of 1 and every fourth is a backup (unless `plain`); hash
    algorithms run map-based or consistent by the seed, and every other seed turns on
    `option allbackups`.  Backends with a static algorithm cannot add or remove servers at run
    time (HAProxy refuses), so there the kit rebuilds the pool, as a reload would.
    """

    namespace = "haproxy"
    HASHING = frozenset({"source", "uri", "url_param", "hdr", "rdp-cookie", "hash"})

    def create(self, name: str, rng: random.Random) -> Pool:
        algorithm = name.partition(":")[2]
        seed = rng.getrandbits(8)
        params = LbParams(
            algorithm=algorithm,
            hash_type=HashType.CONSISTENT if seed & 1 else HashType.MAP_BASED,
            name={"url_param": "id", "hdr": "host", "rdp-cookie": "mstshash"}.get(algorithm, ""),
            allbackups=bool(seed & 2),
            draws=1 + seed % 3,
        )
        runtime = HaproxyPool([], params, rng)
        return Pool(name, runtime.algorithm, runtime.servers, runtime=runtime)

    def new_server(self, pool: Pool, weight: int, plain: bool = False) -> Server:
        n = len(pool.known) + 1
        server = Server(
            f"s{n}",
            weight,
            backup=not plain and n % 4 == 0,
            maxconn=1 if not plain and n % 3 == 0 else 0,
        )
        pool.known.append(server)
        return server

    def _reload(self, pool: Pool, servers: list[Server]) -> None:
        old = pool.runtime
        runtime = HaproxyPool(servers, old.params, old.algorithm.rng)
        pool.runtime, pool.balancer, pool.servers = runtime, runtime.algorithm, runtime.servers

    def add(self, pool: Pool, server: Server) -> None:
        if pool.runtime.params.dynamic:
            pool.runtime.add_server(server, 0.0)
        else:
            self._reload(pool, [*pool.servers, server])

    def remove(self, pool: Pool, server: Server) -> None:
        if pool.runtime.params.dynamic:
            pool.runtime.set_admin(server, Admin.FMAINT, 0.0)  # `del server` wants it
            pool.runtime.remove_server(server)
        else:
            self._reload(pool, [s for s in pool.servers if s is not server])

    def down(self, pool: Pool, server: Server) -> None:
        if server.puid % 2:
            pool.runtime.set_admin(server, Admin.FMAINT, 0.0)
        else:
            pool.runtime.mark_down(server, 0.0)

    def up(self, pool: Pool, server: Server) -> None:
        pool.runtime.clear_admin(server, Admin.FMAINT, 0.0)
        pool.runtime.mark_up(server, 0.0)

    def set_weight(self, pool: Pool, server: Server, weight: int) -> None:
        pool.runtime.change_weight(server, str(weight), 0.0)

    def take(self, pool: Pool, server: Server) -> None:
        pool.runtime.take_conn(server)

    def drop(self, pool: Pool, server: Server) -> None:
        pool.runtime.drop_conn(server)

    def eligible(self, pool: Pool, server: Server) -> bool:
        runtime: HaproxyPool = pool.runtime
        lb = runtime.lb
        algorithm = pool.name.partition(":")[2]
        if not server.currently_usable():
            return False
        if lb.srv_act:
            if server.backup:
                return False
        elif (
            lb.fbck is not None
            and server is not lb.fbck
            # A map built for fbck's weight holds the other usable backups too
            # (recalc_server_map), so static-rr and map-based hashing may use them.
            and not (server.backup and not runtime.params.consistent and _uses_map(algorithm))
        ):
            return False
        if algorithm in self.HASHING or (lb.fbck is not None and not lb.srv_act):
            return True  # hash lookups and fbck ignore load
        if algorithm == "leastconn":
            room = server.served + server.queued < lb.dynamic_maxconn(server, 0.0) + server.maxqueue
            return not server.maxconn or room
        return lb.has_room(server, 0.0)

    def saturate(self, pool: Pool, server: Server) -> bool:
        server.maxconn = server.minconn = server.served + 1
        pool.runtime.take_conn(server)
        return True

    def may_miss(self, pool: Pool) -> bool:
        # random keeps the least loaded of its draws and gives up if that one is full.
        return pool.name == "haproxy:random"

    def honours_avoid(self, name: str) -> bool:
        return name.partition(":")[2] not in self.HASHING


def _uses_map(algorithm: str) -> bool:
    return algorithm == "static-rr" or algorithm in HaproxyKit.HASHING


KITS: dict[str, Kit] = {"ipvs": IpvsKit(), "haproxy": HaproxyKit()}


def kit_for(name: str) -> Kit:
    return KITS[name.partition(":")[0]]
