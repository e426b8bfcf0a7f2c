"""A frontend at run time: its listening sockets, its connection limits and rules.

One `FrontendListener` per address and port of every `bind` (a port range is one socket per
port, as HAProxy binds them).  Accepting follows src/listener.c: a frontend at its `maxconn`
(or the process at the global `maxconn`) stops accepting and lets clients wait in the
listen backlog until a stream ends; the descriptor cap of dataplane/proxy/descriptors.py
holds too.  Each accepted connection goes through the frontend's rules (accept.py: `tcp-request
connection` rules, the PROXY header with `accept-proxy` or `expect-proxy`, `tcp-request
session` rules), then its stream through the content phase (inspect.py: `tcp-request content`
with the inspect delay, `use_backend`, the backend's content rules, `use-server`) and starts
an `HaSession` on the backend.  A frontend without rules skips all of it: its connections go
straight to the default backend, a few attribute reads per connection.  A `mode http`
frontend's connection starts an `HttpSession` after its session rules instead (http/: the
content phase and everything after it run per request).
"""

from __future__ import annotations

import _socket
import asyncio
import functools
import ipaddress
import select
import socket
from typing import TYPE_CHECKING

from pylvs.dataplane.proxy.accept import Acceptor
from pylvs.dataplane.proxy.context import ProxyContext
from pylvs.dataplane.proxy.sockets import close_with_reset
from pylvs.model.proxy_spec import BindSpec, ConnFacts, FrontendSpec, ListenAddress
from pylvs.model.service import Address
from pylvs.model.stats import Counters
from pylvs.model.tls import TlsFacts
from pylvs.proto import proxyproto
from pylvs.proto.http.h1counters import H1Counters
from pylvs.proto.http2.counters import H2Counters
from pylvs.proto.rules import counters
from pylvs.proto.sample.stream import Session, Stream

from . import accept, inspect, plain, tls_hooks
from .backend import seconds
from .http import own
from .http.stream import HttpSession
from .http2.front import H2Front
from .rules import Rate
from .session import HaSession
from .streamlog import FrontendLog

if TYPE_CHECKING:
    from pylvs.dataplane.proxy.tcp import TcpRelay

    from .runtime import ProxyRuntime

_parse_address = functools.lru_cache(maxsize=4096)(ipaddress.ip_address)
_NO_ADDRESS = ipaddress.IPv4Address(0)  # a unix listener's own (never a stream's)
READ = 0x1
PROXY_HEADER_TIMEOUT = 5.0  # HAProxy waits `timeout client` at most; pylvs caps the wait
# conn_recv_proxy peeks one buffer (tune.bufsize): a v2 header with TLVs longer than that
# never completes and times out
PROXY_HEADER_PEEK = 16384


class Frontend:
    """What the listeners of one frontend share: its spec, backends and counts."""

    def __init__(self, spec: FrontendSpec, runtime: ProxyRuntime) -> None:
        self.spec = spec
        self.runtime = runtime
        self.listeners: list[FrontendListener] = []
        self.conns = 0  # live streams
        self.max_conns = 0
        self.counters = Counters()  # bytes relayed for its streams (the relays count them)
        self.h2 = H2Counters()  # its HTTP/2 connections' (show stat's h2_* columns)
        self.h1 = H1Counters()  # its HTTP/1 connections' (h1_*: http/stream.py, passing.py)
        self.total = 0  # streams accepted (stot)
        self.denied = 0  # refused by tcp-request connection rules (denied_conn)
        self.denied_sess = 0  # by tcp-request session rules
        self.denied_req = 0  # by tcp-request content rules
        self.denied_resp = 0  # its streams' responses a tcp-response content rule rejected
        self.sess_rate = Rate()  # fe_sess_rate
        self.conn_rate = Rate()  # fe_conn_per_sec: every accepted connection
        self.req_rate = Rate()  # fe_req_rate: the HTTP driver counts each request
        self.maxconn = spec.maxconn
        self.client_s = seconds(spec.client_ms)
        self.client_fin_s = seconds(spec.client_fin_ms)
        self.admin_paused = False  # `disable frontend` from the stats socket
        # The rules engine's view (accept.py, inspect.py): None when nothing needs it.
        rules = runtime.rules.proxies.get(spec.name)
        self.rules = rules
        self.default = runtime.backends.get(spec.default_backend or "")
        # What runs per connection: the connection rules, the session's rules and
        # counters, the content phase (content rules, switching, use-server).
        self.l4 = rules is not None and bool(rules.tcp_connection)
        self.content = rules is not None and runtime.needs_content(rules)
        self.http = runtime.http if spec.mode == "http" or upgraded(spec, runtime) else None
        # mode http: the content phase runs per request (http/), the session always
        self.content = self.content and self.http is None
        self.session = rules is not None and (
            self.l4 or bool(rules.tcp_session) or self.content or self.http is not None
        )
        # the traffic log (streamlog.py), only for a frontend with `log` targets
        self.logger = FrontendLog(self) if spec.log.targets else None

    @property
    def full(self) -> bool:
        return bool(self.maxconn) and self.conns >= self.maxconn


