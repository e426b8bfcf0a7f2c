"""HAProxy's HTTP cache (`cache` sections, `http-request cache-use`, `http-response
cache-store`, `show cache`) under `pylvs run` and under the real `haproxy -db`, same
haproxy.cfg: what the client gets (a hit's head, body and Age, a miss, HEAD from a GET
entry, 304 on If-None-Match / If-Modified-Since, responses not stored), what reaches the
server, Vary with `process-vary`, eviction by size, a conditional cache-use, the
cache_lookups / cache_hits columns of `show stat` and `show cache`.

Age values are masked (a hit may cross a second boundary on one side only); `show cache`'s
pointers and the seconds left are too.
"""

from __future__ import annotations

import re
import socket
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port, stats_command
from tests.integration.hamode.http.http_helpers import Client, HttpServer, field

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

LM = b"Last-Modified: Sun, 07 Dec 2025 00:00:00 GMT\r\n"


def _resp(fields: bytes, body: bytes = b"cached body\n", status: bytes = b"200 OK") -> bytes:
    return b"HTTP/1.1 %s\r\n%sContent-Length: %d\r\n\r\n%s" % (status, fields, len(body), body)


def _chunked(fields: bytes, body: bytes) -> bytes:
    out = b"HTTP/1.1 200 OK\r\n%sTransfer-Encoding: chunked\r\n\r\n" % fields
    return out + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


# the path (query aside) -> the server's raw response
RESPONSES: dict[bytes, bytes] = {
    b"/static": _resp(b'Cache-Control: max-age=60\r\nETag: "abc"\r\n' + LM),
    b"/nostore": _resp(b"Cache-Control: no-store\r\n"),
    b"/private": _resp(b"Cache-Control: private, max-age=60\r\n"),
    b"/nofresh": _resp(b"Content-Type: text/plain\r\n"),
    b"/validator": _resp(b'ETag: "v1"\r\n'),
    b"/expires": _resp(b"Expires: Thu, 01 Jan 2099 00:00:00 GMT\r\n"),
    b"/expired": _resp(b"Expires: Thu, 01 Jan 1998 00:00:00 GMT\r\n"),
    b"/age": _resp(b"Cache-Control: max-age=60\r\nAge: 10\r\n"),
    b"/oldage": _resp(b"Cache-Control: max-age=60\r\nAge: 100\r\n"),
    b"/cookie": _resp(b"Cache-Control: max-age=60\r\nSet-Cookie: a=b\r\n"),
    b"/cookie-nocache": _resp(b'Cache-Control: max-age=60, no-cache="set-cookie"\r\n'),
    b"/404": _resp(b"Cache-Control: max-age=60\r\n", status=b"404 Not Found"),
    b"/chunk": _chunked(b"Cache-Control: max-age=60\r\n", b"chunked body\n"),
    b"/vary": _resp(b"Cache-Control: max-age=60\r\nVary: Accept-Encoding\r\n"),
    b"/gzip": _resp(
        b"Cache-Control: max-age=60\r\nVary: Accept-Encoding\r\nContent-Encoding: gzip\r\n"
    ),
    b"/vary-cookie": _resp(b"Cache-Control: max-age=60\r\nVary: Cookie\r\n"),
    b"/referer": _resp(b"Cache-Control: max-age=60\r\nVary: Referer\r\n"),
    b"/big": _resp(b"Cache-Control: max-age=60\r\n", b"b" * 300_000),
    b"/huge": _resp(b"Cache-Control: max-age=60\r\n", b"h" * 600_000),
    b"/post": _resp(b"Cache-Control: max-age=60\r\n"),
    b"/html": _resp(b"Content-Type: text/html\r\nCache-Control: max-age=60\r\n", b"<p>" * 100),
}


class ScriptServer(HttpServer):
    """Answers RESPONSES[path] with `X-N: <requests so far>` first: a response from the
    cache carries an older number."""

    def _answer(self, conn: socket.socket, head: bytes, body: bytes) -> bool:
        path = head.split(b" ")[1].split(b"?")[0]
        n = len(self.heads)
        status, rest = RESPONSES[path].split(b"\r\n", 1)
        conn.sendall(status + b"\r\nX-N: %d\r\n" % n + rest)
        return True


def _masked(head: bytes) -> bytes:
    return re.sub(rb"(?i)\r\nage: \d+", b"\r\nage: N", head)


def _exchange(port: int, request: bytes) -> tuple[bytes, bytes]:
    c = Client(port)
    try:
        c.send(request)
        head, body = c.response(request.split(b" ")[0])
    finally:
        c.close()
    return _masked(head), body


def _req(target: str, *extra: str, method: str = "GET", version: str = "1.1") -> bytes:
    fields = "".join(f"{e}\r\n" for e in extra)
    body = "Content-Length: 0\r\n" if method == "POST" else ""
    return f"{method} {target} HTTP/{version}\r\nHost: x\r\n{fields}{body}\r\n".encode()


