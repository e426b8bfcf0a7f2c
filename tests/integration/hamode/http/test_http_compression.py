"""HTTP compression (`compression algo|type|offload`, `filter compression`) under `pylvs run`
and under the real `haproxy -db`, same haproxy.cfg: which responses are compressed, the heads
the client gets (Content-Encoding, Vary, ETag, Transfer-Encoding, Content-Length), what the
server is sent (offload), the decompressed bodies, and the compression columns of `show stat`.

The compressed bytes themselves are not compared: the installed haproxy is built with libslz
(`haproxy -vv`: USE_SLZ, -ZLIB), whose deflate streams differ from zlib's; pylvs's are checked
against zlib at the same level and window instead (`test_pylvs_bytes_are_zlibs`).
"""

from __future__ import annotations

import socket
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    Proxy,
    after_streams,
    free_port,
)
from tests.integration.hamode.http.http_helpers import Client, HttpServer, field, pattern

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

HEAD = """\
global
    stats socket {sock} level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
"""

TEXT = b"hello compressed world " * 200
HTML = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (
    len(TEXT),
    TEXT,
)


def _resp(status: bytes, fields: bytes, body: bytes = TEXT) -> bytes:
    return b"HTTP/1.1 %s\r\n%sContent-Length: %d\r\n\r\n%s" % (status, fields, len(body), body)


def _chunked(fields: bytes, trailers: bytes = b"") -> bytes:
    pieces = [TEXT[:1000], TEXT[1000:3000], TEXT[3000:]]
    out = b"HTTP/1.1 200 OK\r\n%sTransfer-Encoding: chunked\r\n\r\n" % fields
    for p in pieces:
        out += b"%x\r\n%s\r\n" % (len(p), p)
    return out + b"0\r\n" + trailers + b"\r\n"


# target -> the server's raw response
RESPONSES: dict[bytes, bytes] = {
    b"/html": HTML,
    b"/plain": _resp(b"200 OK", b"Content-Type: text/plain; charset=utf-8\r\n"),
    b"/upper": _resp(b"200 OK", b"Content-Type: TEXT/HTML\r\n"),
    b"/png": _resp(b"200 OK", b"Content-Type: image/png\r\n"),
    b"/notype": _resp(b"200 OK", b""),
    b"/multipart": _resp(b"200 OK", b"Content-Type: multipart/mixed; boundary=x\r\n"),
    b"/404": _resp(b"404 Not Found", b"Content-Type: text/html\r\n"),
    b"/201": _resp(b"201 Created", b"Content-Type: text/html\r\n"),
    b"/203": _resp(b"203 Non-Authoritative", b"Content-Type: text/html\r\n"),
    b"/206": _resp(b"206 Partial", b"Content-Type: text/html\r\nContent-Range: bytes 0-9/99\r\n"),
    b"/204": b"HTTP/1.1 204 No Content\r\nContent-Type: text/html\r\n\r\n",
    b"/304": b'HTTP/1.1 304 Not Modified\r\nContent-Type: text/html\r\nETag: "e"\r\n\r\n',
    b"/encoded": _resp(b"200 OK", b"Content-Type: text/html\r\nContent-Encoding: br\r\n"),
    b"/notransform": _resp(
        b"200 OK", b"Content-Type: text/html\r\nCache-Control: max-age=3, No-Transform\r\n"
    ),
    b"/etag": _resp(b"200 OK", b'Content-Type: text/html\r\nETag: "abc"\r\n'),
    b"/weaketag": _resp(b"200 OK", b'Content-Type: text/html\r\nETag: W/"abc"\r\n'),
    b"/badetag": _resp(b"200 OK", b"Content-Type: text/html\r\nETag: abc\r\n"),
    b"/twoetags": _resp(b"200 OK", b'Content-Type: text/html\r\nETag: "a"\r\nETag: "b"\r\n'),
    b"/vary": _resp(b"200 OK", b"Content-Type: text/html\r\nVary: Cookie\r\n"),
    b"/empty": _resp(b"200 OK", b"Content-Type: text/html\r\n", b""),
    b"/chunked": _chunked(b"Content-Type: text/html\r\n"),
    b"/trailers": _chunked(b"Content-Type: text/html\r\n", b"x-sum: 1\r\n"),
    b"/close": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + TEXT,
    b"/big": _resp(b"200 OK", b"Content-Type: text/html\r\n", pattern(3 << 20)),
}


