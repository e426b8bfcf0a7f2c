"""A frontend at run time: its listening sockets, its connection limits and rules.

One `FrontendListener` per address and port of every `bind` (a port range is one socket per
port, as HAProxy binds them).  Accepting follows src/listener.c: a frontend at its `maxconn`
(or the process at the global `maxconn`) stops accepting and lets clients wait in the
listen backlog until a stream ends; the descriptor cap of dataplane/proxy/descriptors.py
holds too.  Each accepted connection reads its PROXY header first when the bind says
`accept-proxy` (proto/proxyproto: the addresses it carries are the connection's from then
on; a malformed header closes it), then runs the `tcp-request connection` rules in order
(the first `accept` or `reject` whose condition holds decides; none: accepted), then the
`use_backend` rules (the first whose condition holds) or `default_backend`, and starts an
`HaSession` on that backend.  Per connection this is a few attribute reads when the frontend
has no rules.
"""

from __future__ import annotations

import _socket
import asyncio
import errno
import functools
import ipaddress
import select
import socket
from typing import TYPE_CHECKING

from pylvs.dataplane.proxy.context import ProxyContext, log
from pylvs.dataplane.proxy.poller import Poller
from pylvs.dataplane.proxy.sockets import close_with_reset
from pylvs.model.proxy_spec import BindSpec, ConnFacts, FrontendSpec, ListenAddress
from pylvs.model.service import Address
from pylvs.model.stats import Counters
from pylvs.proto import proxyproto

from .backend import BackendRuntime, seconds
from .rules import Rate
from .session import HaSession

if TYPE_CHECKING:
    from pylvs.dataplane.proxy.tcp import TcpRelay

    from .runtime import ProxyRuntime

_parse_address = functools.lru_cache(maxsize=4096)(ipaddress.ip_address)
_BACK_OFF = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_ACCEPT_BATCH = 64
READ = 0x1
PROXY_HEADER_TIMEOUT = 5.0  # HAProxy waits `timeout client` at most; pylvs caps the wait


class Frontend:
    """What the listeners of one frontend share: its spec, backends and counts."""

    def __init__(self, spec: FrontendSpec, runtime: ProxyRuntime) -> None:
        self.spec = spec
        self.runtime = runtime
        self.listeners: list[FrontendListener] = []
        self.conns = 0  # live streams
        self.max_conns = 0
        self.counters = Counters()  # bytes relayed for its streams (the relays count them)
        self.total = 0  # streams accepted (stot)
        self.denied = 0  # refused by tcp-request connection rules
        self.sess_rate = Rate()  # fe_sess_rate
        self.req_rate = Rate()  # fe_req_rate: the HTTP driver counts each request
        self.maxconn = spec.maxconn
        self.client_s = seconds(spec.client_ms)
        self.client_fin_s = seconds(spec.client_fin_ms)
        self.admin_paused = False  # `disable frontend` from the stats socket

    @property
    def full(self) -> bool:
        return bool(self.maxconn) and self.conns >= self.maxconn

    def backend_for(self, facts: ConnFacts) -> BackendRuntime | None:
        spec = self.spec
        name = spec.default_backend
        for rule in spec.switches:
            if rule.condition is None or rule.condition.test(facts):
                name = rule.backend
                break
        return self.runtime.backends.get(name) if name is not None else None

    def admit(self, facts: ConnFacts) -> bool:
        for rule in self.spec.conn_rules:
            if rule.condition is None or rule.condition.test(facts):
                return rule.action == "accept"
        return True


