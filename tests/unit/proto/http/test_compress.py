"""HTTP compression's rules (proto/http/compress.py, HAProxy 2.6 src/flt_http_comp.c): the
Accept-Encoding negotiation, which responses are compressed, the compressed head; and the
`compression` keywords read from a haproxy.cfg (config/haproxy/compression.py)."""

from __future__ import annotations

import pytest

from pylvs.config.haproxy.convert import to_spec
from pylvs.config.haproxy.reader import load_text
from pylvs.model.proxy_spec import CompressionSpec
from pylvs.proto.http.compress import choose, compressed_head, compressible, parse_qvalue
from pylvs.proto.http.message import Body, Flag, RequestHead, ResponseHead

GZ_DEFLATE = CompressionSpec(algos=("deflate", "gzip"))  # `algo gzip deflate`


def _req(
    *fields: tuple[bytes, bytes], version: bytes = b"HTTP/1.1", method: bytes = b"GET"
) -> RequestHead:
    flags = Flag.VER_11 if version == b"HTTP/1.1" else 0
    return RequestHead(method, b"/", version, tuple(fields), flags)


def _resp(
    *fields: tuple[bytes, bytes], status: int = 200, body: Body = Body.LENGTH
) -> ResponseHead:
    flags = Flag.VER_11 | Flag.XFER_LEN | (Flag.CLEN if body is Body.LENGTH else Flag.CHNK)
    return ResponseHead(b"HTTP/1.1", status, b"%d" % status, b"OK", fields, flags, body, 10)


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (b"gzip", "gzip"),
        (b"deflate", "deflate"),
        (b"gzip;q=0.5, deflate", "deflate"),
        (b"deflate;q=0.5, gzip;q=0.5", "deflate"),  # the first of the best q
        (b"GZIP ;q=0.9, br", "gzip"),
        (b"br, *", "deflate"),  # `*`: the list's first (the last word written)
        (b"br", None),
        (b"gzip;q=0", None),
        (b"gzip; level=1; q=0.7, deflate;q=0.6", "gzip"),
    ],
)
def test_accept_encoding(value: bytes, want: str | None) -> None:
    assert choose(_req((b"accept-encoding", value)), GZ_DEFLATE, None).algo == want


def test_old_agent_backend_priority_identity_and_offload() -> None:
    ua = (b"user-agent", b"Mozilla/4.0 (compatible; foo)")
    assert choose(_req((b"accept-encoding", b"gzip"), ua), GZ_DEFLATE, None).algo is None
    msie7 = (b"user-agent", b"Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)")
    assert choose(_req((b"accept-encoding", b"gzip"), msie7), GZ_DEFLATE, None).algo == "gzip"
    be = CompressionSpec(algos=("identity", "deflate"))
    assert choose(_req((b"accept-encoding", b"gzip")), GZ_DEFLATE, be).algo == "identity"
    off = CompressionSpec(algos=("gzip",), offload=True)
    got = choose(_req((b"accept-encoding", b"gzip"), (b"host", b"x")), off, None)
    assert (got.algo, got.fields) == ("gzip", ((b"host", b"x"),))
    kept = choose(_req((b"accept-encoding", b"br")), off, None)  # nothing chosen: kept
    assert kept.fields == ((b"accept-encoding", b"br"),)


def test_qvalue() -> None:
    assert [parse_qvalue(v) for v in (b"1", b"0.5", b"0.125", b"0.1239", b"2", b"x")] == [
        1000, 500, 125, 123, 1000, 1000,
    ]  # fmt: skip


HTML = (b"content-type", b"text/html; charset=utf-8")