class ScriptServer(HttpServer):
    """Answers each request with RESPONSES[target]; a close-delimited one closes."""

    def _answer(self, conn: socket.socket, head: bytes, body: bytes) -> bool:
        target = head.split(b" ")[1]
        conn.sendall(RESPONSES[target])
        return target != b"/close"


def _decoded(head: bytes, body: bytes) -> bytes:
    coding = (field(head, b"content-encoding") or b"").lower()
    if coding == b"gzip":
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    if coding == b"deflate":
        try:
            return zlib.decompress(body)
        except zlib.error:
            return zlib.decompress(body, -zlib.MAX_WBITS)
    return body


def _exchange(port: int, request: bytes) -> tuple[bytes, bytes]:
    c = Client(port)
    try:
        c.send(request)
        method = request.split(b" ")[0]
        head, body = c.response(method)
    finally:
        c.close()
    return head, _decoded(head, body)


def _run(
    proxy: Callable[..., Proxy],
    tmp: Any,
    conf: str,
    requests: list[bytes],
) -> dict[str, Any]:
    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        sock = tmp / f"{kind}.sock"
        s1 = servers["s1"]
        text = HEAD.format(sock=sock) + conf.format(port=port, server=s1.port)
        proxy(kind, text, ("127.0.0.1", port))
        seen = [_exchange(port, r) for r in requests]
        sent = [h for h in s1.heads]
        return {"client": seen, "server": sent}

    seen: dict[str, Any] = {}
    for kind in ("pylvs", "haproxy"):
        s1 = ScriptServer("s1")
        try:
            seen[kind] = run(proxy, {"s1": s1}, kind)
        finally:
            s1.close()
    return seen


def _get(target: str, *extra: str, version: str = "1.1", method: str = "GET") -> bytes:
    fields = "".join(f"{e}\r\n" for e in extra)
    return f"{method} {target} HTTP/{version}\r\nHost: x\r\n{fields}\r\n".encode()


LISTEN = """\
listen app
    bind 127.0.0.1:{port}
    compression algo gzip deflate
    compression type text/html text/plain
    server s1 127.0.0.1:{server}
"""


def test_which_responses_are_compressed(proxy: Callable[..., Proxy], tmp_path: Any) -> None:
    """Each rule of flt_http_comp.c's response selection, one response each: statuses,
    types (prefix, case), multipart, Content-Encoding, no-transform, ETags, bodyless and
    close-delimited responses, chunked bodies with trailers, an empty body."""
    gz = "Accept-Encoding: gzip"
    targets = [t.decode() for t in RESPONSES if t != b"/big"]
    requests = [_get(t, gz) for t in targets]
    seen = _run(proxy, tmp_path, LISTEN, requests)
    assert seen["pylvs"] == seen["haproxy"]
    by = dict(zip(targets, seen["pylvs"]["client"], strict=True))
    assert field(by["/html"][0], b"content-encoding") == b"gzip"
    assert by["/html"][1] == TEXT
    assert field(by["/png"][0], b"content-encoding") is None
    assert field(by["/etag"][0], b"etag") == b'W/"abc"'


