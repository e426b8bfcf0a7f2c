"""The HTTP counters of the live HAProxy runtime, by frontend, backend and server name:
what `show stat`'s HTTP columns, the stats page and the Prometheus exporter read.

The HTTP driver reports through `request` (a frontend parsed a request, valid or not),
`ended` (a stream ended with a final status: the frontend and the backend that served it
count its class, the backend one request), `server_response` (a server answered) and
`intercepted` (HAProxy answered itself); proto/http/stats.py says where HAProxy 2.6 counts
each.  `exchange_ended` takes the driver's end-of-exchange record (its `on_end` hook).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from pylvs.model.proxies import HttpCounters
from pylvs.proto.http.stats import HttpCounts

EMPTY = HttpCounters()


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Runtime(Protocol):
    @property
    def spec(self) -> _Named: ...


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


class HttpStats:
    def __init__(self, clock_ms: Callable[[], int]) -> None:
        self.clock_ms = clock_ms
        self.frontends: dict[str, HttpCounts] = {}
        self.backends: dict[str, HttpCounts] = {}
        self.servers: dict[tuple[str, str], HttpCounts] = {}

    def _fe(self, name: str) -> HttpCounts:
        got = self.frontends.get(name)
        if got is None:
            got = self.frontends[name] = HttpCounts()
        return got

    def request(self, frontend: str) -> None:
        self._fe(frontend).request(self.clock_ms())

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
        """The driver's `on_end` hook: one request of a frontend, its final status, and the
        server's response when a server answered."""
        self.request(x.frontend)
        backend = x.backend.spec.name if x.backend is not None else None
        self.ended(x.frontend, backend, x.status)
        if backend is not None and x.server is not None and x.response is not None:
            self.server_response(backend, x.server.spec.name, x.status)

    # -- what the snapshot reads ----------------------------------------------------------

    def frontend(self, name: str) -> tuple[HttpCounters, int]:
        """The frontend's counters and its current request rate."""
        got = self.frontends.get(name)
        if got is None:
            return EMPTY, 0
        return got.view(), got.req_rate(self.clock_ms())

    def backend(self, name: str) -> HttpCounters:
        got = self.backends.get(name)
        return got.view() if got is not None else EMPTY

    def server(self, backend: str, name: str) -> HttpCounters:
        got = self.servers.get((backend, name))
        return got.view() if got is not None else EMPTY

    def clear(self, all_counters: bool) -> None:
        counts = [*self.frontends.values(), *self.backends.values(), *self.servers.values()]
        for c in counts:
            c.clear(all_counters)
