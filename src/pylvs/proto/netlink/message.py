"""Netlink and generic netlink message framing, without I/O.

A netlink message is `struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid; }`
and its payload, padded to 4 bytes (include/uapi/linux/netlink.h).  One datagram may carry
several (a dump's NLM_F_MULTI parts, then NLMSG_DONE).  A generic netlink message's payload
starts with `struct genlmsghdr { u8 cmd; u8 version; u16 reserved; }`
(include/uapi/linux/genetlink.h), then the family's attributes.

The kernel answers a request with NLM_F_ACK by NLMSG_ERROR: a negative errno (0 = success)
and the request's header (`struct nlmsgerr`); a dump ends with NLMSG_DONE, whose payload is
an int that is 0 or, when the dump failed, a negative errno.  `parse` turns a datagram into
`Message`s, `Ack`s and `Done`s; it raises NetlinkDecodeError on a truncated one.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pylvs.proto.netlink.attrs import NetlinkDecodeError

NLMSG_HDR = struct.Struct("=IHHII")
GENL_HDR = struct.Struct("=BBH")
ERR_CODE = struct.Struct("=i")

NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE, NLMSG_OVERRUN = 1, 2, 3, 4
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_ROOT = 0x100
NLM_F_MATCH = 0x200
NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH
NLM_F_CAPPED = 0x100  # in an NLMSG_ERROR: the request's payload is left out
NLM_F_ACK_TLVS = 0x200  # in an NLMSG_ERROR: extended ack attributes follow


def align(length: int) -> int:
    return (length + 3) & ~3


@dataclass(frozen=True, slots=True)
class Message:
    """A generic netlink message: family (nlmsg_type), flags, seq, pid, cmd, version, body."""

    family: int
    flags: int
    seq: int
    pid: int
    cmd: int
    version: int
    body: bytes  # the attributes


@dataclass(frozen=True, slots=True)
class Ack:
    """NLMSG_ERROR: `error` is 0 (an acknowledgement) or a negative errno."""

    error: int
    seq: int


@dataclass(frozen=True, slots=True)
class Done:
    """NLMSG_DONE: the end of a dump; `error` is 0 or a negative errno."""

    error: int
    seq: int


Part = Message | Ack | Done


def genl_request(
    family: int, cmd: int, version: int, body: bytes, *, flags: int, seq: int, pid: int = 0
) -> bytes:
    """One generic netlink request (`genlmsg_put` + attributes, as libnl builds it)."""
    payload = GENL_HDR.pack(cmd, version, 0) + body
    length = NLMSG_HDR.size + len(payload)
    return NLMSG_HDR.pack(length, family, flags, seq, pid) + payload + bytes(align(length) - length)


def parse(data: bytes | memoryview) -> list[Part]:
    """The messages in one netlink datagram, in order."""
    buf = memoryview(data)
    out: list[Part] = []
    offset = 0
    while offset + NLMSG_HDR.size <= len(buf):
        length, mtype, flags, seq, pid = NLMSG_HDR.unpack_from(buf, offset)
        if length < NLMSG_HDR.size or offset + length > len(buf):
            raise NetlinkDecodeError(f"netlink message length {length} at {offset}")
        payload = buf[offset + NLMSG_HDR.size : offset + length]
        if mtype in (NLMSG_ERROR, NLMSG_DONE):
            error = ERR_CODE.unpack_from(payload)[0] if len(payload) >= ERR_CODE.size else 0
            out.append(Ack(error, seq) if mtype == NLMSG_ERROR else Done(error, seq))
        elif mtype not in (NLMSG_NOOP, NLMSG_OVERRUN):
            if len(payload) < GENL_HDR.size:
                raise NetlinkDecodeError("generic netlink message without its header")
            cmd, version, _ = GENL_HDR.unpack_from(payload)
            body = bytes(payload[GENL_HDR.size :])
            out.append(Message(mtype, flags, seq, pid, cmd, version, body))
        offset += align(length)
    return out
