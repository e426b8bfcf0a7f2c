"""The accept loop every test server shares: a listening socket whose connections are each
served on a thread of their own, counted, and closed when the server is.

The servers of the tests (hamode_helpers.Server, http_helpers.HttpServer, diff_rig.EchoServer,
h2_client.H2Server, the TLS apps) differ only in what they do with a connection: they
subclass `ThreadedServer` and write `serve`.  What they share, and what each once wrote
again with its own small differences:

- `close()` shuts the listening socket down before closing it: a bare close leaves the
  socket listening until the accepting thread's accept(2) returns, so the port stays taken
  and a proxy's next connection is accepted by a server the test has finished with;
- a connection accepted while the server closes is closed at once rather than served;
- the connections still open when the server closes are closed with it (a proxy's kept
  idle server connections then see the server go, as they would a real server's exit), and
  what that close makes `serve` raise (EBADF on a socket closed under it) is not an error.
"""

from __future__ import annotations

import abc
import contextlib
import socket
import threading


class ThreadedServer(abc.ABC):
    """Listens on `host`:`port` (0: a port the kernel picks) and serves each connection it
    accepts on a thread (`serve`).  A subclass sets the attributes its `serve` reads before
    calling this constructor: the accepting thread starts in it."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, backlog: int = 512) -> None:
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(backlog)
        self.host, self.port = host, int(self.sock.getsockname()[1])
        self.accepted = 0  # connections accepted since the start
        self.conns: list[socket.socket] = []  # those not yet closed by `serve`
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._run, daemon=True).start()

    @abc.abstractmethod
    def serve(self, conn: socket.socket) -> None:
        """Handle one accepted connection (on its own thread); closing it is up to `serve`,
        else `close()` does."""

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                if self.closed:
                    conn.close()
                    return
                self.accepted += 1
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.serve(conn)
        except OSError:
            if not self.closed:
                raise
            # else `close()` closed this connection under `serve` (EBADF and the like)
        finally:
            with self.lock:
                if conn.fileno() < 0 and conn in self.conns:
                    self.conns.remove(conn)

    def close(self) -> None:
        with self.lock:
            self.closed = True
            conns, self.conns = self.conns, []
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for c in conns:
            with contextlib.suppress(OSError):
                c.close()
