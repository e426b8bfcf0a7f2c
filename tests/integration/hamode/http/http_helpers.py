"""HTTP servers and clients for the `mode http` tests (pylvs against the real haproxy).

`HttpServer` is a raw-socket HTTP/1.1 server whose answers are byte-exact and have no date,
so what a client sees through either proxy can be compared byte for byte.  Behaviours:
"name" answers `<name> <target>` with a Content-Length (keep-alive unless the request asks
to close), "chunked" the same in two chunks, "echo" the size of the request body it read,
"sum" its size and SHA-1, "big" / "bigchunked" / "untilclose" a body of the size its target
names (`/N`: `pattern(N)`, with a Content-Length, in chunks with a trailer, or until its
close), "early" answers a head at once and closes without reading its body, "stall"
reads and never answers, "garbage" answers bytes that are no HTTP and closes,
"close" answers with `Connection: close` and closes, "script" answers the bytes of its
`script` attribute (set by the test) and closes, "upgrade" switches a request that asks to
upgrade to an echo tunnel (a 101, then its bytes back upper-cased).  A request with `Expect:
100-continue` gets the interim 100 first.  It counts the connections it accepted
and records each request head it read.

`Client` is one client connection: `send`, `response()` (one response read whole by its
framing), `rest()` (what comes until the proxy closes, or the time-out).
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading

from tests.integration.server_helpers import ThreadedServer


def read_head(sock: socket.socket, buf: bytearray) -> bytes | None:
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            return None
        buf += data
    end = buf.index(b"\r\n\r\n") + 4
    head = bytes(buf[:end])
    del buf[:end]
    return head


def field(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        n, _, v = line.partition(b":")
        if n.strip().lower() == name:
            return v.strip()
    return None


def read_body(sock: socket.socket, buf: bytearray, head: bytes) -> bytes:
    """The body `head` announces (content-length or chunked), de-chunked."""
    te = field(head, b"transfer-encoding")
    if te is not None and b"chunked" in te.lower():
        out = bytearray()
        while True:
            while b"\r\n" not in buf:
                buf += _recv(sock)
            line, _, rest = bytes(buf).partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            buf[:] = rest
            if size == 0:  # the trailer block, up to its empty line, is skipped
                while not buf.startswith(b"\r\n") and b"\r\n\r\n" not in buf:
                    buf += _recv(sock)
                del buf[: 2 if buf.startswith(b"\r\n") else buf.index(b"\r\n\r\n") + 4]
                return bytes(out)
            while len(buf) < size + 2:
                buf += _recv(sock)
            out += buf[:size]
            del buf[: size + 2]
    length = int(field(head, b"content-length") or b"0")
    while len(buf) < length:
        buf += _recv(sock)
    body = bytes(buf[:length])
    del buf[:length]
    return body


def pattern(size: int) -> bytes:
    """`size` bytes that are not all alike (a byte lost or moved changes them)."""
    unit = bytes(range(256)) * 4 + b"0123456789"
    return (unit * (size // len(unit) + 1))[:size]


def _recv(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise ConnectionError("closed in the middle of a message")
    return data


def _discard(sock: socket.socket, buf: bytearray, size: int) -> None:
    """Read and drop a body of `size` bytes 4 KiB at a time, as nginx discards one."""
    took = min(len(buf), size)
    del buf[:took]
    size -= took
    while size > 0:
        data = sock.recv(min(size, 4096))
        if not data:
            raise ConnectionError("closed in the middle of a message")
        size -= len(data)


class HttpServer(ThreadedServer):
    def __init__(self, name: str, behaviour: str = "name", host: str = "127.0.0.1") -> None:
        self.name = name
        self.behaviour = behaviour
        self.heads: list[bytes] = []
        self.script = b""
        super().__init__(host)

    def serve(self, conn: socket.socket) -> None:
        buf = bytearray()
        with contextlib.suppress(OSError, ConnectionError, ValueError):
            while True:
                head = read_head(conn, buf)
                if head is None:
                    break
                if self.behaviour == "early":  # answers the head, closes unread
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nup\n")
                    threading.Event().wait(0.05)
                    break
                if self.behaviour == "discard":  # nginx's `return 200`: answers, then reads
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nup\n")
                    _discard(conn, buf, int(field(head, b"content-length") or b"0"))
                    continue
                if (field(head, b"expect") or b"").lower() == b"100-continue":
                    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = read_body(conn, buf, head)
                if self.behaviour == "upgrade" and field(head, b"upgrade") is not None:
                    self._tunnel(conn, bytes(buf))
                    break
                with self.lock:
                    self.heads.append(head)
                if not self._answer(conn, head, body):
                    break
        with contextlib.suppress(OSError):
            conn.close()

    def _tunnel(self, conn: socket.socket, early: bytes) -> None:
        """Switch protocols, then echo every chunk back upper-cased until the client closes."""
        conn.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        )
        if early:
            conn.sendall(early.upper())
        while data := conn.recv(65536):
            conn.sendall(data.upper())

    def _answer(self, conn: socket.socket, head: bytes, body: bytes) -> bool:
        b = self.behaviour
        target = head.split(b" ")[1]
        text = self.name.encode() + b" " + target
        close = (field(head, b"connection") or b"").lower() == b"close"
        if b == "stall":
            threading.Event().wait(30)
            return False
        if b == "garbage":
            conn.sendall(b"garbage\r\n\r\n")
            return False
        if b == "script":
            conn.sendall(self.script)
            return False
        if b == "status":  # the status the target names (/404: a 404), its name as body
            code = int(target.strip(b"/")[:3])
            conn.sendall(b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n%s" % (code, len(text), text))
            return not close
        if b == "echo":
            text = b"%s got %d" % (self.name.encode(), len(body))
        if b == "sum":
            digest = hashlib.sha1(body).hexdigest().encode()
            text = b"%s got %d %s" % (self.name.encode(), len(body), digest)
        if b in ("big", "bigchunked", "untilclose"):
            return self._big(conn, int(target.strip(b"/") or b"0"), close)
        if b == "chunked":
            half = len(text) // 2
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n"
                % (half, text[:half], len(text) - half, text[half:])
            )
            return not close
        extra = b"Connection: close\r\n" if b == "close" or close else b""
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(text), extra, text)
        )
        return not (b == "close" or close)

    def _big(self, conn: socket.socket, size: int, close: bool) -> bool:
        """`size` bytes of `pattern(size)`: with a Content-Length ("big"), in 100,000-byte
        chunks and a trailer ("bigchunked"), or until the close ("untilclose")."""
        data = pattern(size)
        b = self.behaviour
        if b == "big":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + data)
            return not close
        if b == "untilclose":
            conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + data)
            return False
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for at in range(0, size, 100_000):
            piece = data[at : at + 100_000]
            conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.sendall(b"0\r\nx-sum: %d\r\n\r\n" % size)
        return not close


class Client:
    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = bytearray()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def get(self, target: str = "/", extra: str = "") -> None:
        self.send(f"GET {target} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode())

    def response(self, method: bytes = b"GET") -> tuple[bytes, bytes]:
        """(head, body) of the next response ("" heads if the connection closed first)."""
        try:
            head = read_head(self.sock, self.buf)
        except OSError:
            return b"", b""
        if head is None:
            return b"", b""
        status = int(head.split(b" ")[1])
        if method == b"HEAD" or status in (204, 304) or 100 <= status < 200:
            return head, b""
        if field(head, b"content-length") is None and field(head, b"transfer-encoding") is None:
            return head, self.rest()
        return head, read_body(self.sock, self.buf, head)

    def rest(self) -> bytes:
        """What arrives until the proxy closes (or the timeout): bytes, then b"" if closed."""
        out = bytes(self.buf)
        self.buf.clear()
        with contextlib.suppress(OSError):
            while data := self.sock.recv(65536):
                out += data
        return out

    def closed(self, wait: float = 2.0) -> bool:
        """The proxy closed the connection within `wait` seconds (nothing else came)."""
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1) == b""
        except TimeoutError:
            return False
        except OSError:
            return True

    def close(self) -> None:
        self.sock.close()


def talk(port: int, data: bytes, host: str = "127.0.0.1") -> bytes:
    """One connection: `data` sent, then all that comes back until the proxy closes."""
    out = b""
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(data)
        with contextlib.suppress(OSError):
            while chunk := s.recv(65536):
                out += chunk
    return out


# The start of a haproxy.cfg whose mode http proxies send `option httplog` lines to the
# syslog receiver at port {log} (str.format fills it)
HTTPLOG_HEAD = """\
global
    log 127.0.0.1:{log} local0
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s
"""
