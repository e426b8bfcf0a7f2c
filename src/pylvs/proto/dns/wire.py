"""DNS messages as HAProxy 2.6's resolvers write and judge them (RFC 1035 §4.1; src/resolvers.c
`resolv_build_query`, `resolv_read_name`, `resolv_validate_dns_response`,
`resolv_str_to_dn_label`).

A query is one question with recursion desired and an EDNS0 OPT record (RFC 6891 §6.1.2)
announcing `accepted_payload_size`.  A response is judged in HAProxy's order, each failure
named as its counters name it: the rcode (nx, refused, other), exactly one question whose
name is the one asked (invalid), answers present (any_err), not truncated (truncated), each
answer owned by the name asked or by the last CNAME's target (invalid on the first, a
cname_error after), A/AAAA data of 4/16 bytes, a CNAME never last (cname_error); names may be
compressed, pointers only backwards and at most 100 deep, at most 255 bytes.  Whatever the
bytes, `validate` returns a verdict: it never raises.

SRV answers (RFC 2782): priority, weight, port and target (more than 6 bytes of data, the
next record read right after the target's name, as HAProxy reads it); the owner name is not
checked and a truncated SRV answer is still used.  For an SRV question the authority records
are skipped and the additional section's A/AAAA records kept with their owner name, with
HAProxy's walk: a record whose name cannot be read, or of another type, is passed over
without moving past its data.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

A, CNAME, AAAA, SRV, OPT = 1, 5, 28, 33, 41
CLASS_IN = 1
HEADER_SIZE = 12
MIN_RECORD_SIZE = 1 + 1 + 2 + 2  # DNS_MIN_RECORD_SIZE
MAX_NAME_SIZE = 255
_TRUNCATED, _RCODE = 0x0200, 0x000F
_NX_DOMAIN, _REFUSED = 3, 5

# Verdicts (RSLV_RESP_*), by the counter `show resolvers` adds them to
VALID = "valid"
INVALID = "invalid"  # also a question count other than 1 and a wrong name
NX = "nx"
REFUSED = "refused"
ANCOUNT_ZERO = "any_err"
CNAME_ERROR = "cname_error"
TRUNCATED = "truncated"
OTHER = "other"

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Record:
    """An answer record HAProxy keeps: A/AAAA with its address, CNAME with its target, SRV
    with its target, port, weight and priority; `name` is an additional record's owner."""

    type: int
    ttl: int
    address: IpAddress | None = None
    target: bytes = b""  # a CNAME's or SRV's target, in label form
    port: int = 0
    weight: int = 0
    priority: int = 0
    name: bytes = b""


@dataclass(frozen=True, slots=True)
class Response:
    verdict: str
    records: tuple[Record, ...] = ()
    qtype: int = 0
    additional: tuple[Record, ...] = ()


class _BadMessageError(Exception):
    """The message is malformed (RSLV_RESP_INVALID)."""


def to_label(host: str) -> bytes | None:
    """`www.haproxy.org` -> b"\\x03www\\x07haproxy\\x03org" (lower case, a trailing dot
    ignored); None for an empty label, one over 63 bytes or a name over 255."""
    if not host or len(host) > MAX_NAME_SIZE:
        return None
    labels = host.lower().removesuffix(".").split(".")
    out = bytearray()
    for label in labels:
        raw = label.encode("latin-1", "replace")
        if not raw or len(raw) > 63:
            return None
        out += bytes((len(raw),)) + raw
    return bytes(out)


def str_to_dn_label(host: str) -> bytes | None:
    """resolv_str_to_dn_label, as do-resolve converts any string: lower case, a trailing dot
    ignored, None only for two dots in a row (or a leading one); the characters and the
    labels' lengths are not checked ("" is the root, one zero byte)."""
    raw = host.encode("latin-1", "replace")
    out = bytearray(len(raw) + 1)
    offset = i = 0
    for i, c in enumerate(raw):
        if c == 0x2E:
            if i == offset:
                return None
            if i + 1 == len(raw):
                break
            out[offset] = (i - offset) & 0xFF
            offset = i + 1
            continue
        out[i + 1] = c + 32 if 0x41 <= c <= 0x5A else c
    else:
        i = len(raw)
    out[offset] = (i - offset) & 0xFF
    return bytes(out[: i + 1])


