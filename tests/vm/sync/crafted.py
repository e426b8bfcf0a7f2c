"""Hand-made sync messages, good and malformed, that `capture_goldens.py` sends to a kernel
backup to record what the kernel installs from each (tests/data/sync/crafted.json).

Every case is a list of datagrams sent in order to one fresh backup whose services are
BACKUP_SERVICES; the unit tests replay the same bytes into pylvs's receiver and compare
the tables.  Records are built with pylvs's encoder (byte-exact against the kernel's own
messages, see test_sync_codec.py) and then broken by hand where the case says so.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, replace

from pylvs.proto.sync import codec
from pylvs.proto.sync import wire as w

SYNCID = 9
VIP = ipaddress.ip_address("10.0.0.100")
RS1 = ipaddress.ip_address("10.0.1.2")
RS2 = ipaddress.ip_address("10.0.2.2")
CLIENT = ipaddress.ip_address("10.0.0.77")

# what the backup has configured (ipvsadm arguments)
BACKUP_SERVICES = [
    ["-A", "-t", "10.0.0.100:80", "-s", "rr", "-p", "120"],
    ["-a", "-t", "10.0.0.100:80", "-r", "10.0.1.2:80", "-m"],
    ["-a", "-t", "10.0.0.100:80", "-r", "10.0.2.2:80", "-m"],
    ["-A", "-u", "10.0.0.100:53", "-s", "rr"],
    ["-a", "-u", "10.0.0.100:53", "-r", "10.0.1.2:53", "-m"],
    ["-A", "-t", "10.0.0.100:8080", "-s", "rr"],
    ["-a", "-t", "10.0.0.100:8080", "-r", "10.0.1.2:8080", "-g"],
    ["-A", "-f", "7", "-s", "rr"],
    ["-a", "-f", "7", "-r", "10.0.2.2:0", "-g"],
    ["--set", "500", "60", "200"],
]


def conn(cport: int, **kw: object) -> w.SyncConn:
    base = w.SyncConn(
        protocol=w.IPPROTO_TCP,
        caddr=CLIENT,
        cport=cport,
        vaddr=VIP,
        vport=80,
        daddr=RS1,
        dport=80,
        flags=0,
        state=w.TCP_S_ESTABLISHED,
        timeout=900,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def v1(*records: bytes, syncid: int = SYNCID, nr: int | None = None, spare: int = 0) -> bytes:
    body = bytearray()
    for r in records:
        body += bytes((-len(body)) & 3) + r
    size = 8 + len(body)
    count = len(records) if nr is None else nr
    return struct.pack("!BBHBbH", 0, syncid, size, count, 1, spare) + bytes(body)


def rec(c: w.SyncConn) -> bytes:
    return codec.record_v1(c)


def with_size(record: bytes, size: int) -> bytes:
    return record[:2] + struct.pack("!H", size) + record[4:]


def with_options(c: w.SyncConn, options: bytes) -> bytes:
    """A record of `c` with raw option bytes appended and its size counting them."""
    base = rec(c)
    return with_size(base + options, len(base) + len(options))


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    datagrams: tuple[bytes, ...]


def _seq() -> tuple[w.Seq, w.Seq]:
    return (w.Seq(1000, 2, 0), w.Seq(5000, 4, 2))


CASES = [
    Case("good", "three connections", (v1(rec(conn(40001)), rec(conn(40002)), rec(conn(40003))),)),
    Case("syncid", "another syncid", (v1(rec(conn(40001)), syncid=8),)),
    Case(
        "size-lies",
        "the header's size is 4 more than the datagram",
        (v1(rec(conn(40001)))[:2] + struct.pack("!H", 8 + 36 + 4) + v1(rec(conn(40001)))[4:],),
    ),
    Case("truncated", "the last 10 bytes cut off", (v1(rec(conn(40001)), rec(conn(40002)))[:-10],)),
    Case(
        "count-lies",
        "nr_conns 3 with two records: both are installed, then the buffer ends",
        (v1(rec(conn(40001)), rec(conn(40002)), nr=3),),
    ),
    Case(
        "protocol",
        "the middle record has protocol 99: skipped alone",
        (v1(rec(conn(40001)), rec(conn(40002, protocol=99)), rec(conn(40003))),),
    ),
    Case(
        "state",
        "the middle record has TCP state 11: skipped alone",
        (v1(rec(conn(40001)), rec(conn(40002, state=11)), rec(conn(40003))),),
    ),
    Case(
        "udp-state",
        "a UDP record with state 1 (UDP has one state): skipped",
        (
            v1(
                rec(conn(40001, protocol=w.IPPROTO_UDP, vport=53, dport=53, state=1)),
                rec(conn(40002, protocol=w.IPPROTO_UDP, vport=53, dport=53, state=0)),
            ),
        ),
    ),
    Case(
        "record-version",
        "the middle record's version bits are 1: the rest is dropped",
        (v1(rec(conn(40001)), with_size(rec(conn(40002)), 0x1000 | 36), rec(conn(40003))),),
    ),
    Case(
        "record-short",
        "the middle record says 20 bytes: the rest is dropped",
        (v1(rec(conn(40001)), with_size(rec(conn(40002)), 20), rec(conn(40003))),),
    ),
    Case(
        "record-type",
        "the middle record's type is 2: the rest is dropped",
        (v1(rec(conn(40001)), b"\x02" + rec(conn(40002))[1:], rec(conn(40003))),),
    ),
    Case(
        "option-zero",
        "an option of length 0: the rest is dropped",
        (v1(rec(conn(40001)), with_options(conn(40002), b"\x07\x00\x00\x00"), rec(conn(40003))),),
    ),
    Case(
        "option-overrun",
        "an option longer than its record: the rest is dropped",
        (v1(rec(conn(40001)), with_options(conn(40002), b"\x02\x09abc"), rec(conn(40003))),),
    ),
    Case(
        "option-mandatory",
        "an unknown mandatory option (5): that record is skipped",
        (v1(rec(conn(40001)), with_options(conn(40002), b"\x05\x02ab"), rec(conn(40003))),),
    ),
    Case(
        "option-optional",
        "an unknown option with the PARAM bit (0x45): ignored",
        (v1(rec(conn(40001)), with_options(conn(40002), b"\x45\x02ab"), rec(conn(40003))),),
    ),
    Case(
        "seq",
        "sequence options, then a record after it",
        (v1(rec(conn(40001, flags=w.F_OUT_SEQ, seq=_seq())), rec(conn(40002))),),
    ),
    Case(
        "seq-twice",
        "the sequence option twice: the rest is dropped",
        (
            v1(
                rec(conn(40001)),
                with_options(
                    conn(40002, flags=w.F_IN_SEQ, seq=_seq()),
                    b"\x01\x18" + bytes(24),
                ),
                rec(conn(40003)),
            ),
        ),
    ),
    Case(
        "seq-length",
        "a sequence option of 12 bytes: the rest is dropped",
        (
            v1(
                rec(conn(40001)),
                with_options(conn(40002), b"\x01\x0c" + bytes(12)),
                rec(conn(40003)),
            ),
        ),
    ),
    Case(
        "pe-without-name",
        "pe data without a pe name: that record is skipped",
        (v1(rec(conn(40001)), with_options(conn(40002), b"\x02\x03abc"), rec(conn(40003))),),
    ),
    Case(
        "pe-unknown",
        "pe data with an engine the backup does not have ('nope'): skipped",
        (
            v1(
                rec(conn(40001)),
                rec(
                    conn(
                        0, flags=w.F_TEMPLATE, state=0, timeout=120, pe_data=b"id", pe_name=b"nope"
                    )
                ),
                rec(conn(40003)),
            ),
        ),
    ),
    Case(
        "pe-name-long",
        "a pe name of 17 bytes: the rest is dropped",
        (
            v1(
                rec(conn(40001)),
                with_options(conn(40002), b"\x02\x02id\x03\x11" + b"n" * 17),
                rec(conn(40003)),
            ),
        ),
    ),
    Case(
        "v6-short",
        "an IPv6 record whose size covers only the IPv4 part: the rest is dropped",
        (v1(rec(conn(40001)), b"\x01" + rec(conn(40002))[1:], rec(conn(40003))),),
    ),
    Case(
        "spare",
        "a version-1 header with spare 1 is read as version 0 (nr_conns = first byte 0)",
        (v1(rec(conn(40001)), spare=1),),
    ),
    Case(
        "v0",
        "version 0: three records, the middle one with sequence options",
        (
            codec.encode(
                w.SyncMessage(
                    0,
                    SYNCID,
                    (
                        conn(40001, timeout=0),
                        conn(40002, timeout=0, flags=w.F_IN_SEQ, seq=_seq()),
                        conn(40003, timeout=0, state=w.TCP_S_TIME_WAIT, flags=w.F_INACTIVE),
                    ),
                )
            ),
        ),
    ),
    Case(
        "v0-count-lies",
        "version 0 with nr_conns 3 and two records",
        (
            bytes((3,))
            + codec.encode(
                w.SyncMessage(0, SYNCID, (conn(40001, timeout=0), conn(40002, timeout=0)))
            )[1:],
        ),
    ),
    Case(
        "timeout-zero",
        "a version-1 record with timeout 0: the backup's own --set value (500)",
        (v1(rec(conn(40001, timeout=0)), rec(conn(40002, timeout=0, state=w.TCP_S_FIN_WAIT))),),
    ),
    Case(
        "replace",
        "a connection moves to rs2 (active): the rs1 entry is expired and replaced; then a "
        "late INACTIVE record for rs1 is ignored",
        (
            v1(rec(conn(40001))),
            v1(rec(conn(40001, daddr=RS2))),
            v1(rec(conn(40001, flags=w.F_INACTIVE, state=w.TCP_S_TIME_WAIT, timeout=120))),
        ),
    ),
    Case(
        "update",
        "an active connection becomes TIME_WAIT (inactive); counters follow",
        (
            v1(rec(conn(40001)), rec(conn(40002))),
            v1(rec(conn(40001, flags=w.F_INACTIVE, state=w.TCP_S_TIME_WAIT, timeout=120))),
        ),
    ),
    Case(
        "unbound",
        "connections to a real server the backup does not have, and to no service at all",
        (
            v1(
                rec(conn(40001, daddr=ipaddress.ip_address("10.0.3.2"))),
                rec(conn(40002, vport=81, dport=81)),
            ),
        ),
    ),
    Case(
        "template",
        "templates: one for rs1 (ASSURED), one with template state 7 (only logged), one "
        "for port 0 of the fwmark service",
        (
            v1(
                rec(conn(0, flags=w.F_TEMPLATE | w.F_INACTIVE, state=1, timeout=120)),
                rec(
                    conn(
                        0,
                        caddr=ipaddress.ip_address("10.0.0.78"),
                        flags=w.F_TEMPLATE | w.F_INACTIVE,
                        state=7,
                        timeout=120,
                    )
                ),
                rec(
                    conn(
                        0,
                        protocol=0,
                        vaddr=ipaddress.ip_address("0.0.0.7"),
                        vport=0,
                        daddr=RS2,
                        dport=0,
                        fwmark=7,
                        flags=w.F_TEMPLATE | w.F_DROUTE,
                        state=1,
                        timeout=90,
                    )
                ),
            ),
        ),
    ),
    Case(
        "dr-flags",
        "a MASQ record for a DR real server: the connection takes the dest's method",
        (v1(rec(conn(40001, vport=8080, dport=8080))),),
    ),
    Case(
        "sip",
        "a sip template with its Call-ID",
        (
            v1(
                rec(
                    conn(
                        0,
                        protocol=w.IPPROTO_UDP,
                        vport=53,
                        dport=53,
                        flags=w.F_TEMPLATE | w.F_INACTIVE,
                        state=0,
                        timeout=60,
                        pe_data=b"call-1@example",
                        pe_name=b"sip",
                    )
                ),
            ),
        ),
    ),
    Case(
        "v0-template",
        "version 0 templates: one installed (180 s), one with template state 2",
        (
            codec.encode(
                w.SyncMessage(
                    0,
                    SYNCID,
                    (
                        conn(0, timeout=0, flags=w.F_TEMPLATE | w.F_INACTIVE, state=1),
                        conn(
                            0,
                            caddr=ipaddress.ip_address("10.0.0.78"),
                            timeout=0,
                            flags=w.F_TEMPLATE | w.F_INACTIVE,
                            state=2,
                        ),
                        conn(40003, timeout=0),
                    ),
                )
            ),
        ),
    ),
    Case(
        "template-moves",
        "a template synced again with another real server keeps its first one",
        (
            v1(rec(conn(0, flags=w.F_TEMPLATE | w.F_INACTIVE, state=1, timeout=120))),
            v1(rec(conn(0, daddr=RS2, flags=w.F_TEMPLATE | w.F_INACTIVE, state=1, timeout=90))),
        ),
    ),
    Case(
        "timeout-huge",
        "a timeout of 2^32 - 1 seconds",
        (v1(rec(conn(40001, timeout=0xFFFFFFFF))),),
    ),
]
