"""TLS for the HAProxy mode: a handshake that never blocks the loop, then a bridge between
the TLS socket and a plain socket pair end that the rest of the runtime uses as if it were
the connection (HAProxy 2.6 src/ssl_sock.c: the `ssl_sock` transport layer under the mux).

Why a bridge: the stream code (the tcp relay, the C pump's splice, the HTTP/1 driver, and
HTTP/2 once it lands) reads and writes plain sockets; TLS is a transport, kept apart from the
protocol exactly as HAProxy keeps its xprt apart from its muxes.  The handshake runs on the
real socket with `ssl.SSLObject` over memory BIOs, driven by the poller's events (no blocking
call: a client that sends garbage or stalls costs its own connection, counted); once it is
done, a `socketpair` is made, the inner end is handed to the stream as its socket and the
bridge relays: ciphertext from the network is decrypted into the outer end, what the stream
writes is encrypted to the network.  EOFs pass both ways (a close_notify or a FIN from the
peer is a FIN on the inner end; the stream's FIN sends close_notify then a FIN), and either
side's error closes both.  The cost is one more copy and two more descriptors per TLS
connection, in Python: TLS streams do not take the C pump's zero-Python path on the network
side (kTLS would give it back; not done).
"""

from __future__ import annotations

import _socket
import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable

from pylvs.dataplane.proxy.descriptors import Descriptors
from pylvs.dataplane.proxy.poller import Poller
from pylvs.model.tls import TlsFacts
from pylvs.proto import x509

from .rules import Rate

log = logging.getLogger("pylvs.proxy")

READ, WRITE, ERROR, HANGUP = 0x1, 0x4, 0x8, 0x10
CHUNK = 65536
_DONTWAIT = socket.MSG_DONTWAIT
_NOSIGNAL = socket.MSG_NOSIGNAL
Ready = Callable[[_socket.socket, TlsFacts], None]
Failed = Callable[[str], None]


