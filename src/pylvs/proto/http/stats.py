"""The HTTP counters of a frontend, backend or server, counted as HAProxy 2.6 counts them.

Where HAProxy counts (include/haproxy/counters-t.h `p.http`):
* a frontend counts every request it parses, valid or refused by the H1 parser
  (proxy_inc_fe_req_ctr: cum_req, the per-second rate `fe_req_per_sec` and its maximum
  `rps_max`), and the status class of every stream's final status when the stream ends
  (src/stream.c stream_process_counters' caller: `rsp[status / 100]`, 0 for other);
* a backend counts, when a stream it served ends with a status, the class and one request
  (cum_req counts there, not on arrival);
* a server counts each response it sent (http_wait_for_response: `rsp[n]` and cum_req);
* `intercepted_req` counts requests HAProxy answered itself (stats page, a `use-service`
  applet, `redirect`, `return`, monitor-uri).

`now_ms` is the runtime's clock in milliseconds (the rate is a freq_ctr over one second,
proto/stick's FreqCtr).  `view()` gives model/proxies' HttpCounters for the stats renderers.
"""

from __future__ import annotations

from pylvs.model.proxies import HttpCounters
from pylvs.proto.stick.data import FreqCtr

SECOND_MS = 1000


def status_class(status: int) -> int:
    """rsp[] index: 1..5 for 1xx..5xx, 0 for anything else."""
    n = status // 100
    return n if 1 <= n <= 5 else 0


class HttpCounts:
    """One object's HTTP counters (mutable; the runtime owns one per frontend, backend and
    server)."""

    __slots__ = ("intercepted", "rate", "requests", "responses", "rps_max")

    def __init__(self) -> None:
        self.responses = [0, 0, 0, 0, 0, 0]
        self.requests = 0
        self.rps_max = 0
        self.intercepted = 0
        self.rate = FreqCtr()

    def request(self, now_ms: int) -> None:
        """A frontend parsed one more request (proxy_inc_fe_req_ctr)."""
        self.requests += 1
        self.rps_max = max(self.rps_max, self.rate.update(SECOND_MS, 1, now_ms))

    def response(self, status: int, *, count_request: bool = False) -> None:
        """A final status for this object (a backend or server also counts the request)."""
        self.responses[status_class(status)] += 1
        if count_request:
            self.requests += 1

    def req_rate(self, now_ms: int) -> int:
        return self.rate.read(SECOND_MS, now_ms)

    def clear(self, all_counters: bool) -> None:
        """`clear counters` resets the maxima; `clear counters all` everything."""
        self.rps_max = 0
        if all_counters:
            self.responses = [0, 0, 0, 0, 0, 0]
            self.requests = self.intercepted = 0
            self.rate = FreqCtr()

    def view(self) -> HttpCounters:
        r = self.responses
        return HttpCounters(
            responses=(r[0], r[1], r[2], r[3], r[4], r[5]),
            requests=self.requests,
            rps_max=self.rps_max,
            intercepted=self.intercepted,
        )
