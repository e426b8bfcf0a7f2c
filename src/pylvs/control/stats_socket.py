"""The HAProxy stats socket server: `stats socket PATH|ipv4@ADDR:PORT [mode M] [level L] ...`.

A driver around control/haproxy (the pure command set and the per-connection `CliSession`):
it binds the sockets, reads what clients send, feeds it to their session and writes the
answers back.  HAProxy's limits apply to all sockets together, as they share HAProxy's stats
frontend (src/cli.c, configuration.txt "stats timeout" / "stats maxconn"):

* `stats maxconn` (10) sessions at once; further clients wait for a free one, as they would in
  HAProxy's accept backlog (at most `backlog` of them; beyond that they are closed at once);
* `stats timeout` (10 s, per session `set timeout cli`): a client that sends nothing, or reads
  nothing of a pending answer, for that long is disconnected;
* a request line larger than the 16 KiB buffer closes that connection (CliSession);
* one connection's garbage, stall or disconnection never reaches another one.

Unix sockets are created as HAProxy creates them: bound under a temporary name, given their
`mode` / `uid` / `gid`, then renamed over the path, so a reload never leaves the path missing.
`fd@N` (HAProxy's regression-test driver passes `stats socket "fd@${cli}"`) is a socket the
parent process bound and listens on: used as it is (system/inherited.py), never unlinked.
`expose-fd listeners` is accepted (so HAProxy configurations load) but pylvs keeps its
listeners across reloads itself: `_getsocks` answers that it hands none out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pylvs.control.haproxy.admin import Runtime
from pylvs.control.haproxy.context import CliState, Context, SocketInfo
from pylvs.control.haproxy.session import CliSession
from pylvs.control.slots import Slots, close_servers
from pylvs.model.proxies import SessionView
from pylvs.proto.stick import Level
from pylvs.system import inherited

log = logging.getLogger("pylvs.stats")

DEFAULT_TIMEOUT = 10.0  # `stats timeout`
DEFAULT_MAXCONN = 10  # `stats maxconn`
READ_CHUNK = 16384
DRAIN_AFTER_CLOSE = 1.0  # read what the client still sends after the last answer, so the
# close does not turn into a reset that would destroy the answer in the client's buffer


@dataclass(frozen=True, slots=True)
class SocketSpec:
    """One `stats socket` line: the address, then the bind options pylvs honours."""

    address: str  # a path, `unix@PATH`, `ipv4@HOST:PORT`, `ipv6@[HOST]:PORT` or `HOST:PORT`
    level: Level = Level.OPERATOR  # HAProxy's default level (src/cli.c)
    mode: int | None = None  # permissions of a unix socket
    uid: int | None = None
    gid: int | None = None
    expose_fd: bool = False


@dataclass(frozen=True, slots=True)
class Endpoint:
    family: str  # unix | ipv4 | ipv6
    path: str = ""
    host: str = ""
    port: int = 0

    @property
    def label(self) -> str:
        """How `show cli sockets` names it."""
        if self.family == "unix":
            return f"unix@{self.path}"
        if self.family == "ipv6":
            return f"ipv6@[{self.host}]:{self.port}"
        return f"ipv4@{self.host}:{self.port}"


def parse_address(address: str) -> Endpoint:
    """HAProxy's address forms for a stats socket (str2sa_range): ValueError when invalid."""
    family, sep, rest = address.partition("@")
    if not sep:
        family, rest = ("unix", address) if "/" in address or ":" not in address else ("", address)
    if family == "unix":
        if not rest:
            raise ValueError(f"missing path in '{address}'")
        return Endpoint("unix", path=rest)
    if family == "fd":  # a socket the parent process bound (system/inherited.py)
        return Endpoint("fd", path=str(inherited.descriptor(address)))
    host, colon, port = rest.rpartition(":")
    if not colon or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"missing or invalid port in '{address}'")
    host = host.strip("[]")
    if family == "":
        family = "ipv6" if ":" in host else "ipv4"
    if family not in ("ipv4", "ipv6"):
        raise ValueError(f"unsupported address family '{family}' in '{address}'")
    return Endpoint(family, host=host or ("0.0.0.0" if family == "ipv4" else "::"), port=int(port))


def _bind_unix(endpoint: Endpoint, spec: SocketSpec) -> socket.socket:
    tmp = f"{endpoint.path}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(tmp)
        if spec.mode is not None:
            os.chmod(tmp, spec.mode)
        if spec.uid is not None or spec.gid is not None:
            os.chown(
                tmp, -1 if spec.uid is None else spec.uid, -1 if spec.gid is None else spec.gid
            )
        os.rename(tmp, endpoint.path)
        sock.listen(128)
    except OSError:
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    sock.setblocking(False)
    return sock


def _inherited_endpoint(sock: socket.socket) -> Endpoint:
    """What an `fd@N` socket is bound to, as `show cli sockets` names it."""
    name = sock.getsockname()
    if sock.family == socket.AF_UNIX:
        return Endpoint("unix", path=name if isinstance(name, str) else name.decode())
    family = "ipv6" if sock.family == socket.AF_INET6 else "ipv4"
    return Endpoint(family, host=name[0], port=name[1])


