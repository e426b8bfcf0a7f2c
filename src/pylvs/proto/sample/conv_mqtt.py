"""The MQTT converters `mqtt_is_valid` and `mqtt_field_value(type,field)` (src/mqtt.c,
include/haproxy/mqtt.h and src/sample.c of HAProxy 2.6; MQTT 3.1.1 §2-3.2 and 5.0 §2-3.2).

Like HAProxy, only the first packet of each side is read: CONNECT (client) and CONNACK
(server); every other type is invalid.  The fixed header's type and flags, the remaining
length (a variable byte integer of at most 4 bytes), then the variable header, the MQTT 5.0
properties (each at most once, bounded values checked) and the payload must take exactly the
remaining length.  A packet not all there yet gives no answer while more may come
(SMP_F_MAY_CHANGE).  `mqtt_field_value` returns a field as text: numbers in decimal (a 5.0
numeric property that is absent reads 0, as HAProxy's zeroed packet does), strings as they
are (an empty or absent one is not found).  Fields are named as HAProxy names them, the 5.0
properties by their identifier ("17" is session_expiry_interval).
"""

from __future__ import annotations

from pylvs.proto.sample import types as ty
from pylvs.proto.sample.expr import WAIT, Args, CompileContext, CompileError, Wait, converter
from pylvs.proto.sample.stream import Stream
from pylvs.proto.sample.types import Smp

CONNECT, CONNACK = 1, 2
TYPE_NAMES = (
    "", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE",
    "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH",
)  # fmt: skip
# the fixed header's flags each type must carry (PUBLISH's vary: never valid here)
TYPE_FLAGS = (0, 0, 0, 0x0F, 0, 0, 0x02, 0, 0x02, 0, 0x02, 0, 0, 0, 0, 0)

V3_1, V3_1_1, V5_0 = 3, 4, 5
FL_RESERVED, FL_WILL, FL_WILL_QOS, FL_WILL_RETAIN = 0x01, 0x04, 0x18, 0x20
FL_PASSWORD, FL_USERNAME = 0x40, 0x80

VALID, NEED_MORE, INVALID = 1, 0, -1

# property id -> (field name, encoding: 1/2/4-byte integer or "s" string, rule)
Prop = tuple[str, int | str, str]
NONZERO, BOOLEAN, NONEMPTY, ANY = "nonzero", "boolean", "nonempty", ""
USER_PROPERTY = 0x26
CONNECT_PROPS: dict[int, Prop] = {
    0x11: ("17", 4, ANY),  # session expiry interval
    0x21: ("33", 2, NONZERO),  # receive maximum
    0x27: ("39", 4, NONZERO),  # maximum packet size
    0x22: ("34", 2, ANY),  # topic alias maximum
    0x19: ("25", 1, BOOLEAN),  # request response information
    0x17: ("23", 1, BOOLEAN),  # request problem information
    0x15: ("21", "s", ANY),  # authentication method
    0x16: ("22", "s", ANY),  # authentication data
}
WILL_PROPS: dict[int, Prop] = {
    0x18: ("24", 4, ANY),  # will delay interval
    0x01: ("1", 1, BOOLEAN),  # payload format indicator
    0x02: ("2", 4, ANY),  # message expiry interval
    0x03: ("3", "s", ANY),  # content type
    0x08: ("8", "s", ANY),  # response topic
    0x09: ("9", "s", ANY),  # correlation data
}
CONNACK_PROPS: dict[int, Prop] = {
    0x11: ("17", 4, ANY),
    0x21: ("33", 2, NONZERO),
    0x24: ("36", 1, BOOLEAN),  # maximum QoS
    0x25: ("37", 1, BOOLEAN),  # retain available
    0x27: ("39", 4, NONZERO),
    0x12: ("18", "s", NONEMPTY),  # assigned client identifier
    0x22: ("34", 2, ANY),
    0x1F: ("31", "s", ANY),  # reason string
    0x28: ("40", 1, BOOLEAN),  # wildcard subscription available
    0x29: ("41", 1, BOOLEAN),  # subscription identifiers available
    0x2A: ("42", 1, BOOLEAN),  # shared subscription available
    0x13: ("19", 2, ANY),  # server keepalive
    0x1A: ("26", "s", ANY),  # response information
    0x1C: ("28", "s", ANY),  # server reference
    0x15: ("21", "s", ANY),
    0x16: ("22", "s", ANY),
}

