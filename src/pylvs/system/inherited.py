"""Sockets a parent process handed down: HAProxy's `fd@N` addresses (`bind "fd@${NAME}"`).

A process that starts HAProxy can bind a listening socket itself and pass its descriptor number
in the environment (HAProxy's regression-test driver does so for every `fd@${NAME}`, systemd's
socket activation and HAProxy's own master do the same).  The address `fd@N` then means "the
socket already open on descriptor N": it is used as it is, neither bound nor created (HAProxy
src/tools.c `str2sa_range`, src/sock.c `sock_find_compatible_fd`), and `listen()` again only
sets its backlog.  The socket takes over the descriptor: closing it closes N.
"""

from __future__ import annotations

import os
import socket
import stat

PREFIX = "fd@"


class InheritedError(ValueError):
    """Why `fd@...` does not name a usable socket (HAProxy's wording)."""


def is_inherited(address: str) -> bool:
    return address.startswith(PREFIX)


def descriptor(address: str) -> int:
    """The number in `fd@N`."""
    text = address[len(PREFIX) :] if is_inherited(address) else address
    if not text.isdigit():
        raise InheritedError(f"file descriptor '{text}' is not a valid integer in '{address}'")
    return int(text)


def inherited_socket(address: str) -> socket.socket:
    """The socket on the descriptor `address` (`fd@N`) names, with its own family and type."""
    fd = descriptor(address)
    try:
        mode = os.fstat(fd).st_mode
    except OSError as e:
        raise InheritedError(f"cannot use file descriptor '{fd}' : {e.strerror}.") from None
    if not stat.S_ISSOCK(mode):
        raise InheritedError(f"file descriptor '{fd}' is not a socket.")
    return socket.socket(fileno=fd)


def listening_socket(address: str, backlog: int) -> socket.socket:
    """`inherited_socket`, checked to be a stream socket, listening with `backlog` and
    non-blocking: ready for an accept loop."""
    sock = inherited_socket(address)
    if sock.type != socket.SOCK_STREAM:
        sock.detach()  # not ours to close: it is not usable here
        raise InheritedError(f"file descriptor '{descriptor(address)}' is not a stream socket.")
    sock.listen(backlog)
    sock.setblocking(False)
    return sock
