"""Socket helpers of the proxy: listening sockets and connection resets.

Listening sockets are made by hand (not by asyncio) so that the proxy can set
IP_FREEBIND (Linux): a backup director binds its virtual addresses before VRRP moves them to
it, as HAProxy's `transparent`/`freebind` bind option allows.  IPv6 listeners are IPV6_V6ONLY
so `[::]:80` and `0.0.0.0:80` are separate services, as in IPVS.

A reset is a close with SO_LINGER {on, 0}: the kernel then sends RST instead of FIN (tcp(7)),
which is what a client of IPVS sees when the director has nowhere to send it.
"""

from __future__ import annotations

import _socket
import contextlib
import socket
import struct
import sys

from pylvs.model.service import Address

IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)  # linux/in.h; Python < 3.12 lacks the name
_LINGER_RESET = struct.pack("ii", 1, 0)


def listen_socket(
    address: Address, port: int, *, stream: bool, backlog: int = 1024, freebind: bool = True
) -> socket.socket:
    """A bound (and, for TCP, listening) non-blocking socket; OSError if it cannot be."""
    family = socket.AF_INET if address.version == 4 else socket.AF_INET6
    kind = socket.SOCK_STREAM if stream else socket.SOCK_DGRAM
    sock = socket.socket(family, kind)
    try:
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
    except OSError:
        sock.close()
        raise
    return sock


def close_with_reset(sock: _socket.socket) -> None:
    """Close `sock` with an RST (SO_LINGER 0), dropping whatever is still buffered."""
    # An already reset socket may refuse the option: a plain close is all that is left.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    sock.close()
