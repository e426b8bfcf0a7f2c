"""The HTTP counters of the live HAProxy runtime, by frontend, backend and server name:
what `show stat`'s HTTP columns, the stats page and the Prometheus exporter read.

A frontend's requests are counted once, by the HTTP driver, on the frontend's own rate
(`Frontend.req_rate.count(now)` for every request it parses, as proxy_inc_fe_req_ctr: the
total is req_tot, the rate req_rate, its peak req_rate_max; `fe_req_rate` fetches the same
counter).  The rest comes through `ended` (a stream ended with a final status: the frontend
and the backend that served it count its class, the backend one request),
`server_response` (a server answered, each interim 1xx response too) and `intercepted`
(the frontend answered itself: its monitor-uri, a redirect or an applet of its own rules);
proto/http/stats.py says where HAProxy 2.6 counts each.  `exchange_ended` takes the driver's
end-of-exchange record (its `on_end` hook).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from pylvs.dataplane.haproxy.rules import Rate
from pylvs.model.proxies import HttpCounters
from pylvs.proto.http.stats import HttpCounts

EMPTY = HttpCounters()


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Runtime(Protocol):
    @property
    def spec(self) -> _Named: ...


class _Frontend(Protocol):
    @property
    def req_rate(self) -> Rate: ...


class Ended(Protocol):
    """What an ended exchange tells (dataplane/haproxy/http's Exchange)."""

    @property
    def frontend(self) -> str: ...
    @property
    def backend(self) -> _Runtime | None: ...
    @property
    def server(self) -> _Runtime | None: ...
    @property
    def status(self) -> int: ...
    @property
    def response(self) -> object | None: ...
    @property
    def intercepted(self) -> bool: ...
    @property
    def interim(self) -> int: ...
    @property
    def rewrites(self) -> tuple[int, int, int]: ...


class HttpStats:
    def __init__(self, frontends: Mapping[str, _Frontend], clock: Callable[[], float]) -> None:
        self.fronts = frontends  # the runtime's, by name (their request rates)
        self.clock = clock
        self.frontends: dict[str, HttpCounts] = {}
        self.backends: dict[str, HttpCounts] = {}
        self.servers: dict[tuple[str, str], HttpCounts] = {}

    def _fe(self, name: str) -> HttpCounts:
        got = self.frontends.get(name)
        if got is None:
            got = self.frontends[name] = HttpCounts()
        return got

    def intercepted(self, frontend: str) -> None:
        self._fe(frontend).intercepted += 1

    def ended(self, frontend: str, backend: str | None, status: int) -> None:
        if status <= 0:
            return  # no status: nothing was answered (HAProxy tests txn->status)
        self._fe(frontend).response(status)
        if backend is not None:
            be = self.backends.setdefault(backend, HttpCounts())
            be.response(status, count_request=True)

    def server_response(self, backend: str, server: str, status: int) -> None:
        srv = self.servers.setdefault((backend, server), HttpCounts())
        srv.response(status, count_request=True)

    def exchange_ended(self, x: Ended) -> None:
        """The driver's `on_end` hook: the final status, and the server's response when a
        server answered."""
        backend = x.backend.spec.name if x.backend is not None else None
        self.ended(x.frontend, backend, x.status)
        if x.intercepted:
            self.intercepted(x.frontend)
        fe_rw, be_rw, srv_rw = x.rewrites
        if fe_rw:
            self._fe(x.frontend).failed_rewrites += fe_rw
            if backend is not None and be_rw:
                self.backends.setdefault(backend, HttpCounts()).failed_rewrites += be_rw
            if backend is not None and x.server is not None and srv_rw:
                key = (backend, x.server.spec.name)
                self.servers.setdefault(key, HttpCounts()).failed_rewrites += srv_rw
        if backend is not None and x.server is not None:
            for _ in range(x.interim):  # each interim 1xx counts (http_wait_for_response)
                self.server_response(backend, x.server.spec.name, 100)
            if x.response is not None:
                self.server_response(backend, x.server.spec.name, x.status)

    # -- what the snapshot reads ----------------------------------------------------------

    def frontend(self, name: str) -> tuple[HttpCounters, int]:
        """The frontend's counters and its current request rate."""
        counts = self.frontends.get(name) or HttpCounts()
        fe = self.fronts.get(name)
        if fe is None:
            return counts.view(), 0
        rate = fe.req_rate
        return counts.view(rate.total, rate.peak), rate.read(self.clock())

    def rewrites(self, frontend: str | None, backend: str | None = None, server: str = "") -> int:
        """The failed rewrites (wrew) of a frontend, a backend or a backend's server."""
        if frontend is not None:
            got = self.frontends.get(frontend)
        elif server:
            got = self.servers.get((backend or "", server))
        else:
            got = self.backends.get(backend or "")
        return got.failed_rewrites if got is not None else 0

    def backend(self, name: str) -> HttpCounters:
        got = self.backends.get(name)
        return got.view() if got is not None else EMPTY

    def server(self, backend: str, name: str) -> HttpCounters:
        got = self.servers.get((backend, name))
        return got.view() if got is not None else EMPTY

    def clear(self, all_counters: bool) -> None:
        """`clear counters` resets the peak request rates, `all` every counter too."""
        for fe in self.fronts.values():
            fe.req_rate.peak = 0
            if all_counters:
                fe.req_rate.total = 0
        if all_counters:
            for c in [*self.frontends.values(), *self.backends.values(), *self.servers.values()]:
                c.clear()
