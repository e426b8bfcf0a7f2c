"""Connecting a HAProxy-mode stream to its server, with src/backend.c's retries.

Once a stream has a server the relay machine starts (ACCEPTED) and its Connect is carried
out here: a refused, reset or timed-out attempt (`timeout connect`) is retried up to
`retries` times (back_handle_st_cer), on another server when `option redispatch` says so
(stream_choose_redispatch: the server is down, the redispatch interval is reached, or the
stream was not sticky, the algorithm is round-robin-like and more than one server is
usable), else on the same server after min(1 s, timeout connect) when the attempt ended in
an error (the turn-around).  The machine only hears of the success (CONNECTED) or the final
failure (ConnectFailed: the client is closed).  On success the PROXY header goes first
(send-proxy / send-proxy-v2) and the stick stores are made (process_store_rules).

With the C pump the first connect is tried at once, before the machine hears of the stream
(`unseen`); connected inside connect(2) with nothing queued, the stream is spliced
(session_base.py).  Anything else (a connect in progress, a failure, bytes queued) first
tells the machine what it missed (ACCEPTED, its Connect already done) and goes its way.
"""

from __future__ import annotations

import _socket
import errno
import functools
import os
import socket
from typing import TYPE_CHECKING

from pylvs.dataplane.proxy.poller import DATA
from pylvs.dataplane.proxy.sockets import unix_connect
from pylvs.dataplane.proxy.tcp import _NONBLOCK_STREAM, End
from pylvs.model.proxy_spec import ServerSpec
from pylvs.proto.conntrack.states import TcpEvent
from pylvs.proto.relay import CONNECTED, SERVER, Connect, ConnectFailed

from . import tls_hooks
from .proxy_header import server_header
from .rules import stream_for
from .session_base import SessionBase
from .timers import StreamTimers

if TYPE_CHECKING:
    from pylvs.dataplane.proxy._pump import Pump

_TURNAROUND_MAX = 1.0  # back_handle_st_cer: MIN(1 s, timeout connect)


