"""Sockets the checkers probe with: the common connection options of keepalived's checkers.

`connect_ip`/`connect_port` (the Connection's ip/port), `bindto` + `bind_port` (bind before
connecting), `bind_if` (SO_BINDTODEVICE), `fwmark` (SO_MARK), all under `connect_timeout`
(check/check_api.c `install_checker_common_keywords`, core/layer4.c `socket_bind_connect`).
"""

from __future__ import annotations

import asyncio
import socket

from pylvs.model.checks import CheckTarget

SO_MARK = getattr(socket, "SO_MARK", 36)
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


def make_socket(conn: CheckTarget, kind: socket.SocketKind) -> socket.socket:
    family = socket.AF_INET6 if conn.address.version == 6 else socket.AF_INET
    sock = socket.socket(family, kind)
    try:
        sock.setblocking(False)
        if conn.fwmark:
            sock.setsockopt(socket.SOL_SOCKET, SO_MARK, conn.fwmark)
        if conn.bind_interface:
            sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, conn.bind_interface.encode())
        if conn.bind_address is not None or conn.bind_port:
            if conn.bind_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            host = str(conn.bind_address) if conn.bind_address is not None else ""
            sock.bind((host, conn.bind_port))
    except OSError:
        sock.close()
        raise
    return sock


def target(conn: CheckTarget) -> tuple[str, int]:
    return (str(conn.address), conn.port)


async def connect_tcp(conn: CheckTarget) -> socket.socket:
    """A connected TCP socket, or OSError / TimeoutError after `conn.timeout`."""
    sock = make_socket(conn, socket.SOCK_STREAM)
    try:
        async with asyncio.timeout(conn.timeout):
            await asyncio.get_running_loop().sock_connect(sock, target(conn))
    except BaseException:
        sock.close()
        raise
    return sock


async def open_stream(
    conn: CheckTarget, **kwargs: object
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A stream over a checker connection (TLS when `ssl=` is given), within the timeout."""
    sock = await connect_tcp(conn)
    try:
        async with asyncio.timeout(conn.timeout):
            stream = await asyncio.open_connection(sock=sock, **kwargs)  # type: ignore[arg-type]
    except BaseException:
        sock.close()
        raise
    handed_over(sock)
    return stream


def handed_over(sock: socket.socket) -> None:
    """A transport owns `sock`'s descriptor now: the object must never close it.
    uvloop's create_connection(sock=) attaches the object to its transport (whose close
    detaches it) only when the coroutine resumes after connection_made; a transport closed in
    between (a check that resets at connection_made, a peer's reset) has its descriptor
    closed by libuv and the object never detached, and the object's close when collected
    then closed whatever descriptor took the number meanwhile (an accepted runtime API
    connection: libuv's epoll_ctl on it failed and libuv abort()ed the daemon).  On uvloop
    libuv closes the descriptor itself, so the object is detached here, always; asyncio's
    transports close the very object they were given, which stays as it is."""
    if type(asyncio.get_running_loop()).__module__.startswith("uvloop"):
        sock.detach()


async def close_stream(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        async with asyncio.timeout(1.0):
            await writer.wait_closed()
    except (OSError, TimeoutError):
        pass


def error_text(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
