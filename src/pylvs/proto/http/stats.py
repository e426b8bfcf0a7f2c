"""The HTTP counters of a frontend, backend or server, counted as HAProxy 2.6 counts them.

Where HAProxy counts (include/haproxy/counters-t.h `p.http`):
* a frontend counts every request it parses, valid or refused by the H1 parser
  (proxy_inc_fe_req_ctr: cum_req, the per-second rate `fe_req_per_sec` and its maximum
  `rps_max`: the runtime's `Frontend.req_rate`, which `fe_req_rate` fetches too), and the
  status class of every stream's final status when the stream ends (src/stream.c, after
  stream_process_counters: `rsp[status / 100]`, 0 for other);
* a backend counts, when a stream it served ends with a status, the class and one request
  (cum_req counts there, not on arrival);
* a server counts each response it sent (http_wait_for_response: `rsp[n]` and cum_req);
* `intercepted_req` counts requests HAProxy answered itself (stats page, a `use-service`
  applet, `redirect`, `return`, monitor-uri).

`view()` gives model/proxies' HttpCounters for the stats renderers.
"""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.model.proxies import HttpCounters


def status_class(status: int) -> int:
    """rsp[] index: 1..5 for 1xx..5xx, 0 for anything else."""
    n = status // 100
    return n if 1 <= n <= 5 else 0


class HttpCounts:
    """One object's HTTP counters (mutable; the runtime owns one per frontend, backend and
    server)."""

    __slots__ = (
        "cache",
        "comp",
        "denied_req",
        "denied_resp",
        "failed_rewrites",
        "intercepted",
        "internal_errors",
        "requests",
        "responses",
    )

    def __init__(self) -> None:
        self.responses = [0, 0, 0, 0, 0, 0]
        self.requests = 0
        self.intercepted = 0
        self.failed_rewrites = 0  # wrew: read beside the HTTP counters (HttpStats.rewrites)
        self.denied_req = self.denied_resp = 0  # dreq, dresp by rules (HttpStats.denials)
        self.internal_errors = 0  # eint (HttpStats.internal_errors)
        # comp_in, comp_out, comp_byp, comp_rsp (flt_http_comp.c, the frontend's and backend's)
        self.comp = [0, 0, 0, 0]
        self.cache = [0, 0]  # cache_lookups, cache_hits (cache.c, cache-use's proxy)

    def response(self, status: int, *, count_request: bool = False) -> None:
        """A final status for this object (a backend or server also counts the request)."""
        self.responses[status_class(status)] += 1
        if count_request:
            self.requests += 1

    def responses_by_class(self, classes: Sequence[int]) -> None:
        """`response` for many at once, counted by class (rsp[] order); each counts its
        request too, as a backend's or server's does."""
        r = self.responses
        for i, n in enumerate(classes):
            r[i] += n
        self.requests += sum(classes)

    def clear(self) -> None:
        """`clear counters all` (plain `clear counters` only resets maxima: none here)."""
        self.responses = [0, 0, 0, 0, 0, 0]
        self.requests = self.intercepted = self.failed_rewrites = 0
        self.denied_req = self.denied_resp = self.internal_errors = 0
        self.comp = [0, 0, 0, 0]
        self.cache = [0, 0]

    def view(self, requests: int | None = None, rps_max: int = 0) -> HttpCounters:
        """The counters (a frontend's requests and peak rate come from its request rate)."""
        r = self.responses
        return HttpCounters(
            responses=(r[0], r[1], r[2], r[3], r[4], r[5]),
            requests=self.requests if requests is None else requests,
            rps_max=rps_max,
            intercepted=self.intercepted,
            comp_rsp=self.comp[3],
            cache_lookups=self.cache[0],
            cache_hits=self.cache[1],
        )