@pytest.mark.parametrize(
    ("resp", "req", "want"),
    [
        (_resp(HTML), _req(), True),
        (_resp(HTML, status=201), _req(), True),
        (_resp(HTML, status=206), _req(), False),
        (_resp(HTML, status=404), _req(), False),
        (_resp(HTML), _req(version=b"HTTP/1.0"), False),
        (_resp(HTML), _req(method=b"HEAD"), False),
        (_resp(HTML, body=Body.NONE), _req(), False),  # Content-Length: 0
        (_resp(HTML, body=Body.UNTIL_CLOSE), _req(), False),
        (_resp(HTML, body=Body.CHUNKED), _req(), True),
        (_resp(HTML, (b"content-encoding", b"br")), _req(), False),
        (_resp(HTML, (b"cache-control", b"private, No-Transform")), _req(), False),
        (_resp(HTML, (b"etag", b"abc")), _req(), False),
        (_resp(HTML, (b"etag", b'"a"'), (b"etag", b'"b"')), _req(), False),
        (_resp(HTML, (b"etag", b'W/"a"')), _req(), True),
        (_resp((b"content-type", b"image/png")), _req(), False),
        (_resp((b"content-type", b"TEXT/HTMLX")), _req(), True),  # a prefix, any case
        (_resp(), _req(), False),  # types listed: a Content-Type is needed
    ],
)
def test_compressible(resp: ResponseHead, req: RequestHead, want: bool) -> None:
    spec = CompressionSpec(algos=("gzip",), types=("text/plain", "text/html"))
    assert compressible(resp, req, None, spec) is want


def test_no_types_any_and_multipart() -> None:
    spec = CompressionSpec(algos=("gzip",))
    assert compressible(_resp(), _req(), spec, None)
    assert not compressible(_resp((b"content-type", b"Multipart/mixed")), _req(), spec, None)


def test_compressed_head() -> None:
    head = _resp((b"content-length", b"10"), (b"etag", b'"e"'), (b"vary", b"Cookie"))
    got = compressed_head(head, "raw-deflate")
    assert got.fields == (
        (b"etag", b'W/"e"'),
        (b"vary", b"Cookie"),
        (b"transfer-encoding", b"chunked"),
        (b"vary", b"Accept-Encoding"),
        (b"content-encoding", b"deflate"),
    )
    assert got.body is Body.CHUNKED and not got.flags & Flag.CLEN
    chunked = compressed_head(_resp(body=Body.CHUNKED), "identity")
    assert chunked.fields == ((b"vary", b"Accept-Encoding"),)


CFG = """\
global
    tune.comp.maxlevel 4
defaults
    mode http
    timeout client 1s
    timeout server 1s
    timeout connect 1s
    compression algo gzip
    compression type text/html
    compression offload
frontend fe
    bind 127.0.0.1:8000
    compression algo deflate raw-deflate
    default_backend be
backend be
    compression offload
    server s 127.0.0.1:81
"""


def test_config() -> None:
    result = load_text(CFG, "h.cfg")
    assert result.ok, [str(p) for p in result.problems]
    assert any("ignored in 'defaults' section" in str(p) for p in result.problems)
    spec = to_spec(result.config, result.problems).proxies
    fe, be = spec.frontend("fe"), spec.backend("be")
    assert fe is not None and fe.http is not None and be is not None and be.http is not None
    assert fe.http.compression == CompressionSpec(
        ("raw-deflate", "deflate", "gzip"), ("text/html",), False
    )
    assert be.http.compression == CompressionSpec(("gzip",), ("text/html",), True)
    assert spec.comp_maxlevel == 4


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("compression algo br", "'compression' : 'br' is not a supported algorithm."),
        ("compression algo", "'compression' expects <algorithm>."),
        ("compression foo", "'compression' expects 'algo', 'type' or 'offload'"),
        ("filter trace\n    compression algo gzip", "require an explicit filter declaration"),
        ("filter compression\n    filter compression", "supports only one compression filter"),
    ],
)
def test_config_errors(line: str, message: str) -> None:
    result = load_text(f"listen l\n    mode http\n    bind :80\n    {line}\n", "h.cfg")
    assert any(message in str(p) for p in result.problems), [str(p) for p in result.problems]


def test_maxlevel_range() -> None:
    result = load_text("global\n    tune.comp.maxlevel 10\n", "h.cfg")
    assert any("between 1 and 9" in str(p) for p in result.problems)
