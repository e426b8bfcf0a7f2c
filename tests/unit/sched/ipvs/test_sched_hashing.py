"""The kernel hash functions (pylvs.sched.hashing) against the kernel's own test vectors."""

import ipaddress

import pytest

from pylvs.sched.ipvs.hashing import addr_fold, hash_32, hsiphash, hsiphash_u32, siphash

KEY = (0x0706050403020100, 0x0F0E0D0C0B0A0908)

# lib/siphash_kunit.c (BITS_PER_LONG == 64): hsiphash(bytes 0..i-1, i, key) for i = 0..63.
HSIPHASH_VECTORS = [
    0x050FC4DC, 0x7D57CA93, 0x4DC7D44D, 0xE7DDF7FB, 0x88D38328, 0x49533B67, 0xC59F22A7,
    0x9BB11140, 0x8D299A8E, 0x6C063DE4, 0x92FF097F, 0xF94DC352, 0x57B4D9A2, 0x1229FFA7,
    0xC0F95D34, 0x2A519956, 0x7D908B66, 0x63DBD80C, 0xB473E63E, 0x8D297D1C, 0xA6CCE040,
    0x2B45F844, 0xA320872E, 0xDAE6C123, 0x67349C8C, 0x705B0979, 0xCA9913A5, 0x4ADE3B35,
    0xEF6CD00D, 0x4AB1E1F4, 0x43C5E663, 0x8C21D1BC, 0x16A7B60D, 0x7A8FF9BF, 0x1F2A753E,
    0xBF186B91, 0xADA26206, 0xA3C33057, 0xAE3A36A1, 0x7B108392, 0x99E41531, 0x3F1AD944,
    0xC8138825, 0xC28949A6, 0xFAF8876B, 0x9F042196, 0x68B1D623, 0x8B5114FD, 0xDF074C46,
    0x12CC86B3, 0x0A52098F, 0x9D292F9A, 0xA2F41F12, 0x43A71ED0, 0x73F0BCE6, 0x70A7E980,
    0x243C6D75, 0xFDB71513, 0xA67D8A08, 0xB7E8F148, 0xF7A644EE, 0x0F1837F2, 0x4B6694E0,
    0xB7BBB3A8,
]  # fmt: skip


@pytest.mark.parametrize("length", range(64))
def test_hsiphash_matches_kernel_vectors(length: int) -> None:
    assert hsiphash(bytes(range(length)), KEY) == HSIPHASH_VECTORS[length]


def test_hsiphash_u32_is_hsiphash_of_four_little_endian_bytes() -> None:
    # bytes 00 01 02 03 read as a little-endian u32 is 0x03020100: vector 4.
    assert hsiphash_u32(0x03020100, KEY) == 0x88D38328
    assert hsiphash_u32(0xDEADBEEF, KEY) == hsiphash(bytes.fromhex("efbeadde"), KEY)


def test_siphash24_reference_vectors() -> None:
    # The SipHash paper / veorq reference: empty input and the 15-byte example.
    assert siphash(b"", KEY) == 0x726FDB47DD0E0E31
    assert siphash(bytes(range(15)), KEY) == 0xA129CA6149BE45E5


def test_hash_32_keeps_the_top_bits_of_the_golden_ratio_product() -> None:
    # 1 * 0x61C88647 = 1640531527; top 10 bits = 1640531527 >> 22 = 391.
    assert hash_32(1, 10) == 391
    # 2 * 0x61C88647 = 0xC3910C8E; >> 22 = 782.
    assert hash_32(2, 10) == 782
    # 3 * 0x61C88647 = 0x1_2559 92D5 -> wraps to 0x255992D5; >> 22 = 149.
    assert hash_32(3, 10) == 149


def test_addr_fold() -> None:
    assert addr_fold(ipaddress.ip_address("10.0.0.1")) == 0x0A000001
    v6 = ipaddress.ip_address("2001:db8:0:1:0:0:0:5")
    assert addr_fold(v6) == 0x20010DB8 ^ 0x00000001 ^ 0x00000000 ^ 0x00000005
