"""What the pump's HTTP listeners (_h1own.h, own.py) need of Python per exchange beyond the
counts: the facts of its traffic log line, and the fields forwardfor / originalto add.

Logging (`option httplog`, `log-format`, tcplog's format on an HTTP stream): a listener that
logs asks the pump for each exchange's facts in its record (`h1_listen(..., log)`): the
dates of its steps on the monotonic clock (the connection's accept or the previous
exchange's end, the request's read, the connect's start and end, the response head's
arrival, the end), the request as read, the client's and the listener's addresses, the
request's and the response's HTX sizes (%U, %B: proto/http/htxsize.py's rule, counted in C
from what the pump writes), and the response's head when the frontend captures response
headers (`capture request header` reads the request's).  The records come once per round,
in the order the exchanges ended; `exchange` rebuilds the driver's `Exchange` from one,
with the rules' stream a session of the frontend makes for it (the request line as
received, its fields), so that httplog.py's `on_end` hook builds the very line it builds
for a session's exchange (src/log.c sess_build_logline over HAProxy's stream for that
request).

Added fields (src/http_ana.c http_process_request, steps 9 and 10): forwardfor and
originalto without `if-none` add the same field to every request of a connection (the
client's address, the listener's); http/added.py's rules, the header's name and the
`except` networks of both proxies, are handed to the pump once (`adds`), which writes the
field for each client at its accept unless its address is in one of the networks.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from typing import TYPE_CHECKING, Any

from pylvs.dataplane.haproxy.rules import session_for
from pylvs.model.proxy_spec import AddedAddress, ConnFacts, HttpSpec
from pylvs.model.service import Address
from pylvs.proto.http.message import Fields, Flag, RequestHead
from pylvs.proto.rules import h1
from pylvs.proto.sample.stream import Stream

from .added import captures
from .exchange import Exchange

if TYPE_CHECKING:
    from pylvs.dataplane.haproxy.backend import BackendRuntime, ServerRuntime
    from pylvs.dataplane.haproxy.frontend import Frontend

Adds = tuple[tuple[bytes, int, tuple[tuple[int, bytes, int], ...]], ...]


def adds(fe: HttpSpec | None, be: HttpSpec | None) -> Adds:
    """forwardfor's and originalto's fields as the pump adds them (module doc): (name, 0 for
    the client's address or 1 for the listener's, the `except` networks)."""
    out = []
    for dst, pick in ((0, _forwardfor), (1, _originalto)):
        f, b = pick(fe), pick(be)
        either = b if b is not None else f
        if either is None:
            continue
        nets = tuple(
            (
                socket.AF_INET if o.except_net.version == 4 else socket.AF_INET6,
                o.except_net.network_address.packed,
                o.except_net.prefixlen,
            )
            for o in (f, b)
            if o is not None and o.except_net is not None
        )
        out.append((either.header.lower().encode(), dst, nets))
    return tuple(out)


def _forwardfor(spec: HttpSpec | None) -> AddedAddress | None:
    return spec.forwardfor if spec is not None else None


def _originalto(spec: HttpSpec | None) -> AddedAddress | None:
    return spec.originalto if spec is not None else None


@functools.lru_cache(maxsize=4096)
def _address(text: str) -> Address:
    """An address's object from the pump's text, once per address (the same clients come
    back: parsing it is a tenth of a record's handling)."""
    return ipaddress.ip_address(text)


def request_head(raw: bytes) -> RequestHead:
    """The request as the pump read it (a plain, whole, bodyless HTTP/1.1 head: _http1.h
    judged it) as the driver's lexer gives it: names in lower case, values without their
    surrounding blanks, the Connection field out (its token was keep-alive or close)."""
    line, fields = _lexed(raw)
    method, _, rest = line.partition(b" ")
    target, _, version = rest.rpartition(b" ")
    return RequestHead(method, target, version, fields, Flag.VER_11)


def _lexed(raw: bytes) -> tuple[bytes, Fields]:
    """A plain head's start line and fields (see request_head)."""
    lines = raw.split(b"\n")
    fields = []
    for raw_line in lines[1:]:
        line = raw_line.rstrip(b"\r")
        if not line:
            break
        name, _, value = line.partition(b":")
        name = name.lower()
        if name != b"connection":
            fields.append((name, value.strip(b" \t")))
    return lines[0].rstrip(b"\r"), tuple(fields)


def exchange(
    fe: Frontend, be: BackendRuntime, srv: ServerRuntime, rec: tuple[Any, ...], bind: str | None
) -> Exchange:
    """The Exchange of one served record with its log facts (see the module doc)."""
    (_, _, _, _, _, status, _, _, _, _, started, t_req, t_conn, t_connd, t_resp, t_end, raw,
     src, sport, dst, dport, hin, hout, served, response) = rec  # fmt: skip
    head = request_head(raw)
    x = Exchange(
        frontend=fe.spec.name,
        started_at=started,
        request_at=t_req,
        head_at=t_req,  # the head came whole in one read (else the machines had it)
        request=head,
        first=not served,
        src=(src, sport),
        backend=be,
        server=srv,
        connect_at=t_conn,
        connected_at=t_connd,
        response_at=t_resp,
        ended_at=t_end,
        status=status,
        server_status=status,
        reused=t_conn == t_connd,
        bytes_in=hin,
        bytes_out=hout,
    )
    http = fe.spec.http
    if http is not None and http.request_captures:  # in the order declared (%hr)
        x.request_captures = captures(head.fields, http.request_captures)
    if http is not None and http.response_captures:  # the server's head (%hs)
        x.response_captures = captures(_lexed(response)[1], http.response_captures)
    if fe.rules is not None:  # the rules' stream a session's request has (phases.py)
        facts = ConnFacts(_address(src), sport, _address(dst), dport)
        sess = session_for(fe, facts, started, bind)
        sess.requests = served + 1  # http_first_req
        stream = Stream(sess, now=t_req)
        stream.request = h1.request_message(head)
        stream.remember_request()
        x.stream = stream
    return x
