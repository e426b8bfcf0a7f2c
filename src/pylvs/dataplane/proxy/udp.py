"""The UDP side of the proxy: per-client flows, each with its own connected backend socket.

IPVS keys a UDP "connection" like TCP (client address/port -> virtual address/port) and keeps
it for the udp timeout (300 s by default), re-armed by every packet in either direction
(ip_vs_proto_udp.c).  Here a flow is that table entry plus a UDP socket connected to the chosen
real server; datagrams from the client go out through it and whatever the real server sends
back is relayed to the client from the service's own socket, so the client sees replies from
the virtual address (full NAT).  When the table entry expires the socket is closed.

One-packet scheduling (`-o`, IP_VS_SVC_F_ONEPACKET): every datagram is scheduled on its own and
its table entry is released at once (IP_VS_CONN_F_ONE_PACKET), so nothing shows in
`ipvsadm -c` and the dest's InActConn goes up and straight down.  So that replies still reach
the client, the proxy keeps one reply socket per (client, real server) pair outside the table;
it is closed after the udp timeout without traffic.

A datagram that cannot be sent right now (socket buffer full) is dropped, as a router would.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any, cast

from pylvs.dataplane.service import ServiceRuntime
from pylvs.model.dest import Destination
from pylvs.model.service import Address
from pylvs.model.stats import Counters, Stats
from pylvs.proto.conntrack.table import Conn
from pylvs.sched.base import Flow

from .context import ProxyContext, log

_BATCH = 64  # datagrams read per wake-up from one backend socket, to stay fair


class UdpListener(asyncio.DatagramProtocol):
    """A UDP virtual service: the service socket and its flows."""

    def __init__(self, ctx: ProxyContext, runtime: ServiceRuntime, sock: socket.socket) -> None:
        self.ctx = ctx
        self.runtime = runtime
        self.sock = sock
        host, port = sock.getsockname()[:2]
        self.address: tuple[Address, int] = (ipaddress.ip_address(host), port)
        self.transport: asyncio.DatagramTransport | None = None
        self.flows: dict[tuple[str, int], UdpFlow] = {}
        self.ops_paths: dict[tuple[str, int, Address, int], UdpFlow] = {}

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, sock=self.sock)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's own datagram transport does not subclass DatagramTransport (3.11).
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        key = (addr[0], addr[1])
        now = self.ctx.clock()
        flow = self.flows.get(key)
        if flow is None:
            # One-packet scheduling is a property of new connections (IP_VS_CONN_F_ONE_PACKET
            # is fixed when one is made): a flow made before `-E ... -o` is looked up first
            # (ip_vs_in_hook) and keeps its server until it expires.
            if self.runtime.service.one_packet:
                self._one_packet(data, addr, key, now)
                return
            flow = self._new_flow(addr, key, now)
            if flow is None:
                return
        flow.forward(data, now)

    def error_received(self, exc: Exception) -> None:
        log.debug("%s: %s", self.runtime.key, exc)

    def _schedule(self, key: tuple[str, int], now: float) -> Conn | None:
        try:
            client = ipaddress.ip_address(key[0])
        except ValueError:
            return None
        vaddr, vport = self.address
        rt = self.runtime
        conn = rt.open_conn(self.ctx.state.table, Flow(client, key[1], vaddr, vport, 17), now)
        if conn is None:
            rt.stats.errors += 1
            self.ctx.drop("no_destination")
            log.debug("%s: no destination available", rt.key)
        return conn

    def _new_flow(self, addr: Any, key: tuple[str, int], now: float) -> UdpFlow | None:
        conn = self._schedule(key, now)
        if conn is None:
            return None
        flow = self._open(addr, conn.dest, conn.dport, conn)
        if flow is None:
            self.ctx.state.table.drop(conn)
            return None
        conn.on_expire = flow.expired
        self.flows[key] = flow
        return flow

    def _one_packet(self, data: bytes, addr: Any, key: tuple[str, int], now: float) -> None:
        conn = self._schedule(key, now)
        if conn is None:
            return
        dest, dport = conn.dest, conn.dport
        self.ctx.state.table.release(conn)
        path_key = (key[0], key[1], dest.address, dport)
        path = self.ops_paths.get(path_key)
        if path is None:
            path = self._open(addr, dest, dport, None)
            if path is None:
                return
            path.path_key = path_key
            self.ops_paths[path_key] = path
        path.forward(data, now)

    def _open(self, addr: Any, dest: Destination, dport: int, conn: Conn | None) -> UdpFlow | None:
        rt = self.runtime
        family = socket.AF_INET if dest.address.version == 4 else socket.AF_INET6
        ctx = self.ctx
        if ctx.loops and dest in ctx.loops:  # it would come back to a listener (plane.py)
            rt.stats.errors += 1
            rt.stats_of(dest).errors += 1
            return None
        fds = ctx.fds
        if not fds.take(1):  # at the descriptor cap (logged there): drop this datagram
            rt.stats.errors += 1
            ctx.drop("descriptor_cap")
            return None
        try:
            sock = socket.socket(family, socket.SOCK_DGRAM)
        except OSError as exc:  # EMFILE / ENFILE: drop this datagram, keep serving others
            fds.give(1)
            rt.stats.errors += 1
            ctx.drop("descriptor_error")
            log.warning("%s: cannot open a backend socket: %s", rt.key, exc)
            return None
        try:
            sock.setblocking(False)
            sock.connect((str(dest.address), dport))
        except OSError as exc:
            fds.give(1)
            sock.close()
            rt.stats.errors += 1
            rt.stats_of(dest).errors += 1
            log.debug("%s: real server %s:%d unreachable: %s", rt.key, dest.address, dport, exc)
            return None
        return UdpFlow(self, addr, sock, conn, rt.stats_of(dest))

    def housekeep(self, now: float) -> None:
        """Close one-packet reply paths idle for longer than the udp timeout."""
        if not self.ops_paths:
            return
        limit = self.ctx.state.table.timeouts.udp
        for path in [p for p in self.ops_paths.values() if now - p.last_used >= limit]:
            path.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        else:
            self.sock.close()

    def abort_all(self) -> None:
        for flow in [*self.flows.values(), *self.ops_paths.values()]:
            flow.close()


class UdpFlow:
    """One client's flow to one real server through a connected UDP socket."""

    __slots__ = (
        "client_addr",
        "conn",
        "dead",
        "dest_stats",
        "dst",
        "last_used",
        "listener",
        "loop",
        "path_key",
        "sock",
        "svc",
    )

    def __init__(
        self,
        listener: UdpListener,
        client_addr: Any,
        sock: socket.socket,
        conn: Conn | None,
        dest_stats: Stats,
    ) -> None:
        self.listener = listener
        self.client_addr = client_addr
        self.sock = sock
        self.conn = conn
        self.svc: Counters = listener.runtime.stats.counters
        self.dest_stats = dest_stats
        self.dst: Counters = dest_stats.counters
        self.dead = False
        self.last_used = listener.ctx.clock()
        self.path_key: tuple[str, int, Address, int] | None = None
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(sock.fileno(), self._readable)

    def forward(self, data: bytes, now: float) -> None:
        """A datagram from the client: send it on to the real server."""
        conn = self.conn
        if conn is not None and not conn.dest.available:
            # Its real server was deleted: IPVS drops the client's packets without re-arming
            # the entry (ip_vs_in_hook, expire_nodest_conn = 0), so the flow ends on its timer
            # and the client's next datagram is scheduled afresh.
            self.listener.ctx.drop("destination_deleted")
            return
        try:
            self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            self.listener.ctx.drop("send_buffer_full")
            return  # dropped, as a router whose queue is full drops
        except OSError as exc:  # e.g. ECONNREFUSED left by an ICMP port unreachable
            self._error(exc)
            return
        n = len(data)
        self.svc.inpkts += 1
        self.svc.inbytes += n
        self.dst.inpkts += 1
        self.dst.inbytes += n
        self.last_used = now
        if self.conn is not None:
            self.listener.ctx.state.table.udp_packet(self.conn, now)

    def _readable(self) -> None:
        listener = self.listener
        transport = listener.transport
        size = listener.ctx.udp_read_size
        for _ in range(_BATCH):
            try:
                data = self.sock.recv(size)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._error(exc)
                return
            if transport is None or transport.is_closing():
                continue
            n = len(data)
            self.svc.outpkts += 1
            self.svc.outbytes += n
            self.dst.outpkts += 1
            self.dst.outbytes += n
            now = listener.ctx.clock()
            self.last_used = now
            if self.conn is not None:
                listener.ctx.state.table.udp_packet(self.conn, now, reply=True)
            transport.sendto(data, self.client_addr)

    def _error(self, exc: OSError) -> None:
        self.listener.runtime.stats.errors += 1
        self.dest_stats.errors += 1
        log.debug("%s: real server error: %s", self.listener.runtime.key, exc)

    def expired(self, conn: Conn) -> None:
        """The table entry timed out: the flow is over."""
        self.close()

    def close(self) -> None:
        if self.dead:
            return
        self.dead = True
        listener = self.listener
        if not self.loop.is_closed():
            self.loop.remove_reader(self.sock.fileno())
        self.sock.close()
        listener.ctx.fds.give(1)
        if self.path_key is not None:
            listener.ops_paths.pop(self.path_key, None)
        else:
            key = (self.client_addr[0], self.client_addr[1])
            if listener.flows.get(key) is self:
                del listener.flows[key]
        if self.conn is not None:
            # Closed before its timer (stop, abort): the table entry goes too.
            listener.ctx.state.table.drop(self.conn)
