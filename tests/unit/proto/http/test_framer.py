"""The framer's behaviours one by one (HAProxy 2.6's src/mux_h1.c and src/h1*.c rules)."""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.proto.http.events import (
    MESSAGE_ENDED,
    MESSAGE_TRUNCATED,
    BodyReceived,
    HeadReceived,
    MessageRejected,
    TrailersReceived,
    TunnelReceived,
)
from pylvs.proto.http.framer import Framer, Phase
from pylvs.proto.http.limits import Limits
from pylvs.proto.http.message import Body, Flag, RequestHead, ResponseHead
from pylvs.proto.http.syntax import State

GET = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"


def heads(events: Sequence[object]) -> list[RequestHead | ResponseHead]:
    return [e.head for e in events if isinstance(e, HeadReceived)]


def request_heads(events: Sequence[object]) -> list[RequestHead]:
    got = heads(events)
    requests = [h for h in got if isinstance(h, RequestHead)]
    assert len(requests) == len(got), got
    return requests


def response_heads(events: Sequence[object]) -> list[ResponseHead]:
    got = heads(events)
    responses = [h for h in got if isinstance(h, ResponseHead)]
    assert len(responses) == len(got), got
    return responses


def test_a_get_ends_with_its_head_and_lowercases_names() -> None:
    events = Framer(request=True).feed(b"GET /a HTTP/1.1\r\nHost: x\r\nX-Foo:  Bar \r\n\r\n")
    (head,) = heads(events)
    assert isinstance(head, RequestHead)
    assert head.fields == ((b"host", b"x"), (b"x-foo", b"Bar"))
    assert head.body is Body.NONE and head.flags & Flag.VER_11
    assert events[-1] is MESSAGE_ENDED


def test_a_pipelined_request_waits_until_the_transaction_is_over() -> None:
    framer = Framer(request=True)
    events = framer.feed(GET + b"GET /b HTTP/1.1\r\n\r\n")
    assert len(heads(events)) == 1 and framer.phase is Phase.HELD
    assert framer.buffered == len(b"GET /b HTTP/1.1\r\n\r\n")
    assert framer.feed(b"more") == []  # held, not framed
    assert [h.target for h in request_heads(framer.next_message())] == [b"/b"]


def test_content_length_bodies_stream_in_pieces_and_end_exactly() -> None:
    framer = Framer(request=True)
    head = b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"
    events = framer.feed(head + b"he")
    assert events[-1] == BodyReceived(b"he")
    assert framer.feed(b"lloGET") == [BodyReceived(b"llo"), MESSAGE_ENDED]
    assert framer.buffered == 3


def test_chunked_bodies_are_decoded_with_trailers_and_extensions() -> None:
    framer = Framer(request=True)
    events = framer.feed(
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 1\r\n\r\n"
    )
    assert events[1:] == [
        BodyReceived(b"abcde"),  # contiguous data of one read is one piece (one HTX block)
        TrailersReceived(((b"x-sum", b"1"),)),
        MESSAGE_ENDED,
    ]