class ConnectingSession(SessionBase):
    __slots__ = ()

    def _connect(self, cmd: Connect) -> None:
        if not self.unseen:
            self._attempt()

    def _attempt(self) -> None:
        server = self.picked
        assert server is not None
        srv = self.be.runtime_of(server)
        self.be.connecting(srv, False)
        spec = srv.spec
        if spec.path is not None:  # unix@ / abns@
            try:
                sock, err = unix_connect(spec.path)
            except OSError as exc:
                self._catch_up()
                self._final(exc.strerror or str(exc))
                return
            self._connected(sock, err)  # EAGAIN too: a unix connect does not wait
            return
        if spec.address is None and spec.fqdn is not None:
            # a name `init-addr none` left without one, out of maintenance by `set server
            # addr` all the same: no protocol for the address (connect_server's ERR_INTERNAL)
            self._catch_up()
            self._final(os.strerror(errno.EAFNOSUPPORT))
            return
        # a transparent backend's target has no address: the client's destination
        address = spec.address if spec.address is not None else self.facts.dst
        host = spec.host if spec.address is not None else str(address)
        port = spec.port_for(self.facts.dst_port)
        family = socket.AF_INET if address.version == 4 else socket.AF_INET6
        pump = self.poller.pump
        if (
            pump is not None
            and self.unseen
            and not spec.proxy_version
            and self.first is None
            and "%" not in host  # a scoped IPv6 address: Python's connect parses it
            and not srv.tls.on
        ):
            self._quick_attempt(pump, host, port, family)
            return
        try:
            sock = _socket.socket(family, _NONBLOCK_STREAM)
        except OSError as exc:
            self._catch_up()
            self._final(exc.strerror or str(exc))
            return
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            err = sock.connect_ex((host, port))
        except OSError as exc:
            err = exc.errno or errno.EINVAL
        self._connected(sock, err)

    def _quick_attempt(self, pump: Pump, host: str, port: int, family: int) -> None:
        """The first attempt of a stream the machine has not met, in one call to the pump:
        connected at once (loopback), it is spliced already (`_established` says what
        is left to do); else it goes on as `_attempt` does."""
        notify = self.fin_idle != self.idle
        sfd, err = pump.connect_splice(
            self.client.fd, host, port, family == socket.AF_INET6, notify
        )
        if sfd == -2:  # no socket: as `_attempt`'s socket() failing
            self._catch_up()
            self._final(os.strerror(err))
            return
        sock = _socket.socket(family, socket.SOCK_STREAM, 0, sfd)
        if err:  # under way (EINPROGRESS) or failed
            self._connected(sock, err)
            return
        end = self.server = End(sock, SERVER, self.m, True)
        client = self.client
        end.other, client.other = client, end
        # `_established` and `_splice` for a spliced pair: no header, nothing queued.
        self._server_answered()
        self.unseen = False
        self.spliced = True
        conn = self.conn
        assert conn is not None
        table = self.ctx.state.table
        if isinstance(table, StreamTimers):  # the HAProxy runtime's: both events at once
            table.established(conn, self.idle, self.ctx.clock())
        else:
            table.tcp_event(conn, TcpEvent.CLIENT_CONNECTED, self.ctx.clock())
            self._record(TcpEvent.BACKEND_CONNECTED)
        client.fast = end.fast = DATA
        self.poller.spliced_by_pump(client.fd, end.fd, self, (client, end))

    def _connected(self, sock: _socket.socket, err: int) -> None:
        """What a connect(2) of `sock` gave (`err`)."""
        connected = err == 0
        if err == errno.EINPROGRESS:
            # On loopback the handshake ran inside connect(2): a peer name means ESTABLISHED.
            try:
                sock.getpeername()
                connected = True
            except OSError:  # still SYN_SENT
                pass
        if not connected:
            self._catch_up()
        old = self.server
        end = self.server = End(sock, SERVER, self.m, connected)
        end.other, self.client.other = self.client, end
        if old is not None:  # what the client sent meanwhile
            end.queue, end.queued = old.queue, old.queued
        if err and err != errno.EINPROGRESS:
            # The End stays when its socket is closed (`_drop_server_end`): what the client
            # sends meanwhile waits on it for the next attempt (with no End, the client's
            # own End would be its peer).
            self._failed(os.strerror(err), error=True)
            return
        if connected:
            self._established(end)
            return
        end.watched = True
        end.mask = 0x4  # EPOLLOUT
        self.poller.add(end.fd, 0x4, functools.partial(self._event, end))
        loop = self.listener.loop
        assert loop is not None
        self.connect_timer = loop.call_later(self.be.connect_s, self._connect_timed_out)

    def _connecting_event(self, server: End) -> bool:
        err = server.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self._failed(os.strerror(err), error=True)
            return False
        try:
            server.sock.getpeername()
        except OSError:
            return False
        self._stop_timer()
        self._established(server)
        return not self.m.state.done

    def _connect_timed_out(self) -> None:
        self.connect_timer = None
        self._failed("connect timeout", error=False)

    def _proxy_header(self, spec: ServerSpec) -> bytes | None:
        """The PROXY header for the server (proxy_header.py); a stream that ran no rules
        gets its rules' view for a `unique-id` TLV (HAProxy builds it for every stream)."""
        rules = self.fe.rules
        if self.stream is None and rules is not None and "unique-id" in spec.proxy_v2_options:
            self.stream = stream_for(self.fe, self.facts, self.be, self.ctx.clock())
        return server_header(spec, self.facts, self.stream, rules.unique_id if rules else None)

    def _established(self, end: End) -> None:
        end.connected = True
        srv = self.be.runtime_of(self.picked)  # type: ignore[arg-type]
        spec = srv.spec
        if srv.tls.on and self.tls is None:  # the handshake, then here again
            tls_hooks.connect_tcp(self, end, srv, self.fe.runtime.tls)
            return
        # a TLS server's header went first, in clear (tls_hooks.connect_tcp)
        header = self._proxy_header(spec) if spec.proxy_version and self.tls is None else None
        if self.first is not None:  # after the PROXY header, in place of the client's bytes
            header = (header or b"") + self.first
        if header is not None:
            try:
                sent = end.sock.send(header, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._failed("send-proxy failed", error=True)
                return
            if sent < len(header):
                end.queue.insert(0, header[sent:])
                end.queued += len(header) - sent
        self._server_answered()
        if self.unseen and not end.queue:
            self._splice(end)
            return
        self._catch_up()
        self._on(CONNECTED)

    def _server_answered(self) -> None:
        """What a stream's connect makes: the stick stores (process_store_rules), the log's
        connect time."""
        if self.sticking is not None:
            assert self.picked is not None and self.stream is not None
            self.be.store(self.sticking, self.stream, self.picked, self.ctx.clock())
            self.sticking = None
        if self.log is not None:
            self.log.connected(self)

    def _drop_server_end(self) -> None:
        self._stop_timer()
        self.tls = None  # the next attempt shakes hands anew
        end = self.server
        if end is None:
            return
        if end.watched:
            self.poller.forget(end.fd)
            end.watched = False
        end.sock.close()
        end.fd = -1
        # The End stays: what the client sends meanwhile queues on it, for the next one.

    def _failed(self, reason: str, *, error: bool) -> None:
        """One attempt failed (back_handle_st_cer)."""
        self._drop_server_end()
        be = self.be
        server = self.picked
        assert server is not None
        # 2.6.12 counts the attempt after the check (bc6b23813, backported to 2.6): retries
        # are attempts after the first.
        if self.retries >= be.spec.retries:
            self._final(reason)
            return
        self.retries += 1
        if be.redispatches_on(server, self.retries, direct=self.direct):
            be.redispatches += 1
            self.picked = None
            be.release(server)
            self.direct = False
            self._balance(self.ctx.clock(), server)
            return
        be.retries += 1
        be.runtime_of(server).retries += 1
        if error:
            delay = min(_TURNAROUND_MAX, be.connect_s)
            loop = self.listener.loop
            assert loop is not None
            self.waiter = loop.call_later(delay, self._retry)
        else:
            self._attempt()

    def _retry(self) -> None:
        self.waiter = None
        self._attempt()

    def _final(self, reason: str) -> None:
        """No more attempts: the backend counts a failed connection, the client goes."""
        self._catch_up()
        self.be.failed_conns += 1
        if self.picked is not None:
            self.be.runtime_of(self.picked).failed_conns += 1
        self._on(ConnectFailed(reason))