def to_text(label: bytes) -> str:
    """The label form back to a dotted lower-case name (resolv_dn_label_to_str)."""
    parts, i = [], 0
    while i < len(label):
        n = label[i]
        parts.append(label[i + 1 : i + 1 + n].decode("latin-1").lower())
        i += 1 + n
    return ".".join(parts)


def query(qid: int, qtype: int, payload_size: int, name: bytes) -> bytes:
    """One question, RD set, and the OPT record (resolv_build_query)."""
    header = struct.pack("!HHHHHH", qid & 0xFFFF, 0x0100, 1, 0, 0, 1)
    question = name + b"\0" + struct.pack("!HH", qtype, CLASS_IN)
    opt = b"\0" + struct.pack("!HHIH", OPT, payload_size, 0, 0)
    return header + question + opt


def query_id(buf: bytes) -> int | None:
    """The id of a response; None when it is too short to have one."""
    return int.from_bytes(buf[:2], "big") if len(buf) >= 2 else None


def read_name(buf: bytes, pos: int, depth: int = 0) -> tuple[bytes, int]:
    """The name at `pos` in label form (no final zero) and the bytes it takes there."""
    out = bytearray()
    reader = pos
    end = len(buf)
    while True:
        if reader >= end:
            raise _BadMessageError
        b = buf[reader]
        if b & 0xC0 == 0xC0:
            if reader + 1 >= end:
                raise _BadMessageError
            if buf[reader + 1] > reader:  # a pointer must point before itself
                raise _BadMessageError
            if depth > 100:
                raise _BadMessageError
            rest, _ = read_name(buf, (b & 0x3F) * 256 + buf[reader + 1], depth + 1)
            out += rest
            if len(out) >= MAX_NAME_SIZE:
                raise _BadMessageError
            return bytes(out), reader - pos + 2
        if b == 0:
            return bytes(out), reader - pos + 1
        if reader + b >= end or len(out) + b >= MAX_NAME_SIZE:
            raise _BadMessageError
        out += buf[reader : reader + b + 1]
        reader += b + 1


def validate(buf: bytes, name: bytes, max_answers: int) -> Response:
    """Judge a response to the question `name` (label form)."""
    try:
        return _validate(buf, name, max_answers)
    except (_BadMessageError, IndexError, struct.error):
        return Response(INVALID)


def _field(buf: bytes, pos: int) -> int:
    if pos + 2 >= len(buf):  # HAProxy wants a byte past every header field
        raise _BadMessageError
    return int.from_bytes(buf[pos : pos + 2], "big")


def _validate(buf: bytes, name: bytes, max_answers: int) -> Response:
    _field(buf, 0)
    flags = _field(buf, 2)
    rcode = flags & _RCODE
    if rcode:
        return Response(NX if rcode == _NX_DOMAIN else REFUSED if rcode == _REFUSED else OTHER)
    if _field(buf, 4) != 1:
        return Response(INVALID)  # RSLV_RESP_QUERY_COUNT_ERROR, counted as invalid
    ancount = _field(buf, 6)
    if ancount == 0:
        return Response(ANCOUNT_ZERO)
    if ancount > max_answers:
        raise _BadMessageError
    nscount = _field(buf, 8)
    arcount = _field(buf, 10)
    asked, used = read_name(buf, HEADER_SIZE)
    if not asked:
        raise _BadMessageError
    if asked != name:
        return Response(INVALID)  # RSLV_RESP_WRONG_NAME
    pos = HEADER_SIZE + used
    qtype = _field(buf, pos)
    _field(buf, pos + 2)
    pos += 4
    if qtype != SRV and flags & _TRUNCATED:
        return Response(TRUNCATED)
    records: list[Record] = []
    owner = asked
    for i in range(ancount):
        record, pos, owner, verdict = _record(buf, pos, owner, qtype, i == 0, i + 1 == ancount)
        if verdict is not None:
            return Response(verdict)
        if record is not None:
            records.append(record)
    if qtype != SRV:
        return Response(VALID, tuple(records), qtype)
    pos = _skip_authority(buf, pos, nscount)
    return Response(VALID, tuple(records), qtype, _additional(buf, pos, arcount))


def _skip_authority(buf: bytes, pos: int, count: int) -> int:
    """The authority records, passed over (an unreadable name: not moved past)."""
    end = len(buf)
    for _ in range(count):
        try:
            name, used = read_name(buf, pos)
        except _BadMessageError:
            continue
        if not name:
            continue
        if pos + used + 10 >= end:
            raise _BadMessageError
        pos += used + 8
        rdlength = int.from_bytes(buf[pos : pos + 2], "big")
        pos += 2
        if pos + rdlength >= end:
            raise _BadMessageError
        pos += rdlength
    return pos


