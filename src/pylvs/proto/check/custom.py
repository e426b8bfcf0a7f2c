"""The protocol checks' own response readers: MySQL, LDAP, SPOP and the agent's reply.

HAProxy runs `option mysql-check`, `ldap-check`, `spop-check` and `agent-check` as rulesets
whose last expect is a C function (src/tcpcheck.c tcpcheck_mysql_expect_packet,
tcpcheck_ldap_expect_bindrsp, tcpcheck_spop_expect_agenthello, tcpcheck_agent_expect_reply;
src/flt_spoe.c spoe_handle_healthcheck_response).  Each reads the bytes received so far and
says: wait for more, go on, or stop with a status, a description and a code.  The agent's
reply is returned parsed: applying it (weights, maintenance, maxconn) is the server's job.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pylvs.proto.check.status import Status


class Step(enum.Enum):
    WAIT = "wait"  # more data may change the verdict
    CONTINUE = "continue"  # this rule passed; evaluate the next one


@dataclass(frozen=True, slots=True)
class Verdict:
    """A custom expect decided: `error` True means the rule failed (the machine then builds
    the description as tcpcheck_expect_onerror_message does from `desc`), False means the
    check passed with `status` and `desc` as its description."""

    status: Status
    desc: bytes = b""
    code: int = 0
    error: bool = True


# -- MySQL ---------------------------------------------------------------------------------


def mysql_packet(data: bytes, offset: int, last_read: bool, last_rule: bool) -> Step | Verdict:
    """tcpcheck_mysql_expect_packet: one packet (3-byte length, sequence id) at `offset`."""
    if len(data) < offset + 4:
        return Step.WAIT if not last_read else Verdict(Status.L7RSP)
    plen = int.from_bytes(data[offset : offset + 3], "little")
    if len(data) < offset + plen + 4:
        return Step.WAIT if not last_read else Verdict(Status.L7RSP)
    if data[offset + 4 : offset + 5] == b"\xff":
        # an error packet: field_count 0xff, a 2-byte code, then the message
        code = int.from_bytes(data[offset + 5 : offset + 7], "little")
        return Verdict(Status.L7STS, _cstr(data[offset + 7 :]), code)
    if not last_rule:
        return Step.CONTINUE
    # the server's version, a C string at offset 5 of the handshake, is the description
    return Verdict(Status.L7OKD, _cstr(data[5:]), error=False)


def mysql_ok_offset(data: bytes) -> int:
    """tcpcheck_mysql_expect_ok: the OK packet follows the initial handshake packet."""
    return 4 + int.from_bytes(data[0:3], "little")


# -- LDAP ----------------------------------------------------------------------------------

_NOT_LDAP = b"Not LDAPv3 protocol"


def ldap_bind_response(data: bytes, last_read: bool) -> Step | Verdict:
    """tcpcheck_ldap_expect_bindrsp: an LDAPv3 BindResponse (RFC 4511 section 4.2.2) with
    resultCode 0 (section 4.1.9).  The preceding `rbinary ^30` rule saw at least 14 bytes."""
    too_short = Step.WAIT if not last_read else Verdict(Status.L7RSP)
    pos = 1
    nbytes = 0
    if len(data) <= pos:
        return too_short
    if data[pos] & 0x80:
        nbytes = data[pos] & 0x7F
        if len(data) < 1 + nbytes:
            return too_short
        if nbytes not in (2, 4):
            return Verdict(Status.L7RSP, _NOT_LDAP)
        msglen = int.from_bytes(data[pos + 1 : pos + 1 + nbytes], "big")
    else:
        msglen = data[pos]
    pos += 1 + nbytes
    if len(data) < 2 + nbytes + msglen:
        return too_short
    if data[pos : pos + 4] != b"\x02\x01\x01\x61":  # messageID 1, bindResponse
        return Verdict(Status.L7RSP, _NOT_LDAP)
    pos += 4
    skip = data[pos] & 0x7F if pos < len(data) and data[pos] & 0x80 else 0
    pos += 1 + skip
    if data[pos : pos + 2] != b"\x0a\x01":  # ldapResult: ENUMERATED
        return Verdict(Status.L7RSP, _NOT_LDAP)
    pos += 2
    code = data[pos] if pos < len(data) else 0
    if code:
        return Verdict(
            Status.L7STS, b"See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9", code
        )
    return Verdict(Status.L7OKD, b"Success", error=False)


# -- SPOP ----------------------------------------------------------------------------------

SPOE_MAX_FRAME_SIZE = 16384 - 4  # flt_spoe.c MAX_FRAME_SIZE: tune.bufsize - 4
SPOE_MIN_FRAME_SIZE = 256
_SPOE_ERRORS = {
    0: "normal",
    1: "I/O error",
    2: "a timeout occurred",
    3: "frame is too big",
    4: "invalid frame received",
    5: "version value not found",
    6: "max-frame-size value not found",
    7: "capabilities value not found",
    8: "unsupported version",
    9: "max-frame-size too big or too small",
    10: "fragmentation not supported",
    11: "invalid interlaced frames",
    12: "frame-id not found",
    13: "resource allocation error",
    99: "an unknown error occurred",
}
_INVALID, _NO_VSN, _NO_FRAME_SIZE, _BAD_VSN, _BAD_FRAME_SIZE, _FRAG = 4, 5, 6, 8, 9, 10
_AGENT_HELLO, _AGENT_DISCON = 101, 102
_T_MASK = 0x0F
_T_BOOL, _T_INT32, _T_UINT32, _T_INT64, _T_UINT64 = 1, 2, 3, 4, 5
_T_IPV4, _T_IPV6, _T_STR, _T_BIN = 6, 7, 8, 9


def encode_varint(n: int) -> bytes:
    """intops.h encode_varint: SPOE's variable-length integers."""
    if n < 240:
        return bytes((n,))
    out = bytearray([(n & 0xFF) | 240])
    n = (n - 240) >> 4
    while n >= 128:
        out.append((n & 0xFF) | 128)
        n = (n - 128) >> 7
    out.append(n)
    return bytes(out)