def upgraded(spec: FrontendSpec, runtime: ProxyRuntime) -> bool:
    """A mode tcp frontend whose every stream goes to a mode http backend (its
    default_backend and each use_backend name one; no tcp-request content rule runs before):
    HAProxy turns each such stream into an HTTP one when it takes the backend (proxy.c
    stream_set_backend, stream_set_http_mode), so the HTTP driver serves its connections
    from the first byte.  The others go through the content phase, which upgrades a stream
    the switching rules send to a mode http backend (proto/rules/tcp_flow, switch.py)."""
    rules = runtime.rules.proxies.get(spec.name)
    if spec.mode != "tcp" or rules is None or rules.tcp_content or not spec.default_backend:
        return False
    names = [spec.default_backend.encode(), *(r.backend.constant for r in rules.switching)]
    for name in names:
        be = runtime.backends.get(name.decode()) if name is not None else None
        if be is None or be.spec.mode != "http":
            return False
    return True


class FrontendListener(Acceptor):
    """One listening address of a frontend (the attributes TcpRelay reads of a listener)."""

    def __init__(
        self,
        ctx: ProxyContext,
        frontend: Frontend,
        bind: BindSpec,
        address: ListenAddress,
        sock: socket.socket,
    ) -> None:
        self._init_acceptor(ctx, sock)
        self.frontend = frontend
        self.bind = bind
        self.listen_address = address
        # a unix@/abns@ listener: its clients' addresses are their PROXY header's
        self.unix = sock.family == socket.AF_UNIX
        if self.unix:
            self.address: tuple[Address, int] = (_NO_ADDRESS, 0)
        else:
            host, port = sock.getsockname()[:2]
            self.address = (ipaddress.ip_address(host), port)
        self.wildcard = address.host is None and not self.unix
        self.relays: set[TcpRelay | HttpSession | H2Front] = set()
        self.tls = frontend.runtime.tls.bind(bind)  # `ssl`: its contexts (tls_hooks.py)
        self.inspecting: set[inspect.Inspector] = set()  # streams in their content phase
        self._suspended = False  # SIGTTOU: not listening, the port still bound
        self._rate_wait: asyncio.TimerHandle | None = None  # held back by a rate limit
        # the pump accepts here (plain.py; mode http: http/own.py)
        self.plain: plain.PlainListener | own.H1Listener | None = None

    async def start(self) -> None:
        await super().start()
        self.plain = plain.start(self) or own.start(self)

    def _stop_accepting(self) -> None:
        if self.plain is not None:
            self.plain.stop()
        if self._rate_wait is not None:
            self._rate_wait.cancel()
            self._rate_wait = None
        super()._stop_accepting()

    def _accept(self, events: int) -> None:
        """The Python accept loop (the pump's plain listeners hand it what they leave:
        no room, an accept error); every plain listener's room is counted again after."""
        super()._accept(events)
        poller = self.poller
        if poller is not None and poller.plains:
            poller.plain_recount()

    def streams(self) -> list[TcpRelay | HttpSession | H2Front | plain.PlainView]:
        """Every live stream: the relays, and what the pump runs for a plain listener."""
        out: list[TcpRelay | HttpSession | H2Front | plain.PlainView] = list(self.relays)
        if self.plain is not None and self.plain.live:
            out += self.plain.views_of()
        return out

    def live(self) -> int:
        return len(self.relays) + (self.plain.live if self.plain is not None else 0)

    def close(self) -> None:
        if self._closed:
            return
        self._stop_accepting()
        self.sock.close()

    def release(self) -> socket.socket:
        """Hand the listening socket over to the runtime a reload starts: this listener
        stops accepting on it and the socket stays open (its backlog goes with it)."""
        self._stop_accepting()
        return self.sock

    def _unbind(self) -> bool:
        """An abstract unix socket cannot stay bound paused: its name would stay taken, so
        it is closed for good (proto_uxst.c uxst_suspend_receiver: "totally stopped")."""
        self.close()
        return True

    def suspend(self) -> bool:
        """SIGTTOU (tcp_pause_listener): stop listening, the address staying bound but free
        for another process to bind (a listening socket shut down for reading is no longer
        listening on Linux; clients are refused); False if it could not be."""
        if self._closed or self._suspended:
            return True
        if self.unix and (self.listen_address.path or "").startswith("\0"):
            return self._unbind()
        try:
            self.sock.shutdown(socket.SHUT_RD)
        except OSError:
            return False
        self._suspended = True
        self.pause()
        return True

    def restart(self) -> bool:
        """SIGTTIN (tcp_resume_listener): listen again; False if the address was taken."""
        if self._closed or not self._suspended:
            return True
        try:
            self.sock.listen(self.bind.backlog or self.frontend.spec.maxconn or 1024)
        except OSError:
            return False
        self._suspended = False
        self.resume()
        return True

    def abort_all(self) -> None:
        for waiting in list(self.inspecting):
            waiting.abort()
        for relay in list(self.relays):
            relay.abort()
        if self.plain is not None:
            self.plain.kill_all()

    def ended(self) -> None:
        """A stream of this listener ended: its frontend and the process have a slot."""
        self.frontend.runtime.stream_ended(self.frontend)

    def _label(self) -> str:
        return f"frontend {self.frontend.spec.name}"

    def _room(self) -> bool:
        """src/listener.c: a frontend (or the process) at its maxconn stops accepting; so
        does a listener a rate limit holds back (ratelimit.py), until one more may come."""
        fe = self.frontend
        if fe.full or fe.runtime.full:
            fe.runtime.pause_for_slots(fe)
            return False
        rates = fe.runtime.rates
        if rates.limited(fe):
            allowed, wait = rates.room(fe, self.tls is not None, self.ctx.clock())
            if not allowed:
                self.pause()  # listener_accept's limit_global / limit_proxy: LI_LIMITED
                if self._rate_wait is None and self.loop is not None:
                    self._rate_wait = self.loop.call_later(wait, self._rate_resume)
                return False
        return True

    def _rate_resume(self) -> None:
        """The rate limit's wait is over: accept again, unless paused for another reason
        meanwhile (`disable frontend`, SIGTTOU, a back-off); the pump gets its room again."""
        self._rate_wait = None
        if self.frontend.admin_paused or self._suspended or self._resume is not None:
            return
        self.resume()
        if self.poller is not None and self.plain is not None:
            self.poller.plain_recount()

    def rate_limit_changed(self) -> None:
        """`set rate-limit`: a listener a limit holds back tries again now (cli.c calls
        dequeue_all_listeners); the pump's plain listeners count their room again."""
        if self._rate_wait is not None:
            self._rate_wait.cancel()
            self._rate_resume()
        elif self.plain is not None and self.poller is not None:
            self.poller.plain_recount()

    def _accepted(self, client: _socket.socket, peer: tuple[str, int]) -> None:
        fe = self.frontend
        fe.runtime.rates.connection(fe, self.ctx.clock())
        fe.conns += 1
        fe.runtime.conns += 1
        fe.max_conns = max(fe.max_conns, fe.conns)
        if self.unix:  # accept-proxy (convert.py): the header says who the client is
            ProxyHeaderReader(self, client, ("", 0), None)
        elif fe.session:
            self.arrive(client, peer)
        elif self.bind.accept_proxy:
            ProxyHeaderReader(self, client, peer, None)
        else:
            self.start_stream(client, peer[0], peer[1], None, None)

    def _addresses(
        self, client: _socket.socket, src_text: str | Address, dst: tuple[Address, int] | None
    ) -> tuple[Address, tuple[Address, int]]:
        src = src_text if not isinstance(src_text, str) else _parse_address(src_text)
        if dst is None:
            if self.wildcard:
                host, port = client.getsockname()[:2]
                dst = (_parse_address(host), port)
            else:
                dst = self.address
        return src, dst

    def arrive(self, client: _socket.socket, peer: tuple[str, int]) -> None:
        """A frontend with rules: the connection rules on the socket's addresses, then the
        PROXY header if the bind or a rule expects one (accept.py)."""
        fe = self.frontend
        try:
            src, dst = self._addresses(client, peer[0], None)
        except (OSError, ValueError):
            self._drop(client, reset=True)
            return
        sess = accept.new_session(self, src, peer[1], dst[0], dst[1])
        expect = False
        if fe.l4:
            assert fe.rules is not None
            accepted, expect = accept.run_l4(self, client, sess, fe.rules)
            if not accepted:
                return
        if self.bind.accept_proxy or expect:
            ProxyHeaderReader(self, client, peer, sess)
        else:
            self.start_stream(client, src, peer[1], None, sess)

    def start_stream(
        self,
        client: _socket.socket,
        src_text: str | Address,
        src_port: int,
        dst: tuple[Address, int] | None,
        sess: Session | None,
        *,
        pp: proxyproto.ProxiedAddresses | None = None,
        tls: TlsFacts | None = None,
    ) -> None:
        """The session rules, then the stream (the descriptors and counts are taken);
        `dst` None: the session's addresses stand (as a rule may have set them), else the
        socket's; `pp`: the client's PROXY header, when it carried addresses.  A TLS bind
        shakes hands first (`tls`: how it went; `client` is then the bridge's inner socket)."""
        fe = self.frontend
        if sess is not None and dst is None and sess.src is not None and sess.dst is not None:
            src_text, src_port, dst = sess.src, sess.src_port, (sess.dst, sess.dst_port)
        try:
            src, dst = self._addresses(client, src_text, dst)
        except (OSError, ValueError):
            if sess is not None:
                counters.stop_session(sess, self.ctx.clock())
            self._drop(client, reset=True)
            return
        if self.tls is not None and tls is None:
            tls_hooks.accept(
                self, self.tls, client, src=src, src_port=src_port, dst=dst, sess=sess, pp=pp
            )
            return
        if sess is None:
            tlvs = (None, None) if pp is None else (pp.authority, pp.unique_id)
            if fe.http is not None and fe.rules is None:  # a spec without compiled rules
                facts = ConnFacts(src, src_port, dst[0], dst[1], *tlvs, tls)
                self._http(client, facts, None, h2=tls is not None and tls.alpn == "h2")
                return
            if not fe.session:  # no rules: straight to the default backend
                backend = fe.default
                if backend is None:
                    self._drop(client, reset=False)
                    return
                fe.runtime.rates.session(fe, self.ctx.clock())
                facts = ConnFacts(src, src_port, dst[0], dst[1], *tlvs, tls)
                HaSession(self, client, facts, backend)
                return
            sess = accept.new_session(self, src, src_port, dst[0], dst[1])
            if self.unix:  # the connection's own addresses are no IP ones (fc_src: none)
                sess.fc_src = sess.fc_dst = None
        else:  # the PROXY header's addresses are the session's
            sess.src, sess.src_port, sess.dst, sess.dst_port = src, src_port, dst[0], dst[1]
        if pp is not None:
            sess.pp_authority, sess.pp_unique_id = pp.authority, pp.unique_id
        sess.tls = tls
        if not accept.run_l5(self, client, sess):
            return
        assert sess.src is not None and sess.dst is not None
        facts = ConnFacts(
            sess.src, sess.src_port, sess.dst, sess.dst_port, sess.pp_authority, sess.pp_unique_id,
            tls,
        )  # fmt: skip
        if fe.http is not None:
            self._http(client, facts, sess, h2=tls is not None and tls.alpn == "h2")
            return
        now = self.ctx.clock()
        fe.runtime.rates.session_rates(fe, now)
        inspect.start(self, client, facts, Stream(sess, now=now))

    def _http(
        self, client: _socket.socket, facts: ConnFacts, sess: Session | None, *, h2: bool = False
    ) -> None:
        """mode http: the stream's rules run per request (http/stream.py).  `h2`: the TLS
        handshake chose ALPN h2 (ssl_sock.c picks the mux by the ALPN name)."""
        fe = self.frontend
        assert fe.http is not None
        fe.runtime.rates.session(fe, self.ctx.clock())
        if fe.logger is not None:
            fe.logger.accepted(facts)  # "Connect from" when there is no log format
        if self.bind.proto == "h2" or h2:  # HTTP/2 from the first byte (`proto h2`, ALPN)
            H2Front(self, client, facts, fe.http, sess)
            return
        HttpSession(self, client, facts, fe.http, sess)

    def dropped(self) -> None:
        """A client closed before its stream started: its descriptors and slot are free."""
        self.ctx.fds.give(2)
        self.ended()

    def _drop(self, client: _socket.socket, *, reset: bool) -> None:
        if reset:
            close_with_reset(client)
        else:
            client.close()
        self.ctx.fds.give(2)
        self.ended()