def test_accept_encoding_negotiation(proxy: Callable[..., Proxy], tmp_path: Any) -> None:
    """q-values, `*`, unknown codings, case, several fields, an old Mozilla/4 agent, HTTP/1.0
    and HEAD requests."""
    requests = [
        _get("/html", "Accept-Encoding: gzip;q=0.5, deflate"),
        _get("/html", "Accept-Encoding: deflate;q=0.2, GZIP ;q=0.3"),
        _get("/html", "Accept-Encoding: br, *"),
        _get("/html", "Accept-Encoding: br"),
        _get("/html", "Accept-Encoding: gzip;q=0"),
        _get("/html", "Accept-Encoding: br;q=1", "Accept-Encoding: deflate;q=0.9"),
        _get("/html", "Accept-Encoding: gzip; level=1; q=0.7, deflate;q=0.5"),
        _get("/html"),
        _get("/html", "Accept-Encoding: gzip", version="1.0"),
        _get("/html", "Accept-Encoding: gzip", method="HEAD"),
        _get("/html", "Accept-Encoding: gzip", "User-Agent: Mozilla/4.0 (compatible; foo)"),
        _get(
            "/html",
            "Accept-Encoding: gzip",
            "User-Agent: Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)",
        ),
    ]
    seen = _run(proxy, tmp_path, LISTEN, requests)
    assert seen["pylvs"] == seen["haproxy"]
    codings = [field(h, b"content-encoding") for h, _ in seen["pylvs"]["client"]]
    assert codings[:4] == [b"deflate", b"gzip", b"deflate", None]
    # the server is sent Accept-Encoding as the client wrote it (no offload)
    assert all(b"accept-encoding" in h.lower() for h in seen["pylvs"]["server"][:7])


OFFLOAD = """\
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    compression algo gzip
frontend fe
    bind 127.0.0.1:{port}
    compression offload
    default_backend be
backend be
    compression algo deflate identity
    server s1 127.0.0.1:{server}
"""


def test_offload_defaults_and_backend_priority(proxy: Callable[..., Proxy], tmp_path: Any) -> None:
    """`compression offload` in the frontend drops Accept-Encoding toward the server when an
    algorithm was chosen; the backend's list wins over the frontend's (inherited from the
    defaults); no type list: any type, and none needed; `identity` re-frames the answer."""
    requests = [
        _get("/png", "Accept-Encoding: gzip, deflate"),
        _get("/notype", "Accept-Encoding: deflate"),
        _get("/html", "Accept-Encoding: gzip"),
        _get("/html", "Accept-Encoding: br"),
    ]
    seen = _run(proxy, tmp_path, OFFLOAD, requests)
    assert seen["pylvs"] == seen["haproxy"]
    client, server = seen["pylvs"]["client"], seen["pylvs"]["server"]
    # the backend's list: its own words first, then the defaults' gzip
    assert field(client[0][0], b"content-encoding") == b"gzip"
    assert field(client[1][0], b"content-encoding") == b"deflate"
    assert b"accept-encoding" not in server[0].lower()
    assert b"accept-encoding" in server[3].lower()  # identity chose: not removed
    assert field(client[3][0], b"transfer-encoding") == b"chunked"


def test_big_body_streams(proxy: Callable[..., Proxy], tmp_path: Any) -> None:
    """A 3 MiB body compressed as it streams: the same body after decompression."""
    seen = _run(proxy, tmp_path, LISTEN, [_get("/big", "Accept-Encoding: gzip")])
    assert seen["pylvs"] == seen["haproxy"]
    assert seen["pylvs"]["client"][0][1] == pattern(3 << 20)


def test_pylvs_bytes_are_zlibs(proxy: Callable[..., Proxy], tmp_path: Any) -> None:
    """pylvs's gzip stream is zlib's at tune.comp.maxlevel (here 1, the default) with a
    32 KiB window: one chunk per server read, each flushed, the last one finished."""
    port = free_port()
    s1 = ScriptServer("s1")
    try:
        conf = HEAD.format(sock=tmp_path / "p.sock") + LISTEN.format(port=port, server=s1.port)
        proxy("pylvs", conf, ("127.0.0.1", port))
        c = Client(port)
        c.get("/html", "Accept-Encoding: gzip\r\n")
        head, raw = c.response()
        c.close()
    finally:
        s1.close()
    z = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS, 8)
    assert raw == z.compress(TEXT) + z.flush(zlib.Z_FINISH)
    assert field(head, b"content-length") is None