# the fields mqtt_field_value can return for each type (mqtt_fields_per_packet, less the
# ones it lists but has no case for)
CONNECT_FIELDS = frozenset((
    "flags", "protocol_name", "protocol_version", "client_identifier", "will_topic",
    "will_payload", "username", "password", "keepalive",
    "1", "2", "3", "8", "9", "17", "21", "22", "23", "24", "25", "33", "34", "39",
))  # fmt: skip
CONNACK_FIELDS = frozenset((
    "flags", "reason_code", "protocol_version",
    "17", "18", "19", "21", "22", "26", "28", "31", "33", "34", "36", "37", "39", "40", "41", "42",
))  # fmt: skip
WILL_FIELDS = frozenset(name for name, _, _ in WILL_PROPS.values())
# the names mqtt_check_type_fieldname accepts per type (mqtt_fields_per_packet)
_V5_COMMON = {"31", "38"}
KNOWN_FIELDS: dict[int, frozenset[str]] = {
    CONNECT: CONNECT_FIELDS | {"38"},
    CONNACK: CONNACK_FIELDS | {"38"},
    3: frozenset({"1", "2", "3", "8", "9", "11", "35", "38"}),
    4: frozenset({"reason_code"} | _V5_COMMON),
    5: frozenset({"reason_code"} | _V5_COMMON),
    6: frozenset({"reason_code"} | _V5_COMMON),
    7: frozenset({"reason_code"} | _V5_COMMON),
    8: frozenset({"11", "38"}),
    9: frozenset(_V5_COMMON),
    10: frozenset({"38"}),
    11: frozenset(_V5_COMMON),
    14: frozenset({"reason_code", "17", "28"} | _V5_COMMON),
    15: frozenset({"21", "22"} | _V5_COMMON),
}


class _StopError(Exception):
    def __init__(self, verdict: int) -> None:
        self.verdict = verdict


class _Reader:
    """A cursor over a byte range; any read past its end makes the packet invalid."""

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data, self.pos = data, pos
        self.end = len(data) if end is None else end

    def left(self) -> int:
        return self.end - self.pos

    def uint(self, size: int) -> int:
        if self.left() < size:
            raise _StopError(INVALID)
        value = int.from_bytes(self.data[self.pos : self.pos + size], "big")
        self.pos += size
        return value

    def string(self) -> bytes:
        size = self.uint(2)
        if self.left() < size:
            raise _StopError(INVALID)
        self.pos += size
        return self.data[self.pos - size : self.pos]

    def varint(self) -> int:
        """A variable byte integer: 7 bits a byte, at most 4 bytes (mqtt_read_varint)."""
        value = shift = count = 0
        while count < 4 and self.left():
            byte = self.data[self.pos]
            self.pos += 1
            value += (byte & 0x7F) << shift
            shift += 7
            if byte <= 0x7F:
                break
            count += 1
        if count == 4:
            raise _StopError(INVALID)
        return value


def _properties(
    r: _Reader, table: dict[int, Prop], out: dict[str, int | bytes], unknown: int
) -> None:
    """A 5.0 property list into `out`; an unknown identifier ends with `unknown`."""
    size = r.varint()
    if r.left() < size:
        raise _StopError(INVALID)
    props = _Reader(r.data, r.pos, r.pos + size)
    r.pos += size
    seen: set[int] = set()
    while props.left():
        ident = props.uint(1)
        if ident == USER_PROPERTY:
            props.string()  # name and value: read to check, HAProxy keeps only five
            props.string()
            continue
        prop = table.get(ident)
        if prop is None:
            raise _StopError(unknown)
        name, encoding, rule = prop
        if ident in seen:
            raise _StopError(INVALID)
        seen.add(ident)
        value = props.string() if encoding == "s" else props.uint(int(encoding))
        bad = {NONZERO: value == 0, BOOLEAN: value not in (0, 1), NONEMPTY: value == b""}
        if bad.get(rule, False):
            raise _StopError(INVALID)
        out[name] = value


def _connect(r: _Reader, out: dict[str, int | bytes]) -> None:
    name = r.string()
    if name.lower() not in (b"mqtt", b"mqisdp"):
        raise _StopError(INVALID)
    version = out["protocol_version"] = r.uint(1)
    if version not in (V3_1, V3_1_1, V5_0):
        raise _StopError(INVALID)
    out["protocol_name"] = name
    flags = out["flags"] = r.uint(1)
    if flags & FL_RESERVED or flags & (FL_WILL | FL_WILL_QOS | FL_WILL_RETAIN) == FL_WILL_QOS:
        raise _StopError(INVALID)
    out["keepalive"] = r.uint(2)
    if version == V5_0:
        _properties(r, CONNECT_PROPS, out, INVALID)
    if out.get("22") and not out.get("21"):
        raise _StopError(INVALID)  # authentication data without a method
    out["client_identifier"] = r.string()
    if version == V5_0 and flags & FL_WILL:
        _properties(r, WILL_PROPS, out, INVALID)
    if flags & FL_WILL:
        out["will_topic"] = r.string()
        out["will_payload"] = r.string()
    if flags & FL_USERNAME:
        out["username"] = r.string()
    if flags & FL_PASSWORD:
        out["password"] = r.string()


