"""Detach from the terminal as keepalived does by default (core/main.c `xdaemon`), but report.

keepalived's parent exits 0 as soon as it has forked, whether or not the daemon then starts.
pylvs's parent waits on a pipe until the daemon says it is ready (its table applied: the
same moment as systemd's READY=1) or why it failed, and exits 0 or 1 accordingly, so
`pylvs run` in a script or an init script tells the truth.  The daemon is the grandchild
(fork, setsid, fork: it can never reacquire a terminal), runs in /, and has /dev/null for
stdin, stdout and stderr; everything it says goes to the log.
"""

from __future__ import annotations

import os
import sys

READY = b"ok\n"


class Detached:
    """The daemon's end of the pipe: `ready()` once, or `failed(text)`."""

    def __init__(self, fd: int) -> None:
        self.fd: int | None = fd

    def ready(self) -> None:
        self._send(READY)

    def failed(self, text: str) -> None:
        self._send(text.encode("utf-8", "replace") or b"failed\n")

    def _send(self, data: bytes) -> None:
        if self.fd is None:
            return
        try:
            os.write(self.fd, data)
        except OSError:
            pass  # the parent is gone: nobody to tell
        finally:
            os.close(self.fd)
            self.fd = None


def detach() -> Detached:
    """Fork; return in the daemon only.  The foreground process exits with the result."""
    sys.stdout.flush()
    sys.stderr.flush()
    rfd, wfd = os.pipe()
    if os.fork() > 0:
        os.close(wfd)
        os._exit(_wait_for(rfd))
    os.close(rfd)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.chdir("/")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)
    return Detached(wfd)


def _wait_for(rfd: int) -> int:
    chunks = []
    while chunk := os.read(rfd, 65536):
        chunks.append(chunk)
    said = b"".join(chunks)
    if said == READY:
        return 0
    text = said.decode("utf-8", "replace") or "pylvs: the daemon exited before it was ready\n"
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
    return 1
