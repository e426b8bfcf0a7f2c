"""Golden listings: ipvsadm.c's printf formats rendered by hand into tests/data/ipvsadm."""

from __future__ import annotations

from dataclasses import replace
from ipaddress import ip_address

from pylvs.control.ipvsadm import (
    DaemonView,
    DestView,
    Fmt,
    Rates,
    Resolver,
    ServiceView,
    Snapshot,
    Timeouts,
    list_all,
    list_conn,
    list_daemon,
    list_service,
    list_timeout,
    save,
)
from pylvs.control.ipvsadm.format import largenum
from pylvs.control.ipvsadm.messages import Failure
from pylvs.control.ipvsadm.resolver import NUMERIC
from pylvs.model import (
    ForwardMethod,
    Protocol,
    ServiceFlags,
    ServiceKey,
    TunnelCsum,
    TunnelParams,
    TunnelType,
    VirtualService,
)
from pylvs.model.syncd import SyncState
from tests.unit.control.ipvsadm.ipvsadm_samples import WEB, golden, rs

HEADER = "IP Virtual Server version 1.2.1 (size=4096)\n"

NAMES = Resolver(
    addr_to_host=lambda a: {"192.168.10.100": "www.example.com", "192.168.10.11": "web1"}.get(
        str(a)
    ),
    port_to_service=lambda p, proto: {
        (80, "tcp"): "http",
        (443, "tcp"): "https",
        (53, "udp"): "domain",
    }.get((p, proto)),
)


def only_web(snap: Snapshot) -> Snapshot:
    return replace(snap, services=tuple(v for v in snap.services if v.service == WEB))


def test_list_numeric_sorted_with_wrapped_address_compare(director: Snapshot) -> None:
    # 10.0.0.1 - 192.168.10.100 as an int is positive (the unsigned difference wraps), so
    # the 10.0.0.1 service prints after the 192.168.10.100 ones.
    assert list_all(director, Fmt.NUMERIC, NUMERIC) == golden("list_numeric.txt")


def test_nosort_keeps_daemon_and_kernel_order(director: Snapshot) -> None:
    assert list_all(director, Fmt.NUMERIC | Fmt.NOSORT, NUMERIC) == golden("list_nosort.txt")


def test_stats_rate_thresholds(director: Snapshot) -> None:
    web = only_web(director)
    assert list_all(web, Fmt.NUMERIC | Fmt.STATS, NUMERIC) == HEADER + golden("list_stats.txt")
    exact = Fmt.NUMERIC | Fmt.STATS | Fmt.EXACT
    assert list_all(web, exact, NUMERIC) == HEADER + golden("list_stats_exact.txt")
    assert list_all(web, Fmt.NUMERIC | Fmt.RATE, NUMERIC) == HEADER + golden("list_rate.txt")
    thr = list_all(web, Fmt.NUMERIC | Fmt.THRESHOLDS, NUMERIC)
    assert thr == HEADER + golden("list_thresholds.txt")


def test_persistent_conn_of_one_service_has_no_header(director: Snapshot) -> None:
    key = ServiceKey.inet(Protocol.TCP, "192.168.10.100", 443)
    out = list_service(director, key, Fmt.NUMERIC | Fmt.PERSISTENTCONN, NUMERIC)
    assert out == golden("list_persistent_conn.txt")


def test_list_absent_service_is_no_such_service_exit_1(director: Snapshot) -> None:
    out = list_service(director, ServiceKey.inet(Protocol.TCP, "1.2.3.4", 80), Fmt.NONE, NUMERIC)
    assert isinstance(out, Failure)
    assert (out.text, out.exit_code) == ("No such service\n", 1)


def test_dest_rate_columns_are_never_abbreviated() -> None:
    dest = DestView(
        rs("10.0.0.2", 80, ForwardMethod.MASQ), rates=Rates(123456789, 1, 2, 3, 300_000_000)
    )
    view = ServiceView(WEB, rates=Rates(cps=123456789), dests=(dest,))
    out = list_all(Snapshot(services=(view,)), Fmt.NUMERIC | Fmt.RATE, NUMERIC)
    lines = out.splitlines()
    # "%-33s" pads the 22-character name with 11 blanks, then "%8lluK"
    assert lines[3] == "TCP  192.168.10.100:80" + " " * 11 + "  123456K" + "        0" * 4
    # "  -> %-28s %8llu %8llu %8llu": 11 characters + 17 blanks, a blank, the plain number
    dest_line = "  -> 10.0.0.2:80" + " " * 18 + "123456789        1        2        3  300000K"
    assert lines[4] == dest_line


