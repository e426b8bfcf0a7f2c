"""The request's and the response's sizes of an exchange as HAProxy logs them (%U, %B):
HTX data, not bytes on the wire (proto/http/htxsize.py says what counts).

The driver tells this module what went by, wherever it goes by: the request head once
parsed (`request`), the machines' commands for the other side (`forwarded` for the
client's: body data, trailers, the end of a chunked body, tunnelled bytes; `delivered` for
a server's: each head, 1xx included, as it came, then the same), a body the C path relayed
(`passed`: its payload, chunk framing left out), a tunnel the C path relays (`tunnelled`)
and an answer the proxy makes itself (`answered`: its own head and body, after whatever of
a server's response had come, as http_reply_and_close adds to the channel).

The same totals are the proxies' and the server's bin/bout (`settle`: src/stream.c
stream_process_counters adds req.total and res.total to the frontend's, the stream's
backend's and its server's counters), so show stat counts HTX data for an HTTP stream, not
the bytes its sockets moved (those are the H1 module's h1_bytes_in/out).  They are added
once the exchange ended.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pylvs.proto.http.answers import Answer
from pylvs.proto.http.conn import commands as cmd
from pylvs.proto.http.htxsize import END, fields_size, request_size, response_size
from pylvs.proto.http.message import Body, RequestHead
from pylvs.proto.relay.body import BodyCut, BodyEnded, ChunksRelayed, Relayed

if TYPE_CHECKING:
    from pylvs.dataplane.haproxy.frontend import Frontend

    from .exchange import Exchange


def request(x: Exchange, head: RequestHead) -> None:
    x.bytes_in += request_size(head)


def forwarded(x: Exchange, c: Any) -> None:
    """A client machine's command for the server side."""
    kind = type(c)
    if kind is cmd.ForwardData or kind is cmd.ForwardTunnel:
        x.bytes_in += len(c.data)
    elif kind is cmd.ForwardTrailers:
        x.bytes_in += fields_size(c.fields)
    elif kind is cmd.ForwardEnd and x.request is not None and x.request.body is Body.CHUNKED:
        x.bytes_in += END


def delivered(x: Exchange, c: Any) -> None:
    """A server machine's command for the client side."""
    kind = type(c)
    if kind is cmd.DeliverHead:
        x.bytes_out += response_size(c.head)
        x.chunked_out = c.head.body is Body.CHUNKED
    elif kind is cmd.DeliverData or kind is cmd.DeliverTunnel:
        x.bytes_out += len(c.data)
    elif kind is cmd.DeliverTrailers:
        x.bytes_out += fields_size(c.fields)
    elif kind is cmd.DeliverEnd and x.chunked_out:
        x.bytes_out += END


def passed(x: Exchange, request: bool, ended: BodyEnded) -> None:
    """A body the C path relayed: its payload (the trailers and the end come back to the
    machines, which forward or deliver them)."""
    if isinstance(ended, Relayed):
        n = ended.n
    elif isinstance(ended, ChunksRelayed | BodyCut):
        n = ended.payload
    else:
        return
    if request:
        x.bytes_in += n
    else:
        x.bytes_out += n


def tunnelled(x: Exchange, request: bool, n: int) -> None:
    if request:
        x.bytes_in += n
    else:
        x.bytes_out += n


def answered(x: Exchange, answer: Answer | None, status: int) -> None:
    """The proxy's own answer (None: its page for `status`)."""
    page = answer if answer is not None else Answer.page(status)
    if not page.silent:
        x.bytes_out += response_size(page.head)
        # http_forward_proxy_resp skips the payload of an answer to HEAD before it counts
        if x.request is None or x.request.method != b"HEAD":
            x.bytes_out += len(page.body)


def settle(x: Exchange, fe: Frontend) -> None:
    """The ended exchange's totals in bin/bout (the module doc): the frontend's, the
    server's, or without a server its backend's (a `listen` proxy's own when the frontend
    answered before choosing one: HAProxy's s->be is the frontend then)."""
    nin, nout = x.bytes_in, x.bytes_out
    c = fe.counters
    c.inbytes += nin
    c.outbytes += nout
    if x.server is not None:
        c = x.server.counters
    else:
        be = x.backend or fe.runtime.backends.get(fe.spec.name)
        if be is None:
            return
        c = be.counters  # (show stat adds its servers' to it)
    c.inbytes += nin
    c.outbytes += nout
