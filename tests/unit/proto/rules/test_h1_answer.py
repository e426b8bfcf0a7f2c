"""proto/rules/h1.answer: a response the rules built that HTTP/1 cannot carry (here a 101
WebSocket answer with a Content-Length, which the framer does not take as one response)
becomes HAProxy's 500 page instead of an exception that would lose the stream."""

from __future__ import annotations

from pylvs.proto.http.answers import Answer
from pylvs.proto.rules.h1 import answer
from pylvs.proto.rules.replies import Response
from pylvs.proto.sample.message import HttpMessage


def test_an_unframeable_answer_is_a_500() -> None:
    head = HttpMessage(
        request=False,
        fields=[(b"connection", b"upgrade"), (b"upgrade", b"websocket"), (b"content-length", b"0")],
        version=b"HTTP/1.1",
        status=101,
        reason=b"Switching Protocols",
    )
    got = answer(Response(head, b""))
    assert got.head.status == 500
    assert got == Answer.page(500)


def test_a_plain_answer_is_kept() -> None:
    head = HttpMessage(
        request=False,
        fields=[(b"content-length", b"2")],
        version=b"HTTP/1.1",
        status=200,
        reason=b"OK",
    )
    got = answer(Response(head, b"ok"))
    assert got.head.status == 200 and got.body == b"ok"