def _decode_varint(data: bytes, pos: int) -> tuple[int, int] | None:
    if pos >= len(data):
        return None
    n = data[pos]
    pos += 1
    if n < 240:
        return n, pos
    shift = 4
    while True:
        if pos >= len(data):
            return None
        b = data[pos]
        n += b << shift
        shift += 7
        pos += 1
        if b < 128:
            return n, pos


def _decode_buffer(data: bytes, pos: int) -> tuple[bytes, int] | None:
    got = _decode_varint(data, pos)
    if got is None or got[1] + got[0] > len(data):
        return None
    size, pos = got
    return data[pos : pos + size], pos + size


def _kv(key: bytes, value: bytes) -> bytes:
    return encode_varint(len(key)) + key + value


def spop_hello_request() -> bytes:
    """spoe_prepare_healthcheck_request: a HAPROXY-HELLO frame with `healthcheck` true."""
    frame = bytes((1,)) + (1).to_bytes(4, "big") + b"\0\0"  # type, FIN flag, ids 0
    frame += _kv(b"supported-versions", bytes((_T_STR,)) + encode_varint(3) + b"2.0")
    frame += _kv(b"max-frame-size", bytes((_T_UINT32,)) + encode_varint(SPOE_MAX_FRAME_SIZE))
    frame += _kv(b"capabilities", bytes((_T_STR,)) + encode_varint(0))
    frame += _kv(b"healthcheck", bytes((_T_BOOL | 0x10,)))
    return len(frame).to_bytes(4, "big") + frame


def spop_agent_hello(data: bytes, last_read: bool) -> Step | Verdict:
    """tcpcheck_spop_expect_agenthello: the AGENT-HELLO frame answering our hello."""
    size = int.from_bytes(data[:4], "big")
    if not last_read and len(data) < 4 + size:
        return Step.WAIT
    code = _spop_frame(data[4 : 4 + size])
    if code is not None:
        return Verdict(Status.L7RSP, _SPOE_ERRORS.get(code, _SPOE_ERRORS[99]).encode())
    return Verdict(Status.L7OKD, b"SPOA server is ok", error=False)


def _spop_frame(frame: bytes) -> int | None:
    """spoe_handle_healthcheck_response: None when the frame is a valid AGENT-HELLO, else
    the SPOE error code (a DISCONNECT frame's own status code)."""
    if frame[:1] == bytes((_AGENT_DISCON,)):
        return _spop_disconnect(frame)
    if frame[:1] != bytes((_AGENT_HELLO,)) or len(frame) < 7:
        return _INVALID
    if not int.from_bytes(frame[1:5], "big") & 1:
        return _FRAG
    if frame[5:7] != b"\0\0":
        return _INVALID
    pos, seen = 7, {"vsn": 0, "max_size": 0}
    while pos < len(frame):
        got = _decode_buffer(frame, pos)
        if got is None or not got[0]:
            return _INVALID
        key, pos = got
        if pos >= len(frame):
            return _INVALID
        item = _hello_item(key, frame, pos, seen)
        if isinstance(item, _Error):
            return item.code
        pos = item
    if not seen["vsn"]:
        return _NO_VSN
    if not seen["max_size"]:
        return _NO_FRAME_SIZE
    return None


@dataclass(frozen=True, slots=True)
class _Error:
    code: int


def _hello_item(key: bytes, frame: bytes, pos: int, seen: dict[str, int]) -> int | _Error:
    """One item of an AGENT-HELLO at `pos` (its type byte): where the next starts, or the
    error it is; `version` and `max-frame-size` are checked and noted in `seen`."""
    kind = frame[pos] & _T_MASK
    if key.startswith(b"version"):
        value = _decode_buffer(frame, pos + 1) if kind == _T_STR else None
        if value is None:
            return _Error(_INVALID)
        text, pos = value
        seen["vsn"] = _spoe_version(text)
        return pos if seen["vsn"] == 2000 else _Error(_BAD_VSN)
    if key.startswith(b"max-frame-size"):
        ints = (_T_INT32, _T_UINT32, _T_INT64, _T_UINT64)
        number = _decode_varint(frame, pos + 1) if kind in ints else None
        if number is None:
            return _Error(_INVALID)
        seen["max_size"], pos = number
        ok = SPOE_MIN_FRAME_SIZE <= seen["max_size"] <= SPOE_MAX_FRAME_SIZE
        return pos if ok else _Error(_BAD_FRAME_SIZE)
    # capabilities and unknown items: skipped (only their syntax matters here)
    skipped = _skip_data(frame, pos)
    return _Error(_INVALID) if skipped is None else skipped