def _connack(r: _Reader, out: dict[str, int | bytes]) -> None:
    if r.left() < 2:
        raise _StopError(INVALID)
    # HAProxy tells the versions apart by what follows the fixed header
    version = out["protocol_version"] = V3_1_1 if r.left() == 2 else V5_0
    flags = out["flags"] = r.uint(1)
    if flags & 0xFE:
        raise _StopError(INVALID)
    out["reason_code"] = r.uint(1)
    if version == V5_0:
        # src/mqtt.c returns 0 (need more data) on an unknown CONNACK property
        _properties(r, CONNACK_PROPS, out, NEED_MORE)


def parse(msg: bytes) -> tuple[int, int, dict[str, int | bytes]]:
    """mqtt_validate_message: (VALID/NEED_MORE/INVALID, packet type, fields read)."""
    out: dict[str, int | bytes] = {}
    if len(msg) < 2:
        return NEED_MORE, 0, out
    ptype, flags = msg[0] >> 4, msg[0] & 0x0F
    if ptype == 0 or flags != TYPE_FLAGS[ptype]:
        return INVALID, ptype, out
    r = _Reader(msg, 1)
    try:
        remaining = r.varint()
        if r.left() < remaining:
            return NEED_MORE, ptype, out
        start = r.pos
        if ptype == CONNECT:
            _connect(r, out)
        elif ptype == CONNACK:
            _connack(r, out)
        else:
            return INVALID, ptype, out
    except _StopError as stop:
        return stop.verdict, ptype, out
    return (VALID if r.pos - start == remaining else INVALID), ptype, out


def field_value(msg: bytes, ptype: int, name: str) -> bytes | None:
    """mqtt_field_value: the field as text (b"" while more data may come), None if the
    packet is invalid, of another type, or has no such field."""
    verdict, found_type, fields = parse(msg)
    if verdict == NEED_MORE:
        return b""
    if verdict != VALID or found_type != ptype:
        return None
    allowed = CONNECT_FIELDS if ptype == CONNECT else CONNACK_FIELDS
    if name not in allowed:
        return None
    version = fields["protocol_version"]
    if name[0].isdigit() and version != V5_0:
        return None
    if ptype == CONNECT and name in WILL_FIELDS and not int(fields["flags"]) & FL_WILL:
        return None
    value = fields.get(name, b"" if name in _STRING_FIELDS else 0)
    if isinstance(value, bytes):
        return value or None
    return b"%d" % value


_STRING_FIELDS = frozenset(
    {"protocol_name", "client_identifier", "will_topic", "will_payload", "username", "password"}
    | {name for table in (CONNECT_PROPS, WILL_PROPS, CONNACK_PROPS)
       for name, enc, _ in table.values() if enc == "s"}
)  # fmt: skip


def type_id(text: bytes) -> int:
    """mqtt_typeid: a number 1-15 or a type name (case-insensitive), 0 if neither."""
    digits = b""
    for c in text:
        if not 0x30 <= c <= 0x39:
            break
        digits += bytes((c,))
    number = int(digits) if digits else 0
    if 1 <= number < len(TYPE_NAMES):
        return number
    name = text.decode("latin-1").upper()
    return TYPE_NAMES.index(name) if name and name in TYPE_NAMES else 0


def _check_field(a: Args, ctx: CompileContext) -> Args:
    ptype = type_id(a[0])
    if not ptype:
        raise CompileError(f"Unknown MQTT type '{a[0].decode('latin-1')}'")
    name = a[1].decode("latin-1").lower()
    if name not in KNOWN_FIELDS.get(ptype, frozenset()):
        raise CompileError(
            f"Unknown MQTT field name '{a[1].decode('latin-1')}' for packet type "
            f"'{a[0].decode('latin-1')}'"
        )
    return (ptype, name)


@converter("mqtt_is_valid")
def _mqtt_is_valid(s: Stream, smp: Smp, a: Args) -> Smp | Wait | None:
    verdict = parse(smp.text)[0]
    if verdict == NEED_MORE:
        return None if s.final else WAIT
    return Smp(ty.BOOL, 1 if verdict == VALID else 0)


@converter("mqtt_field_value", check=_check_field)
def _mqtt_field_value(s: Stream, smp: Smp, a: Args) -> Smp | Wait | None:
    value = field_value(smp.text, a[0], a[1])
    if value is None:
        return None
    if not value:
        return None if s.final else WAIT
    return Smp(ty.STR, value)
