"""The client machine's framing of a response whose head a rule changed: a server's 204 made a
201 by `http-response set-status` has no body but now may carry one, so HAProxy writes it
`transfer-encoding: chunked` and ends it with the last chunk (src/mux_h1.c h1_process_mux,
h1_format_htx_stline; found by tests/integration/hamode/diff: pylvs announced the chunking
and closed without the "0\\r\\n\\r\\n", the client saw a cut message)."""

from __future__ import annotations

import dataclasses

from pylvs.proto.http.conn import commands as cmd
from pylvs.proto.http.conn import events as ev
from pylvs.proto.http.conn.client import ClientMachine, Front
from pylvs.proto.http.events import HeadReceived
from pylvs.proto.http.framer import Framer
from pylvs.proto.http.message import ResponseHead


def _head(raw: bytes) -> ResponseHead:
    events = Framer(request=False).feed(raw)
    heads = [e.head for e in events if isinstance(e, HeadReceived)]
    assert len(heads) == 1 and isinstance(heads[0], ResponseHead)
    return heads[0]


def _written(request: bytes, head: ResponseHead) -> bytes:
    m = ClientMachine(Front(), 0.0)
    m.handle(ev.DataRead(request), 0.0)
    out = m.handle(ev.ResponseStarted(head), 0.0) + m.handle(ev.ResponseEnded(), 0.0)
    return b"".join(c.data for c in out if isinstance(c, cmd.Write))


def test_a_204_made_201_is_written_chunked_with_its_last_chunk() -> None:
    server = _head(b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n")
    made = dataclasses.replace(server, status=201, code=b"201", reason=b"Created")
    got = _written(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", made)
    assert got == b"HTTP/1.1 201 Created\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"


def test_a_head_request_and_a_real_204_get_no_last_chunk() -> None:
    server = _head(b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n")
    assert _written(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", server) == (
        b"HTTP/1.1 204 No Content\r\nx-a: 1\r\n\r\n"
    )
    made = dataclasses.replace(server, status=201, code=b"201", reason=b"Created")
    got = _written(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", made)
    assert not got.endswith(b"0\r\n\r\n")
