"""proto/log/traffic.py: the traffic log variables over a stream's end facts, with the
formats `option tcplog` stands for compiled as the reader compiles a frontend's line (the
live lines are compared with haproxy's in tests/integration/hamode/test_hamode_log.py)."""

from __future__ import annotations

import ipaddress
from datetime import datetime

from pylvs.config.haproxy.compile_actions import log_format
from pylvs.config.haproxy.compile_samples import context
from pylvs.config.haproxy.convert_log import LINE_VARIABLES
from pylvs.proto.log.traffic import HTTPLOG, TCPLOG, LoggedStream, StreamEnd, accept_date, clf_date
from pylvs.proto.sample.stream import Process, ProxyRef, ServerRef, Session

ACCEPT = datetime(2026, 12, 6, 7, 54, 1, 680_400).timestamp()  # local time, as HAProxy's


def stream(end: StreamEnd, server: bool = True) -> LoggedStream:
    ip = ipaddress.ip_address("127.0.0.1")
    sess = Session(Process(), ProxyRef("fe", 1, mode="tcp"), src=ip, src_port=40136, dst=ip)
    s = LoggedStream(sess, now=ACCEPT + 1)
    s.end = end
    s.backend = ProxyRef("be", 2, mode="tcp")
    s.server = ServerRef("s1", 1) if server else None
    return s


def line(fmt: str, s: LoggedStream) -> bytes:
    unknown: list[str] = []
    compiled = log_format(
        fmt, context(proxy="fe"), http=False, variables=LINE_VARIABLES, unknown=unknown
    )
    assert unknown == []
    return compiled.build(s)


def test_accept_date_has_milliseconds() -> None:
    assert accept_date(ACCEPT) == "06/Dec/2026:07:54:01.680"


def test_tcplog_of_a_normal_stream_prints_tw_one_above_t_queue() -> None:
    """t_request is -1 in a TCP stream: %Tw is t_queue + 1 (HAProxy prints 1 for 0 ms)."""
    end = StreamEnd(ACCEPT, t_queue=0, t_connect=0, t_close=300, bytes_in=5, bytes_out=2,
                    actconn=1, feconn=1)  # fmt: skip
    assert line(TCPLOG, stream(end)) == (
        b"127.0.0.1:40136 [06/Dec/2026:07:54:01.680] fe be/s1 1/0/300 2 -- 1/1/0/0/0 0/0"
    )


def test_timers_never_reached_print_minus_one_and_nosrv() -> None:
    end = StreamEnd(ACCEPT, term="SC", actconn=1, feconn=1)
    assert b" fe be/<NOSRV> -1/-1/0 0 SC " in line(TCPLOG, stream(end, server=False))


def test_logasap_marks_the_unfinished_values_and_redispatch_the_retries() -> None:
    end = StreamEnd(ACCEPT, t_queue=2, t_connect=5, t_close=5, bytes_out=0, early=True,
                    retries=2, redispatched=True)  # fmt: skip
    assert line("%Tw/%Tc/%Tt %B %rc %U %ms", stream(end)) == b"3/3/+5 +0 +2 0 680"


def test_missing_samples_print_a_dash_unless_told_otherwise() -> None:
    end = StreamEnd(ACCEPT)
    got = line("%[var(txn.x)] %{-M}[var(txn.x)] %{+Q}[var(txn.x)] %{+Q}[src]", stream(end))
    assert got == b'-  "" "127.0.0.1"'  # an empty value still ends a separator run


def test_httplog_as_haproxy_wrote_it_for_a_request() -> None:
    """The line of /work/shared/reference/haproxy.md §5 (haproxy 2.6.12, `option httplog`):
    `127.0.0.1:47722 [05/Dec/2026:22:33:11.581] fe be/w3 0/0/0/3/3 200 293 - - ----
    1/1/0/0/0 0/0 "GET /hello HTTP/1.1"`: no captures print nothing, not even a dash."""
    end = StreamEnd(ACCEPT, t_idle=0, t_request=0, t_queue=0, t_connect=0, t_data=3,
                    t_close=3, bytes_out=293, actconn=1, feconn=1, mode="http")  # fmt: skip
    s = stream(end)
    s.status = 200
    s.orig_method, s.orig_uri, s.orig_version = b"GET", b"/hello", b"HTTP/1.1"
    assert line(HTTPLOG, s) == (
        b"127.0.0.1:40136 [06/Dec/2026:07:54:01.680] fe be/s1 0/0/0/3/3 200 293 - - ----"
        b' 1/1/0/0/0 0/0 "GET /hello HTTP/1.1"'
    )
    s.captures.request = [b"ex|ample.com", None]
    assert b' 0/0 {ex#7Cample.com|} "GET' in line(HTTPLOG, s)


def test_a_request_line_never_received_is_badreq_and_quotes_are_encoded() -> None:
    s = stream(StreamEnd(ACCEPT, mode="http"))
    assert line("%{+Q}r", s) == b'"<BADREQ>"'
    s.orig_method, s.orig_uri, s.orig_version = b"GET", b'/a"b#', b"HTTP/1.0"
    assert (
        line("%{+Q}r %T", s) == b'"GET /a#22b#23 HTTP/1.0" ' + clf_date(ACCEPT, gmt=True).encode()
    )


def test_an_empty_uri_part_prints_nothing_not_a_dash() -> None:
    """log.c writes %HM %HU %HP %HPO %HQ %HV with lf_encode_chunk: an empty %HQ (a target
    without '?') is nothing, quoted "", where a missing sample prints "-" (found by
    tests/integration/hamode/diff against haproxy 2.6.12)."""
    s = stream(StreamEnd(ACCEPT, mode="http"))
    s.orig_method, s.orig_uri, s.orig_version = b"GET", b"/a", b"HTTP/1.1"
    assert line("%HM %HP [%HQ] %{+Q}HQ %HV %[var(txn.x)]", s) == b'GET /a [] "" HTTP/1.1 -'
    s.orig_uri = b"/a?b=1"
    assert line("%HQ", s) == b"?b=1"
