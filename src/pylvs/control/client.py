"""The command side of the control socket (blocking: the CLI has nothing else to do).

The answer streams in (control/protocol.py): chunks of stdout can be written as they come, so
a listing of any size is printed without holding a line limit.  Connecting retries while the
daemon's listen queue is full (EAGAIN on a unix socket), so a burst of a thousand
`pylvs ipvsadm` at once waits its turn instead of failing.
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Callable

from pylvs.control.protocol import MAX_LINE, ProtocolError, Request, Response, decode_chunk

BUSY_RETRY = 0.005  # first wait after EAGAIN; doubles up to 0.1 s


class ControlUnavailableError(OSError):
    """No daemon answers on the control socket (strerror names the path and the reason)."""


def explain(path: str, e: OSError) -> str:
    """`PATH: reason`, with what to do where the reason alone would mislead."""
    if e.errno in (errno.EACCES, errno.EPERM):
        return (
            f"{path}: {e.strerror} (the control socket is its owner's only, mode 0600: run "
            "as the user that runs the daemon, usually root)"
        )
    if e.errno in (errno.ENOENT, errno.ECONNREFUSED):
        return f"{path}: {e.strerror}"
    return f"{path}: {e.strerror or e}"


def _connect(s: socket.socket, path: str, deadline: float) -> None:
    wait = BUSY_RETRY
    while True:
        try:
            s.connect(path)
            return
        except BlockingIOError:  # the listen queue is full: the daemon is busy, not gone
            if time.monotonic() + wait > deadline:
                raise ControlUnavailableError(
                    errno.EAGAIN, f"{path}: the daemon did not accept the connection in time"
                ) from None
            time.sleep(wait)
            wait = min(wait * 2, 0.1)
        except OSError as e:
            raise ControlUnavailableError(e.errno, explain(path, e)) from None


def call(
    path: str,
    request: Request,
    timeout: float = 30.0,
    *,
    on_stdout: Callable[[str], object] | None = None,
) -> Response:
    """Send `request`, return the answer.

    With `on_stdout`, stdout chunks go there as they arrive and the returned Response's
    stdout holds only what the final line carried; without it everything is collected.
    """
    out: list[str] = []
    err: list[str] = []
    sink = on_stdout or out.append
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.setblocking(False)
        _connect(s, path, deadline)
        s.settimeout(max(0.1, deadline - time.monotonic()))
        s.sendall(request.encode())
        with s.makefile("rb") as f:
            while True:
                line = f.readline(MAX_LINE + 1)
                if not line.endswith(b"\n"):
                    raise ProtocolError(
                        "the daemon closed the connection without an answer"
                        if len(line) <= MAX_LINE
                        else "answer line too long"
                    )
                item = decode_chunk(line)
                if isinstance(item, Response):
                    return Response(
                        item.rc, "".join(out) + item.stdout, "".join(err) + item.stderr, item.data
                    )
                key, text = item
                (sink if key == "out" else err.append)(text)