class FrontendListener:
    """One listening address of a frontend (the attributes TcpRelay reads of a listener)."""

    def __init__(
        self,
        ctx: ProxyContext,
        frontend: Frontend,
        bind: BindSpec,
        address: ListenAddress,
        sock: socket.socket,
    ) -> None:
        self.ctx = ctx
        self.frontend = frontend
        self.bind = bind
        self.listen_address = address
        self.sock = sock
        host, port = sock.getsockname()[:2]
        self.address: tuple[Address, int] = (ipaddress.ip_address(host), port)
        self.wildcard = address.host is None
        self.relays: set[TcpRelay] = set()
        self.poller: Poller | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._resume: asyncio.TimerHandle | None = None
        self._closed = False
        self._paused = False

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.poller = self.ctx.poller(self.loop)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.poller.add(self.sock.fileno(), READ, self._accept)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._resume is not None:
            self._resume.cancel()
        self.ctx.fds.forget(self.resume)
        if self.poller is not None:
            self.poller.forget(self.sock.fileno())
        self.sock.close()

    def release(self) -> socket.socket:
        """Hand the listening socket over to the runtime a reload starts: this listener
        stops accepting on it and the socket stays open (its backlog goes with it)."""
        self._closed = True
        if self._resume is not None:
            self._resume.cancel()
        self.ctx.fds.forget(self.resume)
        if self.poller is not None:
            self.poller.forget(self.sock.fileno())
        return self.sock

    def abort_all(self) -> None:
        for relay in list(self.relays):
            relay.abort()

    @property
    def closed(self) -> bool:
        return self._closed

    def pause(self) -> None:
        if not self._paused and not self._closed and self.poller is not None:
            self._paused = True
            self.poller.modify(self.sock.fileno(), 0)

    def resume(self) -> None:
        self._resume = None
        if self._paused and not self._closed and self.poller is not None:
            self._paused = False
            self.poller.modify(self.sock.fileno(), READ)

    def ended(self) -> None:
        """A stream of this listener ended: its frontend and the process have a slot."""
        self.frontend.runtime.stream_ended(self.frontend)

    def _accept(self, events: int) -> None:
        sock = self.sock
        family = sock.family
        fds = self.ctx.fds
        fe = self.frontend
        runtime = fe.runtime
        for _ in range(_ACCEPT_BATCH):
            if fe.full or runtime.full:
                runtime.pause_for_slots(fe)
                return
            if fds.own + 2 <= fds.cap:
                fds.own += 2
            elif not fds.take(2):
                self._paused = True
                assert self.poller is not None
                self.poller.modify(sock.fileno(), 0)
                fds.wait(self.resume)
                return
            try:
                fd, peer = sock._accept()  # type: ignore[attr-defined]
            except (BlockingIOError, InterruptedError):
                fds.give(2)
                return
            except OSError as exc:
                fds.give(2)
                if exc.errno in _BACK_OFF:
                    self._back_off(exc)
                    return
                continue
            client = _socket.socket(family, socket.SOCK_STREAM, 0, fd)
            fe.conns += 1
            runtime.conns += 1
            fe.max_conns = max(fe.max_conns, fe.conns)
            if self.bind.accept_proxy:
                ProxyHeaderReader(self, client, peer)
            else:
                self.start_stream(client, peer[0], peer[1], None)
            if self._closed:
                return

    def start_stream(
        self,
        client: _socket.socket,
        src_text: str | Address,
        src_port: int,
        dst: tuple[Address, int] | None,
    ) -> None:
        """Rules, backend, stream (the descriptors and counts are taken)."""
        fe = self.frontend
        try:
            src = src_text if not isinstance(src_text, str) else _parse_address(src_text)
            if dst is None:
                if self.wildcard:
                    host, port = client.getsockname()[:2]
                    dst = (_parse_address(host), port)
                else:
                    dst = self.address
        except (OSError, ValueError):
            self._drop(client, reset=True)
            return
        facts = ConnFacts(src, src_port, dst[0], dst[1])
        if fe.spec.conn_rules and not fe.admit(facts):
            fe.denied += 1
            self._drop(client, reset=True)
            return
        backend = fe.backend_for(facts)
        if backend is None:
            self._drop(client, reset=False)
            return
        fe.total += 1
        fe.sess_rate.count(self.ctx.clock())
        HaSession(self, client, facts, backend)

    def _drop(self, client: _socket.socket, *, reset: bool) -> None:
        if reset:
            close_with_reset(client)
        else:
            client.close()
        self.ctx.fds.give(2)
        self.ended()

    def _back_off(self, exc: OSError) -> None:
        log.warning(
            "frontend %s: cannot accept (%s); pausing accepts for 1 s",
            self.frontend.spec.name,
            exc.strerror or exc,
        )
        assert self.poller is not None and self.loop is not None
        self._paused = True
        self.poller.modify(self.sock.fileno(), 0)
        self._resume = self.loop.call_later(1.0, self.resume)


class ProxyHeaderReader:
    """Reads an `accept-proxy` client's PROXY header, then starts its stream."""

    __slots__ = ("client", "data", "fd", "listener", "peer", "timer")

    def __init__(
        self, listener: FrontendListener, client: _socket.socket, peer: tuple[str, int]
    ) -> None:
        self.listener = listener
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

    def _timed_out(self) -> None:
        self._stop()
        self.listener._drop(self.client, reset=False)

    def _readable(self, events: int) -> None:
        try:
            # Peek: only the header is taken off the socket, the client's data stays.
            data = self.client.recv(232, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        try:
            used, addresses = proxyproto.parse(data)
        except proxyproto.ProxyHeaderError:
            self._stop()
            self.listener._drop(self.client, reset=True)
            return
        if used == proxyproto.NEED_MORE:
            if not data:  # closed before a header
                self._stop()
                self.listener._drop(self.client, reset=False)
            return
        self._stop()
        try:
            self.client.recv(used, socket.MSG_DONTWAIT)
        except OSError:
            self.listener._drop(self.client, reset=True)
            return
        if addresses is None:
            self.listener.start_stream(self.client, self.peer[0], self.peer[1], None)
        else:
            self.listener.start_stream(
                self.client, addresses.src, addresses.src_port, (addresses.dst, addresses.dst_port)
            )