class ProxyHeaderReader:
    """Reads an `accept-proxy` client's PROXY header, then starts its stream."""

    __slots__ = ("client", "data", "fd", "listener", "peer", "sess", "timer")

    def __init__(
        self,
        listener: FrontendListener,
        client: _socket.socket,
        peer: tuple[str, int],
        sess: Session | None,
    ) -> None:
        self.listener = listener
        self.sess = sess  # the session the connection rules ran on, if any
        self.client = client
        self.fd = client.fileno()
        self.peer = peer
        self.data = b""
        poller = listener.poller
        loop = listener.loop
        assert poller is not None and loop is not None
        # Edge-triggered: the header is peeked at, so a partial one stays readable.
        poller.add(self.fd, READ | select.EPOLLET, self._readable)
        self.timer = loop.call_later(PROXY_HEADER_TIMEOUT, self._timed_out)

    def _stop(self) -> None:
        poller = self.listener.poller
        assert poller is not None
        poller.remove(self.fd)  # the socket stays open for its stream
        self.timer.cancel()

    def _fail(self, *, reset: bool) -> None:
        if self.sess is not None:  # what the connection rules tracked goes back
            counters.stop_session(self.sess, self.listener.ctx.clock())
        self.listener._drop(self.client, reset=reset)

    def _timed_out(self) -> None:
        self._stop()
        self._fail(reset=False)

    def _readable(self, events: int) -> None:
        try:
            # Peek: only the header is taken off the socket, the client's data stays.
            data = self.client.recv(PROXY_HEADER_PEEK, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        try:
            used, addresses = proxyproto.parse(data)
        except proxyproto.ProxyHeaderError:
            self._stop()
            self._fail(reset=True)
            return
        if used == proxyproto.NEED_MORE:
            if not data:  # closed before a header
                self._stop()
                self._fail(reset=False)
            return
        self._stop()
        try:
            self.client.recv(used, socket.MSG_DONTWAIT)
        except OSError:
            self._fail(reset=True)
            return
        if addresses is None:
            self.listener.start_stream(self.client, self.peer[0], self.peer[1], None, self.sess)
        else:
            self.listener.start_stream(
                self.client,
                addresses.src,
                addresses.src_port,
                (addresses.dst, addresses.dst_port),
                self.sess,
                pp=addresses,
            )
