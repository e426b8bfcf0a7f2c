"""sh, dh, mh (ip_vs_sh.c, ip_vs_dh.c, ip_vs_mh.c): tables, hashes, fallback and port flags.

Expected buckets are worked out from the kernel formulas: for sh/dh only the low 8 bits of
`addr * 2654435761` matter, and 2654435761 = 0x9E3779B1 ends in 0xB1 = 177, so the bucket of
an address ending in byte b is `(b * 177) & 255`.  mh is checked against a separate small
SipHash-1-3 / Maglev written here from the paper and lib/siphash.c.
"""

import ipaddress
import struct
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.model.dest import Destination
from pylvs.model.service import Protocol, RealServer, ServiceFlags, ServiceKey, VirtualService
from pylvs.sched.base import Flow
from pylvs.sched.ipvs import Scheduler, create
from pylvs.sched.ipvs.mh import MaglevHashing

ip = ipaddress.ip_address


def dests(*weights: int, base: str = "192.168.0.") -> list[Destination]:
    return [
        Destination(RealServer(ip(f"{base}{i}"), 80, weight=w)) for i, w in enumerate(weights, 1)
    ]


def sched(
    name: str, ds: Sequence[Destination], flags: ServiceFlags = ServiceFlags.NONE
) -> Scheduler:
    key = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
    return create(VirtualService(key, scheduler=name, flags=flags), ds)


def flow(client: str = "1.2.3.4", port: int = 0, vaddr: str = "10.0.0.1", proto: int = 6) -> Flow:
    return Flow(ip(client), port, ip(vaddr), 80, proto)


# -- sh ---------------------------------------------------------------------------------


def test_sh_weights_give_consecutive_buckets() -> None:
    ds = dests(2, 1)  # buckets: A A B A A B ...  -> bucket i is B iff i % 3 == 2
    a, b = ds
    s = sched("sh", ds)
    # 10.0.0.1 -> 177 (177 % 3 = 0) A; .2 -> 354 & 255 = 98 (98 % 3 = 2) B;
    # .3 -> 531 & 255 = 19 (19 % 3 = 1) A.
    assert s.pick(ds, flow("10.0.0.1"), 0) is a
    assert s.pick(ds, flow("10.0.0.2"), 0) is b
    assert s.pick(ds, flow("10.0.0.3"), 0) is a


def test_sh_weight0_still_owns_a_bucket_but_is_not_used() -> None:
    ds = dests(0, 1)  # A B A B ...
    s = sched("sh", ds)
    # 10.0.0.1 -> bucket 177 (odd) -> B; 10.0.0.2 -> 98 (even) -> A, quiesced -> none.
    assert s.pick(ds, flow("10.0.0.1"), 0) is ds[1]
    assert s.pick(ds, flow("10.0.0.2"), 0) is None


def test_sh_port_flag_mixes_in_the_source_port_for_tcp_udp_sctp_only() -> None:
    ds = dests(2, 1)
    a, b = ds
    s = sched("sh", ds, ServiceFlags.SCHED2)
    # (1 + 1) * 177 & 255 = 98 -> B; without the flag 10.0.0.1 is A.
    assert s.pick(ds, flow("10.0.0.1", port=1), 0) is b
    assert s.pick(ds, flow("10.0.0.1", port=1, proto=17), 0) is b
    assert s.pick(ds, flow("10.0.0.1", port=1, proto=1), 0) is a  # ICMP: port 0
    plain = sched("sh", ds)
    assert plain.pick(ds, flow("10.0.0.1", port=1), 0) is a


def test_sh_fallback_probes_from_the_original_bucket() -> None:
    ds = dests(2, 1)
    a, b = ds
    a.overloaded = True
    # 10.0.0.1 -> 177 (A, overloaded).  Probe offset 0: roffset 177, bucket
    # (177 + 177) & 255 = 98 -> B.
    assert sched("sh", ds).pick(ds, flow("10.0.0.1"), 0) is None
    fb = sched("sh", ds, ServiceFlags.SCHED1)
    assert fb.pick(ds, flow("10.0.0.1"), 0) is b


def test_sh_table_is_rebuilt_on_change() -> None:
    ds = dests(1, 1)  # A B A B: 10.0.0.1 (177, odd) -> B
    s = sched("sh", ds)
    assert s.pick(ds, flow("10.0.0.1"), 0) is ds[1]
    new = dests(1, base="172.16.0.")[0]
    ds.insert(0, new)
    s.server_added(ds, new)
    # N A B N A B ...: 177 % 3 = 0 -> N
    assert s.pick(ds, flow("10.0.0.1"), 0) is new