def _additional(buf: bytes, pos: int, count: int) -> tuple[Record, ...]:
    """The additional section's A and AAAA records, with their owner names."""
    end = len(buf)
    kept: list[Record] = []
    for _ in range(count):
        if pos >= end:
            raise _BadMessageError
        try:
            name, used = read_name(buf, pos)
        except _BadMessageError:
            continue
        if not name:
            continue
        rtype, ttl, rdlength, pos = _fields(buf, pos + used)
        if rtype not in (A, AAAA):
            continue  # HAProxy stays at the record's data
        kept.append(Record(rtype, ttl, address=_address(buf, pos, rtype, rdlength), name=name))
        pos += rdlength
    return tuple(kept)


def _fields(buf: bytes, pos: int) -> tuple[int, int, int, int]:
    """A record's type, TTL and data length after its name, and where its data starts
    (its class unread); the data must fit in the message."""
    if pos + 10 > len(buf):
        raise _BadMessageError
    rtype, _rclass, ttl, rdlength = struct.unpack_from("!HHIH", buf, pos)
    if pos + 10 + rdlength > len(buf):
        raise _BadMessageError
    return rtype, ttl, rdlength, pos + 10


def _address(buf: bytes, pos: int, rtype: int, rdlength: int) -> IpAddress:
    """An A (4 bytes) or AAAA (16) record's address."""
    if rdlength != (4 if rtype == A else 16):
        raise _BadMessageError
    data = buf[pos : pos + rdlength]
    return ipaddress.IPv4Address(data) if rtype == A else ipaddress.IPv6Address(data)


def _record(  # noqa: PLR0917 - the walk's state, as HAProxy's loop holds it
    buf: bytes, pos: int, owner: bytes, qtype: int, first: bool, last: bool
) -> tuple[Record | None, int, bytes, str | None]:
    """One answer record: the record kept (None: a type HAProxy skips), where the next
    starts, the owner name the next must have, or a verdict that ends the judgement."""
    end = len(buf)
    if pos >= end:
        raise _BadMessageError
    rname, used = read_name(buf, pos)
    if not rname:
        raise _BadMessageError
    # memcmp(previous_dname, tmpname, len): the owner compared over the record name's length
    if qtype != SRV and owner.ljust(len(rname), b"\0")[: len(rname)] != rname:
        if first:
            raise _BadMessageError
        return None, pos, owner, CNAME_ERROR
    rtype, ttl, rdlength, pos = _fields(buf, pos + used)
    if rtype in (A, AAAA):
        ip = _address(buf, pos, rtype, rdlength)
        return Record(rtype, ttl, address=ip), pos + rdlength, owner, None
    if rtype == CNAME:
        if last:
            return None, pos, owner, CNAME_ERROR
        target, _ = read_name(buf, pos)
        if not target:
            raise _BadMessageError
        return Record(rtype, ttl, target=target), pos + rdlength, target, None
    if rtype == SRV:
        if rdlength <= 6:
            raise _BadMessageError
        priority, weight, port = struct.unpack_from("!HHH", buf, pos)
        target, used = read_name(buf, pos + 6)
        if not target:
            raise _BadMessageError
        srv = Record(SRV, ttl, target=target, port=port, weight=weight, priority=priority)
        return srv, pos + 6 + used, owner, None
    return None, pos + rdlength, owner, None


def response(
    qid: int,
    name: bytes,
    qtype: int,
    answers: list[tuple[bytes, int, bytes]],
    *,
    rcode: int = 0,
    truncated: bool = False,
) -> bytes:
    """A response message (for tests and tools: the tiny name servers they run): the
    question, then `answers` as (owner name, type, rdata), TTL 1, uncompressed."""
    flags = 0x8180 | rcode | (_TRUNCATED if truncated else 0)
    out = struct.pack("!HHHHHH", qid, flags, 1, len(answers), 0, 0)
    out += name + b"\0" + struct.pack("!HH", qtype, CLASS_IN)
    for owner, rtype, rdata in answers:
        out += owner + b"\0" + struct.pack("!HHIH", rtype, CLASS_IN, 1, len(rdata)) + rdata
    return out
