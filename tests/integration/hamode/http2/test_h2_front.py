"""HTTP/2 clients (`bind ... proto h2`, prior knowledge) of `pylvs run` and of the real
`haproxy -db` on the same haproxy.cfg: what the client sees on each stream (status, fields,
body, resets) and what the HTTP/1 servers get must be the same.

The client is the `h2` library on a socket (h2_client.py); the servers are the HTTP/1 test
servers (http_helpers.HttpServer, answers without dates).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.hamode.hamode_helpers import (
    HAPROXY,
    Proxy,
    after_streams,
    free_port,
)
from tests.integration.hamode.http.http_helpers import HttpServer
from tests.integration.hamode.http.test_http_proxying import HEAD, both
from tests.integration.hamode.http2.h2_client import H2Client, Seen

pytestmark = pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed")


def h2_listen(servers: dict[str, HttpServer], options: str = "") -> tuple[str, int]:
    port = free_port()
    text = HEAD + f"listen app\n    bind 127.0.0.1:{port} proto h2\n{options}"
    for name, s in servers.items():
        text += f"    server {name} 127.0.0.1:{s.port}\n"
    return text, port


def seen(s: Seen) -> tuple[Any, ...]:
    return (s.headers, s.body, s.ended, s.reset)


def test_requests_on_one_connection_are_balanced_and_mapped_to_http1(
    proxy: Callable[..., Proxy],
) -> None:
    """GET with :authority (absolute target sent in origin form, Host from :authority and
    the default port dropped), a POST with a length, a POST without one (chunked on HTTP/1),
    cookies joined: the responses per stream and the heads the servers got."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = h2_listen(servers)
        proxy(kind, text, ("127.0.0.1", port))
        c = H2Client(port)
        a = c.request("/a?x=1", authority="example.org:80", extra=[("host", "other")])
        c.wait([a])
        b = c.request("/up", method="POST", extra=[("content-length", "5")], body=b"hello")
        c.wait([b])
        d = c.request("/chunk", method="POST", body=b"abc")
        c.wait([d])
        e = c.request(
            "/c", authority=None, extra=[("cookie", "a=1"), ("x-y", "z"), ("cookie", "b=2")]
        )
        c.wait([e])
        c.close()
        heads = sorted(servers["s1"].heads + servers["s2"].heads)
        return [seen(c.streams[s]) for s in (a, b, d, e)], heads

    got = both(proxy, {"s1": "echo", "s2": "echo"}, run)
    assert got["pylvs"] == got["haproxy"]
    streams, heads = got["pylvs"]
    assert all(s[2] for s in streams)  # every stream ended
    assert (
        b"GET /a?x=1 HTTP/1.1\r\nhost: example.org\r\n" in heads[0] + heads[1] + heads[2] + heads[3]
    )


def test_malformed_requests_are_reset_or_refused_and_the_connection_goes_on(
    proxy: Callable[..., Proxy],
) -> None:
    """A connection-specific field or a relative :path resets the stream (PROTOCOL_ERROR);
    a method that is not a token gets HAProxy's 400; a body longer than its Content-Length
    resets; the next stream on the same connection is served."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = h2_listen(servers)
        proxy(kind, text, ("127.0.0.1", port))
        c = H2Client(port)
        out = []
        for kw in (
            {"extra": [("connection", "close")]},
            {"extra": [("transfer-encoding", "chunked")]},
            {"method": "GE T"},
            {"method": "POST", "extra": [("content-length", "2")], "body": b"too long"},
        ):
            sid = c.request("/bad", **kw)
            c.wait([sid])
            out.append(seen(c.streams[sid]))
        ok = c.request("/good")
        c.wait([ok])
        out.append(seen(c.streams[ok]))
        c.close()
        return out, c.goaway

    got = both(proxy, {"s1": "name"}, run)
    assert got["pylvs"] == got["haproxy"]
    streams, goaway = got["pylvs"]
    assert streams[0][3] == 1 and streams[1][3] == 1 and streams[3][3] == 1  # PROTOCOL_ERROR
    assert dict(streams[2][0])[b":status"] == b"400"
    assert streams[4][1] == b"s1 /good" and goaway is None


def test_a_slow_server_holds_only_its_own_stream(proxy: Callable[..., Proxy]) -> None:
    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        text = (
            HEAD
            + f"frontend fe\n    bind 127.0.0.1:{port} proto h2\n"
            + "    use_backend slow if { path_beg /slow }\n    default_backend fast\n"
            + f"backend slow\n    server s 127.0.0.1:{servers['slow'].port}\n"
            + f"backend fast\n    server f 127.0.0.1:{servers['fast'].port}\n"
        )
        proxy(kind, text, ("127.0.0.1", port))
        c = H2Client(port)
        slow = c.request("/slow")
        fast = [c.request(f"/f{i}") for i in range(3)]
        c.wait(fast)
        pending = c.streams[slow].done
        c.close()
        return [c.streams[s].body for s in fast], pending

    got = both(proxy, {"slow": "stall", "fast": "name"}, run)
    assert got["pylvs"] == got["haproxy"]
    assert got["pylvs"] == ([b"fast /f0", b"fast /f1", b"fast /f2"], False)


def test_a_broken_frame_gets_goaway_and_other_connections_are_served(
    proxy: Callable[..., Proxy],
) -> None:
    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = h2_listen(servers)
        proxy(kind, text, ("127.0.0.1", port))
        other = H2Client(port)
        bad = H2Client(port)
        # a WINDOW_UPDATE of length 3 on the connection: FRAME_SIZE_ERROR
        bad.send(b"\x00\x00\x03\x08\x00\x00\x00\x00\x00\x00\x00\x01")
        while not bad.closed:
            bad.pump(2.0)
        sid = other.request("/still")
        other.wait([sid])
        bad.close()
        other.close()
        return bad.goaway, other.streams[sid].body

    got = both(proxy, {"s1": "name"}, run)
    assert got["pylvs"] == got["haproxy"]
    assert got["pylvs"] == (6, b"s1 /still")  # FRAME_SIZE_ERROR


@pytest.mark.parametrize("option", ["", "    option disable-h2-upgrade\n"])
def test_the_preface_on_an_http1_bind_upgrades_unless_disabled(
    proxy: Callable[..., Proxy], option: str
) -> None:
    """mux_h1's H1C_F_UPG_H2C: a plain bind whose client starts with the HTTP/2 preface
    speaks HTTP/2; `option disable-h2-upgrade` leaves it to the HTTP/1 parser."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        port = free_port()
        text = HEAD + f"listen app\n    bind 127.0.0.1:{port}\n{option}"
        text += f"    server s1 127.0.0.1:{servers['s1'].port}\n"
        proxy(kind, text, ("127.0.0.1", port))
        c = H2Client(port)
        sid = c.request("/up")
        with contextlib.suppress(TimeoutError):
            c.wait([sid], timeout=3.0)
        c.close()
        return seen(c.streams[sid]), c.closed

    got = both(proxy, {"s1": "name"}, run)
    assert got["pylvs"] == got["haproxy"]
    if not option:
        assert got["pylvs"][0][1] == b"s1 /up"