def _bind_inet(endpoint: Endpoint) -> socket.socket:
    family = socket.AF_INET6 if endpoint.family == "ipv6" else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((endpoint.host, endpoint.port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class StatsSocketServer:
    """Serves HAProxy's runtime API on every configured stats socket."""

    def __init__(
        self,
        runtime: Runtime,
        sockets: Sequence[SocketSpec],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        maxconn: int = DEFAULT_MAXCONN,
        backlog: int = 1024,
        env: Mapping[str, str] | None = None,
        version: str = "2.6.12",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runtime = runtime
        self.specs = list(sockets)
        self.timeout = timeout
        self.env = dict(os.environ) if env is None else dict(env)
        self.version = version
        self.clock = clock  # the runtime's snapshot clock (`show sess` ages)
        self._slots = Slots(maxconn, backlog)
        self._slots_backlog = backlog
        self._servers: list[asyncio.AbstractServer] = []
        self._endpoints: list[tuple[Endpoint, SocketSpec]] = []
        self._streams: dict[int, SessionView] = {}
        self._next_stream = 1

    @property
    def served(self) -> int:
        """CLI sessions accepted so far (the GLOBAL proxy's cumulated connections)."""
        return self._next_stream - 1

    @property
    def sockets(self) -> list[SocketInfo]:
        return [SocketInfo(e.label, s.level) for e, s in self._endpoints]

    def bound(self) -> list[Endpoint]:
        """The endpoints as bound (an `ipv4@...:0` socket gets its real port here)."""
        return [e for e, _ in self._endpoints]

    async def start(self) -> None:
        for spec in self.specs:
            endpoint = parse_address(spec.address)
            if endpoint.family == "fd":
                sock = inherited.listening_socket(spec.address, self._slots_backlog)
                endpoint = _inherited_endpoint(sock)
            elif endpoint.family == "unix":
                sock = _bind_unix(endpoint, spec)
            else:
                sock = _bind_inet(endpoint)
                endpoint = Endpoint(endpoint.family, host=endpoint.host, port=sock.getsockname()[1])
            index = len(self._endpoints) + 1
            self._endpoints.append((endpoint, spec))

            async def serve(
                r: asyncio.StreamReader,
                w: asyncio.StreamWriter,
                s: SocketSpec = spec,
                i: int = index,
            ) -> None:
                await self._accept(r, w, s, i)

            if sock.family == socket.AF_UNIX:
                server = await asyncio.start_unix_server(serve, sock=sock)
            else:
                server = await asyncio.start_server(serve, sock=sock)
            self._servers.append(server)

    async def close(self) -> None:
        await close_servers(self._servers)
        for endpoint, spec in self._endpoints:
            if endpoint.family == "unix" and not inherited.is_inherited(spec.address):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(endpoint.path)

    def cli_sessions(self) -> list[SessionView]:
        return list(self._streams.values())

    async def _accept(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        spec: SocketSpec,
        index: int,
    ) -> None:
        await self._slots.serve(
            writer, lambda: self._session(reader, writer, spec, index), "stats socket session"
        )

    async def _session(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        spec: SocketSpec,
        index: int,
    ) -> None:
        stream = self._next_stream
        self._next_stream += 1
        self._streams[stream] = self._stream_view(stream, writer, index)
        try:
            await self._serve(reader, writer, spec)
        finally:
            self._streams.pop(stream, None)

    def _stream_view(self, stream: int, writer: asyncio.StreamWriter, index: int) -> SessionView:
        peer = writer.get_extra_info("peername")
        sock = writer.get_extra_info("socket")
        fd = sock.fileno() if sock is not None else -1
        now = self.clock()
        if isinstance(peer, tuple):
            proto = "tcpv6" if ":" in str(peer[0]) else "tcpv4"
            return SessionView(
                id=stream,
                proto=proto,
                src=str(peer[0]),
                src_port=int(peer[1]),
                frontend="GLOBAL",
                accepted=now,
                client_fd=fd,
            )
        return SessionView(
            id=stream,
            proto="unix_stream",
            src_port=index,
            frontend="GLOBAL",
            accepted=now,
            client_fd=fd,
        )

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, spec: SocketSpec
    ) -> None:
        state = CliState(bind_level=spec.level, level=spec.level)
        ctx = Context(
            self.runtime,
            state,
            env=self.env,
            sockets=self.sockets,
            version=self.version,
            cli_sessions=self.cli_sessions,
        )
        session = CliSession(ctx)
        while not session.closed:
            limit = state.timeout or self.timeout
            try:
                async with asyncio.timeout(limit):
                    data = await reader.read(READ_CHUNK)
            except TimeoutError:
                return  # a silent client
            answer = session.feed(data, eof=not data)
            if answer:
                writer.write(answer)
                async with asyncio.timeout(limit):
                    await writer.drain()
            if not data:
                return
        await self._linger(reader, writer)

    async def _linger(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Shut our side down and read what the client still sends for a moment, so that
        closing a socket with unread input (which sends a reset) cannot destroy the answer."""
        if writer.can_write_eof():
            writer.write_eof()
        with contextlib.suppress(TimeoutError, ConnectionError, OSError):
            async with asyncio.timeout(DRAIN_AFTER_CLOSE):
                while await reader.read(READ_CHUNK):
                    pass
