"""The hot rtnetlink requests on a kept socket: interface lookups and address add/remove/dump.

A new master's first job is `ip addr add` of its VIPs; keepalived sends it on its one open
netlink socket (vrrp/vrrp_ipaddress.c `netlink_ipaddress`, core/keepalived_netlink.c
`netlink_talk`).  pyroute2's synchronous IPRoute costs about a millisecond a call (its own
asyncio loop in a worker thread), so the calls on the failover path and in the 100 ms poll go
through this module instead: one AF_NETLINK socket kept open, a request with NLM_F_ACK, the
answer read straight back — tens of microseconds.  The message layouts are
include/uapi/linux/netlink.h (`nlmsghdr`, `nlmsgerr`), rtnetlink.h and if_addr.h
(`ifaddrmsg`, IFA_* attributes, `ifa_cacheinfo`).  Interface index, flags and MAC come from
the SIOCGIFINDEX / SIOCGIFFLAGS / SIOCGIFHWADDR ioctls (include/uapi/linux/sockios.h), which
read the same `dev_get_flags` value RTM_GETLINK reports.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass

NLMSG_HDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
IFADDRMSG = struct.Struct("=BBBBi")  # family, prefixlen, flags, scope, index
RTATTR = struct.Struct("=HH")  # len, type
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 0x1, 0x2, 0x4
NLM_F_DUMP, NLM_F_EXCL, NLM_F_CREATE = 0x300, 0x200, 0x400
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL, IFA_BROADCAST, IFA_CACHEINFO, IFA_FLAGS = 1, 2, 3, 4, 6, 8
SIOCGIFFLAGS, SIOCGIFHWADDR, SIOCGIFINDEX = 0x8913, 0x8927, 0x8933
IFNAMSIZ, IFREQ_SIZE = 16, 40
INFINITY_LIFE_TIME = 0xFFFFFFFF


class NetlinkRefusedError(OSError):
    """The kernel refused a request: `errno` is its (positive) error number."""


@dataclass(frozen=True, slots=True)
class AddressRequest:
    """One RTM_NEWADDR / RTM_DELADDR, the fields keepalived's `netlink_ipaddress` fills."""

    index: int
    family: int  # socket.AF_INET | AF_INET6
    prefixlen: int
    local: ipaddress.IPv4Address | ipaddress.IPv6Address
    address: ipaddress.IPv4Address | ipaddress.IPv6Address  # the peer, else `local`
    scope: int = 0
    flags: int = 0
    label: str | None = None
    broadcast: ipaddress.IPv4Address | None = None
    preferred_lft: int | None = None  # seconds; valid_lft is then INFINITY_LIFE_TIME


def _attr(kind: int, payload: bytes) -> bytes:
    raw = RTATTR.pack(RTATTR.size + len(payload), kind) + payload
    return raw + bytes(-len(raw) % 4)


def address_message(req: AddressRequest) -> bytes:
    """The ifaddrmsg and its attributes (without the nlmsghdr)."""
    body = IFADDRMSG.pack(req.family, req.prefixlen, req.flags & 0xFF, req.scope, req.index)
    body += _attr(IFA_LOCAL, req.local.packed) + _attr(IFA_ADDRESS, req.address.packed)
    if req.label:
        body += _attr(IFA_LABEL, req.label.encode() + b"\0")
    if req.broadcast is not None:
        body += _attr(IFA_BROADCAST, req.broadcast.packed)
    if req.flags > 0xFF:  # the ifaddrmsg field is 8 bits; IFA_FLAGS carries the rest
        body += _attr(IFA_FLAGS, struct.pack("=I", req.flags))
    if req.preferred_lft is not None:
        info = struct.pack("=IIII", req.preferred_lft, INFINITY_LIFE_TIME, 0, 0)
        body += _attr(IFA_CACHEINFO, info)
    return body


def _attrs(data: bytes, offset: int) -> Iterator[tuple[int, bytes]]:
    while offset + RTATTR.size <= len(data):
        length, kind = RTATTR.unpack_from(data, offset)
        if length < RTATTR.size:
            return
        yield kind & 0x3FFF, data[offset + RTATTR.size : offset + length]
        offset += (length + 3) & ~3


