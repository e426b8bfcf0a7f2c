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
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from pylvs.model.proxies import NO_MODULES, ModuleCounters
from pylvs.model.proxy_spec import BindSpec
from pylvs.model.tls import NO_DEFAULTS, TlsDefaults, TlsFacts, TlsServerSpec
from pylvs.proto import proxyproto, x509
from pylvs.proto.rules import counters
from pylvs.proto.sample.stream import Session, Stream
from pylvs.proto.tls_store import CaStore

from . import tls_native
from .tls import TlsBridge, TlsCounters
from .tls_contexts import BindTls, TlsSetupError, constant_sni, pair_ok, server_context

if TYPE_CHECKING:
    from pylvs.dataplane.proxy.tcp import End

    from .backend import BackendRuntime, ServerRuntime
    from .frontend import Frontend, FrontendListener
    from .http.server_side import ServerConn
    from .http.upstream import Upstream
    from .session_connect import ConnectingSession

log = logging.getLogger("pylvs.proxy")
HANDSHAKE_TIMEOUT = 5.0  # without `timeout client`


class TlsState:
    """A runtime's TLS: the CA store, the binds' contexts (built once per bind line)."""

    def __init__(
        self,
        server_verify: str = "required",
        bind_defaults: TlsDefaults = NO_DEFAULTS,
        server_defaults: TlsDefaults = NO_DEFAULTS,
    ) -> None:
        self.store = CaStore(pair_ok=pair_ok)  # `commit ssl cert` asks whether a key fits
        self.server_verify = server_verify
        # the global ssl-default-bind-* / ssl-default-server-* settings
        self.bind_defaults, self.server_defaults = bind_defaults, server_defaults
        self._binds: dict[int, BindTls] = {}
        self.counts = TlsCounters(bind_defaults.max_conns)  # show info's SSL lines

    def prepare(self, backends: Iterable[BackendRuntime]) -> None:
        """Build the contexts of the servers whose TLS is in use (their CA, certificate
        files are read at start, as HAProxy's ssl_sock_prepare_srv_ctx does; a file that
        cannot be used stops the start, naming the server)."""
        for be in backends:
            for srv in be.servers:
                spec = srv.tls.spec
                if spec is None or not (srv.tls.on or spec.check_ssl):
                    continue
                try:
                    srv.tls.context(self.store, self.server_verify, self.server_defaults)
                except TlsSetupError as exc:
                    name = f"{be.spec.name}/{srv.spec.name}"
                    raise TlsSetupError(f"{srv.spec.where}: 'server {name}' : {exc}") from None

    def check_context(self, spec: TlsServerSpec) -> ssl.SSLContext:
        """A health check's TLS context (built per check run: checks are seconds apart and
        a CA file commit must reach them): the server's (its `alpn` included, set on the
        context: ssl_sock_prepare_srv_ssl_ctx), `check-alpn`'s protocols in their place
        (tcpcheck_eval_connect)."""
        if spec.check_alpn is not None:
            spec = replace(spec, alpn=spec.check_alpn)
        ctx = server_context(spec, self.server_verify, self.store, self.server_defaults)
        name = spec.check_sni or spec.verifyhost  # the SNI the check sends, else verifyhost
        if name and ctx.verify_mode == ssl.CERT_REQUIRED:
            try:
                tls_native.verify_name(ctx, lambda der: _matches(der, name))
            except tls_native.NativeUnavailableError as exc:
                raise TlsSetupError(f"cannot verify the name '{name}': {exc}") from None
        return ctx

    def bind(self, spec: BindSpec) -> BindTls | None:
        """The contexts of a TLS bind; ProxyRuntime's start turns a TlsSetupError into its
        refusal to start, naming the bind line."""
        if spec.tls is None:
            return None
        got = self._binds.get(id(spec))
        if got is None:
            try:
                got = self._binds[id(spec)] = BindTls(spec.tls, self.store, self.bind_defaults)
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
    tls.current()  # a committed certificate or CA file: new handshakes use it
    assert tls.default is not None

    counts = listener.frontend.runtime.tls.counts
    counts.sessions.count(listener.ctx.clock())  # listener_accept: ssl_per_sec

    def ready(inner: _socket.socket, facts: TlsFacts) -> None:
        tls.handshakes += 1
        if not facts.resumed:
            counts.fe_keys.count(listener.ctx.clock())
        listener.start_stream(inner, src, src_port, dst, sess, pp=pp, tls=facts)  # type: ignore[arg-type]

    def failed(reason: str) -> None:
        tls.failed += 1
        log.debug("frontend %s: %s", listener.frontend.spec.name, reason)
        if sess is not None:
            counters.stop_session(sess, listener.ctx.clock())
        listener._drop(client, reset=False)

    if counts.full():  # `maxsslconn`: no handshake (see `_over_limit`)
        _over_limit(listener, client, sess)
        return

    bridge = TlsBridge(
        poller, client, tls.default, listener.ctx.fds, server_side=True,
        on_ready=ready, on_fail=failed, counts=counts,
    )  # fmt: skip
    bridge.start(loop, listener.frontend.client_s or HANDSHAKE_TIMEOUT, watched=False)


