"""The load-balancing interface every algorithm implements, and what a pick may look at.

One interface for the IPVS schedulers (`sched/ipvs/`, the kernel's `struct ip_vs_scheduler`:
add_dest, del_dest, upd_dest, schedule) and HAProxy's balance algorithms (`sched/haproxy/`,
`struct lbprm`'s callbacks in include/haproxy/backend-t.h: set_server_status_up/down,
update_server_eweight, server_take_conn/server_drop_conn, and the lookup functions of
src/lb_*.c).  An algorithm is bound to one pool of servers (a virtual service, a backend) and
is *told* about every change, so `pick()` need not rescan what did not change:

* `server_added` / `server_removed`: the pool's list gained or lost a server (ipvsadm -a / -d);
* `server_up` / `server_down`: a server became usable for load balancing or stopped being so
  (health, maintenance, drain); the caller has already changed the server's state;
* `weight_changed`: its weight changed (ipvsadm -e, `set server B/S weight`, slowstart);
* `conn_taken` / `conn_dropped`: a connection was assigned to it or released by it (the
  connection-counting HAProxy algorithms reposition the server; IPVS schedulers read the
  counters the connection table keeps instead, so theirs do nothing);
* `pick(servers, flow, now, avoid)`: the server for a new connection, or None.

Every hook gets the pool's servers in *list order*: newest first for IPVS (the kernel inserts a
new dest at the head of `svc->destinations`), declaration order for HAProxy; each family's
tie-breaks follow its order.  The caller owns the list and the server objects; algorithms keep
derived state only.  The server type is the family's (`model.dest.Destination` for IPVS,
`sched.haproxy.server.Server` for HAProxy), hence the type parameter.

Each algorithm declares what it `need`s from a connection before it can pick
(include/haproxy/backend-t.h BE_LB_NEED_*): nothing, its addresses, some payload (rdp-cookie,
`balance hash` on a payload sample), or a parsed HTTP request (uri, url_param, hdr).  A data
plane that cannot supply a need must not use the algorithm; one that can, waits for it and fills
`Flow.payload` / `Flow.request` / `Flow.sample`.

Algorithms are pure: they never read the clock (`now` is passed in) and take randomness from
the `random.Random` they are given, so tests are deterministic.  The registry of algorithms by
namespaced name (`ipvs:wrr`, `haproxy:roundrobin`) is `sched.registry`.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from pylvs.model.service import Address

S = TypeVar("S")


class Need(enum.Flag):
    """What an algorithm must see of a connection before it picks (BE_LB_NEED_*)."""

    NONE = 0
    ADDRESS = enum.auto()  # the source or destination address (sh, dh, mh, source)
    PAYLOAD = enum.auto()  # the first bytes of the request (rdp-cookie, hash on payload)
    HTTP = enum.auto()  # a parsed HTTP request (uri, url_param, hdr)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """The parts of an HTTP request the balance algorithms (and stick rules) look at.

    `uri` is the request-target exactly as received (origin form `/a/b?x=1` or absolute form
    `http://host/a/b?x=1`); `path` is HAProxy's `path` (the part from the first slash after
    any scheme and authority, up to the `?`), `query` what follows the first `?` (None when
    there is none).  `headers` keep their order and spelling; lookups ignore case.  `cookies`
    are the `name=value` pairs of every Cookie header, in order.  Text is the bytes as received,
    decoded as latin-1 (so hashing them encodes them back unchanged).  Build one with `of()`.
    """

    method: str
    uri: str
    path: str
    query: str | None
    version: str = "HTTP/1.1"
    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls,
        method: str,
        uri: str,
        headers: Sequence[tuple[str, str]] = (),
        version: str = "HTTP/1.1",
    ) -> HttpRequest:
        """A request from its start line and header list; path, query and cookies derived."""
        full = request_path(uri)
        path, sep, query = full.partition("?")
        cookies: list[tuple[str, str]] = []
        for name, value in headers:
            if name.lower() == "cookie":
                cookies.extend(_cookie_pairs(value))
        return cls(
            method,
            uri,
            path,
            query if sep else None,
            version,
            tuple(headers),
            tuple(cookies),
        )

    def header(self, name: str) -> str | None:
        """The value of the first header called `name` (any case), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def cookie(self, name: str) -> str | None:
        """The value of the first cookie called `name` (exact case, as HAProxy compares)."""
        for key, value in self.cookies:
            if key == name:
                return value
        return None