def test_largenum_boundaries() -> None:
    assert largenum(99_999_999, Fmt.NONE) == " 99999999"
    assert largenum(100_000_000, Fmt.NONE) == "  100000K"
    assert largenum(999_999_999, Fmt.NONE) == "  999999K"
    assert largenum(1_000_000_000, Fmt.NONE) == "    1000M"
    assert largenum(99_999_999_999, Fmt.NONE) == "   99999M"
    assert largenum(100_000_000_000, Fmt.NONE) == "     100G"
    assert largenum(99_999_999_999_999, Fmt.NONE) == "   99999G"
    assert largenum(10**14, Fmt.NONE) == "     100T"
    assert largenum(123, Fmt.EXACT) == "      123"
    assert largenum(12_345_678, Fmt.EXACT) == " 12345678"
    assert largenum(123_456_789, Fmt.EXACT) == " 123456789"
    assert largenum(10**14, Fmt.EXACT) == " 100000000000000"


def test_tun_info_columns() -> None:
    gue = TunnelParams(TunnelType.GUE, 6080, TunnelCsum.REMCSUM)
    gre = TunnelParams(TunnelType.GRE, 0, TunnelCsum.CSUM)
    view = ServiceView(
        WEB,
        dests=(
            DestView(rs("10.0.0.3", 80, ForwardMethod.TUNNEL, tunnel=gue)),
            DestView(rs("10.0.0.2", 80, ForwardMethod.TUNNEL, tunnel=gre)),
            DestView(rs("10.0.0.1", 80, ForwardMethod.MASQ), activeconns=4),
        ),
    )
    out = list_all(Snapshot(services=(view,)), Fmt.NUMERIC | Fmt.TUN_INFO, NUMERIC)
    assert out == (
        HEADER + "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
        "TCP  192.168.10.100:80 wlc\n"
        "  -> 10.0.0.1:80                  Masq    n/a           1      4          0         \n"
        "  -> 10.0.0.2:80                  Tunnel  gre:+c        1      0          0         \n"
        "  -> 10.0.0.3:80                  Tunnel  gue:6080:r+c  1      0          0         \n"
    )


def test_names_and_truncation_without_numeric() -> None:
    long_name = Resolver(
        addr_to_host=lambda a: (
            "a-very-long-real-server-name.example.com" if str(a) == "10.0.0.2" else None
        ),
        port_to_service=lambda p, proto: "http" if (p, proto) == (80, "tcp") else None,
    )
    view = ServiceView(WEB, dests=(DestView(rs("10.0.0.2", 80, ForwardMethod.MASQ)),))
    lines = list_all(Snapshot(services=(view,)), Fmt.NONE, long_name).splitlines()
    assert lines[3] == "TCP  192.168.10.100:http wlc"
    # the IPv4 dest name is cut at 28 characters
    assert lines[4] == "  -> a-very-long-real-server-name Masq    1      0          0         "


def test_ipv6_service_and_fwmark_v6_titles() -> None:
    v6 = VirtualService(ServiceKey.inet(Protocol.UDP, "2001:db8::1", 53), scheduler="rr")
    mark6 = VirtualService(ServiceKey.mark(9, af=10), flags=1, timeout=60, netmask=64)  # type: ignore[arg-type]
    dest = DestView(rs("2001:db8::2", 53, ForwardMethod.MASQ))
    snap = Snapshot(services=(ServiceView(mark6), ServiceView(v6, dests=(dest,))))
    assert list_all(snap, Fmt.NUMERIC, NUMERIC).splitlines()[3:] == [
        "UDP  [2001:db8::1]:53 rr",
        "  -> [2001:db8::2]:53             Masq    1      0          0         ",
        "FWM  9 IPv6 wlc persistent 60 mask 64",
    ]
    assert save(snap, True, NUMERIC).splitlines() == [
        "-A -u [2001:db8::1]:53 -s rr",
        "-a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -m -w 1",
        "-A -f 9 -6 -s wlc -p 60 -M 64",
    ]


def test_connections(director: Snapshot) -> None:
    assert list_conn(director.conns, Fmt.NUMERIC, NUMERIC) == golden("conns.txt")
    with_pe = list_conn(director.conns, Fmt.NUMERIC | Fmt.PERSISTENTCONN, NUMERIC)
    assert with_pe == golden("conns_persistent.txt")


