"""Helpers for the sample/rules unit tests: build a stream and run an expression."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from pylvs.config.haproxy.compile_samples import compile_expr, context
from pylvs.config.haproxy.samples import parse_sample
from pylvs.proto.sample import HttpMessage, Process, ProxyRef, Session, Stream
from pylvs.proto.sample.expr import CompileContext
from pylvs.proto.sample.types import as_str


def make_stream(
    uri: bytes = b"/",
    headers: Sequence[tuple[bytes, bytes]] = (),
    *,
    method: bytes = b"GET",
    src: str = "192.168.1.101",
    src_port: int = 1234,
    dst: str = "127.0.0.1",
    dst_port: int = 8080,
    now: float = 1_700_000_000.25,
    process: Process | None = None,
) -> Stream:
    process = process or Process()
    sess = Session(
        process,
        ProxyRef("fe", 1),
        src=ipaddress.ip_address(src),
        src_port=src_port,
        dst=ipaddress.ip_address(dst),
        dst_port=dst_port,
        listener="foo",
    )
    req = HttpMessage.make_request(method, uri, list(headers))
    return Stream(sess, request=req, now=now)


def run(text: str, stream: Stream, ctx: CompileContext | None = None) -> bytes | None:
    """The expression's result as a string (sample_fetch_as_type STR), None if none."""
    expr = compile_expr(parse_sample(text), ctx or context(proxy="fe"))
    return as_str(expr.eval(stream))
