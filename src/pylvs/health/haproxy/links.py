"""One check run's TCP connection, for the driver (driver.py).

What HAProxy does with a check's socket (src/tcpcheck.c tcpcheck_eval_connect, src/proto_tcp.c
tcp_connect_server, src/check.c chk_report_conn_err), in asyncio terms:

* the connect is non-blocking; a check with nothing to send turns TCP_QUICKACK off first, so
  the handshake's last ACK waits and the server never sees the connection completed when the
  check resets it at once (`Open.delay_ack`);
* through a SOCKS4 proxy (`Open.via`: `check-via-socks4`, `tcp-check connect via-socks4`)
  the connection is made to the proxy, which is asked to CONNECT to the check's address
  and must grant it before the run sees the connection up (proto/socks4.py);
* a PROXY header (`send-proxy` on the check) goes out first (`Open.preface`);
* a TLS check (`check-ssl`, `Open.tls`) shakes hands after the PROXY header, through asyncio's
  own TLS transport (a failed handshake is the run's connection error);
* the end of a run closes with a reset (SO_LINGER 0) unless the rule asked for `linger` or
  the server closed first (`Close.reset`);
* a socket error reaches the run as its strerror() text ("Connection refused", "Connection
  reset by peer"), which the run puts in its log line's `info`.

Every event is handed to the driver's `event(call)`, which runs `call(now)` on the run if
the run is still the current one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import socket
import ssl
import struct
from collections.abc import Callable
from typing import cast

from pylvs.health.checkers.connect import handed_over
from pylvs.proto import socks4
from pylvs.proto.check.tcpcheck import CheckRun, Command, Open

TCP_QUICKACK = getattr(socket, "TCP_QUICKACK", 12)
_LINGER_RESET = struct.pack("ii", 1, 0)

Event = Callable[[Callable[[float], list[Command]]], None]


def error_text(exc: BaseException) -> str:
    """strerror(errno), as chk_report_conn_err words a socket error."""
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


async def _socks4(loop: asyncio.AbstractEventLoop, sock: socket.socket, c: Open) -> str | None:
    """The SOCKS4 handshake on a connected socket: None when the proxy granted the CONNECT
    to c.host:c.port, else HAProxy's words for what went wrong."""
    try:
        await loop.sock_sendall(sock, socks4.request(c.host, c.port))
    except OSError:
        return socks4.SEND_ERROR
    reply = b""
    while len(reply) < socks4.REPLY_LEN:
        try:
            chunk = await loop.sock_recv(sock, socks4.REPLY_LEN - len(reply))
        except OSError:
            return socks4.ABORTED
        if not chunk:
            break
        reply += chunk
    return socks4.reply_error(reply)


class Link(asyncio.Protocol):
    """A check's connection: connects, reads, writes, closes (see the module doc)."""

    def __init__(self, event: Event, run: CheckRun, preface: bytes) -> None:
        self.event, self.run, self.preface = event, run, preface
        self.sock: socket.socket | None = None
        self.transport: asyncio.Transport | None = None
        self.task: asyncio.Task[None] | None = None
        self.closed = False

    @classmethod
    def open(
        cls,
        loop: asyncio.AbstractEventLoop,
        c: Open,
        event: Event,
        run: CheckRun,
        tls: ssl.SSLContext | None = None,
    ) -> Link:
        """`tls`: the context of a TLS check (`Open.tls`), None for plain TCP."""
        link = cls(event, run, c.preface)
        link.task = loop.create_task(link._connect(loop, c, tls))
        return link

    async def _connect(
        self, loop: asyncio.AbstractEventLoop, c: Open, tls: ssl.SSLContext | None
    ) -> None:
        host, port = c.via or (c.host, c.port)
        try:
            version = ipaddress.ip_address(host).version
        except ValueError:  # a server still without an address (a name `init-addr none`
            if not self.closed:  # kept): HAProxy's connect finds no protocol, a socket error
                run = self.run
                self.event(lambda now: run.failed("", now, established=True))
            return
        try:
            family = socket.AF_INET6 if version == 6 else socket.AF_INET
            sock = self.sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            if c.delay_ack:
                sock.setsockopt(socket.IPPROTO_TCP, TCP_QUICKACK, 0)
            await loop.sock_connect(sock, (host, port))
            if c.via is not None:
                refused = await _socks4(loop, sock, c)
                if refused is not None:
                    self._drop_socket()
                    if not self.closed:
                        run, text = self.run, refused
                        up = refused == socks4.DENIED  # the reply came: layer 4 is up
                        self.event(lambda now: run.failed(text, now, established=up))
                    return
            if self.closed:
                return
            if tls is None:
                await loop.create_connection(lambda: self, sock=sock)
                self.sock = None  # the transport owns it
                handed_over(sock)
                return
            if self.preface:  # the PROXY header goes in clear, before the handshake
                await loop.sock_sendall(sock, self.preface)
                self.preface = b""
            sni = c.tls.check_sni if c.tls else None  # not `sni`: tcpcheck_eval_connect
            await loop.create_connection(
                lambda: self, sock=sock, ssl=tls, server_hostname=sni or ""
            )
            self.sock = None
            handed_over(sock)
        except OSError as exc:
            self._drop_socket()
            if not self.closed:
                run, error = self.run, error_text(exc)
                self.event(lambda now: run.failed(error, now))
        except BaseException:  # cancelled by close(): the socket is closed here, after
            self._drop_socket()  # asyncio stopped watching it (its number may be reused)
            raise

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses (the daemon runs on it)
        self.transport = cast(asyncio.Transport, transport)
        transport = self.transport
        if self.closed:
            transport.abort()
            return
        if self.preface:
            transport.write(self.preface)
        run = self.run
        self.event(run.connected)

    def data_received(self, data: bytes) -> None:
        if not self.closed:
            run = self.run
            self.event(lambda now: run.received(data, now))

    def eof_received(self) -> bool:
        if not self.closed:
            self.event(self.run.closed)
        return True  # the run decides when to close (it may still write)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed and exc is not None:
            run = self.run
            self.event(lambda now: run.failed(error_text(exc), now))
        self.closed = True

    # -- the driver's commands ---------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def close(self, reset: bool) -> None:
        """End the connection: a reset (SO_LINGER 0) or an orderly FIN after what is
        written; a connect still in progress is given up."""
        if self.closed:
            return
        self.closed = True
        if self.transport is not None:
            if reset:
                self._linger_reset(self.transport.get_extra_info("socket"))
                self.transport.abort()
            else:
                self.transport.close()
        elif self.task is not None and not self.task.done():
            self.task.cancel()  # the task closes the socket

    def _drop_socket(self, reset: bool = True) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            if reset:
                self._linger_reset(sock)
            sock.close()

    @staticmethod
    def _linger_reset(sock: object) -> None:
        setsockopt = getattr(sock, "setsockopt", None)
        if setsockopt is not None:
            with contextlib.suppress(OSError):
                setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
