"""Socket helpers of the proxy: listening sockets and connection resets.

Listening sockets are made by hand (not by asyncio) so that the proxy can set
IP_FREEBIND (Linux): a backup director binds its virtual addresses before VRRP moves them to
it, as HAProxy's `transparent`/`freebind` bind option allows.  IPv6 listeners are IPV6_V6ONLY
so `[::]:80` and `0.0.0.0:80` are separate services, as in IPVS.

A reset is a close with SO_LINGER {on, 0}: the kernel then sends RST instead of FIN (tcp(7)),
which is what a client of IPVS sees when the director has nowhere to send it.
Unix stream sockets (HAProxy's `unix@`/`abns@` binds and servers) have their two helpers.
"""

from __future__ import annotations

import _socket
import contextlib
import os
import socket
import struct
import sys
from collections.abc import Iterator

from pylvs.model.service import Address

IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)  # linux/in.h; Python < 3.12 lacks the name
_LINGER_RESET = struct.pack("ii", 1, 0)
_UNIX_STREAM = socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC


def listen_socket(
    address: Address, port: int, *, stream: bool, backlog: int = 1024, freebind: bool = True
) -> socket.socket:
    """A bound (and, for TCP, listening) non-blocking socket; OSError if it cannot be."""
    family = socket.AF_INET if address.version == 4 else socket.AF_INET6
    kind = socket.SOCK_STREAM if stream else socket.SOCK_DGRAM
    sock = socket.socket(family, kind)
    with _closed_on_error(sock):
        if stream:
            # Restarting the daemon must not wait for old TIME_WAIT sockets on the port.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        if freebind and sys.platform.startswith("linux"):
            # The IPPROTO_IP level option also covers AF_INET6 sockets (inet_sk flag).
            sock.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
        sock.bind((str(address), port))
        if stream:
            sock.listen(backlog)
        sock.setblocking(False)
    return sock


@contextlib.contextmanager
def _closed_on_error(sock: socket.socket) -> Iterator[None]:
    """Close `sock` when setting it up fails (the OSError goes on)."""
    try:
        yield
    except OSError:
        sock.close()
        raise


def unix_listen_socket(path: str, backlog: int) -> socket.socket:
    """A listening non-blocking unix stream socket at `path` (an abstract one when it starts
    with a NUL: `abns@`).  A path is bound under a temporary name and renamed over the
    old one, so a socket file left there is replaced at once (src/sock_unix.c
    sock_unix_bind_receiver).  OSError if it cannot be (EADDRINUSE: an abstract name still
    held)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with _closed_on_error(sock):
        if path.startswith("\0"):
            sock.bind(path)
        else:
            tmp = f"{path}.{os.getpid()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            sock.bind(tmp)
            os.rename(tmp, path)
        sock.listen(backlog)
        sock.setblocking(False)
    return sock


def unix_connect(path: str) -> tuple[_socket.socket, int]:
    """A non-blocking connection to a unix stream socket (a NUL first: abstract), and
    connect(2)'s error number (0: connected; EAGAIN: the listener's backlog is full)."""
    sock = _socket.socket(
        socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC
    )
    return sock, sock.connect_ex(path)


def close_with_reset(sock: _socket.socket) -> None:
    """Close `sock` with an RST (SO_LINGER 0), dropping whatever is still buffered."""
    # An already reset socket may refuse the option: a plain close is all that is left.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    sock.close()
