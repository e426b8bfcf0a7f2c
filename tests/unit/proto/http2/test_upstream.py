"""proto/http2/upstream.py: requests to an HTTP/2 server as src/mux_h2.c writes them
(h2s_bck_make_req_headers), its responses as HTTP/1's (h2_make_htx_response), and the
server machine against an in-memory HTTP/2 server (the `h2` library)."""

from __future__ import annotations

from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest

from pylvs.proto.http.conn import commands as cmd
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.conn.server import Back, Phase
from pylvs.proto.http.connmode import Mode
from pylvs.proto.http.framer import Framer
from pylvs.proto.http.message import Body, RequestHead
from pylvs.proto.http2.counters import H2Counters
from pylvs.proto.http2.upstream import H2ServerMachine, request_headers, response_head


def h1(raw: bytes) -> RequestHead:
    head = Framer(request=True).feed(raw)[0].head  # type: ignore[union-attr]
    assert isinstance(head, RequestHead)
    return head


def test_origin_form_gets_https_and_keeps_host() -> None:
    got, protocol = request_headers(
        h1(b"GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\nTE: trailers, x\r\n\r\n"),
        extended=False,
    )
    assert protocol is None
    assert got == [
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":path", b"/a"),
        (b"host", b"h"),
        (b"te", b"trailers"),
    ]


def test_absolute_target_gives_authority_and_drops_host() -> None:
    got, _ = request_headers(h1(b"GET http://x:81 HTTP/1.1\r\nHost: x:81\r\n\r\n"), extended=False)
    assert got == [
        (b":method", b"GET"),
        (b":scheme", b"http"),
        (b":authority", b"x:81"),
        (b":path", b"/"),
    ]


