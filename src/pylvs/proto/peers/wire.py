"""The peers protocol's framing: encoded integers, the hello and status lines, messages.

HAProxy 2.6's src/peers.c (intencode/intdecode, peer_prepare_*msg, peer_recv_msg) and
doc/peers-v2.0.txt.  After a TCP connect the client sends three lines (`HAProxyS 2.1`, the
name of the peer it believes it talks to, `<its own name> <pid> <relative pid>`) and the server
answers one status line (`200` or an error code); then both sides exchange messages of two
bytes (class, type), followed, for types >= 128 (the stick-table ones), by an encoded length
and that many bytes.

Integers are encoded on 1 to 10 bytes: below 240 one byte; else the first byte is
`value | 0xf0` and `(value - 240) >> 4` follows seven bits at a time, each byte but the last
with its top bit set (the value being reduced by 128 at each step).
"""

from __future__ import annotations

from dataclasses import dataclass

PROTO_NAME = "HAProxyS"
MAJOR, MINOR, DOWNGRADED_MINOR = 2, 1, 0

# Message classes and types (src/peers.c's enums).
CLASS_CONTROL, CLASS_ERROR, CLASS_STICKTABLE, CLASS_RESERVED = 0, 1, 10, 255
RESYNC_REQ, RESYNC_FINISHED, RESYNC_PARTIAL, RESYNC_CONFIRM, HEARTBEAT = 0, 1, 2, 3, 4
ERR_PROTOCOL, ERR_SIZELIMIT = 0, 1
UPDATE, INCUPDATE, DEFINE, SWITCH, ACK, UPDATE_TIMED, INCUPDATE_TIMED = range(0x80, 0x87)

# Status codes of the handshake (and the ones `show peers` prints for a connection's steps).
CONNECT_CODE, CONNECTED_CODE = 100, 110
SUCCESS, TRY_AGAIN = 200, 300
ERR_PROTO, ERR_VERSION, ERR_HOST, ERR_PEER = 501, 502, 503, 504

MAX_MESSAGE = 16384  # trash.size with tune.bufsize's default: a longer message is refused
_MIN2 = 0xF0


class TruncatedError(ValueError):
    """An encoded integer ran past the end of its buffer (intdecode's NULL cursor)."""


def intencode(value: int) -> bytes:
    """intencode: `value` (an unsigned 64-bit number) in 1 to 10 bytes."""
    value &= 0xFFFFFFFFFFFFFFFF
    if value < _MIN2:
        return bytes((value,))
    out = bytearray(((value & 0xFF) | _MIN2,))
    value = (value - _MIN2) >> 4
    while value >= 0x80:
        out.append((value & 0xFF) | 0x80)
        value = (value - 0x80) >> 7
    out.append(value)
    return bytes(out)


def intdecode(
    buf: bytes | bytearray | memoryview, pos: int, end: int | None = None
) -> tuple[int, int]:
    """intdecode: the value at `pos` and the position after it; TruncatedError past `end`."""
    end = len(buf) if end is None else end
    if pos >= end:
        raise TruncatedError
    value = buf[pos]
    pos += 1
    if value >= _MIN2:
        shift = 4
        while True:
            if pos >= end:
                raise TruncatedError
            byte = buf[pos]
            pos += 1
            value += byte << shift
            shift += 7
            if byte < 0x80:
                break
    return value & 0xFFFFFFFFFFFFFFFF, pos


# -- the handshake -------------------------------------------------------------------------


def hello(remote: str, local: str, pid: int, *, downgraded: bool = False) -> bytes:
    """peer_prepare_hellomsg: what the connecting side sends first."""
    minor = DOWNGRADED_MINOR if downgraded else MINOR
    return f"{PROTO_NAME} {MAJOR}.{minor}\n{remote}\n{local} {pid} 1\n".encode()


def status(code: int) -> bytes:
    return f"{code}\n".encode()


def version_of(line: str) -> tuple[int, int] | None:
    """peer_getline_version: the (major, minor) of a first hello line; None if it is not the
    protocol's (ERR_PROTO); the caller refuses another major or a newer minor (ERR_VERSION)."""
    if not line.startswith(PROTO_NAME + " "):
        return None
    text = line[len(PROTO_NAME) + 1 :]
    major, dot, minor = text.partition(".")
    if not dot or not major.isdigit() or not minor.isdigit():
        return (-1, -1)
    return int(major), int(minor)


def take_line(buf: bytearray) -> str | None:
    """peer_getline: the next line without its `\\r\\n` or `\\n` (None: not complete yet);
    the line is removed from `buf`."""
    n = buf.find(b"\n")
    if n < 0:
        return None
    line = bytes(buf[:n])
    del buf[: n + 1]
    if line.endswith(b"\r"):
        line = line[:-1]
    return line.decode("latin-1")


# -- messages ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """One message: its class and type and, for the stick-table ones, its payload."""

    cls: int
    type: int
    payload: bytes = b""


class MessageTooBigError(ValueError):
    """A stick-table message longer than the receive buffer (PEER_SESS_ST_ERRSIZE)."""


def take_message(buf: bytearray) -> Message | None:
    """peer_recv_msg: the next whole message, removed from `buf`; None while incomplete.
    MessageTooBigError for a length past MAX_MESSAGE, TruncatedError for a length encoded on more
    bytes than any 32-bit length takes."""
    if len(buf) < 2:
        return None
    cls, typ = buf[0], buf[1]
    if not typ & 0x80:
        del buf[:2]
        return Message(cls, typ)
    try:
        length, pos = intdecode(buf, 2, min(len(buf), 7))
    except TruncatedError:
        if len(buf) < 7:
            return None
        raise
    if length > MAX_MESSAGE:
        raise MessageTooBigError(length)
    if len(buf) < pos + length:
        return None
    payload = bytes(buf[pos : pos + length])
    del buf[: pos + length]
    return Message(cls, typ, payload)


def message(cls: int, typ: int, payload: bytes = b"") -> bytes:
    """A message on the wire (types >= 128 carry their payload's length)."""
    if typ & 0x80:
        return bytes((cls, typ)) + intencode(len(payload)) + payload
    return bytes((cls, typ))


def control(typ: int) -> bytes:
    return message(CLASS_CONTROL, typ)


def error(typ: int) -> bytes:
    return message(CLASS_ERROR, typ)


def switch(local_id: int) -> bytes:
    """peer_prepare_switchmsg's sibling: the table the next updates are about."""
    return message(CLASS_STICKTABLE, SWITCH, intencode(local_id))


def ack(remote_id: int, update: int) -> bytes:
    """peer_prepare_ackmsg: the last update taken from the remote table `remote_id`."""
    body = intencode(remote_id) + (update & 0xFFFFFFFF).to_bytes(4, "big")
    return message(CLASS_STICKTABLE, ACK, body)


def read_ack(payload: bytes) -> tuple[int, int]:
    table_id, pos = intdecode(payload, 0)
    if pos + 4 > len(payload):
        raise TruncatedError
    return table_id, int.from_bytes(payload[pos : pos + 4], "big")