def parse_addresses(
    payload: bytes, index: int
) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface | None:
    """One RTM_NEWADDR of a dump -> its address (IFA_LOCAL, else IFA_ADDRESS) if on `index`."""
    family, prefixlen, _flags, _scope, ifindex = IFADDRMSG.unpack_from(payload)
    if ifindex != index or family not in (socket.AF_INET, socket.AF_INET6):
        return None
    found = dict(_attrs(payload, IFADDRMSG.size))
    raw = found.get(IFA_LOCAL) or found.get(IFA_ADDRESS)
    if raw is None:
        return None
    return ipaddress.ip_interface((ipaddress.ip_address(raw), prefixlen))


class Rtnl:
    """One kept NETLINK_ROUTE socket, used from whichever thread holds its lock."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        # A kernel-side timeout (socket(7) SO_RCVTIMEO/SO_SNDTIMEO) rather than Python's,
        # which would poll(2) before every send and receive.
        timeout = struct.pack("@ll", 10, 0)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeout)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeout)
        self._sock.bind((0, 0))
        self._ioctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._seq = 0
        self._lock = threading.Lock()

    # --- interfaces ------------------------------------------------------------------------

    def index(self, dev: str) -> int | None:
        """SIOCGIFINDEX on the kept socket (if_nametoindex(3) opens a socket per call)."""
        got = self._ifreq(dev, SIOCGIFINDEX)
        return None if got is None else int(struct.unpack_from("=i", got, IFNAMSIZ)[0])

    def _ifreq(self, dev: str, request: int) -> bytes | None:
        name = dev.encode()
        if len(name) >= IFNAMSIZ:
            return None
        try:
            return fcntl.ioctl(self._ioctl, request, name.ljust(IFREQ_SIZE, b"\0"))
        except OSError:
            return None

    def flags_and_mac(self, dev: str) -> tuple[int, bytes] | None:
        """The interface's IFF_* flags and hardware address, None if it does not exist."""
        flags = self._ifreq(dev, SIOCGIFFLAGS)
        hw = self._ifreq(dev, SIOCGIFHWADDR)
        if flags is None or hw is None:
            return None
        return struct.unpack_from("=H", flags, IFNAMSIZ)[0], hw[IFNAMSIZ + 2 : IFNAMSIZ + 8]

    # --- requests --------------------------------------------------------------------------

    def _talk(self, kind: int, flags: int, body: bytes) -> list[bytes]:
        """Send one request; its answers' payloads until the ACK or NLMSG_DONE."""
        with self._lock:
            self._seq = self._seq + 1 & 0xFFFFFFFF
            seq = self._seq
            head = NLMSG_HDR.pack(NLMSG_HDR.size + len(body), kind, flags, seq, 0)
            self._sock.send(head + body)
            out: list[bytes] = []
            while True:
                data = self._sock.recv(1 << 16)
                offset = 0
                while offset + NLMSG_HDR.size <= len(data):
                    length, mtype, mflags, mseq, _pid = NLMSG_HDR.unpack_from(data, offset)
                    if length < NLMSG_HDR.size:
                        break
                    payload = data[offset + NLMSG_HDR.size : offset + length]
                    offset += (length + 3) & ~3
                    if mseq != seq:
                        continue  # an answer to an earlier request that timed out
                    if mtype == NLMSG_DONE:
                        return out
                    if mtype == NLMSG_ERROR:
                        code = -struct.unpack_from("=i", payload)[0]
                        if code:
                            raise NetlinkRefusedError(code, os.strerror(code))
                        return out
                    out.append(payload)
                    if not mflags & NLM_F_MULTI and not flags & NLM_F_ACK:
                        return out

    def add_address(self, req: AddressRequest, body: bytes | None = None) -> None:
        """RTM_NEWADDR; `body` is `address_message(req)` when the caller built it ahead."""
        flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
        self._talk(RTM_NEWADDR, flags, body if body is not None else address_message(req))

    def remove_address(self, req: AddressRequest) -> None:
        self._talk(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, address_message(req))

    def addresses(
        self, index: int
    ) -> tuple[ipaddress.IPv4Interface | ipaddress.IPv6Interface, ...]:
        """Every address of the interface, in the kernel's order (primary first)."""
        body = IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        found = (
            parse_addresses(m, index)
            for m in self._talk(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, body)
        )
        return tuple(a for a in found if a is not None)

    def close(self) -> None:
        self._sock.close()
        self._ioctl.close()
