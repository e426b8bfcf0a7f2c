"""Stick tables (proto/stick/table.py, keys.py, data.py): keys, expiry, eviction, counters.

The transcript test replays HAProxy itself; these pin the rules it cannot show directly:
how sample values become keys, references against expiry, pending entries counting toward
the size, and frequency counters over time (src/freq_ctr.c).
"""

import ipaddress
import struct

from pylvs.proto.stick import StickTable, parse_stick_table
from pylvs.proto.stick.data import FreqCtr
from pylvs.proto.stick.keys import KeyFormat, KeyType, format_ipv6, inetaddr_host

V4 = ipaddress.IPv4Address
V6 = ipaddress.IPv6Address


def table(line: str, name: str = "t") -> StickTable:
    return StickTable(parse_stick_table(name, line.split()))


def test_sample_values_become_keys_with_haproxys_casts() -> None:
    ip = KeyFormat.of(KeyType.IP)
    assert ip.key_of(V4("10.0.0.1")) == bytes([10, 0, 0, 1])
    assert ip.key_of(V6("::ffff:10.0.0.1")) == bytes([10, 0, 0, 1])
    assert ip.key_of(V6("2001:db8::1")) is None  # only mapped IPv6 fits an ip table
    assert ip.key_of(0x0A000002) == bytes([10, 0, 0, 2])
    assert ip.key_of("10.0.0.3") == bytes([10, 0, 0, 3])
    assert ip.key_of(b"\x01\x02\x03\x04") is None
    v6 = KeyFormat.of(KeyType.IPV6)
    assert v6.key_of(V4("10.0.0.1")) == V6("::ffff:10.0.0.1").packed
    integer = KeyFormat.of(KeyType.INTEGER)
    assert integer.key_of(-1) == b"\xff\xff\xff\xff"
    assert integer.key_of(V4("0.0.1.0")) == struct.pack("<I", 256)
    assert integer.key_of("42abc") == struct.pack("<I", 42)  # read_int64 stops at the junk
    string = KeyFormat.of(KeyType.STRING, 4)
    assert string.key_of("abcdef") == b"abcd"
    assert string.key_of(b"ab\x00cd") == b"ab"
    assert string.key_of(V6("::ffff:1.2.3.4")) == b"::ff"
    binary = KeyFormat.of(KeyType.BINARY, 6)
    assert binary.key_of(b"ab") == b"ab\x00\x00\x00\x00"
    assert binary.key_of(1) == b"\x00\x00\x00\x00\x00\x00"  # 8 bytes, cut to the key size


def test_cli_keys_and_rendering() -> None:
    assert inetaddr_host("1.2.3") == 0x01020300
    assert inetaddr_host("1.2.3.4.5") == 0x01020304
    assert inetaddr_host("10.0.0.256") == 0x0A000100  # no check: 256 carries over
    assert KeyFormat.of(KeyType.INTEGER).cli_key("4294967296") is None
    assert KeyFormat.of(KeyType.IPV6).cli_key("bogus") is None
    assert format_ipv6(V6("::ffff:10.0.0.1").packed) == "::ffff:10.0.0.1"
    assert format_ipv6(V6("1:0:0:1:0:0:0:1").packed) == "1:0:0:1::1"
    assert KeyFormat.of(KeyType.STRING).render(b"a b=\\\t\x01") == "a\\ b\\=\\\\\\t\\x01"
    assert KeyFormat.of(KeyType.BINARY, 2).render(b"\xab\x01") == "AB01"


def test_integer_keys_sort_in_memory_order() -> None:
    t = table("type integer size 10")
    for k in (2, 1, 256, 65536):
        key = t.key_of(k)
        assert key is not None
        t.get_entry(key, 0.0)
    assert [struct.unpack("<I", e.key)[0] for e in t.entries(0.0)] == [65536, 256, 1, 2]


def test_expiry_spares_referenced_entries_until_released() -> None:
    t = table("type ip size 10 expire 10s")
    a = t.get_entry(V4("10.0.0.1").packed, 100.0)
    b = t.get_entry(V4("10.0.0.2").packed, 100.0)
    assert a is not None and b is not None
    t.acquire(a)
    t.touch(b, 105.0)
    assert t.lookup(b.key, 112.0) is b  # touched at 105: until 115
    assert t.lookup(a.key, 112.0) is a  # expired at 110, but referenced
    t.release(a, 112.0)  # stksess_kill_if_expired
    assert t.lookup(a.key, 112.0) is None
    assert t.lookup(b.key, 115.0) is None and t.current == 0


