"""Lua's Socket class (`core.tcp()`; HAProxy 2.6 src/hlua.c hlua_socket_*): a TCP
connection a script opens from an action, a service or a task, driven by the daemon's loop.

Each operation (connect, send, receive) runs as a task on the loop while the script's
coroutine waits ("sock"); the function goes on with its result once it is done, so a
script's connection never blocks the daemon.  The results are hlua.c's: `connect` gives 1
or nil and "Can't connect"; `receive("*l")` a line without its CR LF, `"*a"` all up to the
close, `n` n bytes, each after the optional prefix, or nil and "connection closed." when
nothing came; `send` the number of bytes sent (-1 once the connection is gone).  There is
no timeout unless `settimeout` sets one (HAProxy's socket proxy has none); a timeout ends
the connection as a close does.  While the files load and the init functions run there is
no stream to wait in: `connect` gives nil alone, as in HAProxy.  Calls from a fetch, a
converter or a `tcp-*` rule's action cannot wait: they are refused as a sleep is there.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

READ_LINE, READ_ALL = -1, -2


@dataclass
class _Sock:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    timeout: float | None = None
    op: asyncio.Task[Any] | None = None
    result: tuple[Any, ...] = ()
    buf: bytearray = field(default_factory=bytearray)


class LuaSockets:
    """The sockets scripts opened, by number (what the Lua objects hold)."""

    def __init__(self) -> None:
        self.socks: dict[int, _Sock] = {}
        self.next = 1
        self.allowed = False  # a stream, service or task runs: connections may be made

    def call(self, ref: int, what: bytes, *args: Any) -> object:
        op = what.decode()
        if op == "new":
            ref, self.next = self.next, self.next + 1
            self.socks[ref] = _Sock()
            return ref
        s = self.socks.get(ref)
        if s is None:
            return None
        if op == "ready":
            return s.op is None or s.op.done()
        if op == "result":
            s.op = None
            return s.result
        if op == "settimeout":
            s.timeout = float(args[0]) if args[0] else None
            return None
        if op == "close":
            self._close(ref)
            return 1
        if op == "connect":
            return self._start(s, self._connect(s, bytes(args[0]).decode(), args[1]))
        if op == "send":
            return self._start(s, self._send(s, bytes(args[0])))
        if op == "receive":
            return self._start(s, self._receive(s, int(args[0]), bytes(args[1] or b"")))
        return None

    def _start(self, s: _Sock, work: Any) -> bool:
        """Run the operation on the loop; False when there is no loop to run it on."""
        if not self.allowed:
            work.close()
            s.result = (None,)  # hlua_socket_connect with no hlua context: nil alone
            return False
        s.op = asyncio.get_running_loop().create_task(work)
        return True

    def waiting(self, ref: int) -> asyncio.Task[Any] | None:
        s = self.socks.get(ref)
        return None if s is None else s.op

    async def _connect(self, s: _Sock, host: str, port: object) -> None:
        if isinstance(port, int):
            target = (host, port)
        else:  # "ADDR:PORT" in the address (hlua_socket_connect: str2sa_range)
            name, _, text = host.rpartition(":")
            target = (name.strip("[]"), int(text)) if text.isdigit() else (host, -1)
        try:
            if target[1] <= 0:
                raise OSError("no port")
            s.reader, s.writer = await asyncio.wait_for(asyncio.open_connection(*target), s.timeout)
        except (OSError, TimeoutError, ValueError):
            s.result = (None, b"Can't connect")
            return
        s.result = (1,)

    async def _send(self, s: _Sock, data: bytes) -> None:
        if s.writer is None or s.writer.is_closing():
            s.result = (-1,)
            return
        try:
            s.writer.write(data)
            await asyncio.wait_for(s.writer.drain(), s.timeout)
        except (OSError, TimeoutError):
            s.result = (-1,)
            return
        s.result = (len(data),)

    async def _receive(self, s: _Sock, wanted: int, prefix: bytes) -> None:
        got = bytearray(prefix)
        try:
            if s.reader is None:
                raise ConnectionError
            if wanted == READ_LINE:
                line = await asyncio.wait_for(s.reader.readline(), s.timeout)
                if not line:
                    raise ConnectionError
                got += line.rstrip(b"\n").rstrip(b"\r") if line.endswith(b"\n") else line
            elif wanted == READ_ALL:
                got += await asyncio.wait_for(s.reader.read(), s.timeout)
            else:
                got += await asyncio.wait_for(s.reader.readexactly(wanted), s.timeout)
        except asyncio.IncompleteReadError as e:
            got += e.partial
        except (OSError, TimeoutError, ConnectionError):
            pass
        # what came (with the prefix) even when the connection ended first, else nil
        s.result = (bytes(got),) if got else (None, b"connection closed.")

    def _close(self, ref: int) -> None:
        s = self.socks.pop(ref, None)
        if s is None:
            return
        if s.op is not None:
            s.op.cancel()
        if s.writer is not None:
            with contextlib.suppress(OSError, RuntimeError):
                s.writer.close()

    def close_all(self) -> None:
        for ref in list(self.socks):
            self._close(ref)
