"""`req.proto_http` on a stream that is not HTTP yet (smp_prefetch_htx's RAW branch): a
whole HTTP/1 head is HTTP, the HTTP/2 preface too; a head still coming may become one (the
content rules wait) until the buffer is full or no more data will come."""

from __future__ import annotations

import pytest

from pylvs.proto.sample.fetch_rawhttp import FULL, raw_request


@pytest.mark.parametrize(
    ("data", "final", "expected"),
    [
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", False, True),
        (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", False, True),
        (b"GET /\r\n", False, True),  # HTTP/0.9: GET with a target
        (b"POST /\r\n", False, False),  # other methods have no HTTP/0.9 form
        (b"GET / HTTP/1.1\r\nHost: a\r\n", False, None),  # may still become one
        (b"GET / HTTP/1.1\r\nHost: a\r\n", True, False),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"a" * FULL, False, False),  # buffer full
        (b"hello there\n", False, False),
        (b"\x16\x03\x01\x02\x00\x01", False, False),
        (b"GET / HTTP/1.1\r\nbad header\r\n\r\n", False, False),
    ],
)
def test_raw_heads(data: bytes, final: bool, expected: bool | None) -> None:
    assert raw_request(data, final=final) is expected
