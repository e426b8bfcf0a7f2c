"""What a client sees of HAProxy's rules and own answers, under `pylvs run` and the real
`haproxy -db` on the same haproxy.cfg (issue 21: error files, http-errors sections, the
http-error and return replies, start-line rewrites, monitor-uri ...): every request goes on
a connection of its own and everything read until the proxy closes (or two seconds of
silence) must be the same bytes.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.hamode.hamode_helpers import HAPROXY, Proxy, free_port, stats_command
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
    """`config` (its `{port}` the listener, `{port2}` a second one it may use) under both
    programs: the answers to `requests`."""
    seen: dict[str, list[bytes]] = {}
    for kind in KINDS:
        port, port2 = free_port(), free_port()
        proxy(kind, HEAD + config.format(port=port, port2=port2), ("127.0.0.1", port))
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


def test_monitor_uri_and_monitor_fail(proxy: Callable[..., Proxy]) -> None:
    config = (
        "frontend fe\n    bind 127.0.0.1:{port}\n    monitor-uri /health\n"
        "    monitor fail if {{ hdr(x-down) -m found }}\n"
        "    http-request return status 404\n"
    )
    down = b"GET /health HTTP/1.1\r\nHost: h\r\nX-Down: 1\r\n\r\n"
    seen = compare(proxy, config, [get("/health"), down, get("/hEAlth"), get("/health?x")])
    assert seen["pylvs"][0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert seen["pylvs"][1].startswith(b"HTTP/1.1 503 Service Unavailable\r\n")


def test_cli_edits_acl_and_map_files_the_rules_use(
    proxy: Callable[..., Proxy], tmp_path: Path
) -> None:
    """`add|del acl` (a pattern with escaped spaces), `add map` with `code` before
    `location` in the redirect, `show acl|map` after each (entry identifiers aside)."""
    acl, mp = tmp_path / "agents.acl", tmp_path / "r.map"
    acl.write_text("Test\n")
    mp.write_text("/old /new\n")
    ua = b"GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: Mon User Agent;\r\n\r\n"
    seen: dict[str, list[str | bytes]] = {}
    for kind in KINDS:
        port, sock = free_port(), tmp_path / f"{kind}.sock"
        config = (
            f"global\n    stats socket {sock} level admin\n"
            + HEAD.split("\n", 1)[1]
            + f"frontend fe\n    bind 127.0.0.1:{port}\n"
            f"    http-request deny if {{ req.hdr(user-agent) -i -m str -f {acl} }}\n"
            "    http-request redirect code 301 location"
            f" %[path,map_str({mp})] ignore-empty\n"
            "    http-request return status 200 content-type text/plain string ok\n"
        )
        proxy(kind, config, ("127.0.0.1", port))
        got: list[str | bytes] = [exchange(port, ua), exchange(port, get("/old"))]
        for command in (
            rf"add acl {acl} Mon\ User\ Agent\;",
            f"show acl {acl}",
            f"add map {mp} /two /target",
            f"show map {mp}",
            f"show acl {mp}",
        ):
            got.append(re.sub(r"0x[0-9a-f]+", "ID", stats_command(sock, command)))
        got += [exchange(port, ua), exchange(port, get("/two"))]
        got.append(stats_command(sock, rf"del acl {acl} Mon\ User\ Agent\;"))
        got.append(stats_command(sock, rf"del acl {acl} Mon\ User\ Agent\;"))
        got.append(exchange(port, ua))
        seen[kind] = got
    assert seen["pylvs"] == seen["haproxy"]
    assert seen["pylvs"][3] == "ID Test\nID Mon User Agent;\n\n"
    denied, redirected = seen["pylvs"][7], seen["pylvs"][8]
    assert isinstance(denied, bytes) and denied.startswith(b"HTTP/1.1 403")
    assert isinstance(redirected, bytes) and b"/target" in redirected


def test_forwardfor_and_originalto_see_the_addresses_set_src_and_set_dst_gave(
    proxy: Callable[..., Proxy],
) -> None:
    config = (
        "frontend fe\n    bind 127.0.0.1:{port}\n"
        "    http-request set-src hdr(x-src)\n    http-request set-dst hdr(x-dst)\n"
        "    default_backend be\n"
        "backend be\n    option forwardfor except 10.0.0.1/25\n"
        "    option originalto except 2001:db8::/32\n    server s 127.0.0.1:{port2}\n"
        "frontend echo\n    bind 127.0.0.1:{port2}\n"
        '    http-request return status 200 hdr x-ff "%[req.hdr(x-forwarded-for)]"'
        ' hdr x-ot "%[req.hdr(x-original-to)]"\n'
    )
    requests = [
        f"GET / HTTP/1.1\r\nHost: h\r\nX-Src: {src}\r\nX-Dst: {dst}\r\n\r\n".encode()
        for src, dst in (("10.0.0.1", "2001:db8::1"), ("10.0.0.200", "::1"), ("::2", "10.1.1.1"))
    ]
    seen = compare(proxy, config, requests)
    assert b"x-ff" not in seen["pylvs"][0] and b"x-ff: 10.0.0.200" in seen["pylvs"][1]
    assert b"x-ot: ::1" in seen["pylvs"][1] and b"x-ff: ::2" in seen["pylvs"][2]
