"""The master and backup sync daemons: proto/sync's machines on real sockets in asyncio.

`Master` owns a `Sender` and one socket per sync thread (sync_ports).  The data plane calls
`packet(conn)` after each input packet it handled, or, when it sees its table rather than
packets, `observe(conns)` each round, and `expire_later(conn)` for a template re-armed
while it controls connections; the messages that fill are sent at once, partly
filled ones by a timer at the sender's deadline (at most 2 s after their first record, as
the kernel's master thread).  A socket that cannot take a message keeps it in a queue of
at most `qlen_max` messages, sent when it is writable again; beyond that messages are
dropped and counted (sync_qlen_max).  Closing drops what was not sent (stop_sync_thread).

`Backup` owns a `Receiver` over the plane's table and one socket per sync thread; each
readable socket is drained a bounded number of datagrams at a time (a flood cannot starve
the event loop's timers: VRRP adverts, checks), each read at most `maxlen` bytes, so a
larger message arrives truncated and is refused for its size, as the kernel's backup does.
The datagrams the kernel dropped for a full queue are counted (SO_RXQ_OVFL).

Both read `now` from `clock`, which must be the clock of the table they work on.
"""

from __future__ import annotations

import asyncio
import collections
import ipaddress
import logging
import socket
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from pylvs.model.syncd import SyncDaemon, SyncState
from pylvs.proto.conntrack.table import Conn
from pylvs.proto.sync.marks import Marks
from pylvs.proto.sync.receiver import Policy, Receiver, Target
from pylvs.proto.sync.sender import Sender, SendMessage
from pylvs.proto.sync.settings import Sysctls
from pylvs.sync.sockets import SO_RXQ_OVFL, Link, receive_socket, send_socket

log = logging.getLogger("pylvs.sync")

DEFAULT_QLEN_MAX = 1024  # the kernel's default follows free memory (1/32 of the pages)
READ_BATCH = 64
OVERFLOW = struct.Struct("@I")


@dataclass
class MasterStats:
    sent: int = 0  # messages handed to the kernel
    queued: int = 0  # messages that waited for a writable socket
    dropped: int = 0  # messages dropped: the queue was full, or the daemon stopped
    errors: int = 0  # send errors other than "would block"


