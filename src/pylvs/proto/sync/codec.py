"""Encode and decode IPVS sync messages, versions 0 and 1, as net/netfilter/ipvs/ip_vs_sync.c.

Building (ip_vs_sync_conn, ip_vs_sync_conn_v0, ip_vs_sync_buff_create*):
* v1: an 8-byte header {0, syncid, size, nr_conns, 1, 0}, then records.  A record is the
  36-byte IPv4 or 72-byte IPv6 part, then the options SEQ_DATA (in_seq, out_seq: 6 be32),
  PE_DATA and PE_NAME, each {type, length, data}.  Its size field (low 12 bits of ver_size)
  counts the record without padding; the next record starts at the next 4-byte boundary of
  the message, the gap zero-filled; the last one is not padded.
* v0: a 4-byte header {nr_conns, syncid, size}, then 24-byte IPv4 records with 16-bit flags,
  followed by the two sequence structures when the flags carry IN_SEQ/OUT_SEQ.  The kernel
  copies those with memcpy, in the sender's byte order: pylvs reads and writes them
  little-endian, the order of the x86 and arm64 hosts IPVS runs on.
* A message holds records while they fit `sync_maxlen`; its buffer is sized for at least one
  record, so a record larger than maxlen still goes out alone.  nr_conns is a u8 that the
  kernel lets wrap past 255 with a large maxlen; `Builder` closes a message at 255 instead.

Parsing (ip_vs_process_message, ip_vs_proc_sync_conn, ip_vs_process_message_v0) follows the
kernel step by step and never raises: the header checks refuse a whole message; a record
whose framing is wrong ends the message there (the records before it stand); a record with
an unknown protocol, a state out of range (a template's too) or a mandatory option the
kernel does not know is skipped on its own.  Every refusal is a `Drop` with the kernel's reason.
"""

from __future__ import annotations

import enum
import ipaddress
import struct
from dataclasses import dataclass

from pylvs.model.service import Address
from pylvs.proto.sync import wire as w

_V0_HEADER = struct.Struct("!BBH")
_V1_HEADER = struct.Struct("!BBHBbH")
_V0_CONN = struct.Struct("!BBHHH4s4s4sHH")
_V1_FIXED = struct.Struct("!BBHIHHHHII")  # type .. timeout: 20 bytes, then the addresses
_SEQ_BE = struct.Struct("!6I")
_SEQ_HOST = struct.Struct("<6I")


class Drop(enum.Enum):
    """Why (part of) a message was refused; the values follow the kernel's log lines."""

    # the whole message
    SHORT_HEADER = "message header too short"
    BAD_SIZE = "bogus message size"
    SYNCID = "another syncid"
    FOREIGN = "foreign sender"
    # the rest of the message, from the record that failed
    V0_TRUNCATED = "v0 bogus conn"
    V0_OPTIONS = "v0 bogus conn options"
    TOO_SMALL = "record header past the end"
    OVERRUN = "record past the end"
    RECORD_VERSION = "unknown record version"
    RECORD_TYPE = "unknown record type"
    RECORD_SHORT = "record shorter than its addresses"
    OPTION_TRUNCATED = "option header past the record"
    OPTION_LENGTH = "option length zero or past the record"
    SEQ_OPTION = "bogus or repeated sequence option"
    PE_DATA_OPTION = "repeated pe data"
    PE_NAME_OPTION = "pe name too long or repeated"
    # one record
    MANDATORY_PARAM = "unknown mandatory option"
    PROTOCOL = "unsupported protocol"
    STATE = "invalid state"
    PE_PARAMS = "pe data without pe name"
    PE_UNKNOWN = "persistence engine not loaded"
    # installing (the receiver)
    STALE = "expiry of a connection already replaced"
    TABLE_FULL = "synced entries at their limit"
    UNSUPPORTED = "entry this table cannot hold"

    @property
    def whole(self) -> bool:
        """The message was refused before any record was looked at."""
        return self in _WHOLE


_WHOLE = frozenset({Drop.SHORT_HEADER, Drop.BAD_SIZE, Drop.SYNCID, Drop.FOREIGN})