# -- servers ---------------------------------------------------------------------------


def _over_limit(listener: FrontendListener, client: _socket.socket, sess: Session | None) -> None:
    """A client accepted while `maxsslconn` TLS connections are open: haproxy 2.6.12
    leaves it without a handshake (ssl_sock_init fails with CO_ER_SSL_TOO_MANY and the
    connection is never answered, even once others close); pylvs does the same but closes
    it at `timeout client` rather than never."""
    loop = listener.loop
    assert loop is not None
    log.debug("frontend %s: too many SSL connections", listener.frontend.spec.name)

    def drop() -> None:
        if sess is not None:
            counters.stop_session(sess, listener.ctx.clock())
        listener._drop(client, reset=False)

    loop.call_later(listener.frontend.client_s or HANDSHAKE_TIMEOUT, drop)


def _sni(srv: ServerRuntime, sess: Session | None, stream: Stream | None = None) -> str | None:
    """The server name sent: `sni str(NAME)`, `sni ssl_fc_sni` (the client's own) or
    `sni req.hdr(host)` (the request's Host, mode http); the reader warned about others."""
    spec = srv.tls.spec
    name = constant_sni(spec)
    form = spec.sni.lower() if spec is not None and spec.sni is not None else ""
    if form == "ssl_fc_sni" and sess is not None:
        facts = sess.tls
        name = facts.sni if facts is not None else None
    elif form in ("req.hdr(host)", "hdr(host)") and stream is not None:
        host = stream.request.first(b"host") if stream.request is not None else None
        name = host.decode("latin-1") if host else None
    return name


