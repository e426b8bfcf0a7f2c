"""The hashing balance algorithms: `source`, `uri`, `url_param`, `hdr`, `rdp-cookie`, `hash`.

Each turns something of the connection into a 32-bit hash (src/backend.c get_server_sh, _uh,
_ph, _ph_post, _hh, _rch, _expr) and looks it up in the server map (`hash-type map-based`,
slot `hash % total weight`) or on the ring (`hash-type consistent`).  The hash is the backend's
function (`sdbm` unless `hash-type` names another) of the key, then `full_hash` with
`avalanche`; `source` has no function: it XORs the address's 32-bit words.  With only one
usable server there is nothing to hash (the hash is 0).  When the key is missing -- no HTTP
request, no such parameter or header, no RDP cookie, no sample -- assign_server falls back to
round robin over the same map or ring.

Keys:
* source: the client address;
* uri: the request-target (or its path and query with `path-only`), up to the `?` unless
  `whole`, at most `len` characters, and up to the `depth`-th directory;
* url_param: the value of the first `<name>=` parameter of the query (and, for a POST that has
  none, of the body's first bytes, `Flow.payload`), up to the next `&`;
* hdr(<name>): the first value of the first such header (`use_domain_only`: the label before
  the last dot-separated part, so `www.example.com` hashes `example`);
* rdp-cookie(<name>): the `Cookie: <name>=<value>\r\n` line of an RDP connection request, read
  from `Flow.payload` at offset 11 (payload.c fetch_rdp_cookie_name);
* hash <expr>: `Flow.sample`, the expression's value as the runtime fetched it.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import ClassVar

from pylvs.sched.base import Flow, Need, request_path
from pylvs.sched.haproxy.algorithm import Algorithm
from pylvs.sched.haproxy.chash import Ring
from pylvs.sched.haproxy.hashes import full_hash, gen_hash
from pylvs.sched.haproxy.lbmap import ServerMap
from pylvs.sched.haproxy.params import LbParams
from pylvs.sched.haproxy.server import Server
from pylvs.sched.registry import register

M32 = 0xFFFFFFFF


class HashAlgorithm(Algorithm):
    """A key hashed onto the map or the ring, round robin when there is no key."""

    need: ClassVar[Need] = Need.PAYLOAD
    ring: Ring | None = None
    map: ServerMap | None = None

    def rebuild(self, servers: Sequence[Server]) -> None:
        if self.lb.params.consistent:
            self.ring, self.map = Ring(), None
            self.ring.build(self.lb)
        else:
            self.ring, self.map = None, ServerMap()
            self.map.recalc(self.lb)

    def _changed(self, server: Server, down: bool = False) -> None:
        if self.ring is not None:
            if down:
                self.ring.dequeue(server)
            else:
                self.ring.queue(server)
        else:
            assert self.map is not None
            self.map.recalc(self.lb)

    def server_added(self, servers: Sequence[Server], server: Server) -> None:
        if self.ring is not None:
            server.lb_tree = self.ring.bck if server.backup else self.ring.act
            server.lb_nodes, server.lb_nodes_now = [], 0

    def server_removed(self, servers: Sequence[Server], server: Server, index: int) -> None:
        if self.ring is not None:
            self.ring.dequeue(server)
        elif self.map is not None:
            self.map.recalc(self.lb)

    def server_up(self, servers: Sequence[Server], server: Server) -> None:
        self._changed(server)

    def server_down(self, servers: Sequence[Server], server: Server) -> None:
        self._changed(server, down=True)

    def weight_changed(self, servers: Sequence[Server], server: Server) -> None:
        self._changed(server)

    @abc.abstractmethod
    def key_hash(self, flow: Flow) -> int | None:
        """The connection's hash, or None when its key is missing."""

    def _finish(self, h: int) -> int:
        return full_hash(h) if self.lb.params.avalanche else h

    def _hash(self, data: bytes) -> int:
        p = self.lb.params
        h = gen_hash(p.hash_function, data)
        return full_hash(h) if p.avalanche else h

    def _lookup(self, h: int, avoid: Server | None) -> Server | None:
        if self.ring is not None:
            return self.ring.get_hash(self.lb, h, avoid)
        assert self.map is not None
        return self.map.get_hash(self.lb, h)

    def pick(
        self,
        servers: Sequence[Server],
        flow: Flow,
        now: float,
        avoid: Server | None = None,
    ) -> Server | None:
        if not self.lb.tot_weight:
            return None
        h = self.key_hash(flow)
        server = self._lookup(h, avoid) if h is not None else None
        if server is None:  # no key: round robin over the same lookup
            if self.ring is not None:
                return self.ring.get_next(self.lb, avoid, now)
            assert self.map is not None
            return self.map.get_rr(self.lb, avoid, now)
        return server


@register
class Source(HashAlgorithm):
    name = "source"
    need = Need.ADDRESS

    def key_hash(self, flow: Flow) -> int | None:
        """get_server_sh: the XOR of the address's big-endian 32-bit words."""
        if self.lb.tot_used == 1:
            return 0
        value = int(flow.client)
        h = 0
        while value:
            h ^= value & M32
            value >>= 32
        return self._finish(h)