class Master:
    """A running master daemon."""

    def __init__(
        self,
        daemon: SyncDaemon,
        sysctls: Sysctls,
        sender: Sender,
        socks: list[socket.socket],
        clock: Callable[[], float],
    ) -> None:
        self.daemon = daemon
        self.sysctls = sysctls
        self.sender = sender
        self.clock = clock
        self.stats = MasterStats()
        self._socks = socks
        self._queues: list[collections.deque[bytes]] = [collections.deque() for _ in socks]
        self._qlen_max = sysctls.qlen_max or DEFAULT_QLEN_MAX
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None

    @classmethod
    def open(
        cls,
        daemon: SyncDaemon,
        sysctls: Sysctls,
        *,
        marks: Marks | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> Master:
        """Start a master on `daemon.mcast_ifn` (in a running event loop)."""
        daemon, _, socks = _start(daemon, SyncState.MASTER, sysctls)
        sender = Sender(sysctls, syncid=daemon.syncid, maxlen=daemon.sync_maxlen, marks=marks)
        return cls(daemon, sysctls, sender, socks, clock)

    # -- what the data plane tells ----------------------------------------------------

    def packet(self, conn: Conn, *, one_packet: bool = False) -> None:
        self._send(self.sender.packet(conn, self.clock(), one_packet=one_packet))

    def expire_later(self, conn: Conn) -> None:
        self._send(self.sender.expire_later(conn, self.clock()))

    def observe(self, conns: Iterable[Conn]) -> None:
        """A table-watching plane's entries as they are now (Sender.observed)."""
        now = self.clock()
        out = []
        for conn in conns:
            if not conn.dead:
                out += self.sender.observed(conn, now)
        self._send(out)

    def set_sysctls(self, sysctls: Sysctls) -> None:
        """New sync sysctls (the number of threads is fixed while the daemon runs)."""
        self.sysctls = replace(sysctls, ports=self.sysctls.ports)
        self.sender.sysctls = self.sysctls

    def flush(self) -> None:
        """Send every partly filled message now (before a graceful hand-over; the kernel
        has no such call and loses them on stop)."""
        self._send(self.sender.flush())

    def close(self) -> None:
        self.stats.dropped += sum(len(q) for q in self._queues) + self.sender.stop()
        if self._timer is not None:
            self._timer.cancel()
        for sock in self._socks:
            self._loop.remove_writer(sock)
            sock.close()
        self._socks = []

    # -- sending ----------------------------------------------------------------------

    def _send(self, messages: list[SendMessage]) -> None:
        for message in messages:
            self._put(message.thread, message.data)
        self._arm()

    def _put(self, thread: int, data: bytes) -> None:
        queue = self._queues[thread]
        if queue:
            self._enqueue(thread, data)
            return
        try:
            self._socks[thread].send(data)
        except BlockingIOError:
            self._enqueue(thread, data)
            self._loop.add_writer(self._socks[thread], self._drain, thread)
        except OSError as exc:
            self.stats.errors += 1
            log.warning("sync send on %s failed: %s", self.daemon.mcast_ifn, exc)
        else:
            self.stats.sent += 1

    def _enqueue(self, thread: int, data: bytes) -> None:
        queue = self._queues[thread]
        if len(queue) >= self._qlen_max:
            self.stats.dropped += 1
            return
        queue.append(data)
        self.stats.queued += 1

    def _drain(self, thread: int) -> None:
        queue, sock = self._queues[thread], self._socks[thread]
        while queue:
            try:
                sock.send(queue[0])
            except BlockingIOError:
                return
            except OSError as exc:
                self.stats.errors += 1
                log.warning("sync send on %s failed: %s", self.daemon.mcast_ifn, exc)
            else:
                self.stats.sent += 1
            queue.popleft()
        self._loop.remove_writer(sock)

    def _arm(self) -> None:
        deadline = self.sender.next_deadline()
        if deadline is None or deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = self._loop.call_later(max(0.0, deadline - self.clock()), self._tick)

    def _tick(self) -> None:
        self._timer = self._timer_at = None
        self._send(self.sender.tick(self.clock()))


class Backup:
    """A running backup daemon."""

    def __init__(
        self,
        daemon: SyncDaemon,
        receiver: Receiver,
        socks: list[socket.socket],
        clock: Callable[[], float],
    ) -> None:
        self.daemon = daemon
        self.receiver = receiver
        self.clock = clock
        self.overflow = 0  # datagrams the kernel dropped before we could read them
        self._socks = socks
        self._seen_overflow = [0 for _ in socks]
        self._loop = asyncio.get_running_loop()
        for i, sock in enumerate(socks):
            self._loop.add_reader(sock, self._readable, i)

    @classmethod
    def open(
        cls,
        daemon: SyncDaemon,
        policy: Policy,
        target: Target,
        *,
        sysctls: Sysctls | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> Backup:
        """Start a backup on `daemon.mcast_ifn` (in a running event loop); its own addresses
        join the policy's, so its own stream never comes back to it as a peer's."""
        daemon, link, socks = _start(daemon, SyncState.BACKUP, sysctls or Sysctls())
        policy = replace(policy, syncid=daemon.syncid, own=policy.own | link.addresses)
        return cls(daemon, Receiver(policy, target), socks, clock)

    def close(self) -> None:
        for sock in self._socks:
            self._loop.remove_reader(sock)
            sock.close()
        self._socks = []

    def _readable(self, index: int) -> None:
        sock = self._socks[index]
        for _ in range(READ_BATCH):
            try:
                data, ancillary, _flags, addr = sock.recvmsg(
                    self.daemon.sync_maxlen, socket.CMSG_SPACE(OVERFLOW.size)
                )
            except BlockingIOError:
                return
            except OSError as exc:
                log.warning("sync receive on %s failed: %s", self.daemon.mcast_ifn, exc)
                return
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL:
                    self._count_overflow(index, OVERFLOW.unpack_from(value)[0])
            src = ipaddress.ip_address(addr[0].split("%", 1)[0])
            self.receiver.datagram(data, src, self.clock())

    def _count_overflow(self, index: int, total: int) -> None:
        # the kernel reports its running count (a u32) with each datagram
        seen = self._seen_overflow[index]
        self.overflow += (total - seen) & 0xFFFFFFFF
        self._seen_overflow[index] = total


def _start(
    daemon: SyncDaemon, role: SyncState, sysctls: Sysctls
) -> tuple[SyncDaemon, Link, list[socket.socket]]:
    """The daemon resolved on its interface, and one socket per sync thread
    (start_sync_thread)."""
    if daemon.state is not role:
        raise ValueError(f"not a {role} daemon")
    link = Link.read(daemon.mcast_ifn)
    daemon = daemon.resolve(link.mtu)
    make = send_socket if role is SyncState.MASTER else receive_socket
    socks: list[socket.socket] = []
    try:
        for thread in range(sysctls.ports):
            socks.append(make(daemon, link, thread, sysctls.sock_size))
    except OSError:
        for sock in socks:
            sock.close()
        raise
    log.info(
        "sync thread started: state = %s, mcast_ifn = %s, syncid = %d, maxlen = %d",
        role.name,
        daemon.mcast_ifn,
        daemon.syncid,
        daemon.sync_maxlen,
    )
    return daemon, link, socks