@dataclass(frozen=True, slots=True)
class Header:
    version: int
    syncid: int
    nr_conns: int


@dataclass(frozen=True, slots=True)
class Decoded:
    """What a backup takes from one datagram: the records it processes, in order, and the
    reasons for everything it refused (skipped records, then where the rest was cut)."""

    header: Header
    conns: tuple[w.SyncConn, ...]
    problems: tuple[Drop, ...] = ()


# -- encoding ---------------------------------------------------------------------------


def _seq_words(conn: w.SyncConn) -> tuple[int, ...]:
    seq_in, seq_out = conn.seq if conn.seq is not None else (w.Seq(), w.Seq())
    return (
        seq_in.init_seq,
        seq_in.delta,
        seq_in.previous_delta,
        seq_out.init_seq,
        seq_out.delta,
        seq_out.previous_delta,
    )


def record_v1(conn: w.SyncConn) -> bytes:
    """One version-1 record, unpadded (ip_vs_sync_conn)."""
    six = conn.af == 6
    size = w.V1_CONN6 if six else w.V1_CONN4
    if conn.seq is not None:
        size += w.SEQ_OPTIONS + 2
    if conn.pe_data:
        size += len(conn.pe_data) + 2
        if conn.pe_name:
            size += len(conn.pe_name) + 2
    out = bytearray(
        _V1_FIXED.pack(
            w.STYPE_F_INET6 if six else 0,
            conn.protocol,
            size & w.SVER_MASK,
            conn.flags,
            conn.state,
            conn.cport,
            conn.vport,
            conn.dport,
            conn.fwmark,
            conn.timeout,
        )
    )
    out += conn.caddr.packed + conn.vaddr.packed + conn.daddr.packed
    if conn.seq is not None:
        out += bytes((w.OPT_SEQ_DATA, w.SEQ_OPTIONS)) + _SEQ_BE.pack(*_seq_words(conn))
    if conn.pe_data:
        out += bytes((w.OPT_PE_DATA, len(conn.pe_data))) + conn.pe_data
        if conn.pe_name:
            out += bytes((w.OPT_PE_NAME, len(conn.pe_name))) + conn.pe_name
    return bytes(out)


def record_v0(conn: w.SyncConn) -> bytes:
    """One version-0 record (ip_vs_sync_conn_v0): IPv4 only, 16-bit flags."""
    if conn.af != 4:
        raise w.SyncError("version 0 carries IPv4 entries only")
    if conn.flags > 0xFFFF:
        raise w.SyncError("version 0 carries 16-bit flags")
    out = _V0_CONN.pack(
        0,
        conn.protocol,
        conn.cport,
        conn.vport,
        conn.dport,
        conn.caddr.packed,
        conn.vaddr.packed,
        conn.daddr.packed,
        conn.flags,
        conn.state,
    )
    if conn.flags & w.F_SEQ_MASK:
        out += _SEQ_HOST.pack(*_seq_words(conn))
    return out


class Builder:
    """One message being filled, as the kernel's sync_buff: records are added while they fit
    `maxlen` (the first always fits), then `message()` gives the datagram."""

    def __init__(self, version: int, syncid: int, maxlen: int) -> None:
        if version not in (0, 1):
            raise w.SyncError(f"sync version {version} is neither 0 nor 1")
        self.version = version
        self.syncid = syncid
        self.maxlen = maxlen
        self._header = w.V1_HEADER if version == 1 else w.V0_HEADER
        self._body = bytearray()
        self._capacity = 0
        self.count = 0

    def record(self, conn: w.SyncConn) -> bytes:
        return record_v1(conn) if self.version == 1 else record_v0(conn)

    def fits(self, record: bytes) -> bool:
        if self.count == 0:
            return True
        if self.count >= w.MAX_CONNS:
            return False
        return self._header + len(self._body) + self._pad() + len(record) <= self._capacity

    def add(self, record: bytes) -> None:
        """Append an encoded record; the caller checked `fits`."""
        if self.count == 0:
            self._capacity = max(len(record) + self._header, self.maxlen)
        else:
            self._body += bytes(self._pad())
        self._body += record
        self.count += 1

    def _pad(self) -> int:
        # pad = (4 - head) & 3, head counted from the start of the message (v1 only)
        return (-(self._header + len(self._body))) & 3 if self.version == 1 else 0

    def message(self) -> bytes:
        size = self._header + len(self._body)
        if self.version == 1:
            head = _V1_HEADER.pack(0, self.syncid, size, self.count, w.SYNC_PROTO_VER, 0)
        else:
            head = _V0_HEADER.pack(self.count, self.syncid, size)
        return head + self._body


