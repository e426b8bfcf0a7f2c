"""Lua `tcp` services (`core.register_service(NAME, "tcp", fn)`, `tcp-request content
use-service lua.NAME`): HAProxy 2.6 src/hlua.c hlua_applet_tcp_* as a client sees them.

The function gets an AppletTCP and talks to the client: `receive([n])` (n bytes, or all
until the client closes; less when it closes first), `getline()` (a line with its LF, or
what is left at the close), `send(data)`; the variables, `get_priv`/`set_priv` and the
sample fetches and converters of the stream.  It runs as a coroutine on the loop: a read
that needs more bytes waits for them, as does a send once a buffer's worth is pending, and
`core.sleep` waits too.  The stream's `timeout client` bounds each wait for the client (then
the stream ends, as HAProxy's does).  When the function ends, what it sent is written out
and the connection closed; a function that fails is logged as hlua_applet_tcp_fct logs
it (`Lua applet tcp '<lua.NAME>': ...`) and the connection closed.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pylvs.engine.lua.base import EngineBase, _Call, _s, _tuple
from pylvs.proto.sample.stream import Stream

BUFSIZE = 16384  # tune.bufsize: a channel's room


@dataclass
class TcpApplet:
    """The client's side of one run: what came in and is not read yet, what is to go out."""

    sock: socket.socket
    inbuf: bytearray = field(default_factory=bytearray)
    out: bytearray = field(default_factory=bytearray)
    eof: bool = False  # the client closed its side
    broken: bool = False  # writing failed: later sends go nowhere

    def recv(self, size: int) -> tuple[bytes, bytes]:
        """hlua_applet_tcp_recv_yield: up to `size` bytes (-1: all there is); "ok" when the
        size is met, "eof" once the client closed and nothing is left, else "wait"."""
        if not self.inbuf:
            return b"", b"eof" if self.eof else b"wait"
        take = len(self.inbuf) if size < 0 else min(size, len(self.inbuf))
        data = bytes(self.inbuf[:take])
        del self.inbuf[:take]
        if size >= 0 and take >= size:
            return data, b"ok"
        return data, b"eof" if self.eof and not self.inbuf else b"wait"

    def getline(self) -> tuple[bytes | None, bool]:
        """co_getline_nc: a line with its LF; all that is left once the client closed or
        the buffer is full; else nothing yet."""
        end = self.inbuf.find(b"\n")
        if end < 0 and not self.eof and len(self.inbuf) < BUFSIZE:
            return None, False
        take = len(self.inbuf) if end < 0 else end + 1
        line = bytes(self.inbuf[:take])
        del self.inbuf[:take]
        return line, self.eof

    def send(self, data: bytes) -> bool:
        """The data is the client's at once (what the socket takes now, the rest queued);
        True when a buffer's worth waits and the function should wait for the client."""
        if self.broken:
            return False
        self.out += data
        try:
            sent = self.sock.send(self.out, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self.broken, sent = True, len(self.out)
        del self.out[:sent]
        return len(self.out) >= BUFSIZE


class TcpServicesMixin(EngineBase):
    def tcp_service(
        self,
        name: str,
        sock: socket.socket,
        stream: Stream,
        ended: Callable[[], None],
        timeout: float | None,
    ) -> bool:
        """Start the service `name` on the client `sock` (False: no such service); `ended`
        is called once the run is over (the caller closes the client)."""
        found = self._function("services", name)
        if found is None:
            return False
        sock.setblocking(False)
        run = self._tcp_run(name, found, TcpApplet(sock), stream, timeout)
        task = asyncio.get_running_loop().create_task(run)
        self.applets.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self.applets.discard(t)
            ended()

        task.add_done_callback(done)
        return True

    async def _tcp_run(
        self,
        name: str,
        found: tuple[Any, Any],
        app: TcpApplet,
        stream: Stream,
        timeout: float | None,
    ) -> None:
        st, fn = found
        ref = self._open(_Call(stream, False, proxy=stream.sess.frontend.name, tcp=app))
        try:
            applet = st.api[b"applet_tcp"](ref)
            got = _tuple(st.api[b"spawn"](fn, self.spec.service_timeout_ms, applet))
            co, status = got[0], got[1:]
            while _s(status[0]) == "wait":
                if len(status) > 2 and _s(status[2]) == "io":
                    await self._tcp_io(app, _s(status[1]), timeout)
                else:
                    await self._wait(tuple(status))
                status = _tuple(st.api[b"resume"](co))
            if _s(status[0]) not in ("done", "exit"):
                why = self._why(tuple(status))
                self._alert(f"Lua applet tcp '<lua.{name}>': {why}.", stream.sess.frontend.name)
            await self._tcp_flush(app, timeout)
        except (TimeoutError, OSError):
            pass  # the client went away or timed out: the stream ends
        finally:
            del self.calls[ref]

    async def _tcp_io(self, app: TcpApplet, what: str, timeout: float | None) -> None:
        await self._tcp_flush(app, timeout)
        if what != "in" or app.eof:
            return
        loop = asyncio.get_running_loop()
        data = await asyncio.wait_for(loop.sock_recv(app.sock, BUFSIZE), timeout)
        if data:
            app.inbuf += data
        else:
            app.eof = True

    async def _tcp_flush(self, app: TcpApplet, timeout: float | None) -> None:
        if app.out and not app.broken:
            loop = asyncio.get_running_loop()
            data = bytes(app.out)
            app.out.clear()
            await asyncio.wait_for(loop.sock_sendall(app.sock, data), timeout)

    def _atcp(self, ref: int, what: bytes, arg: Any = None) -> object:
        call = self.calls.get(ref)
        if call is None or call.tcp is None:
            return None
        app: TcpApplet = call.tcp
        op = what.decode()
        if op == "recv":
            return app.recv(int(arg))
        if op == "getline":
            return app.getline()
        if op == "send":
            return app.send(bytes(arg))
        return None
