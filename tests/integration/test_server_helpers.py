"""tests/integration/server_helpers.py's ThreadedServer: what every test server relies on (real
sockets on loopback): connections counted and served on their own threads, and a close
that frees the port at once and ends the connections still open."""

from __future__ import annotations

import socket
import threading

from tests.integration.server_helpers import ThreadedServer


class Holding(ThreadedServer):
    """Says hi, then keeps each connection open (`serve` returns, the socket stays)."""

    def __init__(self) -> None:
        self.served = threading.Semaphore(0)
        super().__init__()

    def serve(self, conn: socket.socket) -> None:
        conn.sendall(b"hi")
        self.served.release()


def test_connections_are_served_on_threads_and_counted() -> None:
    server = Holding()
    clients: list[socket.socket] = []
    try:
        for _ in range(3):
            clients.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        # three at once: none waits for another to finish
        assert [c.recv(2) for c in clients] == [b"hi"] * 3
        assert all(server.served.acquire(timeout=5) for _ in clients)
        assert server.accepted == 3 and len(server.conns) == 3
    finally:
        server.close()
        for c in clients:
            c.close()


def test_close_frees_the_port_and_ends_the_open_connections() -> None:
    server = Holding()
    client = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    assert client.recv(2) == b"hi"
    server.close()  # the accepting thread is blocked in accept(2) meanwhile
    assert client.recv(1) == b""  # the held connection was closed with the server
    client.close()
    with socket.socket() as again:  # nothing listens any more: refused, not queued
        assert again.connect_ex(("127.0.0.1", server.port)) != 0