def test_connect_and_upgrades() -> None:
    got, _ = request_headers(h1(b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n"), extended=False)
    assert got == [(b":method", b"CONNECT"), (b":authority", b"x:443")]
    up = h1(b"GET /c HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: proto1, p2\r\n\r\n")
    got, protocol = request_headers(up, extended=True)
    assert protocol == b"proto1"
    assert got[:5] == [
        (b":method", b"CONNECT"),
        (b":scheme", b"https"),
        (b":authority", b"h"),
        (b":path", b"/c"),
        (b":protocol", b"proto1"),
    ]
    with pytest.raises(ValueError):
        request_headers(up, extended=False)


def test_responses() -> None:
    r = response_head([(b":status", b"200")], end=False, method=b"GET", protocol=None)
    assert r is not None and r.body is Body.CHUNKED and r.version == b"HTTP/2.0"
    r = response_head(
        [(b":status", b"200"), (b"content-length", b"3")], end=False, method=b"GET", protocol=None
    )
    assert r is not None and (r.body, r.length) == (Body.LENGTH, 3)
    r = response_head([(b":status", b"200")], end=False, method=b"GET", protocol=b"websocket")
    assert r is not None and r.status == 101 and r.body is Body.TUNNEL
    assert r.fields == ((b"connection", b"upgrade"), (b"upgrade", b"websocket"))
    for bad in (
        [(b":status", b"101")],
        [(b":status", b"20")],
        [(b":status", b"200"), (b"connection", b"close")],
        [(b":status", b"200"), (b"X", b"1")],
        [(b"x", b"1"), (b":status", b"200")],
    ):
        assert response_head(bad, end=True, method=b"GET", protocol=None) is None


class Peer:
    """An in-memory HTTP/2 server for the machine."""

    def __init__(self, *, connect_protocol: bool = False) -> None:
        cfg = h2.config.H2Configuration(
            client_side=False, header_encoding=None, validate_inbound_headers=False
        )
        self.h = h2.connection.H2Connection(cfg)
        if connect_protocol:
            self.h.local_settings = h2.settings.Settings(
                client=False,
                initial_values={h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL: 1},
            )
        self.h.initiate_connection()
        self.events: list[Any] = []

    def take(self, out: list[Any]) -> None:
        for c in out:
            if isinstance(c, cmd.Write):
                self.events += self.h.receive_data(c.data)

    def bytes(self) -> ev.DataRead:
        return ev.DataRead(self.h.data_to_send())


def test_the_machine_waits_for_settings_then_sends_and_releases() -> None:
    m = H2ServerMachine(Back())
    peer = Peer()
    out = m.handle(
        ev.HeadForwarded(h1(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"), True, Mode.KEEP_ALIVE), 0.0
    )
    assert out[0] is cmd.CONNECT
    peer.take(out)
    assert not any(isinstance(e, h2.events.RequestReceived) for e in peer.events)  # not yet
    m.handle(ev.Connected(), 0.1)
    m.handle(ev.END_FORWARDED, 0.1)
    out = m.handle(peer.bytes(), 0.2)  # the server's SETTINGS
    peer.take(out)
    got = [e for e in peer.events if isinstance(e, h2.events.RequestReceived)]
    assert [dict(got[0].headers)[b":path"]] == [b"/x"]
    peer.h.send_headers(1, [(b":status", b"200"), (b"content-length", b"2")])
    peer.h.send_data(1, b"ok", end_stream=True)
    out = m.handle(peer.bytes(), 0.3)
    kinds = [type(c) for c in out]
    assert cmd.DeliverHead in kinds and cmd.DeliverData in kinds and cmd.DeliverEnd in kinds
    # h2_detach: an idle HTTP/2 connection is on the safe list after its first request too
    assert cmd.Release(safe=True) in out and m.phase is Phase.IDLE


def test_an_upgrade_the_server_cannot_take_is_reset_and_a_502() -> None:
    m = H2ServerMachine(Back())
    peer = Peer()
    up = h1(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: p\r\n\r\n")
    peer.take(m.handle(ev.HeadForwarded(up, True, Mode.KEEP_ALIVE), 0.0))
    m.handle(ev.Connected(), 0.1)
    out = m.handle(peer.bytes(), 0.2)
    assert cmd.DeliverFailure(502) in out and out[-1] is cmd.CLOSE
    raw = b"".join(c.data for c in out if isinstance(c, cmd.Write))
    assert raw.endswith(b"\x00\x00\x04\x03\x00\x00\x00\x00\x01\x00\x00\x00\x02")  # RST_STREAM


def test_a_server_reset_before_the_response_is_a_502() -> None:
    m = H2ServerMachine(Back())
    peer = Peer()
    peer.take(m.handle(ev.HeadForwarded(h1(b"GET / HTTP/1.1\r\n\r\n"), True, Mode.KEEP_ALIVE), 0.0))
    m.handle(ev.Connected(), 0.1)
    peer.take(m.handle(peer.bytes(), 0.2))
    peer.h.reset_stream(1, 2)
    out = m.handle(peer.bytes(), 0.3)
    assert cmd.DeliverFailure(502) in out and m.closed


def test_a_server_whose_first_frame_is_not_settings_is_a_failed_connect() -> None:
    """An HTTP/1 answer to the preface: the attempt failed (the driver retries it); the next
    connection gets a new preface once connected, and the request once its SETTINGS came."""
    m = H2ServerMachine(Back())
    first = m.handle(ev.HeadForwarded(h1(b"GET /x HTTP/1.1\r\n\r\n"), True, Mode.KEEP_ALIVE), 0.0)
    m.handle(ev.Connected(), 0.1)
    assert m.handle(ev.DataRead(b"HTTP/1.1 400 Bad Request\r\n\r\n"), 0.2) == [cmd.RECONNECT]
    assert not m.closed
    out = m.handle(ev.Connected(), 1.2)
    preface = b"".join(c.data for c in first if isinstance(c, cmd.Write))
    assert out == [cmd.Write(preface)] and preface.startswith(b"PRI * HTTP/2.0")
    peer = Peer()
    peer.take(out)
    peer.take(m.handle(peer.bytes(), 1.3))
    got = [e for e in peer.events if isinstance(e, h2.events.RequestReceived)]
    assert [dict(got[0].headers)[b":path"]] == [b"/x"]


def test_the_backends_h2_counters() -> None:
    """Connections and streams open and in total, frames received by kind; a closed socket
    (whoever closed it) leaves the open counts."""
    stats = H2Counters()
    m = H2ServerMachine(Back(), stats)
    peer = Peer()
    peer.take(m.handle(ev.HeadForwarded(h1(b"GET / HTTP/1.1\r\n\r\n"), True, Mode.KEEP_ALIVE), 0.0))
    m.handle(ev.Connected(), 0.1)
    m.handle(ev.END_FORWARDED, 0.1)
    peer.take(m.handle(peer.bytes(), 0.2))
    assert (stats.open_conns, stats.total_conns, stats.backend_open_streams) == (1, 1, 1)
    peer.h.send_headers(1, [(b":status", b"200")], end_stream=True)
    m.handle(peer.bytes(), 0.3)
    # the server's first SETTINGS counts twice, then its ACK of ours
    assert (stats.headers_rcvd, stats.settings_rcvd, stats.backend_open_streams) == (1, 3, 0)
    assert stats.backend_total_streams == 1
    m.socket_closed()
    m.socket_closed()
    assert (stats.open_conns, stats.total_conns) == (0, 1)