def test_websocket_over_http2_is_an_http1_upgrade_then_a_tunnel(
    proxy: Callable[..., Proxy],
) -> None:
    """RFC 8441: an extended CONNECT becomes a GET with Upgrade towards the HTTP/1 server,
    its 101 the stream's 200, then DATA frames carry the tunnel both ways; a server whose
    accept value does not match the key HAProxy made for a key-less request gets a 502."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        text, port = h2_listen(servers)
        proxy(kind, text, ("127.0.0.1", port))
        c = H2Client(port)
        ws = [("sec-websocket-version", "13")]
        sid = c.request(
            "/ws",
            method="CONNECT",
            protocol="websocket",
            extra=[*ws, ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")],
            end=False,
        )
        while not c.streams[sid].headers and not c.streams[sid].done:
            c.pump(2.0)
        c.data(sid, b"hello")
        while len(c.streams[sid].body) < 5 and not c.streams[sid].done:
            c.pump(2.0)
        keyless = c.request("/ws", method="CONNECT", protocol="websocket", extra=ws, end=False)
        c.wait([keyless])
        c.close()
        return seen(c.streams[sid])[:2], seen(c.streams[keyless])[0], servers["s1"].heads

    got = both(proxy, {"s1": "upgrade"}, run)
    assert got["pylvs"] == got["haproxy"]
    (headers, body), keyless, _ = got["pylvs"]
    assert dict(headers)[b":status"] == b"200" and body == b"HELLO"
    assert dict(keyless)[b":status"] == b"502"


def test_show_stat_counts_http2_frames_and_errors(
    proxy: Callable[..., Proxy], tmp_path: Any
) -> None:
    """The h2_* columns of the frontend's `show stat` row (mux_h2.c's stats module): frames
    received by kind, the stream errors detected and the RST_STREAM sent for them, open and
    total connections, streams."""

    def run(proxy: Callable[..., Proxy], servers: dict[str, HttpServer], kind: str) -> Any:
        sock = tmp_path / f"{kind}.sock"
        port = free_port()
        text = HEAD.replace("global\n", f"global\n    stats socket {sock} level admin\n", 1)
        text += f"listen app\n    bind 127.0.0.1:{port} proto h2\n"
        text += f"    server s1 127.0.0.1:{servers['s1'].port}\n"
        proxy(kind, text, ("127.0.0.1", port))
        c = H2Client(port)
        sids = [c.request("/a"), c.request("/b", method="POST", body=b"xyz")]
        sids.append(c.request("/bad", extra=[("connection", "close")]))
        long = c.request("/long", method="POST", extra=[("content-length", "2")], body=b"xyz")
        c.wait([*sids, long])
        c.close()
        rows = after_streams(sock).splitlines()
        names = rows[0].lstrip("# ").split(",")
        fe = next(r.split(",") for r in rows if r.startswith("app,FRONTEND,"))
        return {n: fe[i] for i, n in enumerate(names) if n.startswith("h2_")}

    got = both(proxy, {"s1": "name"}, run)
    assert got["pylvs"] == got["haproxy"]
    h2 = got["pylvs"]
    assert h2["h2_headers_rcvd"] == "4" and h2["h2_data_rcvd"] == "2"
    # a malformed list is reset without counting as a protocol error; a body against its
    # Content-Length is one
    assert h2["h2_detected_strm_protocol_errors"] == "1" and h2["h2_rst_stream_resp"] == "2"
    assert h2["h2_open_connections"] == "0" and h2["h2_total_connections"] == "1"