def test_pending_entries_count_and_a_store_reuses_an_existing_key() -> None:
    t = table("type ip size 2")
    key = V4("10.0.0.1").packed
    first = t.new_entry(key, 0.0)
    second = t.new_entry(key, 0.0)
    assert first is not None and second is not None and t.current == 2 and len(t) == 0
    assert t.set_entry(first, 0.0) is first
    assert t.set_entry(second, 0.0) is first  # the second is dropped
    assert t.current == 1 and len(t) == 1
    third = t.new_entry(V4("10.0.0.3").packed, 0.0)
    assert third is not None
    t.free(third)
    assert t.current == 1


def test_counters() -> None:
    t = table("type ip size 10 store conn_cur,conn_cnt,server_id,bytes_in_cnt,gpc0")
    e = t.get_entry(V4("10.0.0.1").packed, 0.0)
    assert e is not None
    assert e.add("conn_cur", -1) == 0  # never below zero
    assert e.add("conn_cnt", 0xFFFFFFFF + 2) == 1  # 32 bits
    e.set("server_id", -3)
    assert e.get("server_id") == -3
    assert e.add("bytes_in_cnt", 1 << 40) == 1 << 40


def test_frequency_counter_over_time() -> None:
    f = FreqCtr()
    period, t0 = 10_000, 1_000_000  # ms; the first event starts the first period
    for t in (0, 0, 1000, 4000):
        f.update(period, 1, t0 + t)
    assert f.read(period, t0 + 4000) == 4
    # A period later the 4 events are the previous period's, fading out as it goes.
    f.update(period, 1, t0 + 10_500)
    assert f.read(period, t0 + 10_500) == (4 * 9_500 + 1 * period) // period
    assert f.read(period, t0 + 19_999) == 1
    assert f.read(period, t0 + 40_000) == 0
    g = FreqCtr()
    g.update(period, 1, t0)
    assert g.read(period, t0 + 15_000) == 1  # one event left: read as is (flapping guard)


def test_rates_through_the_table() -> None:
    t = table("type ip size 10 store conn_rate(1s)")
    e = t.get_entry(V4("10.0.0.1").packed, 50.0)
    assert e is not None
    for _ in range(3):
        t.update_rate(e, "conn_rate", 50.0)
    assert t.rate(e, "conn_rate", 50.5) == 3
    t.set_rate(e, "conn_rate", 7, 60.0)
    assert t.rate(e, "conn_rate", 60.2) == 7


def test_remain_and_next_event_delay_as_freq_ctr_h() -> None:
    """freq_ctr_remain / next_event_delay (include/haproxy/freq_ctr.h), worked by hand from
    freq_ctr_total: 5 events at 0 ms fill a limit of 5 per second until the period turns
    (1 ms waits, as HAProxy's minimum), then the past period's weight lets one in at a time:
    a steady 5 per second, the sixth 200 ms after the fifth."""
    f = FreqCtr()
    f.update(1000, 5, 0)
    assert [f.remain(1000, 5, 0, t) for t in (0, 500, 1000, 1001)] == [0, 0, 0, 1]
    assert f.next_event_delay(1000, 5, 0, 0) == 1
    assert f.remain(1000, 10, 0, 0) == 5 and f.next_event_delay(1000, 10, 0, 0) == 0
    f.update(1000, 1, 1001)  # the sixth: past 5 weighted 999/1000, current 1
    assert f.remain(1000, 5, 0, 1001) == 0
    assert f.next_event_delay(1000, 5, 0, 1001) == 199  # (5*999 + 1000 - 5000) // 5
    assert [f.remain(1000, 5, 0, t) for t in (1200, 1201)] == [0, 1]
    assert f.remain(1000, 5, 3, 1201) == 0  # pending events count as if now
    assert f.remain(1000, 5, 0, 5000) == 5  # long idle: the whole limit