def test_a_chunk_size_of_2_pow_52_is_refused_before_its_line_ends() -> None:
    framer = Framer(request=True)
    framer.feed(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    (rejected,) = framer.feed(b"10000000000000")
    assert isinstance(rejected, MessageRejected)
    assert rejected.refusal.status == 400 and rejected.refusal.state is State.CHUNK_SIZE


def test_a_response_without_length_runs_to_eof() -> None:
    framer = Framer(request=False)
    events = framer.feed(b"HTTP/1.1 200 OK\r\n\r\npart")
    assert heads(events)[0].body is Body.UNTIL_CLOSE
    assert framer.feed(b" two") == [BodyReceived(b" two")]
    assert framer.feed_eof() == [MESSAGE_ENDED]


def test_a_cut_body_is_truncated() -> None:
    framer = Framer(request=False)
    framer.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    assert framer.feed_eof() == [MESSAGE_TRUNCATED]


def test_head_204_304_and_1xx_responses_have_no_body() -> None:
    for method, status in ((b"HEAD", b"200"), (b"GET", b"204"), (b"GET", b"304")):
        framer = Framer(request=False)
        framer.expect(method)
        events = framer.feed(b"HTTP/1.1 " + status + b" X\r\nContent-Length: 20\r\n\r\n")
        assert heads(events)[0].body is Body.NONE
        assert events[-1] is MESSAGE_ENDED


def test_an_interim_100_is_followed_by_the_final_response_without_an_end() -> None:
    framer = Framer(request=False)
    events = framer.feed(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
    )
    assert [h.status for h in response_heads(events)] == [100, 200]
    assert response_heads(events)[0].informational
    assert events[-2:] == [BodyReceived(b"a"), MESSAGE_ENDED]


def test_a_101_turns_the_response_side_into_a_tunnel_at_once() -> None:
    framer = Framer(request=False)
    events = framer.feed(
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Accept: k\r\n\r\n\x81\x00"
    )
    assert heads(events)[0].body is Body.TUNNEL
    assert events[-2:] == [MESSAGE_ENDED, TunnelReceived(b"\x81\x00")]
    assert framer.feed(b"raw") == [TunnelReceived(b"raw")]


def test_the_request_side_tunnels_when_told_and_passes_held_bytes() -> None:
    framer = Framer(request=True)
    framer.feed(b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\nearly")
    assert framer.tunnel() == [TunnelReceived(b"early")]
    assert framer.feed(b"late") == [TunnelReceived(b"late")]


def test_a_tls_handshake_on_a_plain_port_is_refused_before_any_line_ends() -> None:
    (rejected,) = Framer(request=True).feed(b"\x16\x03\x01\x00\xa5\x01\x00")
    assert isinstance(rejected, MessageRejected)
    assert rejected.refusal.status == 400 and rejected.refusal.state is State.RQBEFORE
    assert rejected.buffer == b"\x16\x03\x01\x00\xa5\x01\x00"


def test_http09_is_refused_as_soon_as_its_line_ends() -> None:
    (rejected,) = Framer(request=True).feed(b"GET /\r\n")
    assert isinstance(rejected, MessageRejected) and rejected.refusal.status == 400


def test_a_target_byte_at_a_reads_end_is_judged_alone() -> None:
    # haproxy 2.6.12 answers "A \x7f" with its 400 at once (tests/integration/hamode/http/
    # test_http_fuzz.py): its word-wise skip needs four bytes, the byte-wise check refuses DEL
    (rejected,) = Framer(request=True).feed(b"A \x7f")
    assert isinstance(rejected, MessageRejected) and rejected.refusal.status == 400
    assert rejected.refusal.state is State.RQURI and rejected.refusal.position == 2
    # inside a whole word of a longer read the same byte passes (the SWAR quirk)
    assert len(heads(Framer(request=True).feed(b"GET /ab\x7fc HTTP/1.1\r\n\r\n"))) == 1


def test_a_response_refused_in_the_read_of_its_head_is_not_forwarded() -> None:
    bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n"
    (rejected,) = Framer(request=False).feed(bad)
    assert isinstance(rejected, MessageRejected) and rejected.refusal.status == 502
    framer = Framer(request=False)  # the bad line in a later read: the head went on
    head_end = bad.index(b"\r\n\r\n") + 4
    assert len(response_heads(framer.feed(bad[:head_end]))) == 1
    (rejected,) = framer.feed(bad[head_end:])
    assert isinstance(rejected, MessageRejected)
    framer = Framer(request=False)  # an interim 100 read with it still goes
    events = framer.feed(b"HTTP/1.1 100 Continue\r\n\r\n" + bad)
    assert [h.status for h in response_heads(events)] == [100]
    assert isinstance(events[-1], MessageRejected)


def test_100_fields_pass_101_do_not() -> None:
    def fields(n: int) -> bytes:
        return b"".join(b"X%d: y\r\n" % i for i in range(n))

    ok = Framer(request=True).feed(b"GET / HTTP/1.1\r\n" + fields(100) + b"\r\n")
    assert len(heads(ok)) == 1
    (rejected,) = Framer(request=True).feed(b"GET / HTTP/1.1\r\n" + fields(101) + b"\r\n")
    assert isinstance(rejected, MessageRejected) and rejected.refusal.status == 400
    dropped = b"Connection: close\r\nHost: a\r\nHost: a\r\n"  # dropped fields take no slot
    ok = Framer(request=True).feed(b"GET / HTTP/1.1\r\n" + fields(99) + dropped + b"\r\n")
    assert len(heads(ok)) == 1


def test_the_head_must_fit_the_buffer_less_maxrewrite() -> None:
    base = b"GET / HTTP/1.1\r\nHost: a\r\nX: \r\n\r\n"

    def sized(total: int) -> bytes:
        return b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"a" * (total - len(base)) + b"\r\n\r\n"

    assert len(heads(Framer(request=True).feed(sized(15273)))) == 1  # 15312 bytes of HTX
    (rejected,) = Framer(request=True).feed(sized(15274))
    assert isinstance(rejected, MessageRejected)
    small = Limits(bufsize=2048, maxrewrite=512)
    (rejected,) = Framer(request=True, limits=small).feed(b"GET / HTTP/1.1\r\nX: " + b"a" * 3000)
    assert isinstance(rejected, MessageRejected)  # never ended within the buffer
    assert len(rejected.buffer) == small.raw_head


def test_a_refused_response_is_a_502_and_the_framer_stops() -> None:
    framer = Framer(request=False)
    (rejected,) = framer.feed(b"garbage\r\n\r\n")
    assert isinstance(rejected, MessageRejected) and rejected.refusal.status == 502
    assert framer.feed(b"HTTP/1.1 200 OK\r\n\r\n") == []


def test_a_server_closing_mid_head_is_a_502() -> None:
    framer = Framer(request=False)
    framer.feed(b"HTTP/1.1 200 OK\r\nContent-")
    (rejected,) = framer.feed_eof()
    assert isinstance(rejected, MessageRejected) and rejected.refusal.status == 502


def test_a_client_closing_mid_head_is_a_400_and_mid_body_a_truncation() -> None:
    framer = Framer(request=True)
    framer.feed(b"GET / HTTP/1.1\r\nHost: a\r\n")
    (rejected,) = framer.feed_eof()
    assert isinstance(rejected, MessageRejected) and rejected.refusal.status == 400
    framer = Framer(request=True)
    framer.feed(b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc")
    assert framer.feed_eof() == [MESSAGE_TRUNCATED]
