"""HTX sizes as haproxy 2.6.12 logs them (%U / %B of one request each; the values are
its log lines' for these exact messages, tests/integration/hamode/http/test_http_log_sizes.py
compares whole exchanges)."""

from __future__ import annotations

import pytest

from pylvs.proto.http.events import HeadReceived
from pylvs.proto.http.framer import Framer
from pylvs.proto.http.htxsize import fields_size, request_size, response_size
from pylvs.proto.http.message import RequestHead, ResponseHead


def head(raw: bytes, *, request: bool) -> RequestHead | ResponseHead:
    events = Framer(request=request).feed(raw)
    got = [e.head for e in events if isinstance(e, HeadReceived)]
    assert len(got) == 1
    return got[0]


@pytest.mark.parametrize(
    ("raw", "size"),
    [
        (b"GET /name/a HTTP/1.1\r\nHost: x\r\n\r\n", 44),
        # the Connection field the parser empties is no HTX field
        (
            b"GET /name/bb HTTP/1.1\r\nHost: x\r\nX-Extra: some value\r\n"
            b"Connection: keep-alive\r\n\r\n",
            62,
        ),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", 59),
    ],
)
def test_request_heads(raw: bytes, size: int) -> None:
    h = head(raw, request=True)
    assert isinstance(h, RequestHead) and request_size(h) == size


@pytest.mark.parametrize(
    ("raw", "size"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", 49),
        (b"HTTP/1.1 100 Continue\r\n\r\n", 40),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 58),
    ],
)
def test_response_heads(raw: bytes, size: int) -> None:
    h = head(raw, request=False)
    assert isinstance(h, ResponseHead) and response_size(h) == size


def test_trailer_fields_are_names_and_values() -> None:
    assert fields_size(((b"x-t", b"trailer"),)) == 10
