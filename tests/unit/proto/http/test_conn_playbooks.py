"""Scripted playbooks for the HTTP connection machines: events in, the exact commands out.

The timings asserted are the ones observed with the real haproxy 2.6.12 (for instance:
`timeout http-keep-alive 300ms` closed an idle connection at 0.3 s; unset, `timeout
http-request 700ms` did at 0.7 s, and with neither, `timeout client 600ms` at 0.6 s; a next
request started 0.2 s into the keep-alive wait got its 408 1 s after its first byte with
`timeout http-request 1s`; a request trickling a line every 0.2 s got its 408 at the
http-request deadline although `timeout client` was shorter; a half-sent body with `timeout
client 500ms` and `timeout server 1500ms` got a 504 at 1.5 s and a close).
"""

from __future__ import annotations

from pylvs.proto.http.answers import Answer, raw_page
from pylvs.proto.http.conn import commands as cmd
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.conn.client import ClientMachine, Front, Phase
from pylvs.proto.http.conn.server import Back, ServerMachine
from pylvs.proto.http.conn.server import Phase as ServerPhase
from pylvs.proto.http.connmode import Mode, Want
from pylvs.proto.http.events import HeadReceived
from pylvs.proto.http.framer import Framer
from pylvs.proto.http.limits import Limits
from pylvs.proto.http.message import Flag, RequestHead
from pylvs.proto.http.timeouts import Timeouts
from tests.unit.proto.http.http_link import Link

GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
OK_OUT = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


def front(
    *,
    client: float | None = None,
    http_request: float | None = None,
    http_keep_alive: float | None = None,
    tunnel: float | None = None,
) -> Front:
    timeouts = Timeouts(
        client=client, http_request=http_request, http_keep_alive=http_keep_alive, tunnel=tunnel
    )
    return Front(timeouts=timeouts)


def writes(commands: list[cmd.Command]) -> bytes:
    return b"".join(c.data for c in commands if isinstance(c, cmd.Write))


# -- waiting for a request --------------------------------------------------------------


def test_the_first_request_is_timed_from_accept_and_gets_a_raw_408() -> None:
    m = ClientMachine(front(http_request=1.0, client=5.0), now=10.0)
    assert m.deadline == 11.0
    m.handle(ev.DataRead(b"GET / HT"), 10.5)
    assert m.deadline == 11.0  # data does not push the http-request deadline
    assert m.handle(ev.TimerFired(), 11.0) == [cmd.Write(raw_page(408)), cmd.CLOSE]


def test_a_silent_first_connection_gets_a_408_unless_dontlognull_or_ignore_probes() -> None:
    m = ClientMachine(front(http_request=1.0), now=0.0)
    assert m.handle(ev.TimerFired(), 1.0) == [cmd.Write(raw_page(408)), cmd.CLOSE]
    for option in ("dontlognull", "ignore_probes"):
        quiet = Front(timeouts=Timeouts(http_request=1.0, **{option: True}))
        m = ClientMachine(quiet, now=0.0)
        assert m.handle(ev.TimerFired(), 1.0) == [cmd.CLOSE]


def test_a_trickling_head_is_kept_alive_by_client_but_not_by_http_request() -> None:
    m = ClientMachine(front(http_request=0.8, client=0.3), now=0.0)
    for i, part in enumerate((b"GET / HT", b"TP/1.1\r\n", b"X: 1\r\n", b"Y: 2\r\n")):
        m.handle(ev.DataRead(part), 0.2 * i)
        assert m.deadline == min(0.8, 0.2 * i + 0.3)
    assert m.handle(ev.TimerFired(), 0.8) == [cmd.Write(raw_page(408)), cmd.CLOSE]


def test_keep_alive_wait_then_http_request_from_the_next_first_byte() -> None:
    link = Link(front=front(http_keep_alive=0.3, http_request=1.0, client=5.0))
    link.client_sends(GET)
    link.server_sends(OK)
    assert link.client.deadline == 0.3 and link.client.phase is Phase.WAITING
    link.advance(0.2)
    link.client_sends(b"GET / HT")
    assert link.client.deadline == 1.2
    link.advance(1.0)
    assert link.client_got == OK_OUT + raw_page(408) and link.client_closed


def test_an_idle_kept_alive_connection_closes_silently() -> None:
    for timeouts, closes_at in (
        ({"http_keep_alive": 0.3, "http_request": 1.0}, 0.3),
        ({"http_request": 0.7}, 0.7),
        ({"client": 0.6}, 0.6),
    ):
        link = Link(front=front(**timeouts))
        link.client_sends(GET)
        link.server_sends(OK)
        link.advance(closes_at - 0.01)
        assert not link.client_closed
        link.advance(0.01)
        assert link.client_got == OK_OUT and link.client_closed


