"""Cookie persistence on the mode http runtime: proto/http's cookies.py and
cookie_response.py plugged into the HTTP driver's seams (http/state.py's hooks).

For a backend with a `cookie` line, each request's Cookie headers are read once its backend is
chosen (http_process_request: after the rules, before balancing): the first server whose
`cookie` value the persistence cookie names takes it directly (SF_DIRECT), if it is not stopped
or the backend has `option persist` or a `force-persist` rule matched (an `ignore-persist` one
makes the cookie ignored, and none is inserted); the cookie is removed or its prefix stripped
before the request is forwarded. Each final response head of such a backend gets the server's
Set-Cookie edited and HAProxy's own added (http_process_res_common); a backend with `option
checkcache` refuses a cacheable response that sets a cookie (with or without a `cookie`
line). Whether the stream was
still direct when answered is the driver's: a redispatch moved it away. Times are the wall
clock's whole seconds (the cookies' dates are HAProxy's `date.tv_sec`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from pylvs.proto.http import cookie_response, cookies
from pylvs.sched.haproxy.server import MAINT, State

LOG_ALERT = 1

if TYPE_CHECKING:
    from pylvs.proto.http.message import ResponseHead
    from pylvs.sched.haproxy import Server

    from .http.exchange import Exchange
    from .runtime import ProxyRuntime


def _running(server: Server) -> bool:
    """cur_state != SRV_ST_STOPPED (a server in maintenance is stopped there)."""
    return server.cur_state is not State.STOPPED and not server.cur_admin & MAINT


class CookiePersistence:
    """The hooks of one runtime (see the module doc); `pending` holds each exchange's
    request-side outcome until its response (by the exchange's identity)."""

    def __init__(self, runtime: ProxyRuntime) -> None:
        self.rt = runtime
        self.pending: dict[int, cookies.RequestCookies] = {}

    @classmethod
    def install(cls, runtime: ProxyRuntime) -> CookiePersistence | None:
        """Hook into the runtime's HTTP driver when a backend persists with a cookie."""
        if not any(b.cookie is not None or b.checkcache for b in runtime.spec.backends):
            return None
        hooks = cls(runtime)
        runtime.http.on_request.append(hooks.request)
        runtime.http.on_response.append(hooks.response)
        runtime.http.on_end.append(hooks.ended)
        return hooks

    def request(self, x: Exchange) -> Server | None:
        be, head = x.backend, x.request
        if be is None or be.spec.cookie is None or head is None:
            return None  # (checkcache alone reads only the response)
        candidates = [
            (s.spec.cookie.encode() if s.spec.cookie else None, _running(s.lb)) for s in be.servers
        ]
        now = int(self.rt.wall())
        force, ignore = x.persist
        got = cookies.request(
            head.fields,
            be.spec.cookie,
            candidates,
            now=now,
            persist=be.spec.persist,
            force=force,
            ignore=ignore,
        )
        self.pending[id(x)] = got
        x.cookie_flags = got.state.letter + x.cookie_flags[1]
        if got.fields != head.fields:
            x.request = dataclasses.replace(head, fields=got.fields)
        return be.servers[got.server].lb if got.server is not None else None

    def response(self, x: Exchange) -> ResponseHead | int | None:
        be, head = x.backend, x.response
        if be is None or head is None or (be.spec.cookie is None and not be.spec.checkcache):
            return None
        client = self.pending.get(id(x))
        srv = x.server
        direct = (
            client is not None
            and client.server is not None
            and srv is be.servers[client.server]
            and not x.redispatched
        )
        cookie = srv.spec.cookie.encode() if srv is not None and srv.spec.cookie else None
        # txn->meth: the method as received (`set-method` leaves it; http_ana.c)
        method = x.stream.orig_method if x.stream is not None else None
        if method is None:
            method = x.request.method if x.request is not None else b""
        out = cookie_response.response(
            head.fields,
            be.spec.cookie,
            head.status,
            client,
            server_cookie=cookie,
            has_server=srv is not None,
            direct=direct,
            post=method == b"POST",
            cacheable=cookie_response.request_cacheable(method),
            checkcache=be.spec.checkcache,
            ignore=x.persist[1],
            now=int(self.rt.wall()),
        )
        x.cookie_flags = x.cookie_flags[0] + out.state.letter
        if out.blocked:
            return self.blocked(x, head.status)
        if out.fields == head.fields:
            return None
        return dataclasses.replace(head, fields=out.fields)

    def blocked(self, x: Exchange, status: int) -> int:
        """`option checkcache` and a cacheable response that sets a cookie: the backend logs
        the alert and the client gets HAProxy's answer for the response's own status (the
        deny path of http_process_res_common answers txn->status: a 200 gets the "200 OK /
        Service ready." page, as haproxy 2.6.12 sends it)."""
        be = x.backend
        assert be is not None
        server = x.server.spec.name if x.server is not None else "<dispatch>"
        text = (
            f"Blocking cacheable cookie in response from instance {be.spec.name}, server {server}"
        )
        text += "."
        self.rt.send_log(be.spec.name, LOG_ALERT, text)
        x.denied = (x.denied[0], x.denied[1], True)  # denied_resp
        return status

    def ended(self, x: Exchange) -> None:
        self.pending.pop(id(x), None)
