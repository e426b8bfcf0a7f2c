"""What the HTTP streams of one runtime share: settings per frontend and backend, each
backend's server connections, the `show errors` captures, and the hooks other parts plug in.

The hooks (the driver's seams; docs/http.md lists them):

* `on_request(exchange) -> Server | None`: a complete request head, its backend chosen,
  before balancing: a hook that returns a server of that backend (persistence: a cookie,
  `use-server`) sends the request there (SF_DIRECT), the first that answers wins;
* `on_response(exchange) -> ResponseHead | int | None`: a final response head from a
  server, once the http-response rules edited it and before http-after-response's (the
  order of http_process_res_common): a hook may return the head to go on with (a cookie
  to insert, headers to set), or a status whose HAProxy answer goes instead of the
  response (`option checkcache`: http_process_res_common's deny, answered with
  txn->status, the server's own status);
* `on_written(exchange)`: that head as it goes to the client, after every rule
  (`option logasap`'s line);
* `on_end(exchange)`: the exchange ended (its timers, status, bytes and termination state
  are final): logs (`option httplog`) and per-status statistics read it here.

Captures follow src/proxy.c proxy_capture_error: the last invalid request of each frontend
and the last invalid response of each backend, numbered by one event counter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pylvs.model.proxies import ErrorCapture
from pylvs.model.proxy_spec import BackendSpec, FrontendSpec, ProxiesSpec
from pylvs.proto.http.answers import Answer
from pylvs.proto.http.conn.client import Front
from pylvs.proto.http.conn.server import Back
from pylvs.proto.http.head import Refusal
from pylvs.proto.http.limits import DEFAULT_LIMITS, Limits
from pylvs.proto.http.snapshot import back_flags, front_flags
from pylvs.proto.http.splicing import Pipes, ideal_maxpipes
from pylvs.proto.http.syntax import State

from . import settings
from .exchange import Exchange
from .server_side import Connections

# What a service gives: the whole response now, or later through the callback it is given.
Service = bytes | Callable[[Callable[[bytes | Answer], None]], None]

if TYPE_CHECKING:
    import _socket

    from pylvs.dataplane.haproxy.backend import BackendRuntime, ServerRuntime
    from pylvs.proto.http.message import ResponseHead
    from pylvs.proto.rules.replies import Response
    from pylvs.sched.haproxy import Server


def buffer_limits(spec: ProxiesSpec) -> Limits:
    """tune.bufsize / tune.maxrewrite / tune.http.maxhdr as the HTTP machines measure with
    them (a buffer too small for HAProxy's HTX header keeps the defaults)."""
    try:
        return Limits(spec.bufsize, spec.maxrewrite, spec.http_maxhdr)
    except ValueError:
        return DEFAULT_LIMITS


class HttpState:
    def __init__(self, wall: Callable[[], float]) -> None:
        self.wall = wall
        self.limits = DEFAULT_LIMITS  # the runtime's (buffer_limits)
        self.comp_level = 1  # tune.comp.maxlevel (compress.py)
        self._fronts: dict[str, Front] = {}
        self._backs: dict[str, Back] = {}
        self._conns: dict[str, Connections] = {}
        self.captures: dict[tuple[str, bool], ErrorCapture] = {}
        self.events = 0  # error_snapshot_id
        self.on_request: list[Callable[[Exchange], Server | None]] = []
        self.on_response: list[Callable[[Exchange], ResponseHead | int | None]] = []
        self.on_written: list[Callable[[Exchange], None]] = []
        self.on_end: list[Callable[[Exchange], None]] = []
        # count(frontend, backend, server, status): the per-status counters an `on_end`
        # hook keeps, for an exchange the pump's engine served (engine.py)
        self.count: Callable[[str, str, str, int], None] | None = None
        # tally(frontend, backend, server, classes): the same for a round's exchanges on
        # one server, by status class (the pump's tallies, _h1own.h)
        self.tally: Callable[[str, str, str, Sequence[int]], None] | None = None
        # the traffic log's `on_end` hook (httplog.py), for an exchange the pump served
        # (own.py: its record's facts made an Exchange)
        self.log: Callable[[Exchange], None] | None = None
        # by backend name: the idle server connections of the pump's HTTP listeners
        # (own.py H1Listener.lend), which a request that is not its connection's first
        # may take as it takes the backend's own (one pool, as HAProxy's)
        self.lenders: dict[str, list[Callable[[Server], _socket.socket | None]]] = {}
        # kernel splicing (passing.py, proto/http/splicing.py): on unless `nosplice` / -dS,
        # `maxpipes` streams at once, the pipe's `tune.pipesize`
        self.splice = True
        self.pipes = Pipes(2**31 - 1)
        self.pipesize = 0
        # `http-request use-service NAME`: the raw HTTP/1 response the applet answers, or
        # (a Lua service, engine/lua/applet.py) a function to call with the callback that
        # takes the answer once the applet has built it
        self.services: dict[str, Callable[[Exchange], Service]] = {}
        # the stats page of a backend with `stats enable`, by backend name: its answer to a
        # request that reached the backend, None when the request is not the page's
        self.pages: dict[str, Callable[[Exchange], Response | None]] = {}

    def front(self, fe: FrontendSpec, be: BackendSpec | None) -> Front:
        got = self._fronts.get(fe.name)
        if got is None:
            got = self._fronts[fe.name] = settings.front(fe, be, self.limits)
        return got

    def back(self, be: BackendSpec) -> Back:
        got = self._backs.get(be.name)
        if got is None:
            got = self._backs[be.name] = settings.back(be, None, self.limits)
        return got

    def connections(self, be: BackendRuntime, loop: asyncio.AbstractEventLoop) -> Connections:
        got = self._conns.get(be.spec.name)
        if got is None:
            got = self._conns[be.spec.name] = Connections(be, settings.reuse(be.spec), loop)
        return got

    def drop_idle(self, be: BackendRuntime, srv: ServerRuntime) -> None:
        """Close `srv`'s idle server connections (`set server B/S ssl`)."""
        conns = self._conns.get(be.spec.name)
        if conns is not None:
            conns.drop_server(srv)

    def idle_to(self, be: BackendRuntime, srv: ServerRuntime) -> int:
        """The idle connections the backend's pool keeps to `srv`."""
        conns = self._conns.get(be.spec.name)
        return 0 if conns is None else sum(1 for c in conns.idle.values() if c.srv is srv)

    def all_connections(self) -> list[Connections]:
        return list(self._conns.values())

    def close(self) -> None:
        for conns in self._conns.values():
            conns.close_all()

    # -- show errors -------------------------------------------------------------------

    def capture(
        self,
        refusal: Refusal,
        buffer: bytes,
        *,
        response: bool,
        not_first: bool,
        fe: FrontendSpec,
        be: BackendSpec | None,
        server: ServerRuntime | None,
        src: tuple[str, int],
    ) -> None:
        """Keep an invalid message for `show errors` (the proxy's previous one goes)."""
        self.events += 1
        conn, stream = back_flags() if response else front_flags(not_first)
        extra = (
            f"  H1 connection flags 0x{conn:08x}, H1 stream flags 0x{stream:08x}\n"
            f"  H1 msg state {State(refusal.state).label}({int(refusal.state)}), H1 msg flags "
            f"0x{refusal.flags:08x}\n"
            "  H1 chunk len 0 bytes, H1 body len 0 bytes :\n"
        )
        proxy: Any = be if response else fe
        other: Any = fe if response else be
        self.captures[proxy.name, response] = ErrorCapture(
            proxy=proxy.name,
            proxy_id=proxy.id,
            response=response,
            when=self.wall(),
            other=other.name if other is not None else None,
            other_id=other.id if other is not None else -1,
            server=server.spec.name if server is not None else None,
            server_id=server.spec.id if server is not None else -1,
            event=self.events,
            src=src[0],
            src_port=src[1],
            buf_wrap=refusal_wrap(),
            error_at=refusal.position,
            data=buffer,
            extra=extra,
        )


def refusal_wrap() -> int:
    from pylvs.proto.http.limits import DEFAULT_LIMITS

    return DEFAULT_LIMITS.raw_head


def piping(state: HttpState, spec: ProxiesSpec, maxconn: int) -> None:
    """The global splicing settings as the streams read them (`maxpipes` unset: haproxy.c's
    compute_ideal_maxpipes over the effective `maxconn`)."""
    state.splice = spec.splice
    state.pipes = Pipes(spec.maxpipes or ideal_maxpipes(maxconn))
    state.pipesize = spec.pipesize