def test_show_stat_compression_columns(proxy: Callable[..., Proxy], tmp_path: Any) -> None:
    """comp_in, comp_out, comp_byp and comp_rsp of the frontend and backend after compressed
    responses (with a length, chunked, with trailers: their trailer and end blocks count as
    passed through the compressor) and some that are not."""

    def run(kind: str) -> dict[str, list[str]]:
        port = free_port()
        sock = tmp_path / f"{kind}-stat.sock"
        s1 = ScriptServer("s1")
        try:
            conf = HEAD.format(sock=sock) + LISTEN.format(port=port, server=s1.port)
            proxy(kind, conf, ("127.0.0.1", port))
            for target in ("/html", "/png", "/empty", "/chunked", "/trailers", "/404"):
                _exchange(port, _get(target, "Accept-Encoding: gzip"))
            out = after_streams(sock)
        finally:
            s1.close()
        lines = out.splitlines()
        names = lines[0].lstrip("# ").split(",")
        rows = {}
        for line in lines[1:]:
            cols = line.split(",")
            if len(cols) < len(names) or cols[0] != "app":
                continue
            row = dict(zip(names, cols, strict=False))
            rows[row["svname"]] = [row[k] for k in ("comp_in", "comp_rsp", "comp_byp")]
            rows[row["svname"] + "-out"] = [str(int(row["comp_out"] or 0) > 0)]
        return rows

    assert run("pylvs") == run("haproxy")


FETCHES = """\
listen app
    bind 127.0.0.1:{port}
    compression algo raw-deflate gzip identity
    compression type text/html
    http-response set-header x-comp %[res.comp]
    http-response set-header x-algo %[res.comp_algo]
    http-after-response set-header x-after %[res.comp]
    server s1 127.0.0.1:{server}
"""


def test_res_comp_fetches(proxy: Callable[..., Proxy], tmp_path: Any) -> None:
    """`res.comp` / `res.comp_algo` in the response rules: the filter's verdict on the
    server's head, before the rules (the configuration's names: raw-deflate, identity)."""
    requests = [
        _get("/html", "Accept-Encoding: deflate"),
        _get("/html", "Accept-Encoding: gzip"),
        _get("/html", "Accept-Encoding: br"),
        _get("/png", "Accept-Encoding: gzip"),
    ]
    seen = _run(proxy, tmp_path, FETCHES, requests)
    assert seen["pylvs"] == seen["haproxy"]
    heads = [h for h, _ in seen["pylvs"]["client"]]
    assert [field(h, b"x-algo") for h in heads] == [b"raw-deflate", b"gzip", b"identity", b""]
    assert [field(h, b"x-comp") for h in heads] == [b"1", b"1", b"1", b"0"]


H2 = """\
listen app
    bind 127.0.0.1:{port} proto h2
    compression algo gzip deflate
    compression type text/html
    server s1 127.0.0.1:{server}
"""


def test_http2_clients(proxy: Callable[..., Proxy], tmp_path: Any) -> None:
    """An HTTP/2 client's streams get the same verdicts and heads (no Transfer-Encoding on
    HTTP/2) as under haproxy, and the same bodies once decompressed."""
    from tests.integration.hamode.http2.h2_client import H2Client

    def run(kind: str) -> list[tuple[list[tuple[bytes, bytes]], bytes]]:
        port = free_port()
        s1 = ScriptServer("s1")
        try:
            conf = HEAD.format(sock=tmp_path / f"{kind}-h2.sock")
            proxy(kind, conf + H2.format(port=port, server=s1.port), ("127.0.0.1", port))
            c = H2Client(port)
            got = []
            for target, coding in (("/html", "gzip"), ("/etag", "deflate"), ("/png", "gzip")):
                sid = c.request(target, extra=[("accept-encoding", coding)])
                c.wait([sid])
                seen = c.streams[sid]
                head = b"".join(n + b": " + v + b"\r\n" for n, v in seen.headers)
                got.append((seen.headers, _decoded(head, seen.body)))
            c.close()
        finally:
            s1.close()
        return got

    pylvs, haproxy = run("pylvs"), run("haproxy")
    assert pylvs == haproxy
    assert (b"content-encoding", b"gzip") in pylvs[0][0] and pylvs[0][1] == TEXT
    assert (b"etag", b'W/"abc"') in pylvs[1][0]
