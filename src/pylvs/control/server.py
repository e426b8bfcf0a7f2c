"""The daemon side of the control socket: a unix stream server, mode 0600, one owner.

Ownership (issue 18 item 1): `claim()` takes an exclusive lock on `PATH.lock` for the daemon's
life, asks whatever listens on PATH (a daemon that answers keeps its socket: this one refuses
to start, naming it), removes a dead socket left by a crash, and binds a new socket beside
PATH; `start()` renames it onto PATH once requests can be served, so PATH appears when the
daemon is ready (scripts wait for it).  `close()` removes the socket only while PATH is still
the very socket it bound: a daemon never unlinks a socket it does not own.

Each connection carries one request line and gets its answer streamed back
(control/protocol.py).  Limits per client (issue 18 item 17): the request must arrive within
`READ_TIMEOUT`, each piece of the answer must be taken within `WRITE_TIMEOUT` (a client that
stops reading is cut off, its buffers freed), at most `BUFFER` bytes wait in the kernel-facing
buffer, and at most `IN_FLIGHT` clients are served at once (the others wait, accepted, with
their data in the kernel's socket buffers, not ours).  The listen queue takes `BACKLOG`
connections, so a burst of a thousand clients is accepted rather than refused (EAGAIN).
A handler failure, a malformed line, a timeout or an early disconnect only ends that
connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import socket
import stat
from collections.abc import Awaitable, Callable

from pylvs.control.protocol import MAX_LINE, ProtocolError, Request, Response, decode_request

log = logging.getLogger("pylvs.control")

Handler = Callable[[Request], Awaitable[Response]]
READ_TIMEOUT = 10.0
WRITE_TIMEOUT = 10.0
BUFFER = 256 * 1024
IN_FLIGHT = 64
BACKLOG = 4096  # the kernel caps it at net.core.somaxconn
PROBE_TIMEOUT = 2.0


class ControlError(OSError):
    """The control socket cannot be had; the text names the path and what to do."""

    def __str__(self) -> str:
        return str(self.strerror)


def _explain(path: str, e: OSError, doing: str) -> ControlError:
    text = f"cannot {doing} the control socket {path}: {e.strerror or e}"
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        text += "; run as root, or give a writable path with --control (or $PYLVS_CONTROL)"
    else:
        text += "; give another path with --control (or $PYLVS_CONTROL)"
    return ControlError(e.errno or 0, text)


class ControlServer:
    def __init__(self, path: str, handler: Handler) -> None:
        self.path = path
        self.handler = handler
        self._server: asyncio.AbstractServer | None = None
        self._sock: socket.socket | None = None
        self._lock_fd: int | None = None
        self._bound: os.stat_result | None = None
        # Bound here, renamed onto `path` when serving; named once (a detaching daemon's pid
        # changes in between).
        self._new_path = f"{path}.{os.getpid()}.new"
        self._slots = asyncio.Semaphore(IN_FLIGHT)
        self.bad_requests = 0
        self.timeouts = 0

    # -- ownership ---------------------------------------------------------------------

    def claim(self) -> None:
        """Lock, probe and bind PATH (idempotent); ControlError if another daemon has it."""
        if self._sock is not None:
            return
        directory = os.path.dirname(self.path)
        try:
            if directory:
                os.makedirs(directory, mode=0o700, exist_ok=True)
            self._lock()
        except ControlError:
            raise
        except OSError as e:
            raise _explain(self.path, e, "create") from None
        try:
            self._remove_dead_socket()
            self._sock = self._bind()
        except BaseException:
            self._unlock()
            raise

    def _lock(self) -> None:
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise self._busy() from None
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _busy(self) -> ControlError:
        return ControlError(
            errno.EADDRINUSE,
            f"another pylvs daemon is running on the control socket {self.path}; stop it "
            "first (pylvs ipvsadm / status still reach it), or give this one another "
            "--control path",
        )

    def _remove_dead_socket(self) -> None:
        """A socket nobody answers on is a crashed daemon's: remove it.  Anything else stays."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(st.st_mode):
            raise ControlError(
                errno.EEXIST,
                f"{self.path} exists and is not a socket; remove it or give another --control",
            )
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(PROBE_TIMEOUT)
            try:
                probe.connect(self.path)
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
                return
            except OSError as e:
                # EAGAIN / timeout: its queue is full, someone is there.
                if e.errno in (errno.EAGAIN, None) or isinstance(e, TimeoutError):
                    raise self._busy() from None
                raise _explain(self.path, e, "check") from None
        raise self._busy()

    def _bind(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # the socket is created 0600: only its owner may steer the daemon
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._new_path)  # ours by its name: a pid reused after a crash
            sock.bind(self._new_path)
            sock.listen(BACKLOG)
            self._bound = os.stat(self._new_path)
        except OSError as e:
            sock.close()
            raise _explain(self.path, e, "create") from None
        finally:
            os.umask(old)
        return sock

    def owns_path(self, path: str | None = None) -> bool:
        """Is PATH still the socket this server bound (not replaced, not removed)?"""
        if self._bound is None:
            return False
        try:
            return os.path.samestat(os.lstat(path or self.path), self._bound)
        except OSError:
            return False

    # -- serving -----------------------------------------------------------------------

    async def start(self) -> None:
        self.claim()
        assert self._sock is not None
        self._server = await asyncio.start_unix_server(
            self._serve, sock=self._sock, limit=MAX_LINE + 1, backlog=BACKLOG
        )
        try:
            os.rename(self._new_path, self.path)
        except OSError as e:
            await self.close()
            raise _explain(self.path, e, "create") from None

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        elif self._sock is not None:
            self._sock.close()
        self._sock = None
        for path in (self.path, self._new_path):
            if self.owns_path(path):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
        self._bound = None
        self._unlock()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with self._slots:
                writer.transport.set_write_buffer_limits(high=BUFFER)
                response = await self._answer(reader)
                for line in response.stream():
                    writer.write(line)
                    async with asyncio.timeout(WRITE_TIMEOUT):
                        await writer.drain()
        except TimeoutError:
            self.timeouts += 1
            writer.transport.abort()  # frees what the client did not take
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader) -> Response:
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                line = await reader.readline()
            request = decode_request(line)
        except (ProtocolError, ValueError, TimeoutError, asyncio.LimitOverrunError) as e:
            self.bad_requests += 1
            why = str(e) or type(e).__name__
            return Response(2, "", f"pylvs: bad control request: {why}\n")
        try:
            return await self.handler(request)
        except Exception:  # a bug in one command must not take the daemon down
            log.exception("control request %s failed", request.op)
            return Response(1, "", "pylvs: internal error (see the daemon's log)\n")