# -- dh ---------------------------------------------------------------------------------


def test_dh_round_robin_buckets_on_destination_address() -> None:
    ds = dests(5, 1, 1)  # weights ignored: bucket i -> i % 3
    a, b, c = ds
    s = sched("dh", ds)
    # vaddr .1 -> 177 % 3 = 0 A; .2 -> 98 % 3 = 2 C; .4 -> 708 & 255 = 196, % 3 = 1 B.
    assert s.pick(ds, flow(vaddr="10.0.0.1"), 0) is a
    assert s.pick(ds, flow(vaddr="10.0.0.2"), 0) is c
    assert s.pick(ds, flow(vaddr="10.0.0.4"), 0) is b
    # the client address does not matter
    assert s.pick(ds, flow(client="9.9.9.9", vaddr="10.0.0.4"), 0) is b


def test_dh_has_no_fallback() -> None:
    ds = dests(1, 1)
    ds[1].overloaded = True
    s = sched("dh", ds, ServiceFlags.SCHED1)
    assert s.pick(ds, flow(vaddr="10.0.0.1"), 0) is None  # bucket 177 -> B


@settings(max_examples=50, deadline=None)
@given(
    name=st.sampled_from(["sh", "dh", "mh"]),
    weights=st.lists(st.integers(1, 5), min_size=1, max_size=8),
    client=st.integers(0, 2**32 - 1),
    port=st.integers(0, 65535),
)
def test_same_key_same_server(name: str, weights: list[int], client: int, port: int) -> None:
    ds = dests(*weights)
    s1 = sched(name, ds, ServiceFlags.SCHED2)
    s2 = sched(name, ds, ServiceFlags.SCHED2)
    f = Flow(ipaddress.IPv4Address(client), port, ipaddress.IPv4Address(client ^ 1), 80)
    first = s1.pick(ds, f, 0)
    assert first is not None
    assert s1.pick(ds, f, 5) is first
    assert s2.pick(ds, f, 9) is first


# -- mh: an independent SipHash-1-3 and Maglev fill ------------------------------------

MASK = (1 << 64) - 1


def ref_hsiphash_u32(value: int, k0: int, k1: int) -> int:
    """SipHash-1-3 of 4 bytes (the 64-bit kernel's hsiphash), from the SipHash paper."""
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D]
    v += [k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]

    def rotl(x: int, r: int) -> int:
        return ((x << r) | (x >> (64 - r))) & MASK

    def rnd() -> None:
        v[0] = (v[0] + v[1]) & MASK
        v[1] = rotl(v[1], 13) ^ v[0]
        v[0] = rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & MASK
        v[3] = rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & MASK
        v[3] = rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & MASK
        v[1] = rotl(v[1], 17) ^ v[2]
        v[2] = rotl(v[2], 32)

    (word,) = struct.unpack("<I", struct.pack("<I", value))
    last = (4 << 56) | word
    v[3] ^= last
    rnd()
    v[0] ^= last
    v[2] ^= 0xFF
    for _ in range(3):
        rnd()
    return (v[0] ^ v[1] ^ v[2] ^ v[3]) & 0xFFFFFFFF


K1 = 2654435761
K2 = 2654446892