def encode(message: w.SyncMessage) -> bytes:
    """A whole message with every record (no size limit)."""
    builder = Builder(message.version, message.syncid, 0)
    for conn in message.conns:
        builder.add(builder.record(conn))
    return builder.message()


# -- decoding ---------------------------------------------------------------------------


def header(data: bytes) -> Header | Drop:
    """The message checks before the syncid filter (ip_vs_process_message)."""
    if len(data) < w.V0_HEADER:
        return Drop.SHORT_HEADER
    first, syncid, size = _V0_HEADER.unpack_from(data)
    if size != len(data):
        return Drop.BAD_SIZE
    if first == 0 and len(data) >= w.V1_HEADER:
        _, _, _, nr_conns, version, spare = _V1_HEADER.unpack_from(data)
        if version == w.SYNC_PROTO_VER and spare == 0:
            return Header(1, syncid, nr_conns)
    return Header(0, syncid, first)


def decode(data: bytes) -> Decoded | Drop:
    """Every record a kernel backup would process from `data`, and what it refused."""
    head = header(data)
    if isinstance(head, Drop):
        return head
    if head.version == 1:
        return _decode_v1(data, head)
    return _decode_v0(data, head)


def _check_state(protocol: int, state: int, flags: int) -> Drop | None:
    if flags & w.F_TEMPLATE:
        # Older sources only log "Invalid tpl state"; the kernel these tests were recorded
        # from (Debian's 6.1.192) skips such a template like any other bad state.
        return Drop.STATE if state >= len(w.TPL_STATE_NAMES) else None
    states = w.NUM_STATES.get(protocol)
    if states is None:
        return Drop.PROTOCOL
    if state >= states:
        return Drop.STATE
    return None


def _decode_v0(data: bytes, head: Header) -> Decoded:
    conns: list[w.SyncConn] = []
    problems: list[Drop] = []
    p = w.V0_HEADER
    for _ in range(head.nr_conns):
        if p + w.V0_CONN > len(data):
            problems.append(Drop.V0_TRUNCATED)
            break
        _, proto, cport, vport, dport, caddr, vaddr, daddr, flags, state = _V0_CONN.unpack_from(
            data, p
        )
        seq = None
        if flags & w.F_SEQ_MASK:
            if p + w.V0_FULL_CONN > len(data):
                problems.append(Drop.V0_OPTIONS)
                break
            words = _SEQ_HOST.unpack_from(data, p + w.V0_CONN)
            seq = (w.Seq(*words[:3]), w.Seq(*words[3:]))
            p += w.V0_FULL_CONN
        else:
            p += w.V0_CONN
        refused = _check_state(proto, state, flags)
        if refused is not None:
            problems.append(refused)
            continue
        conns.append(
            w.SyncConn(
                protocol=proto,
                caddr=ipaddress.IPv4Address(caddr),
                cport=cport,
                vaddr=ipaddress.IPv4Address(vaddr),
                vport=vport,
                daddr=ipaddress.IPv4Address(daddr),
                dport=dport,
                flags=flags,
                state=state,
                seq=seq,
            )
        )
    return Decoded(head, tuple(conns), tuple(problems))


def _decode_v1(data: bytes, head: Header) -> Decoded:
    conns: list[w.SyncConn] = []
    problems: list[Drop] = []
    end = w.V1_HEADER
    for _ in range(head.nr_conns):
        p = end
        if p + w.V1_CONN4 > len(data):
            problems.append(Drop.TOO_SMALL)
            break
        ver_size = struct.unpack_from("!H", data, p + 2)[0]
        size = ver_size & w.SVER_MASK
        if p + size > len(data):
            problems.append(Drop.OVERRUN)
            break
        if ver_size >> w.SVER_SHIFT:
            problems.append(Drop.RECORD_VERSION)
            break
        result = _record_v1(data, p, p + size)
        if isinstance(result, Drop):
            problems.append(result)
            if _FATAL_RECORD[result]:
                break
        else:
            conns.append(result)
        end = p + ((size + 3) & ~3)
    return Decoded(head, tuple(conns), tuple(problems))