# -- refusals -----------------------------------------------------------------------------


def test_a_refused_request_gets_the_raw_page_a_capture_and_a_close() -> None:
    m = ClientMachine(Front(), now=0.0)
    out = m.handle(ev.DataRead(b"GET / HTTP/1.1\r\nbad header\r\n\r\n"), 0.0)
    assert isinstance(out[0], cmd.Capture) and out[0].refusal.status == 400
    assert out[1:] == [cmd.Write(raw_page(400)), cmd.CLOSE]


def test_a_body_refused_in_the_read_of_its_head_was_never_forwarded() -> None:
    m = ClientMachine(Front(), now=0.0)
    head = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    out = m.handle(ev.DataRead(head + b"zz\r\n"), 0.0)
    assert not any(isinstance(c, cmd.ForwardHead) for c in out)
    assert writes(out) == raw_page(400)


def test_a_body_refused_after_its_head_left_aborts_and_answers_400_through_htx() -> None:
    m = ClientMachine(Front(), now=0.0)
    out = m.handle(ev.DataRead(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 0.0)
    assert isinstance(out[0], cmd.ForwardHead)
    out = m.handle(ev.DataRead(b"zz\r\n"), 0.1)
    data, _ = Answer.page(400).write(Want.KEEP_ALIVE, b"POST", Flag.VER_11, Mode.KEEP_ALIVE)
    assert cmd.FORWARD_ABORT in out and writes(out) == data and out[-1] == cmd.CLOSE


# -- the transaction ------------------------------------------------------------------------


def test_pipelined_requests_wait_and_reading_pauses_when_the_buffer_is_full() -> None:
    link = Link(front=Front(limits=Limits(bufsize=1100, maxrewrite=100)))
    link.client_sends(GET + GET + b"GET /x HTTP/1.1\r\nX: " + b"y" * 1100)
    assert link.paused  # the held bytes filled the buffer (1052 bytes)
    assert link.forwarded == b"GET / HTTP/1.1\r\nhost: a\r\n\r\n"
    link.server_sends(OK)  # the second request goes; the third still fills the buffer
    assert link.paused and link.forwarded.count(b"GET / ") == 2
    link.server_sends(OK)  # the third is refused: its head never ended within the buffer
    assert link.client_got == OK_OUT * 2 + raw_page(400) and link.client_closed


def test_a_502_503_504_keeps_the_client_unless_its_request_was_not_read_whole() -> None:
    link = Link(front=front(client=5.0), back=Back(timeouts=Timeouts(server=1.5)))
    link.client_sends(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
    link.advance(1.5)
    data, _ = Answer.page(504).write(
        Want.KEEP_ALIVE, b"POST", Flag.VER_11, Mode.KEEP_ALIVE, early=True
    )
    assert link.client_got == data and link.client_closed
    link = Link(back=Back(timeouts=Timeouts(server=1.5)))
    link.client_sends(GET)
    link.advance(1.5)
    assert (
        link.client_got
        == Answer.page(504).write(Want.KEEP_ALIVE, b"GET", Flag.VER_11, Mode.KEEP_ALIVE)[0]
    )
    assert not link.client_closed and link.client.phase is Phase.WAITING


def test_a_response_cut_after_its_head_cuts_the_client() -> None:
    link = Link(back=Back(timeouts=Timeouts(server=0.5)))
    link.client_sends(GET)
    link.server_sends(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    link.advance(0.5)
    assert link.client_got == b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"
    assert link.client_closed


def test_a_client_closing_after_its_request_still_gets_the_response() -> None:
    link = Link()
    link.client_sends(GET)
    link.client_eof()
    assert not link.client_closed
    link.server_sends(OK)
    assert link.client_got == OK_OUT and link.client_closed


def test_a_client_closing_mid_body_aborts_the_server_side_silently() -> None:
    link = Link()
    link.client_sends(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
    link.client_eof()
    assert link.client_got == b"" and link.client_closed
    assert all(c.closed for c in link.conns.values())


def test_a_websocket_upgrade_becomes_a_tunnel_with_its_own_timeout() -> None:
    link = Link(
        front=front(client=5.0, tunnel=0.5),
        back=Back(timeouts=Timeouts(server=5.0, tunnel=0.5)),
    )
    link.client_sends(
        b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\nearly"
    )
    link.server_sends(
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nhello"
    )
    assert link.client.phase is Phase.TUNNEL
    assert link.client_got.endswith(b"\r\n\r\nhello")
    assert link.forwarded.endswith(b"\r\n\r\nearly")  # held until the 101, then passed on
    link.client_sends(b"ping")
    assert link.forwarded.endswith(b"earlyping")
    link.advance(0.5)
    assert link.client_closed


def test_a_101_needs_both_sides_to_ask_for_the_upgrade_else_502() -> None:
    """http_wait_for_response: a 101 to a request without Connection: upgrade, or without
    it itself, is a bad response (observed with haproxy 2.6.12: the 502 page, no tunnel)."""
    for request, response in (
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", b"Connection: upgrade\r\n"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n", b""),
    ):
        link = Link()
        link.client_sends(request)
        link.server_sends(b"HTTP/1.1 101 OK\r\n" + response + b"Content-Length: 0\r\n\r\nhi")
        assert link.client_got.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
        assert link.client.phase is not Phase.TUNNEL and b"hi" not in link.client_got


def test_a_tunnel_ends_when_both_sides_have_closed() -> None:
    link = Link()
    link.client_sends(b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n")
    link.server_sends(b"HTTP/1.1 200 OK\r\n\r\n")
    link.server_eof()
    assert link.client_shut and not link.client_closed
    link.client_eof()
    assert link.client_closed


def test_an_interim_response_passes_and_the_final_one_follows() -> None:
    link = Link()
    link.client_sends(
        b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    )
    link.server_sends(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert link.client_got == b"HTTP/1.1 100 Continue\r\n\r\n"
    link.client_sends(b"ab")
    link.server_sends(OK)
    assert link.client_got == b"HTTP/1.1 100 Continue\r\n\r\n" + OK_OUT
    assert link.forwarded.endswith(b"\r\n\r\nab")


def test_a_chunked_response_is_rechunked_per_piece_with_trailers() -> None:
    link = Link()
    link.client_sends(GET)
    link.server_sends(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
    link.server_sends(b"2\r\nde\r\n0\r\nX-T: 1\r\n\r\n")
    assert link.client_got == (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2\r\nde\r\n0\r\nx-t: 1\r\n\r\n"
    )


# -- the server side ----------------------------------------------------------------------


def head_event(data: bytes) -> ev.HeadForwarded:
    (first, *_) = Framer(request=True).feed(data)
    assert isinstance(first, HeadReceived) and isinstance(first.head, RequestHead), first
    return ev.HeadForwarded(first.head, True, Mode.KEEP_ALIVE)


def test_a_new_server_connection_connects_within_timeout_connect_or_503() -> None:
    m = ServerMachine(Back(timeouts=Timeouts(connect=1.0, server=5.0)))
    out = m.handle(head_event(GET), 0.0)
    assert out == [cmd.CONNECT, cmd.Write(b"GET / HTTP/1.1\r\nhost: a\r\n\r\n")]
    assert m.deadline == 1.0
    assert m.handle(ev.TimerFired(), 1.0) == [cmd.DeliverFailure(503), cmd.CLOSE]


def test_a_server_closing_before_any_byte_is_a_502() -> None:
    m = ServerMachine(Back())
    m.handle(head_event(GET), 0.0)
    m.handle(ev.Connected(), 0.0)
    assert m.handle(ev.EofRead(), 0.1) == [cmd.DeliverFailure(502), cmd.CLOSE]


def test_a_refused_response_is_captured_and_a_502() -> None:
    m = ServerMachine(Back())
    m.handle(head_event(GET), 0.0)
    m.handle(ev.Connected(), 0.0)
    out = m.handle(ev.DataRead(b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n"), 0.1)
    assert isinstance(out[0], cmd.Capture) and out[0].refusal.status == 502
    assert out[1:] == [cmd.DeliverFailure(502), cmd.CLOSE]


def test_a_kept_alive_server_connection_is_released_idle_then_safe() -> None:
    m = ServerMachine(Back())
    for safe in (False, True):
        m.handle(head_event(GET), 0.0)
        m.handle(ev.Connected(), 0.0)
        m.handle(ev.EndForwarded(), 0.0)
        out = m.handle(ev.DataRead(OK), 0.1)
        assert out[-1] == cmd.Release(safe=safe)
        assert m.phase is ServerPhase.IDLE
    assert m.handle(ev.DataRead(b"x"), 0.2) == [cmd.CLOSE]  # nothing is expected while idle


def test_bytes_after_a_response_kill_the_server_connection() -> None:
    m = ServerMachine(Back())
    m.handle(head_event(GET), 0.0)
    m.handle(ev.Connected(), 0.0)
    m.handle(ev.EndForwarded(), 0.0)
    assert m.handle(ev.DataRead(OK + b"EXTRA"), 0.1)[-1] == cmd.CLOSE
