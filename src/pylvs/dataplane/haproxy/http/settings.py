"""A `mode http` frontend's and backend's settings as the HTTP machines take them.

proto/http/conn's `Front` (the client side: connection option, timeouts, limits) and `Back`
(the server side), and the `http-reuse` mode of the backend's connection pool, from
model/proxy_spec's FrontendSpec/BackendSpec (their `http` part: config/haproxy/convert_http).

Timeouts as HAProxy 2.6 applies them (proto/http/timeouts.py has the rules): the client side
reads `timeout client`, `http-request`, `http-keep-alive`, `client-fin` of the frontend and
`timeout tunnel` and `server` of the backend a request goes to (a tunnel's idle time is the
longer of client and server when `tunnel` is unset); the server side reads `timeout server`,
`server-fin` and `tunnel`.  `timeout connect` is the driver's (each attempt of a retried
connect has its own, src/backend.c), so the server machine is given none.
"""

from __future__ import annotations

from dataclasses import replace

from pylvs.model.proxy_spec import BackendSpec, FrontendSpec, HttpSpec
from pylvs.proto.http.conn.client import Front
from pylvs.proto.http.conn.pool import Reuse
from pylvs.proto.http.conn.server import Back
from pylvs.proto.http.connmode import Mode
from pylvs.proto.http.limits import DEFAULT_LIMITS, Limits
from pylvs.proto.http.timeouts import Timeouts

MODES = {"keep-alive": Mode.KEEP_ALIVE, "server-close": Mode.SERVER_CLOSE, "close": Mode.CLOSE}
REUSE = {r.name.lower(): r for r in Reuse}
_NONE = HttpSpec()


def _s(ms: int | None) -> float | None:
    return None if ms is None or ms <= 0 else ms / 1000.0


def front(fe: FrontendSpec, be: BackendSpec | None, limits: Limits = DEFAULT_LIMITS) -> Front:
    """The client side's settings (`be`: the backend whose tunnel/server timeouts count)."""
    h = fe.http or _NONE
    return Front(
        mode=MODES[h.conn_mode],
        limits=limits,
        timeouts=Timeouts(
            client=_s(fe.client_ms),
            server=_s(be.server_ms) if be is not None else None,
            http_request=_s(h.request_ms),
            http_keep_alive=_s(h.keep_alive_ms),
            tunnel=_s(be.tunnel_ms) if be is not None else None,
            client_fin=_s(fe.client_fin_ms),
            dontlognull=h.dontlognull,
            ignore_probes=h.ignore_probes,
        ),
    )


def back(be: BackendSpec, fe: FrontendSpec | None, limits: Limits = DEFAULT_LIMITS) -> Back:
    h = be.http or _NONE
    return Back(
        mode=MODES[h.conn_mode],
        limits=limits,
        timeouts=Timeouts(
            client=_s(fe.client_ms) if fe is not None else None,
            server=_s(be.server_ms),
            tunnel=_s(be.tunnel_ms),
            server_fin=_s(be.server_fin_ms),
        ),
        pretend_keepalive=h.pretend_keepalive,
    )


def reuse(be: BackendSpec) -> Reuse:
    """`http-reuse`; a dispatch or transparent target is no server, and its connections are
    private to their client connection (src/backend.c connect_server), as with `never`."""
    if be.dispatch is not None:
        return Reuse.NEVER
    return REUSE[(be.http or _NONE).reuse]


def set_timeouts(base: Timeouts, chosen: dict[str, int]) -> Timeouts:
    """`set-timeout server|tunnel` in milliseconds (stream_set_timeout) over the backend's
    timeouts; 0 is no timeout (TICK_ETERNITY)."""
    t = base
    if "server" in chosen:
        t = replace(t, server=chosen["server"] / 1000 or None)
    if "tunnel" in chosen:
        t = replace(t, tunnel=chosen["tunnel"] / 1000 or None)
    return t
