"""HTTP counters as HAProxy 2.6 keeps them (proto/http/stats.py, engine/http_stats.py), and
the `show stat` columns they fill in mode http (control/haproxy/rows.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pylvs.control.haproxy.names import STAT_INDEX
from pylvs.control.haproxy.rows import backend_row, frontend_row, server_row
from pylvs.control.haproxy.stat import csv_line
from pylvs.dataplane.haproxy.rules import Rate
from pylvs.engine.http_stats import HttpStats
from pylvs.model.proxies import BackendView, Counters, FrontendView, ProxyView, ServerView
from pylvs.proto.http.stats import status_class


def test_status_classes() -> None:
    assert [status_class(s) for s in (100, 200, 302, 404, 503, 600, 42)] == [1, 2, 3, 4, 5, 0, 0]


def test_request_rate_total_and_peak() -> None:
    rate = Rate()
    for t in (0.0, 0.01, 0.02):
        rate.count(t)
    rate.count(1.5)
    assert rate.total == 4 and rate.peak == 3
    assert rate.read(1.5) == 2  # 3 in the past second weighted by what is left of it, + 1
    assert rate.read(5.0) == 0


def test_many_events_at_once_count_as_one_by_one() -> None:
    """Rate.count_n (the pump's tallies): the total, the rate and the peak of counting them
    one by one in the same period."""
    one, many = Rate(), Rate()
    for t in (0.0, 0.01, 0.02, 0.03, 1.5, 1.5):
        one.count(t)
    many.count_n(0.03, 4)
    many.count_n(1.5, 2)
    assert (many.total, many.peak) == (one.total, one.peak) == (6, 4)
    assert many.read(1.6) == one.read(1.6)


def test_a_tally_counts_as_each_of_its_exchanges() -> None:
    """HttpStats.tallied (a round's exchanges on one server, by status class) counts what
    `served` counts for each."""
    statuses = [200, 204, 404, 503, 302, 200, 101, 700]
    one, many = HttpStats({}, lambda: 0.0), HttpStats({}, lambda: 0.0)
    for status in statuses:
        one.served("fe", "be", "s1", status)
    classes = [0] * 6
    for status in statuses:
        classes[status_class(status)] += 1
    many.tallied("fe", "be", "s1", classes)
    for kind in ("frontends", "backends", "servers"):
        mine, theirs = getattr(many, kind), getattr(one, kind)
        assert {k: v.view() for k, v in mine.items()} == {k: v.view() for k, v in theirs.items()}
    assert many.servers["be", "s1"].view().requests == 8


@dataclass
class _Named:
    name: str


@dataclass
class _Rt:
    spec: _Named


@dataclass
class _Exchange:
    frontend: str
    backend: _Rt | None
    server: _Rt | None
    status: int
    response: object | None
    server_status: int = -1
    intercepted: bool = False
    interim: int = 0
    rewrites: tuple[int, int, int] = (0, 0, 0)
    denied: tuple[bool, bool, bool] = (False, False, False)
    internal_error: bool = False
    comp_counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    cache_counts: list[tuple[str, bool, bool]] = field(default_factory=list)


@dataclass
class _Front:
    req_rate: Rate = field(default_factory=Rate)


def _stats() -> HttpStats:
    fe = _Front()
    stats = HttpStats({"fe": fe}, lambda: 0.5)
    be, s1 = _Rt(_Named("be")), _Rt(_Named("s1"))
    for status, served in ((200, True), (200, True), (404, True), (503, False), (302, True)):
        fe.req_rate.count(0.1)  # the driver counts each request it parses
        stats.exchange_ended(
            _Exchange("fe", be, s1 if served else None, status, 1 if served else None)
        )
    fe.req_rate.count(0.2)
    stats.exchange_ended(_Exchange("fe", None, None, 400, None))  # refused before a backend
    stats.intercepted("fe")
    return stats


def test_interim_responses_and_intercepted_requests() -> None:
    """A server's 100 Continue counts in its hrsp_1xx and requests beside its final
    response; a request the frontend answered itself counts as intercepted once."""
    stats = HttpStats({"fe": _Front()}, lambda: 0.5)
    be, s1 = _Rt(_Named("be")), _Rt(_Named("s1"))
    stats.exchange_ended(_Exchange("fe", be, s1, 200, 1, interim=2))
    stats.exchange_ended(_Exchange("fe", None, None, 302, None, intercepted=True))
    srv = stats.server("be", "s1")
    assert srv.responses == (0, 2, 1, 0, 0, 0) and srv.requests == 3
    assert stats.backend("be").responses == (0, 0, 1, 0, 0, 0)
    fe, _rate = stats.frontend("fe")
    assert fe.intercepted == 1 and fe.responses == (0, 0, 1, 1, 0, 0)


def test_frontend_backend_and_server_count_where_haproxy_does() -> None:
    stats = _stats()
    fe, rate = stats.frontend("fe")
    assert fe.responses == (0, 0, 2, 1, 2, 1) and fe.requests == 6 and fe.intercepted == 1
    assert rate == 6 and fe.rps_max == 6
    be = stats.backend("be")
    assert be.responses == (0, 0, 2, 1, 1, 1) and be.requests == 5
    srv = stats.server("be", "s1")
    assert srv.responses == (0, 0, 2, 1, 1, 0) and srv.requests == 4
    assert stats.server("be", "s2").requests == 0
    stats.clear(False)
    assert stats.frontend("fe")[0].rps_max == 0 and stats.frontend("fe")[0].requests == 6
    stats.clear(True)
    assert stats.frontend("fe")[0].requests == 0 and stats.backend("be").requests == 0


def _column(row: str, name: str) -> str:
    return row.split(",")[STAT_INDEX[name]]


def test_the_http_columns_of_show_stat() -> None:
    stats = _stats()
    http, rate = stats.frontend("fe")
    px = ProxyView(
        "fe", 2, mode="http",
        frontend=FrontendView(req_rate=rate, counters=Counters(http=http)),
        backend=BackendView(counters=Counters(http=stats.backend("be"))),
        servers=(ServerView("s1", 1, counters=Counters(http=stats.server("be", "s1"))),),
    )  # fmt: skip
    fe = csv_line(frontend_row(px))
    assert [_column(fe, f"hrsp_{n}") for n in ("1xx", "2xx", "3xx", "4xx", "5xx", "other")] == [
        "0", "2", "1", "2", "1", "0",
    ]  # fmt: skip
    assert (_column(fe, "req_tot"), _column(fe, "req_rate"), _column(fe, "req_rate_max")) == (
        "6", "6", "6",
    )  # fmt: skip
    assert _column(fe, "intercepted") == "1"
    be = csv_line(backend_row(px, 0.0, False))
    assert (_column(be, "hrsp_2xx"), _column(be, "req_tot")) == ("2", "5")
    sv = csv_line(server_row(px, px.servers[0], 0.0, False))
    assert (_column(sv, "hrsp_4xx"), _column(sv, "req_tot")) == ("1", "4")
    tcp = csv_line(frontend_row(ProxyView("t", 3, frontend=FrontendView())))
    assert _column(tcp, "hrsp_2xx") == ""  # mode tcp leaves them empty, as HAProxy does
