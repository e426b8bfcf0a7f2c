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

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from pylvs.dataplane.haproxy.rules import Rate
from pylvs.model.proxies import HttpCounters
from pylvs.proto.http.stats import HttpCounts

EMPTY = HttpCounters()
_NOT_DENIED = (False, False, False)


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
    def server_status(self) -> int: ...
    @property
    def intercepted(self) -> bool: ...
    @property
    def interim(self) -> int: ...
    @property
    def rewrites(self) -> tuple[int, int, int]: ...
    @property
    def denied(self) -> tuple[bool, bool, bool]: ...
    @property
    def internal_error(self) -> bool: ...
    @property
    def comp_counts(self) -> list[int]: ...
    @property
    def cache_counts(self) -> list[tuple[str, bool, bool]]: ...


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
        if x.denied != _NOT_DENIED:
            self._denied(x, backend)
        if any(x.comp_counts):  # the compression filter's bytes and response
            self._compressed(x.frontend, backend, x.comp_counts)
        for proxy, fe, hit in x.cache_counts:  # cache-use: the rule's proxy, fe or be side
            got = self._fe(proxy) if fe else self.backends.setdefault(proxy, HttpCounts())
            got.cache[0] += 1
            got.cache[1] += hit
        if x.internal_error:  # return_int_err: the backend and server that had the stream
            self._fe(x.frontend).internal_errors += 1
            if backend is not None:
                self.backends.setdefault(backend, HttpCounts()).internal_errors += 1
                if x.server is not None:
                    key = (backend, x.server.spec.name)
                    self.servers.setdefault(key, HttpCounts()).internal_errors += 1
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
            if x.response is not None:  # the status it sent, whatever the rules made of it
                status = x.server_status if x.server_status > 0 else x.status
                self.server_response(backend, x.server.spec.name, status)

    def tallied(self, frontend: str, backend: str, server: str, classes: Sequence[int]) -> None:
        """Exchanges a server answered, by status class (`served` for a round's at once,
        the pump's tallies): the frontend counts the responses, the backend and the server
        the requests too."""
        fe = self._fe(frontend).responses
        for i, n in enumerate(classes):
            fe[i] += n
        self.backends.setdefault(backend, HttpCounts()).responses_by_class(classes)
        self.servers.setdefault((backend, server), HttpCounts()).responses_by_class(classes)

    def served(self, frontend: str, backend: str, server: str, status: int) -> None:
        """An exchange a server answered (what `exchange_ended` counts for it)."""
        self.ended(frontend, backend, status)
        self.server_response(backend, server, status)

    # -- what the snapshot reads ----------------------------------------------------------

    def frontend(self, name: str) -> tuple[HttpCounters, int]:
        """The frontend's counters and its current request rate."""
        counts = self.frontends.get(name) or HttpCounts()
        fe = self.fronts.get(name)
        if fe is None:
            return counts.view(), 0
        rate = fe.req_rate
        return counts.view(rate.total, rate.peak), rate.read(self.clock())

    def _denied(self, x: Ended, backend: str | None) -> None:
        """http_ana.c's `deny:` labels: a denied request counts on the frontend and, once
        assigned, the backend; a denied response on both and on its server."""
        req, req_be, resp = x.denied
        fe = self._fe(x.frontend)
        be = self.backends.setdefault(backend, HttpCounts()) if backend is not None else None
        fe.denied_req += req
        fe.denied_resp += resp
        if be is not None:
            be.denied_req += req_be
            be.denied_resp += resp
            if resp and x.server is not None:
                key = (backend or "", x.server.spec.name)
                self.servers.setdefault(key, HttpCounts()).denied_resp += 1

    def _compressed(self, frontend: str, backend: str | None, counts: list[int]) -> None:
        targets = [self._fe(frontend)]
        if backend is not None:
            targets.append(self.backends.setdefault(backend, HttpCounts()))
        for t in targets:
            t.comp = [a + b for a, b in zip(t.comp, counts, strict=True)]

    def compression(self, frontend: str | None, backend: str | None = None) -> dict[str, int]:
        """comp_in, comp_out, comp_byp of a frontend or a backend (Counters' fields)."""
        got = self._counts(frontend, backend, "")
        c = got.comp if got is not None else [0, 0, 0, 0]
        return {"comp_in": c[0], "comp_out": c[1], "comp_byp": c[2]}

    def _counts(self, frontend: str | None, backend: str | None, server: str) -> HttpCounts | None:
        if frontend is not None:
            return self.frontends.get(frontend)
        if server:
            return self.servers.get((backend or "", server))
        return self.backends.get(backend or "")

    def rewrites(self, frontend: str | None, backend: str | None = None, server: str = "") -> int:
        """The failed rewrites (wrew) of a frontend, a backend or a backend's server."""
        got = self._counts(frontend, backend, server)
        return got.failed_rewrites if got is not None else 0

    def internal_errors(
        self, frontend: str | None, backend: str | None = None, server: str = ""
    ) -> int:
        """eint: the rule failures (500) of a frontend, backend or server."""
        got = self._counts(frontend, backend, server)
        return got.internal_errors if got is not None else 0

    def denials(
        self, frontend: str | None, backend: str | None = None, server: str = ""
    ) -> tuple[int, int]:
        """(dreq, dresp) that mode http rules and checks gave a frontend, backend or server."""
        got = self._counts(frontend, backend, server)
        return (got.denied_req, got.denied_resp) if got is not None else (0, 0)

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