def test_timeout_and_daemon() -> None:
    assert list_timeout(Timeouts()) == "Timeout (tcp tcpfin udp): 900 120 300\n"
    assert list_daemon(Snapshot()) == ""
    daemons = (
        DaemonView(SyncState.BACKUP, "eth1", syncid=10),
        DaemonView(SyncState.MASTER, "eth0", 3, 1472, ip_address("224.0.0.81"), 8848, 1),
    )
    assert list_daemon(Snapshot(daemons=daemons)) == (
        "master sync daemon (mcast=eth0, syncid=3, maxlen=1472, group=224.0.0.81, "
        "port=8848, ttl=1)\nbackup sync daemon (mcast=eth1, syncid=10)\n"
    )


def test_save_numeric_and_names(director: Snapshot) -> None:
    assert save(director, True, NUMERIC) == golden("save_numeric.txt")
    assert save(director, False, NAMES) == golden("save_names.txt")


def test_sched_flags_without_names_still_print_parentheses() -> None:
    # print_service_entry prints " (" flags ")" whenever a SCHED1-3 bit is set, even when
    # print_sched_flags writes nothing (sh/mh name only flag-1/flag-2); -S prints "-b ".
    # Expected text: ipvsadm 1.31 on the same table.
    sh = VirtualService(
        ServiceKey.inet(Protocol.TCP, "1.2.3.5", 80), scheduler="sh", flags=ServiceFlags.SCHED3
    )
    mh = VirtualService(
        ServiceKey.inet(Protocol.UDP, "1.2.3.6", 53),
        scheduler="mh",
        flags=ServiceFlags.SCHED3 | ServiceFlags.PERSISTENT,
        timeout=30,
    )
    dest = DestView(rs("10.0.0.1", 80, ForwardMethod.ROUTE))
    snap = Snapshot(services=(ServiceView(sh, dests=(dest,)), ServiceView(mh)))
    for fmt in (Fmt.NONE, Fmt.THRESHOLDS, Fmt.PERSISTENTCONN, Fmt.TUN_INFO):
        lines = list_all(snap, Fmt.NUMERIC | fmt, NUMERIC).splitlines()
        assert lines[3] == "TCP  1.2.3.5:80 sh ()"
        assert lines[5] == "UDP  1.2.3.6:53 mh () persistent 30"
    one = list_service(snap, sh.key, Fmt.NUMERIC, NUMERIC)
    assert isinstance(one, str) and one.splitlines()[2] == "TCP  1.2.3.5:80 sh ()"
    assert save(snap, True, NUMERIC) == (
        "-A -t 1.2.3.5:80 -s sh -b \n"
        "-a -t 1.2.3.5:80 -r 10.0.0.1:80 -g -w 1\n"
        "-A -u 1.2.3.6:53 -s mh -p 30 -b \n"
    )


def test_fwmarks_from_2_31_print_as_signed_ints() -> None:
    # svc_name is sprintf("%d", se->fwmark): the u32 mark prints as a signed int (the sort
    # order stays unsigned).  Expected text: ipvsadm 1.31 on the same table.
    top = VirtualService(ServiceKey.mark(4294967295), scheduler="wlc")
    half6 = VirtualService(ServiceKey.mark(2147483648, af=10), scheduler="rr")
    below = VirtualService(ServiceKey.mark(2147483647), scheduler="rr")
    dest = DestView(rs("10.0.0.1", 80, ForwardMethod.ROUTE))
    snap = Snapshot(
        services=(ServiceView(top, dests=(dest,)), ServiceView(half6), ServiceView(below))
    )
    assert list_all(snap, Fmt.NUMERIC, NUMERIC).splitlines()[3:] == [
        "FWM  -1 wlc",
        "  -> 10.0.0.1:80                  Route   1      0          0         ",
        "FWM  2147483647 rr",
        "FWM  -2147483648 IPv6 rr",
    ]
    stats = list_all(snap, Fmt.NUMERIC | Fmt.STATS, NUMERIC).splitlines()
    zeros = "        0" * 5
    assert (stats[3], stats[6]) == (
        "FWM  -1" + " " * 26 + zeros,
        "FWM  -2147483648 IPv6" + " " * 12 + zeros,
    )
    assert list_service(snap, top.key, Fmt.NUMERIC, NUMERIC) == (
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
        "FWM  -1 wlc\n"
        "  -> 10.0.0.1:80                  Route   1      0          0         \n"
    )
    assert save(snap, True, NUMERIC) == (
        "-A -f -1 -s wlc\n"
        "-a -f -1 -r 10.0.0.1:80 -g -w 1\n"
        "-A -f 2147483647 -s rr\n"
        "-A -f -2147483648 -6 -s rr\n"
    )
