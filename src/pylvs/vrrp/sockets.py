"""Raw VRRP sockets: one per (family, interface, unicast or multicast), as keepalived's sockpool.

keepalived vrrp/vrrp_if.c and vrrp.c (reference §4.2):
* IPv4: `socket(AF_INET, SOCK_RAW, IPPROTO_VRRP)` with IP_HDRINCL — pylvs builds the header with
  `packet.encode_ipv4` (tos 0xc0, TTL 255 or `unicast_ttl`) — multicast loop off,
  IP_MULTICAST_IF the interface, multicast sent with MSG_DONTROUTE; received datagrams keep
  their IP header, so the checks read TTL and destination from it.
* IPv6: the kernel builds the header; IPV6_CHECKSUM at offset 6 makes it compute (and verify)
  the checksum, hop limit 255, the source chosen per datagram with an IPV6_PKTINFO cmsg;
  IPV6_RECVPKTINFO and IPV6_RECVHOPLIMIT give the destination and hop limit of received ones.
* every socket is bound to its interface (SO_BINDTODEVICE); a multicast socket joins the VRRP
  group (224.0.0.18 / ff02::12, or the configured one) on that interface.
Received adverts are handed to the instances registered with the advert's VRID; unicast
instances sharing a VRID are told apart by the source address being one of their peers
(vrrp_scheduler.c `vrrp_dispatcher_read`).  Each carries the kernel's receive time
(SO_TIMESTAMPNS, socket(7)) turned into monotonic microseconds: the master-down timer starts
when the advert arrived, not when Python got round to reading it (RFC 5798 §6.4.2 resets the
timer on receipt).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pylvs.proto.vrrp.packet import IPPROTO_VRRP, VRRP_IP_TTL, IPAddress, encode_ipv4, peek_vrid

log = logging.getLogger("pylvs.vrrp")

IPV6_CHECKSUM = 7  # include/uapi/linux/in6.h (not exported by Python's socket module)
# asm-generic/socket.h SO_TIMESTAMPNS_OLD (= SCM_TIMESTAMPNS): a struct timespec of two longs.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
TIMESPEC = struct.Struct("@ll")
MAX_PACKET = 4096
SOL_IPV6 = socket.IPPROTO_IPV6
WIRE_CACHE = 64
ANCILLARY = socket.CMSG_SPACE(20) + socket.CMSG_SPACE(4) + socket.CMSG_SPACE(TIMESPEC.size)


def received_at(stamp: bytes) -> int | None:
    """A CLOCK_REALTIME kernel timestamp -> monotonic microseconds, None when implausible
    (the wall clock was stepped, or the datagram sat queued for over a second)."""
    if len(stamp) < TIMESPEC.size:
        return None
    sec, nsec = TIMESPEC.unpack_from(stamp)
    age: int = time.time_ns() - (sec * 1_000_000_000 + nsec)
    if not 0 <= age < 1_000_000_000:
        return None
    return (time.monotonic_ns() - age) // 1000


@dataclass(frozen=True, slots=True)
class SocketKey:
    family: int  # 4 | 6
    interface: str
    unicast: bool


@dataclass(frozen=True, slots=True)
class Datagram:
    """What the state machine needs of a received advert (events.AdvertReceived's fields)."""

    data: bytes
    src: IPAddress
    dst: IPAddress | None
    hop_limit: int | None
    received_us: int | None = None  # monotonic arrival time, from the kernel's timestamp


Receiver = Callable[[Datagram], None]


@dataclass
class _Member:
    vrid: int
    peers: frozenset[IPAddress]
    receive: Receiver


@dataclass
class VrrpSocket:
    key: SocketKey
    ifindex: int
    sock: socket.socket
    members: list[_Member] = field(default_factory=list)
    groups: set[IPAddress] = field(default_factory=set)
    # IPv4 datagrams already built, by advert and addresses: a new master's first advert goes
    # out without building its header (the header has no varying field: id 0, vrrp_build_ip4).
    wire: dict[tuple[bytes, IPAddress, IPAddress, int], tuple[bytes, str]] = field(
        default_factory=dict
    )

    @classmethod
    def open(cls, key: SocketKey, ifindex: int) -> VrrpSocket:
        fam = socket.AF_INET if key.family == 4 else socket.AF_INET6
        sock = socket.socket(fam, socket.SOCK_RAW, IPPROTO_VRRP)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, key.interface.encode())
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            if key.family == 4:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
                mreqn = struct.pack("4s4si", bytes(4), bytes(4), ifindex)
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn)
            else:
                sock.setsockopt(SOL_IPV6, IPV6_CHECKSUM, 6)
                sock.setsockopt(SOL_IPV6, socket.IPV6_RECVPKTINFO, 1)
                sock.setsockopt(SOL_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
                sock.setsockopt(SOL_IPV6, socket.IPV6_MULTICAST_HOPS, VRRP_IP_TTL)
                sock.setsockopt(SOL_IPV6, socket.IPV6_UNICAST_HOPS, VRRP_IP_TTL)
                sock.setsockopt(SOL_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
                sock.setsockopt(SOL_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
        except OSError:
            sock.close()
            raise
        return cls(key, ifindex, sock)

    def join(self, group: IPAddress) -> None:
        if group in self.groups or self.key.unicast:
            return
        if group.version == 4:
            mreqn = struct.pack("4s4si", group.packed, bytes(4), self.ifindex)
            self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
        else:
            mreq6 = group.packed + struct.pack("@I", self.ifindex)
            self.sock.setsockopt(SOL_IPV6, socket.IPV6_JOIN_GROUP, mreq6)
        self.groups.add(group)

    # --- sending ---------------------------------------------------------------------------

    def prepare(
        self, message: bytes, src: IPAddress, dst: IPAddress, ttl: int
    ) -> tuple[bytes, str] | None:
        """The IPv4 datagram (header built here, IP_HDRINCL) and destination for `message`,
        kept for the next send; None for IPv6, whose header the kernel builds."""
        if not (isinstance(src, ipaddress.IPv4Address) and isinstance(dst, ipaddress.IPv4Address)):
            return None
        key = (message, src, dst, ttl)
        wire = self.wire.get(key)
        if wire is None:
            if len(self.wire) >= WIRE_CACHE:
                self.wire.clear()
            wire = self.wire[key] = (encode_ipv4(message, src, dst, ttl=ttl), str(dst))
        return wire

    def sender(
        self, message: bytes, src: IPAddress, dst: IPAddress, ttl: int
    ) -> Callable[[], object] | None:
        """What `send(message, src, dst, ttl)` does, bound ahead (IPv4 only, else None)."""
        wire = self.prepare(message, src, dst, ttl)
        if wire is None:
            return None
        flags = 0 if self.key.unicast else socket.MSG_DONTROUTE
        return functools.partial(self.sock.sendto, wire[0], flags, (wire[1], 0))

    def send(self, message: bytes, src: IPAddress, dst: IPAddress, ttl: int) -> None:
        """Send one VRRP message (already checksummed for IPv4) from `src` to `dst`."""
        flags = 0 if self.key.unicast else socket.MSG_DONTROUTE
        wire = self.prepare(message, src, dst, ttl)
        if wire is not None:
            self.sock.sendto(wire[0], flags, (wire[1], 0))
            return
        pktinfo = src.packed + struct.pack("@I", self.ifindex)
        cmsgs = [(SOL_IPV6, socket.IPV6_PKTINFO, pktinfo)]
        if self.key.unicast:
            cmsgs.append((SOL_IPV6, socket.IPV6_HOPLIMIT, struct.pack("@i", ttl)))
        self.sock.sendmsg([message], cmsgs, flags, (str(dst), 0, 0, self.ifindex))

    # --- receiving -------------------------------------------------------------------------

    def register(self, vrid: int, peers: frozenset[IPAddress], receive: Receiver) -> None:
        self.members.append(_Member(vrid, peers, receive))

    def unregister(self, receive: Receiver) -> None:
        self.members = [m for m in self.members if m.receive is not receive]

    def read_ready(self) -> None:
        """Drain the socket (called by the event loop when it is readable)."""
        for _ in range(64):  # bounded: let timers run between bursts
            try:
                dgram = self._recv()
            except BlockingIOError:
                return
            except OSError as exc:
                log.warning("VRRP receive on %s failed: %s", self.key.interface, exc)
                return
            if dgram is not None:
                self.dispatch(dgram)

    def _recv(self) -> Datagram | None:
        data, anc, _flags, addr = self.sock.recvmsg(MAX_PACKET, ANCILLARY)
        dst: IPAddress | None = None
        hops: int | None = None
        at: int | None = None
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                at = received_at(value)
            elif level == SOL_IPV6 and kind == socket.IPV6_PKTINFO and len(value) >= 16:
                dst = ipaddress.IPv6Address(value[:16])
            elif level == SOL_IPV6 and kind == socket.IPV6_HOPLIMIT and len(value) >= 4:
                hops = struct.unpack("@i", value[:4])[0]
        if self.key.family == 4:
            return Datagram(data, ipaddress.IPv4Address(addr[0]), None, None, at)
        src = ipaddress.IPv6Address(addr[0].split("%", 1)[0])
        return Datagram(data, src, dst, hops, at)

    def dispatch(self, dgram: Datagram) -> None:
        offset = (dgram.data[0] & 0x0F) * 4 if self.key.family == 4 and dgram.data else 0
        vrid = peek_vrid(dgram.data[offset:])
        if vrid is None:
            return
        found = [m for m in self.members if m.vrid == vrid]
        if len(found) > 1 and self.key.unicast:
            found = [m for m in found if dgram.src in m.peers] or found[:1]
        for m in found[:1]:
            m.receive(dgram)

    def close(self) -> None:
        self.sock.close()


class SocketPool:
    """The open VRRP sockets, shared by the instances on the same (family, interface, mode)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.sockets: dict[SocketKey, VrrpSocket] = {}

    def get(self, key: SocketKey, ifindex: int) -> VrrpSocket:
        vs = self.sockets.get(key)
        if vs is None or vs.ifindex != ifindex:
            if vs is not None:
                self.release(key, force=True)
            vs = VrrpSocket.open(key, ifindex)
            self.sockets[key] = vs
            self.loop.add_reader(vs.sock.fileno(), vs.read_ready)
        return vs

    def release(self, key: SocketKey, *, force: bool = False) -> None:
        vs = self.sockets.get(key)
        if vs is None or (vs.members and not force):
            return
        self.loop.remove_reader(vs.sock.fileno())
        vs.close()
        del self.sockets[key]

    def drain(self) -> None:
        """Read every socket now, without waiting for the event loop to report it readable."""
        for vs in list(self.sockets.values()):
            vs.read_ready()

    def close(self) -> None:
        for key in list(self.sockets):
            self.release(key, force=True)
