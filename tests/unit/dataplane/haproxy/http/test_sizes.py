"""An exchange's %U / %B from what went by (dataplane/haproxy/http/sizes.py): heads as HTX,
bodies as payload whichever path carried them, a chunked message's end block, tunnelled
bytes, the proxy's own answer.  The totals are haproxy 2.6.12's for the same messages."""

from __future__ import annotations

from pylvs.dataplane.haproxy.http import sizes
from pylvs.dataplane.haproxy.http.exchange import Exchange
from pylvs.proto.http.answers import Answer
from pylvs.proto.http.conn import commands as cmd
from pylvs.proto.http.events import HeadReceived
from pylvs.proto.http.framer import Framer
from pylvs.proto.http.message import RequestHead, ResponseHead
from pylvs.proto.relay.body import ChunksRelayed, Relayed
from pylvs.proto.relay.events import Side


def exchange(raw: bytes) -> Exchange:
    (event, *_) = Framer(request=True).feed(raw)
    assert isinstance(event, HeadReceived) and isinstance(event.head, RequestHead)
    x = Exchange("fe", 0.0, 0.0, 0.0, event.head, first=True)
    sizes.request(x, event.head)
    return x


def response(raw: bytes) -> ResponseHead:
    (event, *_) = Framer(request=False).feed(raw)
    assert isinstance(event, HeadReceived) and isinstance(event.head, ResponseHead)
    return event.head


def test_a_chunked_upload_in_python_with_trailers_and_a_100_then_the_answer() -> None:
    x = exchange(b"POST /echo/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    for c in (cmd.ForwardData(b"hello"), cmd.ForwardData(b" world")):
        sizes.forwarded(x, c)
    sizes.forwarded(x, cmd.ForwardTrailers(((b"x-t", b"trailer"),)))
    sizes.forwarded(x, cmd.ForwardEnd())
    assert x.bytes_in == 91
    sizes.delivered(x, cmd.DeliverHead(response(b"HTTP/1.1 100 Continue\r\n\r\n")))
    sizes.delivered(x, cmd.DeliverHead(response(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n")))
    sizes.delivered(x, cmd.DeliverData(b"s got 3"))
    sizes.delivered(x, cmd.DeliverEnd())  # not chunked: no end block
    assert x.bytes_out == 96


def test_bodies_the_c_path_relayed_count_their_payload() -> None:
    x = exchange(b"POST /echo/bigc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    sizes.passed(x, True, ChunksRelayed(Side.CLIENT, 300_030, 300_000, b"\r\n"))
    sizes.forwarded(x, cmd.ForwardEnd())
    assert x.bytes_in == 300_073
    sizes.delivered(x, cmd.DeliverHead(response(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n")))
    sizes.passed(x, False, Relayed(Side.SERVER, 12))
    assert x.bytes_out == 62


def test_a_tunnel_and_the_proxys_own_answer() -> None:
    x = exchange(b"GET /deny HTTP/1.1\r\nHost: x\r\n\r\n")
    sizes.answered(x, None, 403)
    assert (x.bytes_in, x.bytes_out) == (42, 192)
    x = exchange(b"GET /return HTTP/1.1\r\nHost: x\r\n\r\n")
    own = Answer.of(
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello"
    )
    sizes.answered(x, own, 200)
    assert x.bytes_out == 76
    sizes.tunnelled(x, True, 15)
    sizes.tunnelled(x, False, 15)
    assert (x.bytes_in, x.bytes_out) == (44 + 15, 76 + 15)
