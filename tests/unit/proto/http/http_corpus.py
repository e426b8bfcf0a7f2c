"""The HAProxy captures of tests/data/http (made by tests/data/http/capture.py) and replays of
the same traffic through pylvs's framer, in a form the tests compare."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pylvs.proto.http import connmode
from pylvs.proto.http.encode import chunk, last_chunk, outgoing_request, outgoing_response
from pylvs.proto.http.events import (
    BodyReceived,
    HeadReceived,
    MessageEnded,
    MessageRejected,
    MessageTruncated,
    TrailersReceived,
    TunnelReceived,
)
from pylvs.proto.http.framer import Framer
from pylvs.proto.http.message import Body, RequestHead, ResponseHead

DATA = Path(__file__).resolve().parents[3] / "data" / "http"
KAL = connmode.Mode.KEEP_ALIVE
BAD_GATEWAY = (DATA / "answers" / "server-garbage-502.http").read_bytes()
STATUS = re.compile(rb"HTTP/1\.[01] (\d{3})")


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def raw(text: str) -> bytes:
    return text.encode("latin-1")


def statuses(got: bytes) -> list[int]:
    """The statuses of the responses a client read (bodies of HAProxy's pages hold none)."""
    return [int(m) for m in STATUS.findall(got)]


@dataclass
class Message:
    """One message as pylvs frames it: the head it would write, its body, or its refusal."""

    head: bytes = b""
    body: bytes = b""
    trailers: tuple[tuple[bytes, bytes], ...] = ()
    status: int | None = None  # a refusal's status
    ended: bool = False
    tunnel: bool = False  # a CONNECT: what follows is a tunnel once the server agrees


@dataclass
class Replay:
    messages: list[Message] = field(default_factory=list)

    @property
    def outcomes(self) -> list[int]:
        """200 for each forwarded message, the status of a refusal."""
        return [m.status or 200 for m in self.messages]


def replay_requests(data: bytes) -> Replay:
    """Frame `data` as a client's bytes, message after message, as HAProxy would: stop after
    a refusal, a message that closes the connection, or a CONNECT (a tunnel follows)."""
    framer = Framer(request=True)
    replay = Replay()
    events = framer.feed(data)
    while True:
        current: Message | None = None
        stop = False
        for ev in events:
            if isinstance(ev, HeadReceived):
                assert isinstance(ev.head, RequestHead)
                current = Message(head=request_bytes(ev.head), tunnel=ev.head.is_connect)
                replay.messages.append(current)
                want = connmode.client_after_request(ev.head.flags)
                stop = want is connmode.Want.CLOSE or ev.head.method == b"CONNECT"
            elif isinstance(ev, BodyReceived):
                assert current is not None
                current.body += ev.data
            elif isinstance(ev, TrailersReceived):
                assert current is not None
                current.trailers = ev.fields
            elif isinstance(ev, MessageEnded):
                assert current is not None
                current.ended = True
            elif isinstance(ev, MessageRejected):
                if current is not None and not current.ended:
                    replay.messages.pop()  # refused in the same read as its head: never sent
                replay.messages.append(Message(status=ev.refusal.status))
                return replay
        if stop or not replay.messages or not replay.messages[-1].ended:
            return replay
        events = framer.next_message()
        if not events:
            return replay


def request_bytes(head: RequestHead) -> bytes:
    """The head pylvs sends a server in the default mode (http-keep-alive both sides)."""
    out = outgoing_request(head)
    _want, value = connmode.request_out(out.flags, KAL, KAL)
    return out.write(value)


def response_bytes(head: ResponseHead, request: RequestHead) -> bytes:
    """The head pylvs sends a client in the default mode."""
    out = outgoing_response(head, request.method)
    want = connmode.client_after_request(request.flags)
    _want, value = connmode.response_out(
        want, request.method, head.status, out.flags, request_flags=request.flags, frontend=KAL
    )
    return out.write(value)


def split_forwarded(data: bytes) -> list[Message]:
    """HAProxy's normalised messages (CRLF lines; Content-Length or chunked) one by one; a
    message cut short (the client stopped sending) ends the list."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        msg = Message(head=head + sep)
        out.append(msg)
        lower = head.lower()
        if b"\r\ntransfer-encoding: chunked" in lower:
            rest = _dechunk(msg, rest)
        else:
            m = re.search(rb"\r\ncontent-length: (\d+)", lower)
            n = int(m.group(1)) if m else 0
            msg.body, rest = rest[:n], rest[n:]
            msg.ended = len(msg.body) == n
        if not msg.ended:
            break
        data = rest
    return out


def _dechunk(msg: Message, rest: bytes) -> bytes:
    while True:
        line, sep, after = rest.partition(b"\r\n")
        if not sep:
            return b""
        size = int(line.split(b";")[0], 16)
        if size:
            if len(after) < size + 2:
                msg.body += after[:size]
                return b""
            msg.body += after[:size]
            rest = after[size + 2 :]
            continue
        block, sep, rest = (
            after.partition(b"\r\n\r\n")
            if not after.startswith(b"\r\n")
            else (b"", b"\r\n", after[2:])
        )
        msg.trailers = tuple(
            (n, v) for n, _, v in (f.partition(b": ") for f in block.split(b"\r\n") if f)
        )
        msg.ended = bool(sep)
        return rest


@dataclass
class ClientView:
    """What a client reads for a server's response, as pylvs would write it."""

    data: bytes
    closed: bool
    refused: bool


def replay_response(request: bytes, response: bytes) -> ClientView:
    """Frame the server's `response` (the server then closed) to `request`, and write what
    the client gets in the default mode.  A response refused before its head went out (in
    the same read), or no response at all, is HAProxy's 502 page."""
    events = Framer(request=True).feed(request)
    req = next(e.head for e in events if isinstance(e, HeadReceived))
    assert isinstance(req, RequestHead)
    framer = Framer(request=False)
    framer.expect(req.method)
    batches = [framer.feed(response), framer.feed_eof()]
    if any(isinstance(e, MessageRejected) for e in batches[0]) or not any(batches):
        return ClientView(BAD_GATEWAY, False, True)
    client_want = connmode.client_after_request(req.flags)
    out = b""
    chunked = closed = tunnel = False
    for ev in batches[0] + batches[1]:
        if isinstance(ev, HeadReceived):
            head = ev.head
            assert isinstance(head, ResponseHead)
            written = outgoing_response(head, req.method)
            want, value = connmode.response_out(
                client_want,
                req.method,
                head.status,
                written.flags,
                request_flags=req.flags,
                frontend=KAL,
            )
            out += written.write(value)
            chunked = head.body is Body.CHUNKED or written.chunk
            closed = want is connmode.Want.CLOSE
            tunnel = head.body is Body.TUNNEL
        elif isinstance(ev, BodyReceived):
            out += chunk(ev.data) if chunked else ev.data
        elif isinstance(ev, TunnelReceived):
            out += ev.data
        elif isinstance(ev, TrailersReceived):
            out += last_chunk(ev.fields)
            chunked = False
        elif isinstance(ev, MessageEnded):
            if chunked:
                out += last_chunk()
        elif isinstance(ev, MessageRejected) and not out:
            return ClientView(BAD_GATEWAY, False, True)
        elif isinstance(ev, MessageTruncated | MessageRejected):
            closed = True  # the head went out: the client is cut
    return ClientView(out, closed or tunnel, False)