def request_path(uri: str) -> str:
    """http.c http_parse_path(): the path and query of a request-target ("" if it has none).

    Origin form is returned as is; absolute form loses its `scheme://authority`; the
    authority form (CONNECT) and `*` have no path.
    """
    if uri.startswith("/"):
        return uri
    if uri == "*" or not uri:
        return ""
    scheme_end = uri.find("://")
    if scheme_end <= 0:
        return ""
    slash = uri.find("/", scheme_end + 3)
    return "" if slash < 0 else uri[slash:]


def _cookie_pairs(value: str) -> list[tuple[str, str]]:
    pairs = []
    for item in value.split(";"):
        name, sep, val = item.strip().partition("=")
        if sep and name:
            pairs.append((name.strip(), val.strip()))
    return pairs


@dataclass(frozen=True, slots=True)
class Flow:
    """What an algorithm may look at in a new connection (or request).

    The addresses are always there.  `payload` (the first bytes the client sent), `request`
    (the parsed HTTP request) and `sample` (the value of a `balance hash <expr>` expression,
    fetched by the runtime, which owns sample fetches) are filled by the data plane for the
    algorithms whose `need` asks for them; they stay empty otherwise.
    """

    client: Address  # source address (sh, mh, source hash it)
    client_port: int  # source port (sh-port, mh-port)
    vaddr: Address  # destination address of the packet (lblc, lblcr, dh hash it)
    vport: int
    protocol: int = 6
    payload: bytes = b""
    request: HttpRequest | None = None
    sample: bytes | None = None


class Balancer(abc.ABC, Generic[S]):
    """One load-balancing algorithm bound to one pool of servers (see the module doc).

    The default hooks recompute everything through `rebuild`; algorithms with incremental
    state override them.  `avoid` is the server a redispatch moves away from (HAProxy's
    `srvtoavoid`): it is picked only if nothing else can be.
    """

    namespace: ClassVar[str]
    name: ClassVar[str]
    need: ClassVar[Need] = Need.NONE

    @classmethod
    def qualified_name(cls) -> str:
        return f"{cls.namespace}:{cls.name}"

    def rebuild(self, servers: Sequence[S]) -> None:
        """Recompute derived state from the whole list (ip_vs_*_init_svc, *_init_server_*)."""

    def server_added(self, servers: Sequence[S], server: S) -> None:
        """`server` was inserted into `servers` (already in the list)."""
        self.rebuild(servers)

    def server_removed(self, servers: Sequence[S], server: S, index: int) -> None:
        """`server`, which was at `index`, was removed (no longer in `servers`)."""
        self.rebuild(servers)

    def server_up(self, servers: Sequence[S], server: S) -> None:
        """`server`'s state changed so that it may be usable again (set_server_status_up)."""
        self.weight_changed(servers, server)

    def server_down(self, servers: Sequence[S], server: S) -> None:
        """`server`'s state changed so that it may no longer be usable (set_server_status_down)."""
        self.weight_changed(servers, server)

    def weight_changed(self, servers: Sequence[S], server: S) -> None:
        """`server`'s weight (or thresholds) changed (upd_dest, update_server_eweight)."""
        self.rebuild(servers)

    def conn_taken(self, server: S) -> None:
        """A connection was assigned to `server`, whose counters already include it."""

    def conn_dropped(self, server: S) -> None:
        """A connection of `server` ended; its counters no longer include it."""

    @abc.abstractmethod
    def pick(
        self, servers: Sequence[S], flow: Flow, now: float, avoid: S | None = None
    ) -> S | None:
        """The server for a new connection, or None ("no server available")."""