def _run(
    proxy: Callable[..., Proxy],
    tmp: Any,
    conf: str,
    requests: list[bytes],
    commands: tuple[str, ...] = (),
) -> dict[str, dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for kind in ("pylvs", "haproxy"):
        s1 = ScriptServer("s1")
        try:
            port = free_port()
            sock = tmp / f"{kind}.sock"
            proxy(
                kind,
                HEAD.format(sock=sock) + conf.format(port=port, server=s1.port),
                ("127.0.0.1", port),
            )
            client = [_exchange(port, r) for r in requests]
            said = {c: stats_command(sock, c) for c in commands}
            seen[kind] = {"client": client, "server": len(s1.heads), "said": said}
        finally:
            s1.close()
    return seen


LISTEN = """\
cache c
    total-max-size 1
    max-age 240
listen app
    bind 127.0.0.1:{port}
    http-request cache-use c
    http-response cache-store c
    http-response set-header X-Cache-Status HIT if !{{ srv_id -m found }}
    http-response set-header X-Cache-Status MISS if {{ srv_id -m found }}
    server s1 127.0.0.1:{server}
"""


def test_hits_misses_and_what_is_not_stored(proxy: Callable[..., Proxy], tmp_path: Any) -> None:
    """A hit's head (Age added, the response rules run on it), HEAD from the GET entry, the
    304s, and the responses and requests the cache leaves to the server."""
    ims_after = "If-Modified-Since: Mon, 08 Dec 2025 00:00:00 GMT"
    ims_before = "If-Modified-Since: Sat, 06 Dec 2025 00:00:00 GMT"
    requests = [
        _req("/static"),
        _req("/static"),
        _req("/static", method="HEAD"),
        _req("/static", 'If-None-Match: "abc"'),
        _req("/static", 'If-None-Match: "other"'),
        _req("/static", ims_after),
        _req("/static", ims_before),
        _req("/static", "Cache-Control: no-cache"),
        _req("/static", "Authorization: Basic eDp5"),
        _req("/static", version="1.0"),
        _req("/static?q=1"),
    ]
    for target in RESPONSES:
        if target not in (b"/static", b"/big", b"/huge", b"/post"):
            requests += [_req(target.decode()), _req(target.decode())]
    seen = _run(proxy, tmp_path, LISTEN, requests)
    assert seen["pylvs"] == seen["haproxy"]
    client = seen["pylvs"]["client"]
    assert field(client[1][0], b"x-cache-status") == b"HIT"
    assert field(client[1][0], b"age") == b"N" and client[1][1] == b"cached body\n"
    assert client[2][1] == b"" and field(client[2][0], b"x-cache-status") == b"HIT"
    assert client[3][0].startswith(b"HTTP/1.1 304 Not Modified")
    assert client[4][0].startswith(b"HTTP/1.1 200")
    by = dict(zip(requests, client, strict=True))
    assert field(by[_req("/nostore")][0], b"x-cache-status") == b"MISS"
    assert field(by[_req("/validator")][0], b"x-cache-status") == b"HIT"


def test_unsafe_methods_invalidate(proxy: Callable[..., Proxy], tmp_path: Any) -> None:
    requests = [_req("/post"), _req("/post"), _req("/post", method="POST"), _req("/post")]
    seen = _run(proxy, tmp_path, LISTEN, requests)
    assert seen["pylvs"] == seen["haproxy"]
    marks = [field(h, b"x-cache-status") for h, _ in seen["pylvs"]["client"]]
    assert marks == [b"MISS", b"HIT", b"MISS", b"MISS"]


VARY = """\
cache c
    total-max-size 1
    process-vary on
    max-secondary-entries 2
listen app
    bind 127.0.0.1:{port}
    http-request cache-use c
    http-response cache-store c
    http-response set-header X-Cache-Status HIT if {{ res.cache_hit }}
    http-response set-header X-Cache-Name %[res.cache_name]
    server s1 127.0.0.1:{server}
"""


def test_vary_with_process_vary(proxy: Callable[..., Proxy], tmp_path: Any) -> None:
    """Accept-Encoding variants (the stored Content-Encoding must be accepted), a Vary on
    another header not stored, a Referer-only Vary never served (as 2.6 does it)."""
    gz, br = "Accept-Encoding: gzip", "Accept-Encoding: br"
    requests = [
        _req("/vary"),
        _req("/vary", gz),
        _req("/vary", br),
        _req("/gzip", gz),
        _req("/gzip", "Accept-Encoding: gzip, deflate"),
        _req("/gzip", br),
        _req("/gzip"),
        _req("/vary-cookie"),
        _req("/vary-cookie"),
        _req("/referer", "Referer: http://a/"),
        _req("/referer", "Referer: http://a/"),
    ]
    seen = _run(proxy, tmp_path, VARY, requests, ("show cache",))
    mask = re.compile(r"0x[0-9a-f]+(?=[ :])|expire:\d+|shctx:0x[0-9a-f]+")
    said = {k: mask.sub("X", v["said"]["show cache"]) for k, v in seen.items()}
    assert said["pylvs"] == said["haproxy"]
    for v in seen.values():
        v["said"] = {}
    assert seen["pylvs"] == seen["haproxy"]
    hits = [field(h, b"x-cache-status") for h, _ in seen["pylvs"]["client"]]
    assert hits[1:3] == [b"HIT", b"HIT"] and hits[4] == b"HIT"
    assert field(seen["pylvs"]["client"][1][0], b"x-cache-name") == b"c"


SMALL = """\
cache c
    total-max-size 1
    max-object-size 400000
listen app
    bind 127.0.0.1:{port}
    http-request cache-use c if {{ path_beg /big }} || {{ path_beg /huge }}
    http-response cache-store c
    http-response set-header X-Cache-Status HIT if !{{ srv_id -m found }}
    server s1 127.0.0.1:{server}
"""


def test_eviction_by_size_and_a_condition(proxy: Callable[..., Proxy], tmp_path: Any) -> None:
    """Four 300 KB objects in a 1 MB cache: the least recently used goes; an object past
    max-object-size is never stored; cache-use with a condition (its lookups and hits in
    show stat)."""
    requests = [_req(f"/big?{n}") for n in (1, 2, 3)]
    requests += [_req("/big?1"), _req("/big?4"), _req("/big?2"), _req("/big?1")]
    requests += [_req("/huge"), _req("/huge"), _req("/static"), _req("/static")]
    seen = _run(proxy, tmp_path, SMALL, requests, ("show stat",))
    stats = {}
    for kind, v in seen.items():
        lines = v["said"].pop("show stat").splitlines()
        names = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(names, line.split(","), strict=False)) for line in lines[1:] if line]
        stats[kind] = [(r["svname"], r["cache_lookups"], r["cache_hits"]) for r in rows]
    assert stats["pylvs"] == stats["haproxy"]
    assert ("FRONTEND", "9", "2") in stats["pylvs"]
    assert seen["pylvs"] == seen["haproxy"]
    hits = [field(h, b"x-cache-status") for h, _ in seen["pylvs"]["client"]]
    # /big?1 hit, then /big?4 evicts /big?2 (the least recently used), /big?2 evicts /big?3
    assert hits[:7] == [None, None, None, b"HIT", None, None, b"HIT"]
    assert hits[7:] == [None, None, None, None]


