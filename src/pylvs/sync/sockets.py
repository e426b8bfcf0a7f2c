"""The sync daemons' UDP multicast sockets, made as net/netfilter/ipvs/ip_vs_sync.c makes them.

* Master (make_send_sock): the group's family; the interface as the multicast output
  interface; multicast loop off (a host never hears its own stream); the daemon's TTL / hop
  limit; path-MTU discovery off (IP_PMTUDISC_DONT: a large message may be fragmented);
  SO_SNDBUF from sync_sock_size (past wmem_max, as set_sock_size writes sk_sndbuf); IPv4
  sockets bound to the interface's primary address (inet_select_addr; the kernel warns and
  goes on unbound without one), and connected to group:port+thread.
* Backup (make_receive_sock): SO_REUSEADDR, SO_RCVBUF from sync_sock_size (past rmem_max),
  bound to the interface (SO_BINDTODEVICE) and to group:port+thread, the group joined on the
  interface. pylvs also asks for SO_RXQ_OVFL, so datagrams the kernel dropped because the
  socket's queue was full (a flood, or a stall) are counted.

`Link` reads what the kernel reads of the interface: its index, MTU (for sync_maxlen) and
addresses (the IPv4 bind, and the backup's own addresses for the foreign-sender check).
"""

from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
from dataclasses import dataclass

from pylvs.model.service import Address
from pylvs.model.syncd import SyncDaemon

SIOCGIFADDR = 0x8915
SIOCGIFMTU = 0x8921
IP_MTU_DISCOVER = 10
IPV6_MTU_DISCOVER = 23
PMTUDISC_DONT = 0
SO_RXQ_OVFL = 40
SO_SNDBUFFORCE = 32
SO_RCVBUFFORCE = 33
SOL_IPV6 = socket.IPPROTO_IPV6


class LinkError(OSError):
    """The interface cannot carry the sync (its message is the kernel's log line)."""


@dataclass(frozen=True, slots=True)
class Link:
    name: str
    index: int
    mtu: int
    ipv4: ipaddress.IPv4Address | None  # the primary address (inet_select_addr)
    addresses: frozenset[Address]

    @classmethod
    def read(cls, name: str) -> Link:
        try:
            index = socket.if_nametoindex(name)
        except OSError:
            raise LinkError(f"Unknown mcast interface: {name}") from None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            ifreq = struct.pack("16s16x", name.encode()[:15])
            mtu = struct.unpack_from("@i", fcntl.ioctl(probe, SIOCGIFMTU, ifreq), 16)[0]
            try:
                got = fcntl.ioctl(probe, SIOCGIFADDR, ifreq)
                ipv4: ipaddress.IPv4Address | None = ipaddress.IPv4Address(got[20:24])
            except OSError:  # EADDRNOTAVAIL: no IPv4 address on it
                ipv4 = None
        addresses: set[Address] = set(_ipv6_addresses(name))
        if ipv4 is not None:
            addresses.add(ipv4)
        return cls(name, index, mtu, ipv4, frozenset(addresses))


def _ipv6_addresses(name: str) -> list[ipaddress.IPv6Address]:
    """The interface's IPv6 addresses (/proc/net/if_inet6 of the calling thread's netns)."""
    out = []
    try:
        with open("/proc/thread-self/net/if_inet6") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and parts[5] == name:
                    out.append(ipaddress.IPv6Address(bytes.fromhex(parts[0])))
    except OSError:
        pass  # no IPv6 in this kernel
    return out


def _set_size(sock: socket.socket, force: int, plain: int, size: int) -> None:
    """The buffer size as the kernel's set_sock_size sets it (past net.core.[rw]mem_max);
    the capped option where the process may not (no CAP_NET_ADMIN)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, force, size)
    except PermissionError:
        sock.setsockopt(socket.SOL_SOCKET, plain, size)


def _family(daemon: SyncDaemon) -> socket.AddressFamily:
    return socket.AF_INET6 if daemon.family == 6 else socket.AF_INET


SockAddr = tuple[str, int] | tuple[str, int, int, int]


def _sockaddr(daemon: SyncDaemon, link: Link, thread: int) -> SockAddr:
    group, port = daemon.destination(thread)
    if group.version == 6:
        return (str(group), port, 0, link.index)
    return (str(group), port)


def send_socket(daemon: SyncDaemon, link: Link, thread: int, sock_size: int = 0) -> socket.socket:
    """make_send_sock: a connected, non-blocking UDP socket for master thread `thread`."""
    sock = socket.socket(_family(daemon), socket.SOCK_DGRAM)
    try:
        if daemon.family == 6:
            sock.setsockopt(SOL_IPV6, socket.IPV6_MULTICAST_IF, link.index)
            sock.setsockopt(SOL_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
            sock.setsockopt(SOL_IPV6, socket.IPV6_MULTICAST_HOPS, daemon.mcast_ttl or 1)
            sock.setsockopt(SOL_IPV6, IPV6_MTU_DISCOVER, PMTUDISC_DONT)
        else:
            mreqn = struct.pack("4s4si", bytes(4), bytes(4), link.index)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, daemon.mcast_ttl or 1)
            sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, PMTUDISC_DONT)
        if sock_size > 0:
            _set_size(sock, SO_SNDBUFFORCE, socket.SO_SNDBUF, sock_size)
        if daemon.family == 4:
            sock.bind((str(link.ipv4) if link.ipv4 is not None else "0.0.0.0", 0))
        sock.connect(_sockaddr(daemon, link, thread))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def receive_socket(
    daemon: SyncDaemon, link: Link, thread: int, sock_size: int = 0
) -> socket.socket:
    """make_receive_sock: a non-blocking UDP socket in the group for backup thread `thread`."""
    sock = socket.socket(_family(daemon), socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if sock_size > 0:
            _set_size(sock, SO_RCVBUFFORCE, socket.SO_RCVBUF, sock_size)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, link.name.encode())
        sock.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
        sock.bind(_sockaddr(daemon, link, thread))
        group, _ = daemon.destination(thread)
        if group.version == 6:
            mreq6 = group.packed + struct.pack("@I", link.index)
            sock.setsockopt(SOL_IPV6, socket.IPV6_JOIN_GROUP, mreq6)
        else:
            mreqn = struct.pack("4s4si", group.packed, bytes(4), link.index)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