@register
class Uri(HashAlgorithm):
    name = "uri"
    need = Need.HTTP

    def key_hash(self, flow: Flow) -> int | None:
        request = flow.request
        if request is None:
            return None
        if self.lb.tot_used == 1:
            return 0
        p = self.lb.params
        uri = request_path(request.uri) if p.uri_path_only else request.uri
        return self._hash(uri_key(uri, p).encode("latin-1", "replace"))


def uri_key(uri: str, p: LbParams) -> str:
    """get_server_uh's part of the URI: `len`, then up to the (depth+1)-th slash, and up to
    the `?` unless `whole`."""
    if p.uri_len:
        uri = uri[: p.uri_len]
    stop_at = p.uri_depth + 1 if p.uri_depth else 0
    slashes = 0
    for i, c in enumerate(uri):
        if c == "/":
            slashes += 1
            if slashes == stop_at:
                return uri[:i]
        elif c == "?" and not p.uri_whole:
            return uri[:i]
    return uri


@register
class UrlParam(HashAlgorithm):
    name = "url_param"
    need = Need.HTTP

    def key_hash(self, flow: Flow) -> int | None:
        request = flow.request
        if request is None:
            return None
        name = self.lb.params.name.encode()
        uri = request.uri.encode("latin-1", "replace")
        q = uri.find(b"?")
        value = param_value(uri[q + 1 :], name) if q >= 0 else None
        if value is None and request.method == "POST":
            value = post_param_value(flow.payload, name)
        return None if value is None else self._hash(value)


def param_value(params: bytes, name: bytes) -> bytes | None:
    """get_server_ph: the value of the first `name=` among `&`-separated parameters."""
    plen = len(name)
    while len(params) > plen:
        if params[plen : plen + 1] == b"=" and params[:plen] == name:
            value = params[plen + 1 :]
            end = value.find(b"&")
            return value if end < 0 else value[:end]
        amp = params.find(b"&")
        if amp < 0:
            return None
        params = params[amp + 1 :]
    return None


_TOKEN = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def post_param_value(body: bytes, name: bytes) -> bytes | None:
    """get_server_ph_post: as `param_value` in a urlencoded body; a byte that is not a token
    character ends the value if it is blank, and means "not parameters" otherwise."""
    plen = len(name)
    params = body
    while len(params) > plen:
        if params[plen : plen + 1] == b"=" and params[:plen] == name:
            value = params[plen + 1 :]
            # HAProxy tests the byte at the value's start on every step (it never advances
            # that pointer), so only the first byte decides.
            end = 0
            while end < len(value) and value[end : end + 1] != b"&":
                if value[0] not in _TOKEN:
                    if value[0] in b" \t\r\n":
                        break
                    return None
                end += 1
            return value[:end]
        amp = params.find(b"&")
        if amp < 0:
            return None
        params = params[amp + 1 :]
    return None


@register
class Hdr(HashAlgorithm):
    name = "hdr"
    need = Need.HTTP

    def key_hash(self, flow: Flow) -> int | None:
        request = flow.request
        if request is None:
            return None
        if self.lb.tot_used == 1:
            return 0
        p = self.lb.params
        raw = request.header(p.name)
        value = raw.split(",")[0].strip(" \t") if raw is not None else ""
        if not value:
            return None
        if p.use_domain_only:
            value = domain_part(value)
        return self._hash(value.encode("latin-1", "replace"))


def domain_part(host: str) -> str:
    """get_server_hh's use_domain_only: the label before the last dot (all of it if none)."""
    end = len(host)
    last_dot = host.rfind(".")
    if last_dot < 0:
        return host
    end = last_dot
    start = host.rfind(".", 0, end) + 1
    return host[start:end]


@register
class RdpCookie(HashAlgorithm):
    name = "rdp-cookie"

    def key_hash(self, flow: Flow) -> int | None:
        value = rdp_cookie(flow.payload, self.lb.params.name.encode())
        if not value:
            return None
        if self.lb.tot_used == 1:
            return 0
        return self._hash(value)


def rdp_cookie(data: bytes, name: bytes) -> bytes | None:
    """payload.c fetch_rdp_cookie_name: `Cookie: <name>=<value>\\r\\n` after the 11-byte
    TPKT and X.224 headers; the name compared without case."""
    rest = data[11:]
    if len(data) <= 11 or len(rest) <= 7 or rest[:7].lower() != b"cookie:":
        return None
    rest = rest[7:].lstrip(b" ")
    if name:
        if len(rest) <= len(name) or rest[len(name) : len(name) + 1] != b"=":
            return None
        if rest[: len(name)].lower() != name.lower():
            return None
        rest = rest[len(name) + 1 :]
    else:
        eq = rest.find(b"=")
        if eq < 0 or b"\r" in rest[:eq] or b"\n" in rest[:eq]:
            return None
        rest = rest[eq + 1 :]
    cr = rest.find(b"\r")
    if cr < 0 or rest[cr : cr + 2] != b"\r\n":
        return None
    return rest[:cr]


@register
class SampleHash(HashAlgorithm):
    name = "hash"

    def key_hash(self, flow: Flow) -> int | None:
        if self.lb.tot_used == 1:
            return 0
        if flow.sample is None:
            return None
        return self._hash(flow.sample)
