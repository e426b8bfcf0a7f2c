"""Writing a head the way HAProxy 2.6 writes it on an HTTP/1 connection (src/mux_h1.c
h1_process_mux, src/h1_htx.c h1_format_htx_reqline / h1_format_htx_stline / h1_format_htx_hdr).

* the start line keeps its method, target, status and reason as parsed, but a version of 1.1 or
  above is written "HTTP/1.1" (so "HTTP/2.0" leaves as "HTTP/1.1"); lower ones are kept;
* every field is written `name: value` with the name in lower case, in the order received;
* Connection loses `close`/`keep-alive` (which set the message's flags) and is dropped if
  nothing is left; the Connection value the connection mode calls for (connmode.py) is
  appended after the last field;
* TE is kept only as `te: trailers` when it offers trailers;
* a 1xx or 204 response loses Content-Length and Transfer-Encoding; a request without a body
  keeps only a Content-Length of 0 (a CONNECT loses its Content-Length);
* a message of known length but neither Content-Length nor chunked that may carry a body
  gets `transfer-encoding: chunked` (it cannot come from HTTP/1 input, where heads always
  say their length, but HAProxy-made messages and later protocols may);
* a response that announces a WebSocket upgrade without Sec-WebSocket-Accept gets one, made
  from the request's key (24 zero bytes when the request had none: HAProxy then answers a 426
  carrying `Upgrade: websocket` with the accept value of an all-zero key).

`outgoing_*` read the head and compute the flags of the message as written (what connmode
decides on); `Outgoing.write` finishes it with the Connection value.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from .fields import FieldState, clean_connection, list_words, parse_content_length
from .message import Body, Fields, Flag, RequestHead, ResponseHead

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
NO_WS_KEY = b"\0" * 24  # h1s->ws_key before a request's key is copied in


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A head ready to be written: start line and fields, and the flags they carry."""

    start: bytes
    fields: bytes
    flags: int
    chunk: bool  # `transfer-encoding: chunked` must be added
    extra: bytes = b""  # fields HAProxy adds after Connection (a WebSocket accept value)

    def write(self, connection: bytes = b"") -> bytes:
        """The head's bytes, with `connection: <value>` appended when a value is given."""
        tail = b""
        if connection:
            tail = b"connection: " + connection + b"\r\n"
        if self.chunk:
            tail += b"transfer-encoding: chunked\r\n"
        return self.start + self.fields + tail + self.extra + b"\r\n"


@dataclass(slots=True)
class _Written:
    fields: bytes
    flags: int
    ws_field: bool  # a Sec-WebSocket-Key/-Accept field was written


def _version(flags: int, version: bytes) -> bytes:
    return b"HTTP/1.1" if flags & Flag.VER_11 else version


def _write_fields(fields: Fields, flags: int, drop_length: bool, bodyless: bool) -> _Written:
    st = FieldState(flags, request=False)
    out = []
    ws_field = False
    for name, raw in fields:
        value = raw
        if name == b"content-length":
            if drop_length or (bodyless and parse_content_length(value, 0) is None):
                continue  # a bodyless request keeps only a Content-Length of 0
            st.flags |= Flag.CLEN
        elif name == b"transfer-encoding":
            if drop_length:
                continue
            st.flags |= Flag.XFER_ENC
            words = list_words(value)
            if words and words[-1].lower() == b"chunked":
                st.flags |= Flag.CHNK
        elif name == b"connection":
            value = clean_connection(st, value)
            if not value:
                continue
        elif name == b"upgrade":
            if any(w.lower() == b"websocket" for w in list_words(value)):
                st.flags |= Flag.UPG_WEBSOCKET
        elif name in (b"sec-websocket-key", b"sec-websocket-accept"):
            ws_field = True
        elif name == b"te":
            at = value.find(b"trailers")
            if at < 0 or (len(value) > at + 8 and value[at + 8] != 0x2C):
                continue
            value = b"trailers"
        out.append(name + b": " + value + b"\r\n")
    return _Written(b"".join(out), st.flags, ws_field)


def _chunking(flags: int) -> bool:
    need = Flag.VER_11 | Flag.XFER_LEN
    return flags & (Flag.VER_11 | Flag.CLEN | Flag.CHNK | Flag.XFER_LEN) == need


def outgoing_request(head: RequestHead) -> Outgoing:
    flags = (head.flags & Flag.VER_11) | Flag.XFER_LEN
    target = head.target
    if head.flags & Flag.NORMALIZED_URI:
        target = origin_form(head.method, target)
    start = b"%s %s %s\r\n" % (head.method, target, _version(head.flags, head.version))
    bodyless = head.body is Body.NONE
    if bodyless:
        flags |= Flag.CLEN  # HTX_SL_F_BODYLESS: measured, as zero bytes
    w = _write_fields(head.fields, flags, drop_length=False, bodyless=bodyless)
    chunk = head.method != b"CONNECT" and _chunking(w.flags)
    return Outgoing(start, w.fields, w.flags, chunk)


def origin_form(method: bytes, target: bytes) -> bytes:
    """h1_get_uri(): the path of a normalized absolute target ("/", or "*" for OPTIONS)."""
    at = target.find(b"://")
    slash = target.find(b"/", at + 3) if at >= 0 else 0
    if slash < 0:
        return b"*" if method == b"OPTIONS" else b"/"
    return target[slash:]


def outgoing_response(
    head: ResponseHead, request_method: bytes, ws_key: bytes = NO_WS_KEY
) -> Outgoing:
    """`ws_key`: the request's Sec-WebSocket-Key when it asked for a WebSocket upgrade."""
    flags = (head.flags & (Flag.VER_11 | Flag.XFER_LEN)) | Flag.RESP
    start = b"%s %s %s\r\n" % (_version(head.flags, head.version), head.code, head.reason)
    status = head.status
    w = _write_fields(head.fields, flags, status < 200 or status == 204, bodyless=False)
    bodyless = request_method == b"HEAD" or status in (204, 304)
    chunk = (
        status >= 200
        and not bodyless
        and not (request_method == b"CONNECT" and 200 <= status < 300)
        and _chunking(w.flags)
    )
    extra = b""
    websocket = Flag.CONN_UPG | Flag.UPG_WEBSOCKET
    if w.flags & websocket == websocket and not w.ws_field:
        extra = b"Sec-Websocket-Accept: " + websocket_accept(ws_key) + b"\r\n"
    return Outgoing(start, w.fields, w.flags, chunk, extra)


def websocket_accept(key: bytes) -> bytes:
    """h1_calculate_ws_output_key(): base64(SHA-1(key + GUID)) (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1(key[:24] + WS_GUID).digest())


def chunk(data: bytes) -> bytes:
    """One chunk of a body HAProxy writes chunked (h1_emit_chunk_size: upper-case hex)."""
    return b"%X\r\n%s\r\n" % (len(data), data)


def last_chunk(trailers: Fields = ()) -> bytes:
    """The last chunk and the trailer fields (names lower-cased, as HTX keeps them)."""
    return b"0\r\n" + b"".join(n + b": " + v + b"\r\n" for n, v in trailers) + b"\r\n"