def _spop_disconnect(frame: bytes) -> int:
    """spoe_handle_agentdiscon_frame: the agent's own status code, if it gave one."""
    if len(frame) < 7:
        return _INVALID
    if not int.from_bytes(frame[1:5], "big") & 1:
        return _FRAG
    if frame[5:7] != b"\0\0":
        return _INVALID
    pos, code = 7, 99
    while pos < len(frame):
        got = _decode_buffer(frame, pos)
        if got is None or not got[0]:
            return _INVALID
        key, pos = got
        if key.startswith(b"status-code") and pos < len(frame):
            number = _decode_varint(frame, pos + 1)
            if number is None:
                return _INVALID
            code, pos = number
            code = code if code in _SPOE_ERRORS else 99
        else:
            skipped = _skip_data(frame, pos)
            if skipped is None:
                return _INVALID
            pos = skipped
    return code


def _skip_data(frame: bytes, pos: int) -> int | None:
    """spoe_skip_data."""
    if pos >= len(frame):
        return None
    kind = frame[pos] & _T_MASK
    pos += 1
    if kind in (_T_INT32, _T_INT64, _T_UINT32, _T_UINT64):
        number = _decode_varint(frame, pos)
        return None if number is None else number[1]
    if kind in (_T_IPV4, _T_IPV6):
        width = 4 if kind == _T_IPV4 else 16
        return pos + width if pos + width <= len(frame) else None
    if kind in (_T_STR, _T_BIN):
        value = _decode_buffer(frame, pos)
        return None if value is None else value[1]
    return pos


def _spoe_version(text: bytes) -> int:
    """spoe_str_to_vsn: "MAJOR.MINOR" as 1000 * MAJOR + MINOR, -1 if malformed."""
    body = text.strip(b" \t\r\n\v\f")
    major, dot, minor = body.partition(b".")
    if not dot or not major.isdigit() or not minor[:1].isdigit():
        return -1
    digits = len(minor) - len(minor.lstrip(b"0123456789"))
    if minor[digits:].strip(b" \t\r\n\v\f") or int(minor[:digits]) > 999 or not int(major):
        return -1
    return int(major) * 1000 + int(minor[:digits])


# -- the agent -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentReply:
    """One line from an agent (tcpcheck_agent_expect_reply), words sorted by kind; the last
    word of each kind wins.  `status` is L7OKD for `up`, L7STS for a down word, CHECKED when
    no health word was given."""

    health: str | None = None  # up | down | stopped | fail
    admin: str | None = None  # ready | drain | maint
    weight: str | None = None  # "75%"
    maxconn: str | None = None  # the text after `maxconn:`
    error: str | None = None  # the first word the agent should not have sent
    description: str = ""  # after `#`

    @property
    def status(self) -> Status:
        if self.health is None:
            return Status.CHECKED
        return Status.L7OKD if self.health.lower() == "up" else Status.L7STS


def agent_line(data: bytes, last_read: bool) -> AgentReply | Step | None:
    """The agent's first line, parsed; WAIT until it ends; None for a line cut by the close
    ("Ignoring incomplete line from agent")."""
    end = next((i for i, c in enumerate(data) if c in (0, 10, 13)), -1)
    if end < 0 or data[end] == 0:
        return Step.WAIT if not last_read else None
    line = data[:end].decode("latin-1")
    fields: dict[str, str | None] = dict.fromkeys(("health", "admin", "weight", "maxconn"))
    error = None
    i = 0
    while i < len(line):
        c = line[i]
        if c in " \t,":
            i += 1
            continue
        if c == "#":
            i += 1
            break
        j = i + 1
        while j < len(line) and line[j] not in "\t ,\n":
            j += 1
        word, i = line[i:j], j + 1
        low = word.lower()
        if low in ("up", "down", "stopped", "fail"):
            fields["health"] = word
        elif low in ("ready", "drain", "maint"):
            fields["admin"] = word
        elif word[0].isdigit() and "%" in word:
            fields["weight"] = word
        elif low.startswith("maxconn:"):
            fields["maxconn"] = word[len("maxconn:") :]
        elif error is None:
            error = word
    description = line[i:].lstrip(" \t\n") if i <= len(line) else ""
    return AgentReply(**fields, error=error, description=description)


def _cstr(data: bytes) -> bytes:
    """A C string read from a buffer: up to its first NUL."""
    return data.split(b"\0", 1)[0]
