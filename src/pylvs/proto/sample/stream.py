"""What a fetch may look at: the process, the client's session and the current stream.

HAProxy's fetches read `struct session` (the accepted connection: addresses, frontend,
listener, session variables and stick counters tracked by `tcp-request connection|session`)
and `struct stream` (one request/response exchange on it: backend and server, the HTTP
transaction with its messages, txn/req/res variables, captures, the stream's own stick
counters, unique id).  Process-wide things (proc variables, map and ACL files, stick tables,
the environment, the host name) are in `Process`.  Live counters that only the running proxy
knows (a backend's connections, a server's queue) are asked of a `Live` the driver provides.

These are mutable on purpose, like the C structs: rules edit the stream as they run.  Nothing
here reads a clock or a socket; `Stream.now` is the time the driver passes in (seconds).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from pylvs.model.tls import TlsFacts
from pylvs.proto.sample.message import HttpMessage
from pylvs.proto.sample.vars import Vars
from pylvs.proto.stick.table import Entry, StickTable

if TYPE_CHECKING:
    from pylvs.proto.sample.lua import LuaCalls

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_SESS_STKCTR = 3  # sc0, sc1, sc2 (global.tune.nb_stk_ctr)


@dataclass(frozen=True, slots=True)
class ProxyRef:
    """A frontend or backend as fetches name it (fe_name, be_id, ...)."""

    name: str
    id: int
    mode: str = "http"
    defbe: str | None = None  # a frontend's default_backend (fe_defbe)
    client_timeout_ms: int | None = None
    server_timeout_ms: int | None = None
    tunnel_timeout_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ServerRef:
    """A server as fetches name it (srv_name, srv_id, ...)."""

    name: str
    id: int
    address: Address | None = None
    port: int | None = None
    weight: int = 1  # the configured weight (srv_iweight)


class Live(Protocol):
    """Counters only the running proxy knows (be_conn, srv_conn, queue, nbsrv...).

    `backend` and `server` name them; a method returns None when the name is unknown at
    run time (the fetch then has no sample)."""

    def backend_conn(self, backend: str) -> int | None: ...

    def backend_queue(self, backend: str) -> int | None: ...

    def backend_servers_up(self, backend: str) -> int | None: ...

    def backend_free_slots(self, backend: str) -> int | None: ...

    def backend_sess_rate(self, backend: str) -> int | None: ...

    def frontend_conn(self, frontend: str) -> int | None: ...

    def frontend_sess_rate(self, frontend: str) -> int | None: ...

    def frontend_req_rate(self, frontend: str) -> int | None: ...

    def server_conn(self, backend: str, server: str) -> int | None: ...

    def server_queue(self, backend: str, server: str) -> int | None: ...

    def server_sess_rate(self, backend: str, server: str) -> int | None: ...

    def server_up(self, backend: str, server: str) -> bool | None: ...

    def server_weight(self, backend: str, server: str) -> int | None: ...

    def listener_conn(self, frontend: str) -> int | None: ...


class Process:
    """Process-wide state the fetches and converters reach (see the module doc)."""

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        hostname: str = "localhost",
        pid: int = 1,
        live: Live | None = None,
        rand: random.Random | None = None,
    ) -> None:
        self.vars = Vars()
        self.env: dict[str, str] = dict(env or {})
        self.hostname = hostname
        self.pid = pid
        self.live = live
        self.rand = rand or random.Random()
        self.tables: dict[str, StickTable] = {}
        # `cache` sections: name -> proto/cache/store.HttpCache (the cache actions')
        self.caches: dict[str, object] = {}
        self.start = 0.0  # the process start time (seconds), for %Tl and uptime
        self.log_counter = 0  # %lc
        self.stream_counter = 0  # %rt, uniq_id
        self.lua: LuaCalls | None = None  # the Lua engine running `lua.NAME` (engine/lua)
        self.dns: object | None = None  # the running resolvers do-resolve asks (DnsCalls)


@dataclass(slots=True)
class Tracked:
    """A tracked stick counter: the entry a `track-scN` rule took and its table."""

    table: StickTable
    entry: Entry


class Session:
    """One accepted client connection (struct session)."""

    def __init__(
        self,
        process: Process,
        frontend: ProxyRef,
        *,
        src: Address | None = None,
        src_port: int = 0,
        dst: Address | None = None,
        dst_port: int = 0,
        listener: str | None = None,
        accept_time: float = 0.0,
    ) -> None:
        self.process = process
        self.frontend = frontend
        # Three levels of addresses, as HAProxy 2.5+ keeps them: the connection's (fc_src:
        # the socket's, as `tcp-request connection set-src` leaves them), the session's
        # (src as `tcp-request session` rules and a PROXY header leave it) and each stream's
        # (Stream.src: content and http-request rules), each level starting from the one
        # below (sess_get_src, sc_get_src; src/tcp_act.c tcp_action_req_set_src).
        self.src, self.src_port = src, src_port
        self.dst, self.dst_port = dst, dst_port
        self.fc_src, self.fc_src_port = src, src_port
        self.fc_dst, self.fc_dst_port = dst, dst_port
        # PROXY v2 TLVs the client's header carried (fc_pp_authority, fc_pp_unique_id)
        self.pp_authority: bytes | None = None
        self.pp_unique_id: bytes | None = None
        self.listener = listener  # the bind's `name` (so_name)
        self.accept_time = accept_time
        self.vars = Vars()
        self.sc: list[Tracked | None] = [None] * MAX_SESS_STKCTR
        self.requests = 0  # HTTP requests seen on this connection (http_first_req)
        self.tls: TlsFacts | None = None  # a TLS bind's handshake (fetch_ssl.py)


@dataclass(slots=True)
class Captures:
    """`capture request|response header` slots and `http-request capture ... id N`."""

    request: list[bytes | None] = field(default_factory=list)
    response: list[bytes | None] = field(default_factory=list)
    request_len: list[int] = field(default_factory=list)  # each slot's declared length
    response_len: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, request_len: list[int], response_len: list[int]) -> Captures:
        return cls([None] * len(request_len), [None] * len(response_len), request_len, response_len)


class Stream:
    """One request/response exchange (struct stream + struct http_txn)."""

    def __init__(
        self,
        sess: Session,
        *,
        now: float = 0.0,
        request: HttpMessage | None = None,
        response: HttpMessage | None = None,
    ) -> None:
        self.sess = sess
        self.now = now
        # the stream's addresses (sc_src/sc_dst): the session's until a content or
        # http-request rule sets them
        self.src, self.src_port = sess.src, sess.src_port
        self.dst, self.dst_port = sess.dst, sess.dst_port
        self.backend: ProxyRef | None = None
        self.server: ServerRef | None = None
        self.request = request
        self.response = response
        self.req_body: bytes | None = None  # the buffered request body (req.body)
        self.res_body: bytes | None = None
        self.req_payload = b""  # raw bytes seen by tcp-request content (req.payload)
        self.bc_tls: TlsFacts | None = None  # the server connection's handshake (ssl_bc*)
        self.res_payload = b""
        self.final = True  # no more data will come (SMP_OPT_FINAL)
        self.in_response = False  # response rules are running (SMP_OPT_DIR_RES)
        self.vars = {"txn": Vars(), "req": Vars(), "res": Vars()}
        self.sc: list[Tracked | None] = list(sess.sc)
        self.captures = Captures()
        self.unique_id: bytes | None = None
        # how the frontend builds it (`unique-id-format`), for the fetch's first use
        self.make_unique_id: Callable[[Stream], bytes] | None = None
        self.last_rule: tuple[str, int] | None = None  # (file, line) of the last final rule
        self.status = 0  # txn->status: the status sent (or to send) to the client
        self.log_level: int | None = None
        self.timeouts: dict[str, int] = {}  # set-timeout server|tunnel|client
        self.http_first = sess.requests <= 1
        # a `lua.NAME` action that yielded (core.sleep): its coroutine, resumed when the rule
        # runs again (engine/lua)
        self.lua_pending: object = None
        self.lua_priv: object = None  # txn:set_priv's value, for every Lua call of the stream
        self.lua_chn: object = None  # txn.req / txn.res as Lua scripts changed them
        self.uniq_id = 0
        # the response's compression algorithm once the filter chose to compress it
        # (res.comp, res.comp_algo: dataplane/haproxy/http/compress.py)
        self.comp_algo: str | None = None
        # what cache-use/cache-store left (proto/rules/cache_actions.CacheState)
        self.cache_state: object = None
        # Captured once the request is parsed, as HAProxy logs them (%r, %HM, capture.req.*)
        self.orig_method: bytes | None = None
        self.orig_uri: bytes | None = None
        self.orig_version: bytes | None = None

    @property
    def process(self) -> Process:
        return self.sess.process

    @property
    def frontend(self) -> ProxyRef:
        return self.sess.frontend

    def scope(self, scope: str) -> Vars | None:
        """The variables of `scope` (None for `check.`, which streams do not have)."""
        if scope == "proc":
            return self.sess.process.vars
        if scope == "sess":
            return self.sess.vars
        return self.vars.get(scope)

    def remember_request(self) -> None:
        """Keep the request line as received (HAProxy's logs and capture.req.* read it)."""
        if self.request is not None:
            self.orig_method = self.request.method
            self.orig_uri = self.request.uri
            self.orig_version = self.request.version