def connect_tcp(hs: ConnectingSession, end: End, srv: ServerRuntime, tls_state: TlsState) -> None:
    """A mode tcp stream's server socket is connected: shake hands before the relay starts
    (the PROXY header, if any, goes first in clear)."""
    spec = srv.spec
    prefix = (hs._proxy_header(spec) if spec.proxy_version else None) or b""
    if tls_state.counts.full():
        hs._failed("too many SSL connections", error=True)
        return
    try:
        ctx = srv.tls.context(tls_state.store, tls_state.server_verify, tls_state.server_defaults)
    except TlsSetupError as exc:
        hs._failed(str(exc), error=True)
        return
    sess = hs.stream.sess if hs.stream is not None else None

    def ready(inner: _socket.socket, facts: TlsFacts) -> None:
        srv.tls.handshakes += 1
        if not facts.resumed:
            tls_state.counts.be_keys.count(hs.ctx.clock())
        end.sock = inner
        end.fd = inner.fileno()
        hs.tls = facts
        if end.watched:  # as it was on the raw socket (whose handler is the bridge's now)
            hs.poller.add(end.fd, end.mask, functools.partial(hs._event, end))
        hs._established(end)

    def failed(reason: str) -> None:
        srv.tls.failed_handshake()
        end.watched = False  # the bridge closed it and took it out of the poller
        hs._failed(reason, error=True)

    hs.tls = False
    sni = _sni(srv, sess)
    bridge = TlsBridge(
        hs.poller, end.sock, ctx, hs.ctx.fds, server_side=False,
        server_hostname=sni, on_ready=ready, on_fail=failed, prefix=prefix,
        counts=tls_state.counts, session=srv.tls.session(sni), keep_session=srv.tls.keeper(sni),
        check=name_check(ctx, sni, srv.tls.spec),
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
    if tls_state.counts.full():
        log.debug("server %s: too many SSL connections", srv.spec.name)
        up.connect_failed(sc)
        return
    try:
        ctx = srv.tls.context(tls_state.store, tls_state.server_verify, tls_state.server_defaults)
    except TlsSetupError as exc:
        log.warning("server %s: %s", srv.spec.name, exc)
        up.connect_failed(sc)
        return
    s = up.s
    sess = s.phases.sess if s.phases is not None else None
    stream = s.phases.stream if s.phases is not None else None
    ep.connected = False  # writes queue until the inner socket takes them

    def ready(inner: _socket.socket, facts: TlsFacts) -> None:
        srv.tls.handshakes += 1
        if not facts.resumed:
            tls_state.counts.be_keys.count(s.ctx.clock())
        ep.sock = inner
        ep.fd = inner.fileno()
        ep.connected = True
        sc.tls = facts
        ep.mask = ep._wanted()
        ep.poller.add(ep.fd, ep.mask, ep._event)
        up.established(sc)

    def failed(reason: str) -> None:
        srv.tls.failed_handshake()
        log.debug("server %s: %s", srv.spec.name, reason)
        up.connect_failed(sc)

    sc.tls = False
    sni = _sni(srv, sess, stream)
    bridge = TlsBridge(
        ep.poller, ep.sock, ctx, s.ctx.fds, server_side=False,
        server_hostname=sni, on_ready=ready, on_fail=failed,
        prefix=sc.proxy_header or b"", counts=tls_state.counts,
        session=srv.tls.session(sni), keep_session=srv.tls.keeper(sni),
        check=name_check(ctx, sni, srv.tls.spec),
    )  # fmt: skip
    bridge.start(s.loop, None, watched=True)


def name_check(
    ctx: ssl.SSLContext, sni: str | None, spec: TlsServerSpec | None
) -> Callable[[ssl.SSLObject], str | None] | None:
    """The name a verified server's certificate must carry: the SNI sent, else
    `verifyhost`, else none (ssl_sock_srv_verifycbk; names as ssl_sock_srv_hostcheck
    compares them).  Only when the certificate is verified (`verify required`)."""
    name = sni or (spec.verifyhost if spec is not None else None)
    if not name or ctx.verify_mode != ssl.CERT_REQUIRED:
        return None

    def check(obj: ssl.SSLObject) -> str | None:
        der = obj.getpeercert(binary_form=True)
        if der is not None and _matches(der, name):
            return None
        return f"the server certificate does not match '{name}'"

    return check


def _matches(der: bytes, name: str) -> bool:
    try:
        return x509.cert_matches(x509.parse(der), name)
    except x509.CertError:
        return False


def tls_modules(fe: Frontend) -> ModuleCounters:
    """The ssl stats module of a frontend (ssl_sess, ssl_reused_sess, ssl_failed_handshake:
    src/ssl_sock.c ssl_stats): its TLS binds' handshakes."""
    binds = {id(lst.tls): lst.tls for lst in fe.listeners if lst.tls is not None}
    if not binds:
        return NO_MODULES
    done = sum(b.handshakes for b in binds.values())
    failed = sum(b.failed for b in binds.values())
    return ModuleCounters(ssl=(done, 0, failed))


def server_tls_modules(srv: ServerRuntime) -> ModuleCounters:
    t = srv.tls
    if not t.handshakes and not t.failed:
        return NO_MODULES
    return ModuleCounters(ssl=(t.handshakes, 0, t.failed))
