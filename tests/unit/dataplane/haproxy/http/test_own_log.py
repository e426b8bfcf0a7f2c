"""dataplane/haproxy/http/own_log.py: the pump's log lines made straight from its records,
against the line the Exchange of the same record gives (own_facts.exchange, then httplog's
stream, StreamEnd and the log-format interpreter: what the pump logged before), byte for
byte, for the options' formats and a log-format of every variable own_log gives, with and
without captures, over random records; and the formats that keep the Exchange."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.dataplane.haproxy import httplog
from pylvs.dataplane.haproxy.frontend import Frontend
from pylvs.dataplane.haproxy.http import own_facts
from pylvs.dataplane.haproxy.http.own_log import record_log
from pylvs.dataplane.haproxy.runtime import ProxyRuntime
from pylvs.model.proxy_log import LineFormat

EVERY = (
    "%ci:%cp %fi:%fp [%t] [%tr] [%trg] [%trl] [%T] [%Tl] %ms %f %ft %b %s %ST %B %U "
    "%TR/%Tw/%Tc/%Tr/%Ta/%Tt/%Th/%Ti/%Tq/%Td/%Tu %ts %tsc %CC %CS %ac/%fc/%bc/%sc/%rc "
    "%sq/%bq %hr %hs %hrl %hsl %{+Q}r %HM %HU %HP %HPO %HQ %HV %{+Q,+E}s %{-M}CC "
    "%si:%sp %H %pid %ID %rt %lc"
)
CONFIG = f"""\
global
    log 127.0.0.1:514 local0
defaults
    mode http
    log global
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend http
    bind 127.0.0.1:8001
    option httplog
    default_backend be
frontend clf
    bind 127.0.0.1:8002
    option httplog clf
    default_backend be
frontend tcp
    bind 127.0.0.1:8003
    option tcplog
    default_backend cookie
frontend caps
    bind 127.0.0.1:8004
    option httplog
    capture request header Host len 4
    capture request header X-Y len 10
    capture response header Content-Length len 5
    default_backend be
frontend every
    bind 127.0.0.1:8005
    log-format "{EVERY}"
    capture request header Host len 4
    default_backend be
frontend sample
    bind 127.0.0.1:8006
    log-format "%ci %[http_first_req]"
    default_backend be
backend be
    server web 127.0.0.1:9001
    server web2 127.0.0.1:9002
backend cookie
    cookie SRV insert indirect
    server web 127.0.0.1:9001 cookie a
