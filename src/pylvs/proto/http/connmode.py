"""Whether each side of an HTTP transaction stays open after it, and the Connection field sent.

HAProxy 2.6 decides this per stream in src/mux_h1.c, twice per side (once when the request
passes, once when the response does): h1_set_cli_conn_mode() for the client's connection,
h1_set_srv_conn_mode() for the server's, then h1_update_req_conn_value() /
h1_update_res_conn_value() for the `connection:` field appended at the end of the head it
writes.  The proxy option in force (`option http-keep-alive` by default, `http-server-close`,
`httpclose`) is the strongest of the frontend's and the backend's for the server side, the
frontend's for the client side.  `option forceclose` and `option http-tunnel` are gone
(2.0 and 2.1 refuse them; forceclose's advice is `httpclose`).

The flags read on output are those of the message *as written*: a forwarded head has lost its
`close`/`keep-alive` tokens at input (H1_MF_CLEAN_CONN_HDR), so a server's `Connection: close`
closes the server's connection but not the client's; a head HAProxy makes itself (its error
pages carry `Connection: close`) keeps them.
"""

from __future__ import annotations

import enum

from .message import Flag


class Mode(enum.IntEnum):
    """The HTTP connection option (PR_O_HTTP_KAL < PR_O_HTTP_SCL < PR_O_HTTP_CLO)."""

    KEEP_ALIVE = 0  # option http-keep-alive (the default)
    SERVER_CLOSE = 1  # option http-server-close
    CLOSE = 2  # option httpclose

    @classmethod
    def of(cls, frontend: Mode, backend: Mode) -> Mode:
        """The mode of a stream crossing `frontend` and `backend` (the stronger one)."""
        return max(frontend, backend)


class Want(enum.Enum):
    """H1S_F_WANT_KAL / WANT_TUN / WANT_CLO: what a side does once the transaction ends."""

    KEEP_ALIVE = "keep-alive"
    TUNNEL = "tunnel"
    CLOSE = "close"


def _switches(method: bytes, status: int) -> bool:
    return (method == b"CONNECT" and 200 <= status < 300) or status == 101


def client_after_request(flags: int, stopping: bool = False) -> Want:
    """The client side's wish once its request head is read (input pass)."""
    if not flags & (Flag.VER_11 | Flag.CONN_KAL) or flags & Flag.CONN_CLO:
        return Want.CLOSE  # HTTP/1.0 without keep-alive, or an explicit close
    return Want.CLOSE if stopping else Want.KEEP_ALIVE


def client_after_response(
    want: Want,
    method: bytes,
    status: int,
    out_flags: int,
    frontend: Mode,
    *,
    stopping: bool = False,
) -> Want:
    """The client side's wish once the response head is written (output pass); `out_flags`
    are those of the response as written."""
    if _switches(method, status):
        return Want.TUNNEL
    if want is Want.KEEP_ALIVE:
        if not out_flags & Flag.XFER_LEN or out_flags & Flag.CONN_CLO:
            return Want.CLOSE
        if not out_flags & Flag.CONN_KAL and frontend is Mode.CLOSE:
            return Want.CLOSE
        if stopping:
            return Want.CLOSE
    return want


def server_before_request(out_flags: int, frontend: Mode, backend: Mode) -> Want:
    """The server side's wish as the request head is written (output pass)."""
    if out_flags & Flag.CONN_CLO:
        return Want.CLOSE
    if not out_flags & Flag.CONN_KAL and Mode.of(frontend, backend) > Mode.KEEP_ALIVE:
        return Want.CLOSE
    return Want.KEEP_ALIVE


def server_after_response(want: Want, method: bytes, status: int, in_flags: int) -> Want:
    """The server side's wish once the response head is read (input pass)."""
    if _switches(method, status):
        return Want.TUNNEL
    if want is Want.KEEP_ALIVE and (
        not in_flags & Flag.XFER_LEN
        or in_flags & Flag.CONN_CLO
        or not in_flags & (Flag.VER_11 | Flag.CONN_KAL)
    ):
        return Want.CLOSE  # no length, an explicit close, or HTTP/1.0 without keep-alive
    return want


def forced_close(out_flags: int) -> bool:
    """h1_process_mux(): a message written with Transfer-Encoding and Content-Length, or with
    Transfer-Encoding in HTTP/1.0, closes its connection."""
    if not out_flags & Flag.XFER_ENC:
        return False
    return bool(out_flags & Flag.CLEN) or not out_flags & Flag.VER_11


def request_connection(want: Want, out_flags: int, pretend_keepalive: bool = False) -> bytes:
    """h1_update_req_conn_value(): the `connection:` value added to a request ("" for none)."""
    if want is Want.TUNNEL or out_flags & Flag.CONN_UPG:
        return b""
    if want is Want.KEEP_ALIVE or pretend_keepalive:
        return b"" if out_flags & Flag.VER_11 else b"keep-alive"
    return b"close" if out_flags & Flag.VER_11 else b""


def response_connection(want: Want, out_flags: int, request_flags: int) -> bytes:
    """h1_update_res_conn_value(): the `connection:` value added to a response ("" for none)."""
    if want is Want.TUNNEL or out_flags & Flag.CONN_UPG:
        return b""
    if want is Want.KEEP_ALIVE:
        if not out_flags & Flag.VER_11 or not request_flags & Flag.VER_11:
            return b"keep-alive"
        return b""
    return b"close" if out_flags & Flag.VER_11 else b""


def request_out(
    out_flags: int, frontend: Mode, backend: Mode, pretend_keepalive: bool = False
) -> tuple[Want, bytes]:
    """The server side's wish and the `connection:` value as a request head is written
    (h1_process_mux at the end of the head: a forced close first, then the output pass)."""
    want = Want.CLOSE if forced_close(out_flags) else Want.KEEP_ALIVE
    if want is Want.KEEP_ALIVE:
        want = server_before_request(out_flags, frontend, backend)
    return want, request_connection(want, out_flags, pretend_keepalive)


def response_out(
    client_want: Want,
    method: bytes,
    status: int,
    out_flags: int,
    *,
    request_flags: int,
    frontend: Mode,
    early: bool = False,
    stopping: bool = False,
) -> tuple[Want, bytes]:
    """The client side's wish and the `connection:` value as a response head is written.

    `early`: HAProxy made this response before the request was read whole (it must close).
    """
    want = client_want
    if early or forced_close(out_flags):
        want = Want.CLOSE
    want = client_after_response(want, method, status, out_flags, frontend, stopping=stopping)
    return want, response_connection(want, out_flags, request_flags)
