"""From a lexed head to HAProxy's verdict: the message it forwards, or the status it answers.

What HAProxy 2.6 checks once a head's bytes are lexed, in its order:
src/h1_htx.c h1_parse_msg_hdrs() -> h1_process_req_vsn / h1_process_res_vsn (the version must
be "HTTP/" digit "." digit for a request; for a response only the "/" and the digits are
checked), h1_postparse_req_hdrs / h1_postparse_res_hdrs (the HTX size limit, the framing:
CONNECT has no body, a response to HEAD, a 1xx, 204 or 304 has none, a 101 or a 2xx to CONNECT
turns into a tunnel; Upgrade dropped from a request with a body; scheme-based normalisation of
an absolute target with a default port), then src/mux_h1.c h1_handle_headers(): an HTTP/1.0
GET/HEAD/DELETE with a body gets a 413, a transfer coding other than chunked a 422 (a response:
a 502), a WebSocket handshake without its key a 400 (a response without Sec-WebSocket-Accept: a
502).  A request refused by the lexer gets a 400, a response a 502.
"""

from __future__ import annotations

from dataclasses import dataclass

from .fields import FieldState, default_port, host_port, target_scheme_authority
from .limits import Limits, htx_head_size
from .message import Body, Flag, RequestHead, ResponseHead
from .syntax import State


def _too_big(
    parts: tuple[bytes, bytes, bytes], fields: list[tuple[bytes, bytes]], end: int, limits: Limits
) -> bool:
    """h1_eval_htx_size() > the room: a head's HTX form exceeds its `end` raw bytes by at most
    33 plus 6 per field (8 bytes of block header against at least ":" and a line end), so a
    short head need not be measured."""
    if end + 33 + 6 * len(fields) <= limits.htx_room:
        return False
    return htx_head_size(parts, fields) > limits.htx_room


@dataclass(frozen=True, slots=True)
class Refusal:
    """HAProxy's answer to a message it will not forward, and where its parser stopped."""

    status: int  # 400, 413, 422 for a request; 502 for a response
    state: State
    position: int
    flags: int


def _body_state(flags: int, body: Body) -> State:
    if flags & Flag.CHNK and body is Body.CHUNKED:
        return State.CHUNK_SIZE
    return State.DONE if body in (Body.NONE, Body.TUNNEL) else State.DATA


def _valid_request_version(version: bytes) -> bool:
    return (
        len(version) == 8
        and version[:5] == b"HTTP/"
        and version[5:6].isdigit()
        and version[6] == 0x2E
        and version[7:8].isdigit()
    )


def _valid_response_version(version: bytes) -> bool:
    return (
        len(version) == 8
        and version[4] == 0x2F
        and version[5:6].isdigit()
        and version[6] == 0x2E
        and version[7:8].isdigit()
    )


def request_head(
    parts: tuple[bytes, bytes, bytes],
    st: FieldState,
    end: int,
    version_at: int,
    limits: Limits,
) -> RequestHead | Refusal:
    """HAProxy's post-parse of a lexed request head (`end`: offset after it)."""
    method, target, version = parts
    flags = st.flags
    if not _valid_request_version(version):
        return Refusal(400, _head_state(flags), version_at, flags)
    if _too_big(parts, st.kept, end, limits):
        return Refusal(400, _head_state(flags), end, flags)
    fields = st.kept
    if method == b"CONNECT":
        flags &= ~(Flag.CLEN | Flag.CHNK)
        body, length = Body.NONE, 0
    elif flags & Flag.CHNK:
        body, length = Body.CHUNKED, 0
    elif flags & Flag.CLEN and st.length:
        body, length = Body.LENGTH, st.length
    else:
        body, length = Body.NONE, 0
    flags |= Flag.XFER_LEN
    if flags & Flag.CONN_UPG and body is not Body.NONE:
        fields = [f for f in fields if f[0] != b"upgrade"]
        flags &= ~Flag.CONN_UPG
    if target[:1] not in (b"/", b"*", b""):
        target, fields = _normalize(target, fields)
    refusal = _request_refusal(method, flags, fields, body)
    if refusal is not None:
        return Refusal(refusal, _body_state(flags, body), end, flags)
    return RequestHead(method, target, version, tuple(fields), flags, body, length)


