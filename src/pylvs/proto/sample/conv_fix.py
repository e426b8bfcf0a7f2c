"""The FIX converters `fix_is_valid` and `fix_tag_value(tag)` (src/fix.c, include/haproxy/fix.h
and src/sample.c of HAProxy 2.6).

A FIX message is `tag=value<SOH>` fields: BeginString (8) first, BodyLength (9) second,
MsgType (35) third and CheckSum (10) last.  `fix_is_valid` checks the tag ids (numbers, in
the range of the message's FIX version or 10000-19999), that BodyLength counts the bytes
from after its own field to the CheckSum field, and that CheckSum is the three-digit sum of
every byte before it modulo 256.  A message not all there yet gives no answer while more may
come (SMP_F_MAY_CHANGE: `tcp-request content` rules wait for it until the inspect delay);
an invalid one gives false.  `fix_tag_value` returns the value of the first field with that
tag id, the name of one of the six tags HAProxy knows being turned into its id once.
"""

from __future__ import annotations

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import WAIT, Args, CompileContext, CompileError, Wait, converter
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp

DELIMITER = 0x01
MSG_MINSIZE = 26
TAG_BEGIN_STRING = 8
TAG_BODY_LENGTH = 9
TAG_CHECKSUM = 10
TAG_MSG_TYPE = 35

# the greatest standard tag id of each version (FIX 5.0's BeginString is FIXT.1.1)
VERSION_MAX_TAG = {
    b"FIX.4.0": 140,
    b"FIX.4.1": 211,
    b"FIX.4.2": 446,
    b"FIX.4.3": 659,
    b"FIX.4.4": 956,
    b"FIXT.1.1": 1621,
}

TAG_NAMES = {
    b"msgtype": TAG_MSG_TYPE,
    b"checksum": TAG_CHECKSUM,
    b"bodylength": TAG_BODY_LENGTH,
    b"targetcompid": 56,
    b"beginstring": TAG_BEGIN_STRING,
    b"sendercompid": 49,
}

VALID, NEED_MORE, INVALID = 1, 0, -1


def _read_uint(text: bytes) -> tuple[int, int]:
    """read_uint: the leading digits' value (wrapping like an unsigned int) and their count."""
    value = n = 0
    for c in text:
        if not 0x30 <= c <= 0x39:
            break
        value = (value * 10 + c - 0x30) & 0xFFFFFFFF
        n += 1
    return value, n


def check_id(tag: bytes, version: bytes | None) -> int:
    """fix_check_id: the tag's id, 0 when it is not all digits, is 0 or is out of range."""
    tagid, n = _read_uint(tag)
    if n != len(tag) or tagid == 0:
        return 0
    if version is None or 10000 <= tagid <= 19999:
        return tagid
    return tagid if tagid <= VERSION_MAX_TAG.get(version, -1) else 0


def tag_id(name: bytes) -> int:
    """fix_tagid: a tag id or one of the known names (case-insensitive), 0 if neither."""
    return check_id(name, None) or TAG_NAMES.get(name.lower(), 0)


PARTIAL, EMPTY_TAG, EXHAUSTED = "partial", "empty tag", "exhausted"


def _fields(msg: bytes) -> tuple[list[tuple[bytes, bytes, int]], str]:
    """The `tag=value<SOH>` fields from the start with their offsets, and how the scan
    stopped: on a field whose value does not end yet, on an empty tag or at the end."""
    out: list[tuple[bytes, bytes, int]] = []
    pos = 0
    while pos < len(msg):
        eq = msg.find(b"=", pos)
        end = msg.find(DELIMITER, eq) if eq >= 0 else -1
        if eq < 0 or end < 0:
            return out, PARTIAL
        if eq == pos:
            return out, EMPTY_TAG
        out.append((msg[pos:eq], msg[eq + 1 : end], pos))
        pos = end + 1
    return out, EXHAUSTED


def validate(msg: bytes) -> int:
    """fix_validate_message: VALID, NEED_MORE or INVALID."""
    if len(msg) < MSG_MINSIZE:
        return NEED_MORE
    fields, stop = _fields(msg)
    version: bytes | None = None
    checksum = bodylen = 0
    body = -1
    for n, (tag, value, at) in enumerate(fields, 1):
        tagid = check_id(tag, version)
        if not tagid:
            return INVALID
        if n == 1:
            if tagid != TAG_BEGIN_STRING or value not in VERSION_MAX_TAG:
                return INVALID
            version = value
        elif n == 2:
            bodylen, digits = _read_uint(value)
            if tagid != TAG_BODY_LENGTH or digits != len(value) or not bodylen:
                return INVALID
            body = at + len(tag) + len(value) + 2
        elif n == 3:
            if tagid != TAG_MSG_TYPE:
                return INVALID
        elif tagid == TAG_CHECKSUM:
            if bodylen != at - body or len(value) != 3:
                return INVALID
            return VALID if checksum == _read_uint(value)[0] else INVALID
        checksum = (checksum + sum(tag) + 0x3D + sum(value) + DELIMITER) & 0xFF
    if stop == PARTIAL:
        return NEED_MORE
    # every field is good but CheckSum is not there: it may come once the body has started
    return NEED_MORE if stop == EXHAUSTED and body >= 0 else INVALID


def tag_value(msg: bytes, tagid: int) -> bytes | None:
    """fix_tag_value: the value (b"" while more data may bring it), None if not found."""
    fields, stop = _fields(msg)
    for tag, value, _ in fields:
        found = check_id(tag, None)
        if not found:
            return None
        if found == tagid:
            return value
        if found == TAG_CHECKSUM:
            return None
    return None if stop == EMPTY_TAG else b""


def _check_tag(a: Args, ctx: CompileContext) -> Args:
    tag = tag_id(a[0])
    if not tag:
        raise CompileError(f"Unknown FIX tag name '{a[0].decode('latin-1')}'")
    return (tag,)


@converter("fix_is_valid")
def _fix_is_valid(s: Stream, smp: Smp, a: Args) -> Smp | Wait | None:
    verdict = validate(smp.text)
    if verdict == NEED_MORE:
        return None if s.final else WAIT
    return Smp(ty.BOOL, 1 if verdict == VALID else 0)


@converter("fix_tag_value", check=_check_tag)
def _fix_tag_value(s: Stream, smp: Smp, a: Args) -> Smp | Wait | None:
    value = tag_value(smp.text, a[0])
    if value is None:
        return None
    if not value:  # HAProxy reads an empty value as "more data needed"
        return None if s.final else WAIT
    return Smp(ty.BIN, value)