"""


@pytest.fixture(scope="module")
def rt() -> ProxyRuntime:
    result = load_text(CONFIG, "h.cfg", env={})
    assert not result.problems.has_errors(), [str(p) for p in result.problems]
    spec = to_spec(result.config, result.problems).proxies
    return ProxyRuntime(spec, clock=lambda: 50.0, raise_nofile=False)


def old_line(fe: Frontend, rec: tuple[Any, ...], index: int) -> bytes:
    """The line the Exchange of `rec` logs (httplog._send's)."""
    be = fe.default
    assert be is not None
    srv = be.runtime_of(be.pool.lb.servers[index])
    x = own_facts.exchange(fe, be, srv, rec, None)
    stream = httplog._stream(fe, x)
    stream.end = httplog.end_of(fe, x, early=False)  # type: ignore[attr-defined]
    fmt = fe.spec.log.format
    assert fmt is not None
    return fmt.build(stream)


def new_line(fe: Frontend, rec: tuple[Any, ...], index: int) -> bytes:
    be = fe.default
    assert be is not None
    srv = be.runtime_of(be.pool.lb.servers[index])
    got = record_log(fe, be)
    assert got is not None
    return got.line(rec, srv)


def record(**over: Any) -> tuple[Any, ...]:
    """A PLAIN_ENDED record of a logging listener (_h1own.h; own_facts.exchange's names)."""
    f: dict[str, Any] = {
        "status": 200, "started": 1000.25, "t_req": 1000.2504, "t_conn": 1000.2511,
        "t_connd": 1000.2518, "t_resp": 1000.2533, "t_end": 1000.2540,
        "raw": b"GET /a?b=1 HTTP/1.1\r\nHost: Example.org\r\nX-Y:  z \r\n\r\n",
        "src": "127.0.0.1", "sport": 40136, "dst": "127.0.0.1", "dport": 8001, "hin": 85,
        "hout": 293, "served": 0, "response": b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n",
    }  # fmt: skip
    f.update(over)
    return (3, 1, 7, 0, 16, f["status"], 10, 20, 30, 40, f["started"], f["t_req"], f["t_conn"],
            f["t_connd"], f["t_resp"], f["t_end"], f["raw"], f["src"], f["sport"], f["dst"],
            f["dport"], f["hin"], f["hout"], f["served"], f["response"])  # fmt: skip


@pytest.mark.parametrize("name", ["http", "clf", "tcp", "caps", "every"])
def test_a_record_logs_the_line_its_exchange_logged(rt: ProxyRuntime, name: str) -> None:
    fe = rt.frontends[name]
    for rec in (
        record(),
        record(src="::ffff:1.2.3.4", raw=b'GET /"q# HTTP/1.0\r\n\r\n'),
        record(raw=b"GET http://h/p?q HTTP/1.1\r\nX-Y: 0123456789abc\r\n\r\n"),
    ):
        for index in (0, len(fe.default.servers) - 1):  # type: ignore[union-attr]
            assert new_line(fe, rec, index) == old_line(fe, rec, index)


def test_the_names_and_the_dates_are_those_of_httplog(rt: ProxyRuntime) -> None:
    line = new_line(rt.frontends["http"], record(), 1)
    assert b" http be/web2 0/1/1/1/4 200 293 - - ---- " in line
    assert line.endswith(b' 0/0 "GET /a?b=1 HTTP/1.1"')
    caps = new_line(rt.frontends["caps"], record(), 0)
    assert caps.endswith(b' 0/0 {Exam|z} {12} "GET /a?b=1 HTTP/1.1"')
    assert b" tcp cookie/web " in new_line(rt.frontends["tcp"], record(), 0)


def test_a_format_with_a_sample_keeps_the_exchange(rt: ProxyRuntime) -> None:
    fe = rt.frontends["sample"]
    assert fe.default is not None and record_log(fe, fe.default) is None
    fmt: LineFormat | None = fe.spec.log.format
    assert fmt is not None and "%[http_first_req]" in fmt.text


_T = st.floats(0, 3, allow_nan=False)
_HEAD = st.tuples(
    st.sampled_from([b"GET", b"POST", b"DELETE"]),
    st.sampled_from([b"/", b"/a?b", b"/%7e#x", b"http://h:1/p?q=1", b"/\xc3\xa9"]),
    st.sampled_from([b"HTTP/1.1", b"HTTP/1.0"]),
    st.lists(st.sampled_from([b"Host: h", b"host:  Ex.org ", b"X-Y: a|b", b"x-y:"]), max_size=3),
).map(lambda h: b" ".join(h[:3]) + b"\r\n" + b"".join(f + b"\r\n" for f in h[3]) + b"\r\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    st.sampled_from(["http", "clf", "tcp", "caps", "every"]),
    st.floats(1e3, 1e6, allow_nan=False),
    st.lists(_T, min_size=5, max_size=5),
    _HEAD,
    st.sampled_from(["127.0.0.1", "10.9.8.7", "::1", "2001:db8::1", "::ffff:10.0.0.1"]),
    st.integers(1, 65535),
    st.integers(0, 10_000),
    st.integers(100, 599),
    st.sampled_from([b"", b"HTTP/1.1 200 OK\r\nContent-Length: 123456\r\n\r\n"]),
    st.integers(0, 1),
)
def test_random_records_log_as_their_exchanges(
    rt: ProxyRuntime, name: str, started: float, steps: list[float], raw: bytes, src: str,
    sport: int, size: int, status: int, response: bytes, index: int,
) -> None:  # fmt: skip
    t = [started]
    for step in steps:
        t.append(t[-1] + step)
    rec = record(status=status, started=t[0], t_req=t[1], t_conn=t[2], t_connd=t[3],
                 t_resp=t[4], t_end=t[5], raw=raw, src=src, sport=sport, hout=size,
                 served=index, response=response)  # fmt: skip
    fe = rt.frontends[name]
    index = min(index, len(fe.default.servers) - 1)  # type: ignore[union-attr]
    assert new_line(fe, rec, index) == old_line(fe, rec, index)