def ref_maglev(servers: list[tuple[int, int, int]], m: int) -> list[int]:
    """Owner index per slot: servers are (u32 addr, port, weight) in list order."""
    from math import gcd

    ws = [w for _, _, w in servers if w > 0]
    g = 0
    for w in ws:
        g = gcd(g, w)
    shift = max(0, (max(ws) // g).bit_length() - 6)  # IP_VS_MH_TAB_BITS = 12 / 2
    turns = [((w // g) >> shift) or (1 if w else 0) for _, _, w in servers]
    nxt = [0] * len(servers)
    perms = []
    for a, p, _ in servers:
        off = ref_hsiphash_u32(a + p, K1, K1) % m
        skip = ref_hsiphash_u32(a + p, K2, K2) % (m - 1) + 1
        perms.append((off, skip))
    owner = [-1] * m
    filled = 0
    while filled < m:
        for i, (off, skip) in enumerate(perms):
            for _ in range(turns[i]):
                while True:
                    c = (off + nxt[i] * skip) % m
                    nxt[i] += 1
                    if owner[c] < 0:
                        break
                owner[c] = i
                filled += 1
                if filled == m:
                    return owner
    return owner


def mh_table_indexes(s: Scheduler, ds: Sequence[Destination]) -> list[int]:
    assert isinstance(s, MaglevHashing)
    ids = [id(d) for d in ds]
    return [ids.index(id(d)) if d is not None else -1 for d in s.table]


def test_mh_table_matches_independent_maglev_full_size() -> None:
    ds = dests(1, 2, 3)
    s = sched("mh", ds)
    servers = [(int(d.address), 80, d.last_weight) for d in ds]
    assert mh_table_indexes(s, ds) == ref_maglev(servers, 4093)


def test_mh_large_weights_are_shifted_down() -> None:
    # max/gcd = 100: fls(100) = 7 > 6 bits, so rshift = 1 and turns are 50, 0 -> 1, 3.
    ds = dests(100, 1, 7)
    s = sched("mh", ds)
    servers = [(int(d.address), 80, d.last_weight) for d in ds]
    assert mh_table_indexes(s, ds) == ref_maglev(servers, 4093)


def test_mh_table_matches_independent_maglev_tiny_table() -> None:
    ds = dests(5, 1, 0, 2)
    key = ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80)
    s = MaglevHashing(VirtualService(key, scheduler="mh"), tab_index=8)
    s.rebuild(ds)
    assert s.size == 251
    table = mh_table_indexes(s, ds)
    # tab_index 8 has IP_VS_MH_TAB_BITS 4; weights 5,1,2 fit, so no shift either way.
    assert table == ref_maglev([(int(d.address), 80, d.last_weight) for d in ds], 251)
    assert 2 not in table  # last_weight 0: no slot
    assert table.count(0) > table.count(3) > table.count(1)


def test_mh_lookup_uses_hsiphash_of_the_client() -> None:
    ds = dests(1, 1, 1)
    s = sched("mh", ds)
    owner = ref_maglev([(int(d.address), 80, 1) for d in ds], 4093)
    for client in ("1.2.3.4", "10.9.8.7", "203.0.113.200"):
        slot = ref_hsiphash_u32(int(ip(client)), K1, K1) % 4093
        assert s.pick(ds, flow(client), 0) is ds[owner[slot]]
    sp = sched("mh", ds, ServiceFlags.SCHED2)
    slot = ref_hsiphash_u32(int(ip("1.2.3.4")) + 4321, K1, K1) % 4093
    assert sp.pick(ds, flow("1.2.3.4", port=4321), 0) is ds[owner[slot]]


def test_mh_two_instances_build_identical_tables() -> None:
    ds = dests(3, 1, 4, 1, 5)
    assert mh_table_indexes(sched("mh", ds), ds) == mh_table_indexes(sched("mh", ds), ds)


def test_mh_quiescing_keeps_the_table_and_fails_or_falls_back() -> None:
    ds = dests(1, 1, 1)
    s = sched("mh", ds)
    before = mh_table_indexes(s, ds)
    owner = ds[before[ref_hsiphash_u32(int(ip("1.2.3.4")), K1, K1) % 4093]]
    owner.update(RealServer(owner.address, 80, weight=0))  # last_weight stays 1
    s.weight_changed(ds, owner)
    assert mh_table_indexes(s, ds) == before
    assert s.pick(ds, flow("1.2.3.4"), 0) is None
    fb = sched("mh", ds, ServiceFlags.SCHED1)
    got = fb.pick(ds, flow("1.2.3.4"), 0)
    assert got is not None and got is not owner


@settings(max_examples=12, deadline=None)
@given(st.integers(3, 12), st.data())
def test_mh_removing_one_server_moves_about_one_nth(n: int, data: st.DataObject) -> None:
    ds = dests(*([1] * n))
    s = sched("mh", ds)
    clients = [flow(f"100.{i // 250}.{i % 250}.7") for i in range(3000)]
    before = [s.pick(ds, f, 0) for f in clients]
    gone = data.draw(st.integers(0, n - 1))
    victim = ds.pop(gone)
    s.server_removed(ds, victim, gone)
    after = [s.pick(ds, f, 0) for f in clients]
    moved = sum(1 for x, y in zip(before, after, strict=True) if x is not y)
    assert all(d is not victim for d in after)
    assert moved / len(clients) <= 1 / n + 0.03
