"""-R: config_stream.c tokenising, restore_table's error handling, and -S | -R round trips."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.control.ipvsadm import (
    NUMERIC,
    Timeouts,
    restore,
    save,
    snapshot_from_table,
    split_restore_lines,
    strip_comment_lines,
)
from pylvs.control.ipvsadm.session import State, run_argv
from pylvs.model import (
    Address,
    ForwardMethod,
    Protocol,
    RealServer,
    ServiceEntry,
    ServiceFlags,
    ServiceKey,
    ServiceTable,
    TunnelCsum,
    TunnelParams,
    TunnelType,
    VirtualService,
)

TRY = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"


def test_tokenising() -> None:
    text = (
        "ipvsadm -A -t 1.1.1.1:80\r\n"
        "\n"
        "   \t \n"
        "ipvsadm\n"
        "  -a\t-t 1.1.1.1:80   -r 10.0.0.2 ipvsadm\n"
        "-C"
    )
    assert split_restore_lines(text) == [
        ["-A", "-t", "1.1.1.1:80"],
        ["-a", "-t", "1.1.1.1:80", "-r", "10.0.0.2"],
        ["-C"],
    ]


def test_hash_is_an_ordinary_token() -> None:
    # config_stream.c tests the blank after a token for '#', so comments never start.
    assert split_restore_lines("-C # flush\n# note\n") == [["-C", "#", "flush"], ["#", "note"]]
    assert strip_comment_lines("# note\n-C\n #x\n") == "-C\n #x\n"


def test_last_line_lost_after_two_trailing_blanks_without_newline() -> None:
    assert split_restore_lines("-C\n-Z \t") == [["-C"]]
    assert split_restore_lines("-C\n-Z ") == [["-C"], ["-Z"]]


def test_kernel_errors_continue_and_status_is_the_last_lines() -> None:
    r = restore(
        "-A -t 1.1.1.1:80\n-A -t 1.1.1.1:80\n-A -t 1.1.1.2:80\n", ServiceTable(), Timeouts()
    )
    assert [e.text for e in r.output] == ["Service already exists\n"]
    assert r.exit_code == 0 and len(r.table) == 2
    r = restore("-A -t 1.1.1.2:80\n-D -t 9.9.9.9:80\n", ServiceTable(), Timeouts())
    assert r.exit_code == 255 and len(r.table) == 1


def test_a_syntax_error_aborts_but_keeps_what_ran() -> None:
    r = restore("-A -t 1.1.1.1:80\n-A -t 1.1.1.2\n-A -t 1.1.1.3:80\n", ServiceTable(), Timeouts())
    assert [e.text for e in r.output] == ["Zero port specified for non-persistent service\n"]
    assert r.exit_code == 2
    assert list(r.table) == [ServiceKey.inet(Protocol.TCP, "1.1.1.1", 80)]


def test_nested_restore_and_comments_end_with_tryhelp() -> None:
    r = restore("-C\n-R\n-A -t 1.1.1.1:80\n", ServiceTable(), Timeouts())
    assert ([e.text for e in r.output], r.exit_code, len(r.table)) == ([TRY], 255, 0)
    r = restore("# a comment\n-A -t 1.1.1.1:80\n", ServiceTable(), Timeouts())
    assert ([e.text for e in r.output], r.exit_code, len(r.table)) == ([TRY], 255, 0)


def test_popt_error_continues() -> None:
    r = restore("-L --bogus\n-A -t 1.1.1.1:80\n", ServiceTable(), Timeouts())
    assert [e.text for e in r.output] == ["--bogus: unknown option\n"]
    assert r.exit_code == 0 and len(r.table) == 1


def test_lines_may_list_and_set() -> None:
    r = restore("--set 10 0 0\n-L --timeout\n-S -n\n", ServiceTable(), Timeouts())
    assert [e.text for e in r.output] == ["Timeout (tcp tcpfin udp): 10 120 300\n"]
    assert r.timeouts == Timeouts(10, 120, 300)


def test_run_argv_restore_reads_stdin() -> None:
    res = run_argv(["ipvsadm", "-R"], State(), stdin="-A -u 1.1.1.1:53\n")
    assert res.exit_code == 0 and ServiceKey.inet(Protocol.UDP, "1.1.1.1", 53) in res.state.table


# ---- round trip: -S -n output restored gives the same table ---------------------------

v4 = st.integers(0x01000000, 0xDFFFFFFF).map(IPv4Address)  # unicast, not 0/8
v6 = st.integers(1, 2**64).map(lambda n: IPv6Address((0x2001_0DB8 << 96) | n))


@st.composite
def entries(draw: st.DrawFn) -> ServiceEntry:
    addr: Address
    if draw(st.booleans()):
        af = draw(st.sampled_from([2, 10]))
        key = ServiceKey.mark(draw(st.integers(1, 2**32 - 1)), af)
        proto_ok_ops = True
    else:
        addr = draw(st.one_of(v4, v6))
        proto = draw(st.sampled_from(list(Protocol)))
        key = ServiceKey(protocol=proto, address=addr, port=draw(st.integers(1, 65535)))
        proto_ok_ops = proto is Protocol.UDP
    sched = draw(st.sampled_from(["rr", "wlc", "sh", "mh", "wrr", "twos"]))
    flags = ServiceFlags.NONE
    timeout, prefix = 0, -1
    if draw(st.booleans()):
        flags |= ServiceFlags.PERSISTENT
        timeout = draw(st.integers(1, 86400 * 31))
        prefix = draw(st.integers(0 if key.af == 2 else 1, 32 if key.af == 2 else 128))
    if proto_ok_ops and draw(st.booleans()):
        flags |= ServiceFlags.ONEPACKET
    if sched in ("sh", "mh"):
        flags |= draw(st.sampled_from([ServiceFlags.NONE, ServiceFlags.SCHED1,
                                       ServiceFlags.SCHED1 | ServiceFlags.SCHED2]))  # fmt: skip
    svc = VirtualService(key, sched, flags, timeout, prefix,
                         draw(st.sampled_from(["", "sip"])))  # fmt: skip
    dests: dict[tuple[Address, int], RealServer] = {}
    for _ in range(draw(st.integers(0, 4))):
        method = draw(st.sampled_from(list(ForwardMethod)))
        if method is ForwardMethod.LOCAL:
            method = ForwardMethod.ROUTE  # -S saves Local as -g
        # only tunnel dests may be of the other address family
        daddr = draw(st.one_of(v4, v6) if method is ForwardMethod.TUNNEL
                     else v4 if key.af == 2 else v6)  # fmt: skip
        port = (
            key.port
            if not key.fwmark and method is not ForwardMethod.MASQ
            else draw(st.integers(0, 65535))
        )
        tunnel = None
        if method is ForwardMethod.TUNNEL:
            tunnel = draw(st.sampled_from([
                TunnelParams(), TunnelParams(TunnelType.GUE, 6080, TunnelCsum.CSUM),
                TunnelParams(TunnelType.GRE, 0, TunnelCsum.NOCSUM),
            ]))  # fmt: skip
        rs = RealServer(daddr, port, draw(st.integers(0, 65535)), method, tunnel=tunnel)
        dests[rs.key] = rs
    return ServiceEntry(svc, tuple(dests.values()))


def normal(table: ServiceTable) -> dict[ServiceKey, tuple[VirtualService, frozenset[RealServer]]]:
    return {k: (e.service, frozenset(e.dests)) for k, e in table.items()}


@settings(max_examples=60, deadline=None)
@given(st.lists(entries(), max_size=5, unique_by=lambda e: e.service.key))
def test_save_then_restore_reproduces_the_table(items: list[ServiceEntry]) -> None:
    table = ServiceTable(items)
    text = save(snapshot_from_table(table), True, NUMERIC)
    r = restore(text, ServiceTable(), Timeouts())
    assert r.output == () and r.exit_code == 0, r.output
    assert normal(r.table) == normal(table)
    # (The saved text itself need not come back identical: two addresses exactly 2^31
    # apart both compare "smaller" under ipvsadm's wrapped compare, so their printed order
    # follows the kernel list order, which a restore reverses.)


def test_wrapped_compare_is_not_antisymmetric() -> None:
    from pylvs.control.ipvsadm.sorting import cmp_dests

    a = (2, IPv4Address("1.0.0.0"), 0)
    b = (2, IPv4Address("129.0.0.0"), 0)
    assert cmp_dests(a, b) < 0 and cmp_dests(b, a) < 0
    c = (2, IPv4Address("10.0.0.1"), 0)
    d = (2, IPv4Address("192.168.0.1"), 0)
    assert cmp_dests(c, d) > 0 and cmp_dests(d, c) < 0  # 10.0.0.1 after 192.168.0.1
