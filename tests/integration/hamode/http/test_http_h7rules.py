"""What a client sees of HAProxy's rules and own answers, under `pylvs run` and the real
`haproxy -db` on the same haproxy.cfg (issue 21: error files, http-errors sections, the
http-error and return replies, start-line rewrites, monitor-uri ...): every request goes on
a connection of its own and everything read until the proxy closes (or two seconds of
silence) must be the same bytes.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port
from tests.integration.hamode.http.test_http_proxying import HEAD

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")

KINDS = ("haproxy", "pylvs")


def exchange(port: int, request: bytes) -> bytes:
    """Send `request` on a new connection; what comes back, with how it ended."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        sock.settimeout(2.0)
        out = b""
        try:
            while data := sock.recv(65536):
                out += data
        except TimeoutError:
            return out + b"<open>"
        except ConnectionResetError:
            return out + b"<reset>"
    return out + b"<closed>"


def compare(
    proxy: Callable[..., Proxy], config: str, requests: list[bytes]
) -> dict[str, list[bytes]]:
    """`config` (its `{port}` the listener) under both programs: the answers to `requests`."""
    seen: dict[str, list[bytes]] = {}
    for kind in KINDS:
        port = free_port()
        proxy(kind, HEAD + config.format(port=port), ("127.0.0.1", port))
        seen[kind] = [exchange(port, r) for r in requests]
    assert seen["pylvs"] == seen["haproxy"]
    return seen


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: h\r\n\r\n".encode()


def test_errorfiles_without_length_and_empty_ones(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    """An errorfile without Content-Length is sent as is (its HTTP/1.0 status line too) and
    the connection closed; an empty one (/dev/null) closes without a word."""
    page = tmp_path / "403.http"
    page.write_bytes(
        b"HTTP/1.0 403 Forbidden\r\nCache-Control: no-cache\r\nConnection: close\r\n"
        b"Content-Type: text/html\r\nx-err-type: mine\r\n\r\n<html>no</html>\n"
    )
    page11 = tmp_path / "400.http"
    page11.write_bytes(page.read_bytes().replace(b"HTTP/1.0 403", b"HTTP/1.1 400"))
    config = (
        "frontend fe\n    bind 127.0.0.1:{port}\n"
        f"    errorfile 403 {page}\n    errorfile 400 {page11}\n    errorfile 500 /dev/null\n"
        "    http-request deny deny_status 400 if {{ path /400 }}\n"
        "    http-request deny if {{ path /403 }}\n"
        "    http-request deny deny_status 500 if {{ path /500 }}\n"
    )
    seen = compare(proxy, config, [get("/403"), get("/400"), get("/500")])
    assert seen["pylvs"][0].startswith(b"HTTP/1.0 403 Forbidden\r\n")
    assert seen["pylvs"][0].endswith(b"<html>no</html>\n<closed>")
    assert b"connection: close" in seen["pylvs"][1]
    assert seen["pylvs"][2] == b"<closed>"


def test_error_directives_apply_in_the_order_written(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    """errorfile, errorfiles and http-error lines of the defaults then of the proxy: each
    overrides the earlier ones for its codes; `return ... default-errorfiles` answers with
    the proxy's http-error reply for its status."""
    pages = {}
    for name in ("defaults", "section"):
        p = tmp_path / f"{name}.http"
        p.write_bytes(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\nx-from: "
            + name.encode()
            + b"\r\n\r\ngone"
        )
        pages[name] = p
    config = (
        f"http-errors errs\n    errorfile 404 {pages['section']}\n"
        "defaults named\n    mode http\n    timeout client 5s\n"
        f"    errorfile 404 {pages['defaults']}\n"
        "frontend fe from named\n    bind 127.0.0.1:{port}\n    errorfiles errs\n"
        "    http-error status 200 content-type text/plain"
        ' hdr x-path "%[path]" lf-string "p=%[path]"\n'
        "    http-request return status 200 default-errorfiles if {{ path /ok }}\n"
        "    http-request deny deny_status 404\n"
    )
    seen = compare(proxy, config, [get("/ok"), get("/nf")])
    assert b"x-path: /ok" in seen["pylvs"][0] and b"p=/ok" in seen["pylvs"][0]
    assert b"x-from: section" in seen["pylvs"][1]