# Which record-level refusals end the message (the kernel's negative return codes).
_FATAL_RECORD = {
    Drop.RECORD_TYPE: True,
    Drop.RECORD_SHORT: True,
    Drop.OPTION_TRUNCATED: True,
    Drop.OPTION_LENGTH: True,
    Drop.SEQ_OPTION: True,
    Drop.PE_DATA_OPTION: True,
    Drop.PE_NAME_OPTION: True,
    Drop.MANDATORY_PARAM: False,
    Drop.PROTOCOL: False,
    Drop.STATE: False,
    Drop.PE_PARAMS: False,
}


@dataclass(slots=True)
class _Options:
    seq: tuple[w.Seq, w.Seq] | None = None
    pe_data: bytes | None = None
    pe_name: bytes | None = None


def _options(data: bytes, p: int, end: int) -> _Options | Drop:
    """The TLV options of one record (ip_vs_proc_sync_conn's loop)."""
    opts = _Options()
    while p < end:
        if p + 2 > end:
            return Drop.OPTION_TRUNCATED
        ptype, plen = data[p], data[p + 1]
        p += 2
        if not plen or p + plen > end:
            return Drop.OPTION_LENGTH
        kind = ptype & ~w.OPT_F_PARAM
        if kind == w.OPT_SEQ_DATA:
            if plen != w.SEQ_OPTIONS or opts.seq is not None:
                return Drop.SEQ_OPTION
            words = _SEQ_BE.unpack_from(data, p)
            opts.seq = (w.Seq(*words[:3]), w.Seq(*words[3:]))
        elif kind == w.OPT_PE_DATA:
            if opts.pe_data is not None:  # plen <= 255 = IP_VS_PEDATA_MAXLEN always
                return Drop.PE_DATA_OPTION
            opts.pe_data = data[p : p + plen]
        elif kind == w.OPT_PE_NAME:
            if plen > w.PENAME_MAXLEN or opts.pe_name is not None:
                return Drop.PE_NAME_OPTION
            opts.pe_name = data[p : p + plen]
        elif not ptype & w.OPT_F_PARAM:
            return Drop.MANDATORY_PARAM
        p += plen
    return opts


def _record_v1(data: bytes, p: int, end: int) -> w.SyncConn | Drop:
    kind, proto, _, flags, state, cport, vport, dport, fwmark, timeout = _V1_FIXED.unpack_from(
        data, p
    )
    if kind & w.STYPE_F_INET6:
        alen, fixed = 16, w.V1_CONN6
    elif kind == 0:
        alen, fixed = 4, w.V1_CONN4
    else:
        return Drop.RECORD_TYPE
    if p + fixed > end:
        return Drop.RECORD_SHORT
    opts = _options(data, p + fixed, end)
    if isinstance(opts, Drop):
        return opts
    refused = _check_state(proto, state, flags & w.F_BACKUP_MASK)
    if refused is not None:
        return refused
    if opts.pe_data and not opts.pe_name:
        return Drop.PE_PARAMS  # "BACKUP, Invalid PE parameters"
    a = p + _V1_FIXED.size
    addrs: list[Address] = [
        ipaddress.ip_address(data[a + i * alen : a + (i + 1) * alen]) for i in range(3)
    ]
    pe_data = opts.pe_data or b""
    return w.SyncConn(
        protocol=proto,
        caddr=addrs[0],
        cport=cport,
        vaddr=addrs[1],
        vport=vport,
        daddr=addrs[2],
        dport=dport,
        flags=flags,
        state=state,
        timeout=timeout,
        fwmark=fwmark,
        seq=opts.seq,
        pe_data=pe_data,
        # a name without data is not used by the kernel (pe_data_len 0): not kept either
        pe_name=(opts.pe_name or b"") if pe_data else b"",
    )
