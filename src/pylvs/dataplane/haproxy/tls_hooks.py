"""Where TLS joins the HAProxy mode's streams (tls.py's bridge at the accept and connect
paths): the frontend's handshake before its session rules (HAProxy runs `tcp-request
connection` rules before the handshake and `tcp-request session` rules after it,
src/session.c), and a server's handshake inside its connect (the connect timeout covers it
and a failed handshake is a failed connection attempt, retried as one: src/backend.c).

`TlsState` is what a runtime keeps: the CA files of the runtime API, each TLS bind's
contexts, the global `ssl-server-verify`.
"""

from __future__ import annotations

import _socket
import functools
import logging
import ssl
from typing import TYPE_CHECKING

from pylvs.model.proxy_spec import BindSpec
from pylvs.model.tls import TlsFacts, TlsServerSpec
from pylvs.proto import proxyproto
from pylvs.proto.rules import counters
from pylvs.proto.sample.stream import Session
from pylvs.proto.tls_store import CaStore

from .tls import TlsBridge
from .tls_contexts import BindTls, TlsSetupError, constant_sni, server_context

if TYPE_CHECKING:
    from pylvs.dataplane.proxy.tcp import End

    from .backend import ServerRuntime
    from .frontend import FrontendListener
    from .http.server_side import ServerConn
    from .http.upstream import Upstream
    from .session import HaSession

log = logging.getLogger("pylvs.proxy")
HANDSHAKE_TIMEOUT = 5.0  # without `timeout client`


class TlsState:
    """A runtime's TLS: the CA store, the binds' contexts (built once per bind line)."""

    def __init__(self, server_verify: str = "required") -> None:
        self.store = CaStore()
        self.server_verify = server_verify
        self._binds: dict[int, BindTls] = {}

    def check_context(self, spec: TlsServerSpec) -> ssl.SSLContext:
        """A health check's TLS context (built per check run: checks are seconds apart and
        a CA file commit must reach them)."""
        return server_context(spec, self.server_verify, self.store)

    def bind(self, spec: BindSpec) -> BindTls | None:
        """The contexts of a TLS bind; ProxyRuntime's start turns a TlsSetupError into its
        refusal to start, naming the bind line."""
        if spec.tls is None:
            return None
        got = self._binds.get(id(spec))
        if got is None:
            try:
                got = self._binds[id(spec)] = BindTls(spec.tls, self.store)
            except TlsSetupError as exc:
                raise TlsSetupError(f"{spec.where}: 'bind' : {exc}") from None
        return got


# -- the frontend: handshake, then the stream ------------------------------------------


def accept(
    listener: FrontendListener,
    tls: BindTls,
    client: _socket.socket,
    *,
    src: object,
    src_port: int,
    dst: tuple[object, int],
    sess: Session | None,
    pp: proxyproto.ProxiedAddresses | None = None,
) -> None:
    """Shake hands with an accepted client; its stream starts on the inner socket (`pp`:
    its PROXY header's addresses and TLVs, read before the handshake)."""
    loop, poller = listener.loop, listener.poller
    assert loop is not None and poller is not None
    assert tls.default is not None

    def ready(inner: _socket.socket, facts: TlsFacts) -> None:
        tls.handshakes += 1
        listener.start_stream(inner, src, src_port, dst, sess, pp=pp, tls=facts)  # type: ignore[arg-type]

    def failed(reason: str) -> None:
        tls.failed += 1
        log.debug("frontend %s: %s", listener.frontend.spec.name, reason)
        if sess is not None:
            counters.stop_session(sess, listener.ctx.clock())
        listener._drop(client, reset=False)

    bridge = TlsBridge(
        poller, client, tls.default, listener.ctx.fds, server_side=True,
        on_ready=ready, on_fail=failed,
    )  # fmt: skip
    bridge.start(loop, listener.frontend.client_s or HANDSHAKE_TIMEOUT, watched=False)


# -- servers ---------------------------------------------------------------------------


def _sni(srv: ServerRuntime, sess: Session | None) -> str | None:
    """The server name sent: `sni str(NAME)`, or `sni ssl_fc_sni` (the client's own)."""
    spec = srv.tls.spec
    name = constant_sni(spec)
    if name is None and spec is not None and spec.sni == "ssl_fc_sni" and sess is not None:
        facts = sess.tls
        name = facts.sni if facts is not None else None
    return name


def connect_tcp(hs: HaSession, end: End, srv: ServerRuntime, tls_state: TlsState) -> None:
    """A mode tcp stream's server socket is connected: shake hands before the relay starts
    (the PROXY header, if any, goes first in clear)."""
    spec = srv.spec
    prefix = (hs._proxy_header(spec) if spec.proxy_version else None) or b""
    try:
        ctx = srv.tls.context(tls_state.store, tls_state.server_verify)
    except TlsSetupError as exc:
        hs._failed(str(exc), error=True)
        return
    sess = hs.stream.sess if hs.stream is not None else None

    def ready(inner: _socket.socket, facts: TlsFacts) -> None:
        end.sock = inner
        end.fd = inner.fileno()
        hs.tls = facts
        if end.watched:  # as it was on the raw socket (whose handler is the bridge's now)
            hs.poller.add(end.fd, end.mask, functools.partial(hs._event, end))
        hs._established(end)

    def failed(reason: str) -> None:
        end.watched = False  # the bridge closed it and took it out of the poller
        hs._failed(reason, error=True)

    hs.tls = False
    bridge = TlsBridge(
        hs.poller, end.sock, ctx, hs.ctx.fds, server_side=False,
        server_hostname=_sni(srv, sess), on_ready=ready, on_fail=failed, prefix=prefix,
    )  # fmt: skip
    loop = hs.listener.loop
    assert loop is not None
    bridge.start(loop, hs.be.connect_s, watched=end.watched)


def connect_http(up: Upstream, sc: ServerConn, tls_state: TlsState) -> None:
    """A mode http request's new server connection is connected: shake hands, then it is
    established (`up.established`); what was written meanwhile waits on the endpoint."""
    ep = sc.ep
    assert ep is not None
    srv = sc.srv
    try:
        ctx = srv.tls.context(tls_state.store, tls_state.server_verify)
    except TlsSetupError as exc:
        log.warning("server %s: %s", srv.spec.name, exc)
        up.connect_failed(sc)
        return
    s = up.s
    sess = s.phases.sess if s.phases is not None else None
    ep.connected = False  # writes queue until the inner socket takes them

    def ready(inner: _socket.socket, facts: TlsFacts) -> None:
        ep.sock = inner
        ep.fd = inner.fileno()
        ep.connected = True
        sc.tls = facts
        ep.mask = ep._wanted()
        ep.poller.add(ep.fd, ep.mask, ep._event)
        up.established(sc)

    def failed(reason: str) -> None:
        log.debug("server %s: %s", srv.spec.name, reason)
        up.connect_failed(sc)

    sc.tls = False
    bridge = TlsBridge(
        ep.poller, ep.sock, ctx, s.ctx.fds, server_side=False,
        server_hostname=_sni(srv, sess), on_ready=ready, on_fail=failed,
        prefix=sc.proxy_header or b"",
    )  # fmt: skip
    bridge.start(s.loop, None, watched=True)
