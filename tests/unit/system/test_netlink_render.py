"""What NetlinkHost hands to nft and /proc/sys, checked without root."""

import ipaddress

from pylvs.system.netlink import nft_script, sysctl_path


def test_nft_table_for_blocked_vips() -> None:
    text = nft_script(
        [
            ipaddress.ip_address("10.0.0.100"),
            ipaddress.ip_address("fd00::1"),
            ipaddress.ip_address("10.0.0.9"),
        ]
    )
    assert text == (
        "table inet pylvs_vrrp\n"
        "delete table inet pylvs_vrrp\n"
        "table inet pylvs_vrrp {\n"
        "  set vips4 { type ipv4_addr; elements = { 10.0.0.100, 10.0.0.9 } }\n"
        "  set vips6 { type ipv6_addr; elements = { fd00::1 } }\n"
        "  chain in {\n"
        "    type filter hook input priority -1; policy accept;\n"
        "    ip6 daddr @vips6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n"
        "    ip daddr @vips4 drop\n"
        "    ip6 daddr @vips6 drop\n"
        "  }\n}\n"
    )


def test_empty_set_only_deletes_the_table() -> None:
    assert nft_script([]) == "table inet pylvs_vrrp\ndelete table inet pylvs_vrrp\n"


def test_sysctl_paths() -> None:
    assert sysctl_path("net.ipv4.conf.eth0.arp_ignore") == "/proc/sys/net/ipv4/conf/eth0/arp_ignore"
    assert (
        sysctl_path("net/ipv4/conf/vrrp.51/arp_ignore")
        == "/proc/sys/net/ipv4/conf/vrrp.51/arp_ignore"
    )
