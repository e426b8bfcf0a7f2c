"""Rewrite room (issue 21), pylvs against the real `haproxy -db` on the same haproxy.cfg: with
`tune.bufsize 2048` and `tune.maxrewrite 128`, a message whose body fills the buffer
(`option http-buffer-request` for a request; a response whose body came with its head) has
about `tune.maxrewrite` bytes left for its rules: one 74-byte header fits, a second does not.
In strict mode the failed rewrite answers 500; with `strict-mode off` it is skipped.  Either
way the frontend counts it in `wrew` (the backend too once it was chosen), and a 500 in
`eint`.  A small message
has room for both."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    KINDS,
    Proxy,
    after_streams,
    free_port,
)
from tests.integration.hamode.http.http_helpers import HttpServer, talk

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

V = "123456789012345678901234567890123456789012345678901234567890"
CONFIG = """\
global
    stats socket {sock} level admin
    tune.bufsize 2048
    tune.maxrewrite 128
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    option http-buffer-request
frontend fe
    bind 127.0.0.1:{port}
    http-request set-header x-hdr1 V
    http-request set-header x-hdr2 V if {{ path /two }}
    http-request strict-mode off if {{ path /off }}
    http-request set-header x-hdr3 V if {{ path /off }}
    default_backend be
backend be
    http-request set-header x-hdr4 V if {{ path /be }}
    http-response set-header x-res1 V
    http-response set-header x-res2 V if {{ res.hdr(x-big) -m found }}
    server web 127.0.0.1:{server}
""".replace("V", V)


def _post(path: bytes, size: int) -> bytes:
    return (
        b"POST " + path + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
        b"Content-Length: %d\r\n\r\n" % size + b"x" * size
    )


def _wrew(csv: str) -> dict[str, tuple[str, str]]:
    """wrew and eint of the frontend, the backend and its server."""
    lines = csv.splitlines()
    names = lines[0][2:].split(",")
    out = {}
    for line in lines[1:]:
        row = dict(zip(names, line.split(","), strict=False))
        if row.get("pxname") in ("fe", "be"):
            out[row["pxname"] + "/" + row["svname"]] = (row["wrew"], row["eint"])
    return out


def _run(proxy: Callable[..., Proxy], kind: str, script: bytes) -> tuple[list[bytes], object]:
    server = HttpServer("web", "script" if script else "name")
    server.script = script
    sock = Path(tempfile.mkdtemp()) / "stats.sock"
    try:
        port = free_port()
        p = proxy(kind, CONFIG.format(sock=sock, port=port, server=server.port), None)
        try:
            requests = [_post(b"/one", 2000), _post(b"/two", 2000), _post(b"/off", 2000)]
            requests += [_post(b"/be", 2000), _post(b"/two", 100)]
            seen = [talk(port, r).split(b"\r\n")[0] for r in requests]
            return seen, _wrew(after_streams(sock))
        finally:
            p.stop()
    finally:
        server.close()


def test_request_rewrites_against_the_room_the_body_leaves(proxy: Callable[..., Proxy]) -> None:
    seen = {kind: _run(proxy, kind, b"") for kind in KINDS}
    assert seen["pylvs"] == seen["haproxy"]
    statuses, wrew = seen["pylvs"]
    assert [s.split(b" ")[1] for s in statuses] == [b"200", b"500", b"200", b"500", b"200"]
    # the two 500s count in eint: /two in the frontend alone, /be in the backend too
    assert wrew == {"fe/FRONTEND": ("3", "2"), "be/web": ("0", "0"), "be/BACKEND": ("1", "1")}


def test_response_rewrites_against_the_body_that_came_with_the_head(
    proxy: Callable[..., Proxy],
) -> None:
    big = b"HTTP/1.1 200 OK\r\nx-big: 1\r\nContent-Length: 1900\r\n\r\n" + b"y" * 1900
    seen = {kind: _run(proxy, kind, big) for kind in KINDS}
    assert seen["pylvs"] == seen["haproxy"]
    statuses, _wrew = seen["pylvs"]
    assert [s.split(b" ")[1] for s in statuses] == [b"500", b"500", b"500", b"500", b"500"]
