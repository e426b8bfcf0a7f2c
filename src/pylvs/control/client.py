"""The command side of the control socket (blocking: the CLI has nothing else to do)."""

from __future__ import annotations

import socket

from pylvs.control.protocol import MAX_LINE, ProtocolError, Request, Response, decode_response


class ControlUnavailableError(OSError):
    """No daemon answers on the control socket."""


def call(path: str, request: Request, timeout: float = 30.0) -> Response:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(path)
        except OSError as e:
            raise ControlUnavailableError(e.errno, f"{path}: {e.strerror}") from None
        s.sendall(request.encode())
        buf = bytearray()
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            if len(buf) > MAX_LINE * 8:
                raise ProtocolError("response too long")
    return decode_response(bytes(buf))
