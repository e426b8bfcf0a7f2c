"""Payload fetches of TCP content rules: `req.len`, `req.payload(off,len)`,
`req.payload_lv(off,size[,buf])`, their `res.` forms, `wait_end`, `req.rdp_cookie[_cnt]`
(src/payload.c, HAProxy 2.6).

They read the bytes buffered on a TCP stream (`Stream.req_payload` / `res_payload`); in
HTTP mode the buffer holds HTX and HAProxy answers nothing, as here.  A range that is not all
there yet is WAIT while more data may come (SMP_F_MAY_CHANGE): `tcp-request content` then
waits for it until the inspect delay ends.  `req.payload(off,0)` is everything from `off`.
`req.len` / `res.len` of an HTTP message are its HTX size (`htx_data`).
"""

from __future__ import annotations

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import WAIT, Args, FetchFn, Wait, fetch
from pylvs.proto.sample.message import HTX_BLK, HttpMessage
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp
from pylvs.sched.haproxy.hashed import rdp_cookie

BUFSIZE = 16384  # tune.bufsize: the most a buffer holds


def _buffer(s: Stream, response: bool) -> bytes | None:
    if s.request is not None:
        return None  # HTX: meaningless
    return s.res_payload if response else s.req_payload


def _direction(response: bool | None, s: Stream) -> bool:
    return s.in_response if response is None else response


def htx_data(msg: HttpMessage, body: bytes | None) -> int:
    """The size of a message's HTX payloads (struct htx's `data`): the start line with its
    struct, each header's name and value, the end-of-headers block's byte, the body bytes
    buffered.  In HTTP mode `req.len` / `res.len` answer it ("not accurate but kept for
    backward compatibility", src/payload.c smp_fetch_len)."""
    headers = sum(len(name) + len(value) for name, value in msg.fields)
    return msg.start_line_size() - HTX_BLK + headers + 1 + len(body or b"")


def _len(response: bool | None) -> FetchFn:
    def fn(s: Stream, a: Args) -> Smp | Wait | None:
        side = _direction(response, s)
        msg = s.response if side else s.request
        if msg is not None:
            return Smp(ty.SINT, htx_data(msg, s.res_body if side else s.req_body))
        data = s.res_payload if side else s.req_payload
        return Smp(ty.SINT, len(data))

    return fn


fetch("req.len", "req_len")(_len(False))
fetch("res.len")(_len(True))


def _payload(response: bool | None) -> FetchFn:
    def fn(s: Stream, a: Args) -> Smp | Wait | None:
        data = _buffer(s, _direction(response, s))
        if data is None:
            return None
        offset, size = a[0], a[1]
        if size > BUFSIZE or offset + size > BUFSIZE:
            return None
        if offset + size > len(data):
            return None if s.final else WAIT
        return Smp(ty.BIN, data[offset : offset + size] if size else data[offset:])

    return fn


fetch("req.payload")(_payload(False))
fetch("res.payload")(_payload(True))
fetch("payload")(_payload(None))


def _payload_lv(response: bool | None) -> FetchFn:
    def fn(s: Stream, a: Args) -> Smp | Wait | None:
        data = _buffer(s, _direction(response, s))
        if data is None:
            return None
        len_offset, len_size = a[0], a[1]
        if len_offset + len_size > len(data):
            return None if s.final else WAIT
        buf_size = int.from_bytes(data[len_offset : len_offset + len_size], "big")
        buf_offset = len_offset + len_size
        if len(a) > 2 and a[2] is not None:
            rel = int(a[2])
            buf_offset = buf_offset + (rel >> 1) if rel & 1 else rel >> 1
        if not buf_size or buf_size > BUFSIZE or buf_offset + buf_size > BUFSIZE:
            return None
        if buf_offset + buf_size > len(data):
            return None if s.final else WAIT
        return Smp(ty.BIN, data[buf_offset : buf_offset + buf_size])

    return fn


def _check_lv(a: Args, ctx: object) -> Args:
    if len(a) > 2 and isinstance(a[2], bytes):
        text = a[2].decode("latin-1")
        # "+N"/"-N" are relative (LSB set), "N" absolute, as smp_check_payload_lv encodes
        value = int(text)
        encoded = (value << 1) | 1 if text[:1] in "+-" else value << 1
        return (a[0], a[1], encoded)
    return a


fetch("req.payload_lv", check=_check_lv)(_payload_lv(False))
fetch("res.payload_lv", check=_check_lv)(_payload_lv(True))
fetch("payload_lv", check=_check_lv)(_payload_lv(None))


@fetch("wait_end")
def _wait_end(s: Stream, a: Args) -> Smp | Wait | None:
    return Smp(ty.BOOL, 1) if s.final else WAIT


def _rdp(s: Stream, a: Args) -> bytes | Wait | None:
    data = _buffer(s, False)
    if data is None:
        return None
    value = rdp_cookie(data, a[0] or b"")
    if value is None and not s.final:
        return WAIT
    return value


@fetch("req.rdp_cookie", "rdp_cookie")
def _rdp_cookie(s: Stream, a: Args) -> Smp | Wait | None:
    value = _rdp(s, a)
    if value is None or isinstance(value, Wait):
        return value
    return Smp(ty.STR, value)


@fetch("req.rdp_cookie_cnt", "rdp_cookie_cnt")
def _rdp_cookie_cnt(s: Stream, a: Args) -> Smp | Wait | None:
    value = _rdp(s, a)
    if isinstance(value, Wait):
        return value
    return Smp(ty.SINT, 0 if value is None else 1)