def test_hits_on_a_kept_alive_connection(proxy: Callable[..., Proxy], tmp_path: Any) -> None:
    """Misses and hits in turn on one connection (the cache applet's answers keep it)."""
    seen = {}
    for kind in ("pylvs", "haproxy"):
        s1 = ScriptServer("s1")
        try:
            port = free_port()
            conf = HEAD.format(sock=tmp_path / f"{kind}.sock")
            proxy(kind, conf + LISTEN.format(port=port, server=s1.port), ("127.0.0.1", port))
            c = Client(port)
            got = []
            for target in ("/static", "/static", "/chunk", "/static", "/chunk", "/nostore"):
                c.send(_req(target))
                head, body = c.response()
                got.append((_masked(head), body))
            c.close()
            seen[kind] = (got, len(s1.heads), s1.accepted)
        finally:
            s1.close()
    assert seen["pylvs"] == seen["haproxy"]
    marks = [field(h, b"x-cache-status") for h, _ in seen["pylvs"][0]]
    assert marks == [b"MISS", b"HIT", b"MISS", b"HIT", b"HIT", b"MISS"]


COMPRESSED = """\
cache c
    total-max-size 1
frontend fe
    bind 127.0.0.1:{port}
    compression algo gzip
    compression type text/html
    http-response set-header X-Cache-Status HIT if !{{ srv_id -m found }}
    default_backend be
backend be
    http-request cache-use c
    http-response cache-store c
    server s1 127.0.0.1:{server}
"""


def test_a_response_the_frontend_compresses_is_not_stored_by_the_backend(
    proxy: Callable[..., Proxy], tmp_path: Any
) -> None:
    """The frontend's compression filter comes before the backend's cache filter: what it
    compresses is not stored; what it leaves alone is (cache_store_post_analyze), and its
    hits are compressed for a client that asks."""
    gz = "Accept-Encoding: gzip"
    requests = [
        _req("/html", gz),
        _req("/html", gz),
        _req("/html"),
        _req("/html"),
        _req("/html", gz),
    ]
    seen = _run(proxy, tmp_path, COMPRESSED, requests)
    for v in seen.values():  # libslz's bytes are not zlib's: the bodies decompressed
        v["client"] = [
            (h, zlib.decompress(b, 16 + zlib.MAX_WBITS) if field(h, b"content-encoding") else b)
            for h, b in v["client"]
        ]
    assert seen["pylvs"] == seen["haproxy"]
    marks = [field(h, b"x-cache-status") for h, _ in seen["pylvs"]["client"]]
    assert marks == [None, None, None, b"HIT", b"HIT"]
