"""The HAProxy runtime's streams as `show sess` lists them (src/stream.c
cli_io_handler_dump_sess, HAProxy 2.6), for engine/proxy_stats.py.

Both kinds of stream are listed: a mode tcp `HaSession` for its whole life, and a mode http
connection while one of its requests runs (HAProxy makes one stream per HTTP request: an
idle keep-alive connection has none).  `src=` is the client connection's own address, as
HAProxy prints conn->src: the socket's peer, or what a `tcp-request connection set-src`
made it, not a PROXY header's (that one is the session's; fc_src against src); on a
unix@/abns@ listener `src=unix:ID`.  An HTTP
stream's backend is its frontend until the request is routed (a stream starts with
s->be = the frontend), its server the one it was given.
"""

from __future__ import annotations

from collections.abc import Callable

from pylvs.dataplane.haproxy.frontend import FrontendListener
from pylvs.dataplane.haproxy.http.stream import HttpSession
from pylvs.dataplane.haproxy.plain import PlainView
from pylvs.dataplane.haproxy.session import HaSession
from pylvs.model.proxies import SessionView
from pylvs.proto.sample.stream import Session

Wall = Callable[[float], float]  # the runtime's monotonic clock to wall time
Stream = HaSession | PlainView | HttpSession


def _listener(s: Stream) -> FrontendListener:
    return s.owner.listener if isinstance(s, PlainView) else s.home


def _source(s: Stream, sess: Session | None) -> tuple[str, str, int]:
    """(proto, address, port) of the client connection; on a unix listener, HAProxy prints
    `src=unix:ID`, the listener's id (its rank in the frontend's binds)."""
    listener = _listener(s)
    if listener.unix:
        return "unix_stream", "", listener.frontend.listeners.index(listener) + 1
    src, port = s.facts.src, s.facts.src_port
    if sess is not None and sess.fc_src is not None:
        src, port = sess.fc_src, sess.fc_src_port
    return ("tcpv4" if src.version == 4 else "tcpv6"), str(src), port


def _view(
    s: Stream,
    sess: Session | None,
    *,
    backend: str,
    server: str | None,
    accepted: float,
    server_fd: int,
    retries: int,
) -> SessionView:
    proto, src, port = _source(s, sess)
    return SessionView(
        id(s), proto, src, port, s.fe.spec.name, backend, server, accepted,
        client_fd=s.client.fd, server_fd=server_fd, retries=retries,
    )  # fmt: skip


def tcp_view(s: HaSession | PlainView, wall: Wall) -> SessionView:
    """A mode tcp stream, Python's or the pump's (plain.py: no session)."""
    stream = s.stream if isinstance(s, HaSession) else None
    sess = stream.sess if stream is not None else None
    server = s.picked.name if s.picked is not None else None
    server_fd = s.server.fd if s.server is not None else -1
    backend, accepted, retries = s.be.spec.name, wall(s.born), s.retries
    return _view(s, sess, backend=backend, server=server, accepted=accepted, server_fd=server_fd,
                 retries=retries)  # fmt: skip


def http_view(s: HttpSession, wall: Wall) -> SessionView | None:
    """None between requests (no stream)."""
    x = s.x
    if x is None or s.closed:
        return None
    sess = s.phases.sess if s.phases is not None else None
    sc = s.sc
    server_fd = sc.ep.fd if sc is not None and sc.ep is not None else -1
    backend = x.backend.spec.name if x.backend is not None else s.fe.spec.name
    server = x.server.spec.name if x.server is not None else None
    accepted = wall(x.started_at if x.first else x.request_at)
    return _view(s, sess, backend=backend, server=server, accepted=accepted, server_fd=server_fd,
                 retries=x.retries)  # fmt: skip