def _request_refusal(
    method: bytes, flags: int, fields: list[tuple[bytes, bytes]], body: Body
) -> int | None:
    """mux_h1 h1_handle_headers(): the status for a lexed request it refuses, or None."""
    if not flags & Flag.VER_11 and body is not Body.NONE and method in (b"GET", b"HEAD", b"DELETE"):
        return 413
    if flags & Flag.TE_OTHER:
        return 422
    if flags & Flag.CONN_UPG and flags & Flag.UPG_WEBSOCKET:
        key = next((v for n, v in fields if n == b"sec-websocket-key"), None)
        if key is None or len(key) != 24:
            return 400
    return None


def _normalize(
    target: bytes, fields: list[tuple[bytes, bytes]]
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """http_scheme_based_normalize(): drop a default port from an absolute target's authority
    and give every Host the authority's host."""
    scheme, authority = target_scheme_authority(target)
    if scheme is None or authority is None:
        return target, fields
    port = host_port(authority)
    if port is None or not default_port(scheme, port):
        return target, fields
    host = authority[: len(authority) - len(port) - 1]
    start = target.index(authority, len(scheme))
    target = target[:start] + host + target[start + len(authority) :]
    return target, [(n, host) if n == b"host" else (n, v) for n, v in fields]


normalize_target = _normalize  # for heads made from other protocols (proto/http2)


def response_head(
    parts: tuple[bytes, bytes, bytes],
    status: int,
    st: FieldState,
    end: int,
    *,
    version_at: int,
    request_method: bytes,
    limits: Limits,
) -> ResponseHead | Refusal:
    """HAProxy's post-parse of a lexed response head to a request made with `request_method`."""
    version, code, reason = parts
    flags = st.flags
    if request_method == b"CONNECT":
        flags |= Flag.METH_CONNECT
    elif request_method == b"HEAD":
        flags |= Flag.METH_HEAD
    if not _valid_response_version(version):
        return Refusal(502, _head_state(flags), version_at, flags)
    if _too_big(parts, st.kept, end, limits):
        return Refusal(502, _head_state(flags), end, flags)
    if status != 101:
        flags &= ~(Flag.CONN_UPG | Flag.UPG_WEBSOCKET)
    body, length = Body.UNTIL_CLOSE, 0
    if (request_method == b"CONNECT" and 200 <= status < 300) or status == 101:
        flags = (flags & ~(Flag.CLEN | Flag.CHNK)) | Flag.XFER_LEN
        body = Body.TUNNEL
    elif request_method == b"HEAD" or 100 <= status < 200 or status in (204, 304):
        flags = (flags & ~(Flag.CLEN | Flag.CHNK)) | Flag.XFER_LEN
        body = Body.NONE
    elif flags & Flag.CHNK:
        flags |= Flag.XFER_LEN
        body = Body.CHUNKED
    elif flags & Flag.CLEN:
        flags |= Flag.XFER_LEN
        body, length = (Body.LENGTH, st.length) if st.length else (Body.NONE, 0)
    if flags & Flag.TE_OTHER or (
        flags & Flag.CONN_UPG
        and flags & Flag.UPG_WEBSOCKET
        and not any(n == b"sec-websocket-accept" for n, _ in st.kept)
    ):
        return Refusal(502, _body_state(flags, body), end, flags)
    return ResponseHead(version, status, code, reason, tuple(st.kept), flags, body, length)


def _head_state(flags: int) -> State:
    """The state the parser is in once a head has been lexed (before the post-parse)."""
    return State.CHUNK_SIZE if flags & Flag.CHNK else State.DATA
