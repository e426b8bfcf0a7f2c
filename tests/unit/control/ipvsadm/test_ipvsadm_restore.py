"""-R: config_stream.c tokenising, restore_table's error handling, and -S | -R round trips."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.control.ipvsadm import (
    NUMERIC,
    Emit,
    Stream,
    Timeouts,
    restore,
    save,
    snapshot_from_table,
    split_restore_lines,
    strip_comment_lines,
)
from pylvs.control.ipvsadm.session import State, restore_state, run_argv
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
from pylvs.model.snapshot import DestView, ServiceView, Snapshot, Stats

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


# ---- listing lines see the lines before them -------------------------------------------

OLD = VirtualService(ServiceKey.inet(Protocol.TCP, "10.0.0.1", 80), scheduler="rr")
OLD_DEST = RealServer(IPv4Address("10.0.0.2"), 80, 1, ForwardMethod.ROUTE)
COUNTS = Stats(100, 2000, 1500, 300000, 200000)
# What a daemon hands over: its data plane's table with live numbers.  It does not look at
# the State it is given (the data plane sees a restore's changes only when it is over).
LIVE = Snapshot(services=(ServiceView(OLD, COUNTS, dests=(DestView(OLD_DEST, 3, 4, 0, COUNTS),)),))


def _live(_state: State) -> Snapshot:
    return LIVE


def _out(text: str) -> tuple[str, str, int]:
    r = restore_state(text, State(ServiceTable([ServiceEntry(OLD, (OLD_DEST,))])), snapshot=_live)
    out = "".join(e.text for e in r.output if e.stream is Stream.STDOUT)
    err = "".join(e.text for e in r.output if e.stream is Stream.STDERR)
    return out, err, r.exit_code


def test_listing_lines_show_what_earlier_lines_did() -> None:
    # ipvsadm -R makes each line's kernel call before reading the next, so -L/-S lines list
    # the table as built so far, with the kernel's numbers for what was there before.
    # Expected text: ipvsadm 1.31 -R over a libipvs stub that keeps what it is given.
    text = (
        "-A -t 1.2.3.4:80 -s rr\n"
        "-a -t 1.2.3.4:80 -r 5.6.7.8 -m\n"
        "-a -t 10.0.0.1:80 -r 10.0.0.3 -g\n"
        "-L -n --stats\n"
        "-L -n\n"
        "--set 10 20 30\n"
        "-L --timeout\n"
        "-S -n\n"
        "-C\n"
        "-L -n\n"
        "-L -n --timeout\n"
    )
    assert _out(text) == (
        "IP Virtual Server version 1.2.1 (size=4096)\n"
        "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
        "  -> RemoteAddress:Port\n"
        "TCP  1.2.3.4:80                          0        0        0        0        0\n"
        "  -> 5.6.7.8:80                          0        0        0        0        0\n"
        "TCP  10.0.0.1:80                       100     2000     1500   300000   200000\n"
        "  -> 10.0.0.2:80                       100     2000     1500   300000   200000\n"
        "  -> 10.0.0.3:80                         0        0        0        0        0\n"
        "IP Virtual Server version 1.2.1 (size=4096)\n"
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
        "TCP  1.2.3.4:80 rr\n"
        "  -> 5.6.7.8:80                   Masq    1      0          0         \n"
        "TCP  10.0.0.1:80 rr\n"
        "  -> 10.0.0.2:80                  Route   1      3          4         \n"
        "  -> 10.0.0.3:80                  Route   1      0          0         \n"
        "Timeout (tcp tcpfin udp): 10 20 30\n"
        "-A -t 1.2.3.4:80 -s rr\n"
        "-a -t 1.2.3.4:80 -r 5.6.7.8:80 -m -w 1\n"
        "-A -t 10.0.0.1:80 -s rr\n"
        "-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 1\n"
        "-a -t 10.0.0.1:80 -r 10.0.0.3:80 -g -w 1\n"
        "IP Virtual Server version 1.2.1 (size=4096)\n"
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
        "Timeout (tcp tcpfin udp): 10 20 30\n",
        "",
        0,
    )


def test_listing_lines_after_zero_and_delete_start_the_counters_over() -> None:
    # Same stub: -Z zeroes the service's and its dests' counters (not the connection
    # counts); a service deleted and added again is a new one.
    text = (
        "-Z -t 10.0.0.1:80\n"
        "-L -n --stats\n"
        "-L -n\n"
        "-D -t 10.0.0.1:80\n"
        "-A -t 10.0.0.1:80 -s lc\n"
        "-L -n --stats\n"
    )
    stats_head = (
        "IP Virtual Server version 1.2.1 (size=4096)\n"
        "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
        "  -> RemoteAddress:Port\n"
    )
    assert _out(text) == (
        stats_head
        + "TCP  10.0.0.1:80                         0        0        0        0        0\n"
        "  -> 10.0.0.2:80                         0        0        0        0        0\n"
        "IP Virtual Server version 1.2.1 (size=4096)\n"
        "Prot LocalAddress:Port Scheduler Flags\n"
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
        "TCP  10.0.0.1:80 rr\n"
        "  -> 10.0.0.2:80                  Route   1      3          4         \n"
        + stats_head
        + "TCP  10.0.0.1:80                         0        0        0        0        0\n",
        "",
        0,
    )


def test_listing_lines_keep_the_snapshot_order_and_put_new_dests_first() -> None:
    # --nosort shows the kernel's order: services as they came, dests newest first; a dest
    # deleted and added again is new again (its numbers stay: the kernel's trash).
    out, err, rc = _out(
        "-A -t 1.2.3.4:80\n"
        "-a -t 10.0.0.1:80 -r 10.0.0.3 -g\n"
        "-a -t 10.0.0.1:80 -r 10.0.0.4 -g\n"
        "-L -n --nosort\n"
        "-d -t 10.0.0.1:80 -r 10.0.0.2\n"
        "-a -t 10.0.0.1:80 -r 10.0.0.2 -g -w 2\n"
        "-L -n --nosort\n"
    )
    lines = out.splitlines()
    assert lines[3:8] == [
        "TCP  10.0.0.1:80 rr",
        "  -> 10.0.0.4:80                  Route   1      0          0         ",
        "  -> 10.0.0.3:80                  Route   1      0          0         ",
        "  -> 10.0.0.2:80                  Route   1      3          4         ",
        "TCP  1.2.3.4:80 wlc",
    ]
    assert lines[11:16] == [
        "TCP  10.0.0.1:80 rr",
        "  -> 10.0.0.2:80                  Route   2      3          4         ",
        "  -> 10.0.0.4:80                  Route   1      0          0         ",
        "  -> 10.0.0.3:80                  Route   1      0          0         ",
        "TCP  1.2.3.4:80 wlc",
    ]
    assert (err, rc) == ("", 0)


def test_listing_lines_before_any_change_show_the_callers_snapshot() -> None:
    out, err, rc = _out("-L -n --stats\n")
    assert out.splitlines()[3:] == [
        "TCP  10.0.0.1:80                       100     2000     1500   300000   200000",
        "  -> 10.0.0.2:80                       100     2000     1500   300000   200000",
    ]
    assert (err, rc) == ("", 0)


# ---- round trip: -S -n output restored gives the same table ---------------------------

v4 = st.integers(0x01000000, 0xDFFFFFFF).map(IPv4Address)  # unicast, not 0/8
v6 = st.integers(1, 2**64).map(lambda n: IPv6Address((0x2001_0DB8 << 96) | n))


@st.composite
def entries(draw: st.DrawFn) -> ServiceEntry:
    addr: Address
    if draw(st.booleans()):
        af = draw(st.sampled_from([2, 10]))
        # marks from 2**31 up are saved as negative numbers, which -R refuses (as ipvsadm
        # does: test_high_fwmarks_do_not_survive_save_and_restore)
        key = ServiceKey.mark(draw(st.integers(1, 2**31 - 1)), af)
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


def test_high_fwmarks_do_not_survive_save_and_restore() -> None:
    # ipvsadm 1.31 saves fwmark 4294967295 as "-f -1" and parse_fwmark refuses it; the
    # failure (fail(), status 2) ends the restore.
    table = ServiceTable([ServiceEntry(VirtualService(ServiceKey.mark(2**32 - 1)))])
    text = save(snapshot_from_table(table), True, NUMERIC)
    assert text == "-A -f -1 -s wlc\n"
    r = restore(text + "-A -f 5 -s wlc\n", ServiceTable(), Timeouts())
    assert r.output == (Emit(Stream.STDERR, "invalid fwmark value `-1' specified\n"),)
    assert r.exit_code == 2 and len(r.table) == 0


def test_wrapped_compare_is_not_antisymmetric() -> None:
    from pylvs.control.ipvsadm.sorting import cmp_dests

    a = (2, IPv4Address("1.0.0.0"), 0)
    b = (2, IPv4Address("129.0.0.0"), 0)
    assert cmp_dests(a, b) < 0 and cmp_dests(b, a) < 0
    c = (2, IPv4Address("10.0.0.1"), 0)
    d = (2, IPv4Address("192.168.0.1"), 0)
    assert cmp_dests(c, d) > 0 and cmp_dests(d, c) < 0  # 10.0.0.1 after 192.168.0.1