class TlsBridge:
    """One TLS connection: its handshake, then the relay to the plain socket pair."""

    __slots__ = (
        "check",
        "closed",
        "counts",
        "fds",
        "inc",
        "keep_session",
        "loop",
        "obj",
        "on_fail",
        "on_ready",
        "out",
        "outer",
        "outer_eof",
        "outer_fd",
        "outer_mask",
        "poller",
        "raw",
        "raw_eof",
        "raw_fd",
        "raw_mask",
        "shut_sent",
        "timer",
        "to_outer",
        "to_raw",
    )

    def __init__(
        self,
        poller: Poller,
        raw: _socket.socket,
        ctx: ssl.SSLContext,
        fds: Descriptors,
        *,
        server_side: bool,
        server_hostname: str | None = None,
        on_ready: Ready,
        on_fail: Failed,
        prefix: bytes = b"",
        counts: TlsCounters | None = None,
        session: ssl.SSLSession | None = None,
        keep_session: Callable[[ssl.SSLSession], None] | None = None,
        check: Callable[[ssl.SSLObject], str | None] | None = None,
    ) -> None:
        """`prefix`: bytes sent in clear before the handshake (a PROXY header); `counts`:
        the process's TLS connections (counted while this one lives); a client's `session`
        to resume, and `keep_session` to give the session it ends with (TLS 1.3 tickets
        come after the handshake: it is taken at the close)."""
        self.keep_session = keep_session
        self.check = check  # a finished handshake's last test (a reason: it failed)
        self.counts = counts
        if counts is not None:
            counts.curr += 1
            counts.cum += 1
        self.poller = poller
        self.raw = raw
        self.raw_fd = raw.fileno()
        self.fds = fds
        self.inc = ssl.MemoryBIO()
        self.out = ssl.MemoryBIO()
        try:
            self.obj = ctx.wrap_bio(
                self.inc, self.out, server_side=server_side, server_hostname=server_hostname,
                session=session,
            )  # fmt: skip
        except ValueError:  # a session of a context rebuilt since (a CA file committed)
            self.obj = ctx.wrap_bio(
                self.inc, self.out, server_side=server_side, server_hostname=server_hostname
            )
        self.on_ready: Ready | None = on_ready
        self.on_fail: Failed | None = on_fail
        self.outer: _socket.socket | None = None
        self.outer_fd = -1
        self.outer_mask = 0
        self.to_raw = bytearray(prefix)
        self.to_outer = bytearray()
        self.raw_eof = self.outer_eof = self.shut_sent = False
        self.closed = False
        self.timer: asyncio.TimerHandle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.raw_mask = READ

    def start(
        self, loop: asyncio.AbstractEventLoop, timeout_s: float | None, *, watched: bool
    ) -> None:
        """Begin the handshake; `watched`: the raw socket is in the poller already (its
        handler is taken over)."""
        self.loop = loop
        if watched:
            self.poller.handlers[self.raw_fd] = self._raw_event
            self.poller.modify(self.raw_fd, READ)
        else:
            self.poller.add(self.raw_fd, READ, self._raw_event)
        if timeout_s is not None:
            self.timer = loop.call_later(timeout_s, self._timed_out)
        self._handshake()

    # -- the handshake -------------------------------------------------------------------

    def _timed_out(self) -> None:
        self.timer = None
        self._fail("SSL handshake timeout")

    def _handshake(self) -> None:
        try:
            self.obj.do_handshake()
        except ssl.SSLWantReadError:
            self._send_out()
            self._set_raw()
            return
        except (ssl.SSLError, OSError) as exc:
            self._send_out()
            self._fail(f"SSL handshake failure ({getattr(exc, 'reason', None) or exc})")
            return
        self._send_out()
        reason = self.check(self.obj) if self.check is not None else None
        if reason is not None:
            self._fail(f"SSL handshake failure ({reason})")
            return
        self._established()

    def _established(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not self.fds.take(2):
            self._fail("out of descriptors")
            return
        inner, outer = _socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        inner.setblocking(False)
        outer.setblocking(False)
        self.outer, self.outer_fd = outer, outer.fileno()
        self.outer_mask = READ
        self.poller.add(self.outer_fd, READ, self._outer_event)
        ready, self.on_ready, self.on_fail = self.on_ready, None, None
        facts = facts_of(self.obj)
        # plaintext the peer sent with its last handshake flight
        self._decrypt()
        self._set_masks()
        assert ready is not None
        ready(inner, facts)

    def _fail(self, reason: str) -> None:
        fail, self.on_fail, self.on_ready = self.on_fail, None, None
        self.keep_session = None  # a failed handshake leaves no session to resume
        self._close_all()
        if fail is not None:
            fail(reason)

    # -- events --------------------------------------------------------------------------

    def _raw_event(self, events: int) -> None:
        if self.closed:
            return
        if events & WRITE and self.to_raw and not self._flush_raw():
            return
        if events & (READ | ERROR | HANGUP) and self.raw_mask & READ:
            try:
                data = self.raw.recv(CHUNK, _DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._fail(exc.strerror or "read error")
                return
            if self.on_ready is not None:  # still shaking hands
                if not data:
                    self._fail("connection closed during SSL handshake")
                    return
                self.inc.write(data)
                self._handshake()
                return
            if data:
                self.inc.write(data)
            else:
                self.raw_eof = True
            self._decrypt()
        elif events & (ERROR | HANGUP) and self.on_ready is not None:
            self._fail("connection error during SSL handshake")
            return
        self._set_masks()

    def _decrypt(self) -> None:
        """Everything decryptable now goes to the outer end; a close_notify is an EOF."""
        while not self.closed:
            try:
                data = self.obj.read(CHUNK)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self.raw_eof = True
                break
            except (ssl.SSLError, OSError) as exc:
                log.debug("tls: %s", exc)
                self._close_all()
                return
            if not data:
                self.raw_eof = True
                break
            self.to_outer += data
        self._send_out()  # key updates, session tickets, alerts
        keep = self.keep_session
        if keep is not None and self.obj.session is not None and self.obj.session.has_ticket:
            self.keep_session = None  # a TLS 1.3 ticket came: the next connection may resume
            keep(self.obj.session)
        if self.to_outer:
            self._flush_outer()
        if self.raw_eof and not self.to_outer and not self.closed and self.outer is not None:
            with contextlib.suppress(OSError):
                self.outer.shutdown(socket.SHUT_WR)
            self._maybe_done()

    def _outer_event(self, events: int) -> None:
        if self.closed or self.outer is None:
            return
        if events & WRITE and self.to_outer:
            self._flush_outer()
            if self._gone():
                return
            if self.raw_eof and not self.to_outer:
                with contextlib.suppress(OSError):
                    self.outer.shutdown(socket.SHUT_WR)
                self._maybe_done()
                if self._gone():
                    return
        if events & (READ | ERROR | HANGUP) and self.outer_mask & READ:
            try:
                data = self.outer.recv(CHUNK, _DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if data:
                try:
                    self.obj.write(data)
                except (ssl.SSLError, OSError):
                    self._close_all()
                    return
            else:
                self.outer_eof = True
                with contextlib.suppress(ssl.SSLError, OSError):
                    self.obj.unwrap()  # close_notify
            self._send_out()
            if self._gone():
                return
            if not data and events & HANGUP:
                # the stream closed its socket (not only its side): the connection ends
                # here, as HAProxy closes it; the close_notify went first if it could
                self._close_all()
                return
            self._maybe_done()
        self._set_masks()

    # -- writing -------------------------------------------------------------------------

    def _send_out(self) -> None:
        """What the TLS engine produced goes towards the network (then the FIN, once the
        stream has ended its side and everything left)."""
        pending = self.out.pending
        if pending:
            self.to_raw += self.out.read()
        if self.to_raw:
            self._flush_raw()
        elif self.outer_eof and not self.shut_sent and self.on_ready is None:
            self.shut_sent = True
            with contextlib.suppress(OSError):
                self.raw.shutdown(socket.SHUT_WR)

    def _flush_raw(self) -> bool:
        try:
            sent = self.raw.send(self.to_raw, _DONTWAIT | _NOSIGNAL)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            self._close_all()
            return False
        del self.to_raw[:sent]
        if not self.to_raw and self.outer_eof and not self.shut_sent:
            self.shut_sent = True
            with contextlib.suppress(OSError):
                self.raw.shutdown(socket.SHUT_WR)
        return True

    def _flush_outer(self) -> None:
        assert self.outer is not None
        try:
            sent = self.outer.send(self.to_outer, _DONTWAIT | _NOSIGNAL)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close_all()
            return
        del self.to_outer[:sent]

    # -- masks and the end ---------------------------------------------------------------

    def _set_raw(self) -> None:
        """During the handshake: set every time (the socket's owner may have changed the
        mask it no longer handles; a stale EPOLLOUT would spin)."""
        if not self.closed:
            self.raw_mask = READ | (WRITE if self.to_raw else 0)
            self.poller.modify(self.raw_fd, self.raw_mask)

    def _set_masks(self) -> None:
        if self.closed:
            return
        if self.on_ready is not None:
            self._set_raw()
            return
        raw = (READ if not self.raw_eof and not self.to_outer else 0) | (
            WRITE if self.to_raw else 0
        )
        outer = (READ if not self.outer_eof and not self.to_raw else 0) | (
            WRITE if self.to_outer else 0
        )
        # a descriptor with nothing to wait for leaves the set (a level-triggered hang-up
        # would spin), and comes back when it has
        if raw != self.raw_mask:
            self._change(self.raw_fd, self.raw_mask, raw, self._raw_event)
            self.raw_mask = raw
        if outer != self.outer_mask:
            self._change(self.outer_fd, self.outer_mask, outer, self._outer_event)
            self.outer_mask = outer

    def _change(self, fd: int, old: int, new: int, handler: Callable[[int], None]) -> None:
        if not new:
            self.poller.remove(fd)
        elif not old:
            self.poller.add(fd, new, handler)
        else:
            self.poller.modify(fd, new)

    def _gone(self) -> bool:
        """Whether a call just made closed the bridge (a method: mypy would take the
        attribute for still narrowed)."""
        return self.closed

    def _maybe_done(self) -> None:
        if (
            self.raw_eof
            and self.outer_eof
            and not self.to_raw
            and not self.to_outer
            and self.on_ready is None
        ):
            self._close_all()

    def _close_all(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.counts is not None:
            self.counts.curr -= 1
        keep, self.keep_session = self.keep_session, None
        if keep is not None and self.on_ready is None and self.obj.session is not None:
            keep(self.obj.session)  # the handshake was done: its session may be resumed
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.poller.forget(self.raw_fd)
        self.raw.close()
        if self.outer is not None:
            self.poller.forget(self.outer_fd)
            self.outer.close()
            self.fds.give(2)


class TlsCounters:
    """The process's TLS connections as `show info` tells them (stats.c stats_fill_info):
    those open and opened (front and back: global.sslconns, totalsslconns), the clients'
    TLS connections per second (ssl_per_sec, counted at accept), the full handshakes per
    second on each side (ssl_fe_keys_per_sec, ssl_be_keys_per_sec: not resumed ones), and
    `maxsslconn` (`limit`, 0: none): no TLS connection starts while that many are open
    (ssl_sock_init: CO_ER_SSL_TOO_MANY)."""

    __slots__ = ("be_keys", "cum", "curr", "fe_keys", "limit", "sessions")

    def __init__(self, limit: int = 0) -> None:
        self.curr = self.cum = 0
        self.limit = limit
        self.sessions, self.fe_keys, self.be_keys = Rate(), Rate(), Rate()

    def full(self) -> bool:
        return bool(self.limit) and self.curr >= self.limit


def facts_of(obj: ssl.SSLObject) -> TlsFacts:
    """What the ssl_fc* / ssl_c* / ssl_bc* fetches read of a finished handshake."""
    cipher = obj.cipher()
    der = obj.getpeercert(binary_form=True)
    cert = None
    if der:
        with contextlib.suppress(x509.CertError):
            cert = x509.parse(der)
    return TlsFacts(
        protocol=obj.version() or "",
        cipher=cipher[0] if cipher else "",
        alg_keysize=cipher[2] if cipher else 0,
        sni=getattr(obj, "sni", None) if obj.server_side else obj.server_hostname,
        alpn=obj.selected_alpn_protocol(),
        peer_der=der,
        peer_subject=cert.subject if cert is not None else None,
        peer_issuer=cert.issuer if cert is not None else None,
        peer_verified=bool(der) and obj.context.verify_mode != ssl.CERT_NONE,
        local_key_alg=getattr(obj.context, "local_key_alg", ""),
        local_sig_alg=getattr(obj.context, "local_sig_alg", ""),
        resumed=obj.session_reused,
    )
